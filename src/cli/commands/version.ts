import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Context } from '../context.js';

export type VersionRequest = Record<string, never>;

/** This package's version (package.json is two levels above src/cli and dist/cli). */
export function clientVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function registerVersion(program: Command, dispatch: (req: VersionRequest) => Promise<void>): void {
  program
    .command('version')
    .description('show the client\'s and corrald\'s versions')
    .action(() => dispatch({}));
}

export async function version(ctx: Context): Promise<number> {
  ctx.out(block('Client', [['Version', clientVersion()], ['Node', process.version]]) + '\n');
  const v = await (await ctx.client()).version();
  ctx.out(
    block('Server', [
      ['Version', v.version],
      ['API version', v.apiVersion],
      ['Pid', String(v.pid)],
      ['Data root', v.dataRoot],
      ['Run root', v.runRoot],
      ['Cgroup driver', v.cgroupDriver],
      ['Cgroup parent', v.cgroupParent],
    ]),
  );
  return 0;
}

function block(title: string, rows: [string, string][]): string {
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  return `${title}:\n` + rows.map(([k, v]) => ` ${`${k}:`.padEnd(width)}${v}\n`).join('');
}
