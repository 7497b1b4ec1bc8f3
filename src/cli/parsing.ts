import type { Command } from 'commander';
import { suggestCommand } from './suggest.js';

/**
 * Two corrections to commander's parsing, applied to every command of the program:
 *
 * - The first unknown option is the error. commander keeps everything after an unknown option and
 *   then looks for `-h`/`--help` anywhere in it, so `corral run --tmpfs /s busybox df -h /s` printed
 *   help and exited 0 instead of refusing `--tmpfs`: the container's own `-h` was taken for ours.
 * - An unknown command's suggestion never names a destructive verb (see suggest.ts).
 */
export function hardenParsing(cmd: Command): void {
  firstUnknownOptionWins(cmd);
  if (cmd.commands.length > 0) suggestSafely(cmd);
  for (const sub of cmd.commands) hardenParsing(sub);
}

const HELP_FLAGS = new Set(['-h', '--help']);

function firstUnknownOptionWins(cmd: Command): void {
  const parse = cmd.parseOptions.bind(cmd);
  cmd.parseOptions = (argv: string[]) => {
    const parsed = parse(argv);
    // `unknown` starts at the first unknown option, except for a command with subcommands that
    // found one (then it holds the subcommand's arguments, which are not ours to judge).
    const ours = cmd.commands.length === 0 || parsed.operands.length === 0;
    if (ours && parsed.unknown.length > 1 && !HELP_FLAGS.has(parsed.unknown[0]!)) {
      // Only the offending option is left: commander then reports it (with its suggestion)
      // rather than showing help for a `-h` that came after it.
      parsed.unknown = parsed.unknown.slice(0, 1);
    }
    return parsed;
  };
}

function suggestSafely(cmd: Command): void {
  // commander emits this for an unknown subcommand instead of reporting it itself.
  cmd.on('command:*', (operands: string[]) => {
    const word = operands[0] ?? '';
    const names = cmd.createHelp().visibleCommands(cmd).flatMap((c) => [c.name(), ...c.aliases()]);
    cmd.error(`error: unknown command '${word}'${suggestCommand(word, names)}`, { code: 'commander.unknownCommand' });
  });
}
