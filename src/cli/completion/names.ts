import type { Command } from 'commander';
import { connect } from '../../client/connect.js';
import { resolvePaths } from '../../config.js';
import type { GlobalOptions, Io } from '../context.js';
import { complete, type NameKind } from './complete.js';

/**
 * `corral __complete WORD... -- CUR`: one candidate a line. Names come from a corrald that is
 * already running (completion never starts one); without it, only commands and flags.
 */
export async function completeWords(program: Command, args: readonly string[], io: Io): Promise<number> {
  const dash = args.lastIndexOf('--');
  const words = dash < 0 ? args.slice(0, -1) : args.slice(0, dash);
  const cur = dash < 0 ? (args[args.length - 1] ?? '') : (args[dash + 1] ?? '');
  const globals: GlobalOptions = {};
  for (let i = 0; i + 1 < words.length && words[i]!.startsWith('--'); i += 2) {
    const [flag, value] = [words[i]!, words[i + 1]!];
    if (flag === '--data-root') globals.dataRoot = value;
    else if (flag === '--run-root') globals.runRoot = value;
    else if (flag === '--cgroup-parent') globals.cgroupParent = value;
    else break;
  }
  const names = async (kind: NameKind): Promise<string[]> => {
    try {
      const client = await connect(resolvePaths(globals, io.env), { autoStart: false });
      if (kind === 'container') return (await client.list({ all: true })).flatMap((c) => (c.status === 'broken' ? [] : [c.name]));
      if (kind === 'template') return (await client.templates()).filter((t) => t.status !== 'invalid').map((t) => t.name);
      return (await client.networks()).map((n) => n.name);
    } catch {
      return [];
    }
  };
  const out = await complete(program, words, cur, names);
  io.stdout.write(out.map((s) => `${s}\n`).join(''));
  return 0;
}
