import type { Command } from 'commander';
import type { Context } from '../context.js';
import { tailCount } from '../options.js';

export interface LogsRequest {
  ref: string;
  follow: boolean;
  tail?: number;
  timestamps: boolean;
}

export function registerLogs(program: Command, dispatch: (req: LogsRequest) => Promise<void>): void {
  program
    .command('logs')
    .description('print a container\'s output (stdout to stdout, stderr to stderr)')
    .argument('<container>')
    .option('-f, --follow', 'keep printing new output until the container stops')
    .option('--tail <n>', 'only the last N lines ("all" for all)', tailCount)
    .option('-t, --timestamps', 'prefix each line with its RFC 3339 time')
    .action((ref: string, o: { follow?: boolean; tail?: number | 'all'; timestamps?: boolean }) =>
      dispatch({ ref, follow: o.follow === true, ...(typeof o.tail === 'number' ? { tail: o.tail } : {}), timestamps: o.timestamps === true }),
    );
}

export async function logs(ctx: Context, req: LogsRequest): Promise<number> {
  const client = await ctx.client();
  const records = client.logs(req.ref, {
    follow: req.follow,
    timestamps: req.timestamps,
    ...(req.tail !== undefined ? { tail: req.tail } : {}),
  });
  for await (const r of records) {
    const stream = r.stream === 'stderr' ? ctx.io.stderr : ctx.io.stdout;
    const text = req.timestamps ? `${r.time} ${r.log}` : r.log;
    if (!stream.write(text)) await new Promise((resolve) => stream.once('drain', resolve));
  }
  return 0;
}
