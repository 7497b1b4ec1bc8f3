import type { Command, Option } from 'commander';

/**
 * What `corral __complete WORD... -- CUR` answers (the shell scripts of `corral completion` call
 * it): subcommands, the flags of the command typed, or the names of containers, templates and
 * networks where the command takes one. Pure over the commander tree and a name source.
 */
export type NameKind = 'container' | 'template' | 'network';
export type Names = (kind: NameKind) => Promise<string[]>;

/** Which positional argument of which command names what (by index; `rest` for the others). */
const ARGS: Record<string, { at: (NameKind | null)[]; rest: NameKind | null }> = {
  run: { at: ['template'], rest: null },
  create: { at: ['template'], rest: null },
  exec: { at: ['container'], rest: null },
  commit: { at: ['container'], rest: null },
  export: { at: ['container'], rest: null },
  rename: { at: ['container'], rest: null },
  top: { at: ['container'], rest: null },
  port: { at: ['container'], rest: null },
  diff: { at: ['container'], rest: null },
  logs: { at: ['container'], rest: null },
  attach: { at: ['container'], rest: null },
  'template rm': { at: [], rest: 'template' },
  'template inspect': { at: [], rest: 'template' },
  'network rm': { at: [], rest: 'network' },
  'network inspect': { at: [], rest: 'network' },
};
const CONTAINER_VERBS = ['start', 'stop', 'restart', 'kill', 'rm', 'inspect', 'wait', 'pause', 'unpause', 'update', 'stats'];
/** Options whose value is a name. */
const OPTION_VALUES: Record<string, NameKind> = { '--network': 'network', '--net': 'network' };

function optionFor(cmd: Command, word: string): Option | undefined {
  const flag = word.includes('=') ? word.slice(0, word.indexOf('=')) : word;
  return (cmd.options as readonly Option[]).find((o) => o.long === flag || o.short === flag);
}

const takesValue = (o: Option | undefined, word: string): boolean => o !== undefined && (o.required || o.optional) && !word.includes('=');

function visible(cmd: Command): Command[] {
  return (cmd.commands as Command[]).filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
}

export async function complete(program: Command, words: readonly string[], cur: string, names: Names): Promise<string[]> {
  let cmd = program;
  let path: string[] = [];
  const positionals: string[] = [];
  let i = 0;
  for (; i < words.length; i++) {
    const w = words[i]!;
    if (w.startsWith('-')) {
      if (takesValue(optionFor(cmd, w), w)) i++;
      continue;
    }
    const sub = (cmd.commands as Command[]).find((c) => c.name() === w || c.aliases().includes(w));
    if (sub && positionals.length === 0) {
      cmd = sub;
      path = [...path, sub.name()];
      continue;
    }
    positionals.push(w);
    // run/create/exec: what follows the template or container is the container's own command line.
    const key = path.join(' ');
    if ((key === 'run' || key === 'create' || key === 'exec') && positionals.length >= 1) return [];
  }
  const prev = words[words.length - 1];
  if (prev !== undefined && prev.startsWith('-') && takesValue(optionFor(cmd, prev), prev)) {
    const kind = OPTION_VALUES[optionFor(cmd, prev)!.long ?? ''];
    return kind ? filter(await names(kind), cur) : [];
  }
  if (cur.startsWith('-')) {
    const flags = (cmd.options as readonly Option[]).flatMap((o) => [o.long, o.short]).filter((f): f is string => !!f);
    return filter([...flags, '--help'], cur);
  }
  const subs = visible(cmd);
  if (subs.length > 0 && positionals.length === 0) return filter(subs.flatMap((c) => [c.name()]), cur);
  const key = path.join(' ');
  const spec = ARGS[key] ?? (CONTAINER_VERBS.includes(key) ? { at: [], rest: 'container' as NameKind } : undefined);
  if (!spec) return [];
  const kind = positionals.length < spec.at.length ? spec.at[positionals.length] : spec.rest;
  return kind ? filter(await names(kind), cur) : [];
}

function filter(list: readonly string[], cur: string): string[] {
  return [...new Set(list.filter((x) => x.startsWith(cur)))].sort();
}
