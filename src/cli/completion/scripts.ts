/**
 * The scripts `corral completion bash|zsh|fish` prints. Each asks `corral __complete` (the words
 * typed so far, `--`, the word being completed) so names come from corrald at the moment of use.
 */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

const BASH = `# corral completion for bash: source it, or save it as
# /etc/bash_completion.d/corral (corral completion bash > /etc/bash_completion.d/corral)
_corral() {
  local cur=\${COMP_WORDS[COMP_CWORD]}
  local IFS=$'\\n'
  COMPREPLY=($(corral __complete "\${COMP_WORDS[@]:1:COMP_CWORD-1}" -- "$cur" 2>/dev/null))
  [ \${#COMPREPLY[@]} -eq 0 ] && compopt -o default 2>/dev/null
  return 0
}
complete -F _corral corral
`;

const ZSH = `#compdef corral
# corral completion for zsh: save it as _corral in a directory of $fpath
# (corral completion zsh > "\${fpath[1]}/_corral"), or source it after compinit
_corral() {
  local -a reply
  reply=("\${(@f)$(corral __complete "\${(@)words[2,CURRENT-1]}" -- "\${words[CURRENT]}" 2>/dev/null)}")
  if [[ -n "\${reply[1]}" ]]; then
    compadd -a reply
  else
    _files
  fi
}
if [[ "$(basename -- "\${(%):-%x}")" != _corral ]]; then compdef _corral corral; else _corral "$@"; fi
`;

const FISH = `# corral completion for fish: save it as ~/.config/fish/completions/corral.fish
# (corral completion fish > ~/.config/fish/completions/corral.fish)
function __corral_complete
  set -l words (commandline -opc)
  set -e words[1]
  corral __complete $words -- (commandline -ct) 2>/dev/null
end
complete -c corral -f -a '(__corral_complete)'
`;

export function completionScript(shell: Shell): string {
  return shell === 'bash' ? BASH : shell === 'zsh' ? ZSH : FISH;
}
