import { InvalidArgumentError, type Command } from 'commander';
import { parseTimeArg } from '../../util/time.js';
import type { Context } from '../context.js';
import { withExamples } from '../examples.js';
import { tailCount } from '../options.js';

export interface LogsRequest {
  ref: string;
  follow: boolean;
  tail?: number;
  timestamps: boolean;
  since?: string;
  until?: string;
}

export function registerLogs(program: Command, dispatch: (req: LogsRequest) => Promise<void>): void {
  const cmd = program
    .command('logs')
    .description('print a container\'s output (stdout to stdout, stderr to stderr)')
    .argument('<container>')
    .option('-f, --follow', 'keep printing new output until the container stops')
    .option('-n, --tail <n>', 'only the last N lines ("all" for all)', tailCount)
    .option('--since <time>', 'only lines from this time: 10m, 1h, an RFC 3339 time or Unix seconds', timeArg)
    .option('--until <time>', 'only lines up to this time (same forms); -f stops then', timeArg)
    .option('-t, --timestamps', 'prefix each line with its RFC 3339 time')
    .action((ref: string, o: { follow?: boolean; tail?: number | 'all'; timestamps?: boolean; since?: string; until?: string }) =>
      dispatch({
        ref,
        follow: o.follow === true,
        ...(typeof o.tail === 'number' ? { tail: o.tail } : {}),
        timestamps: o.timestamps === true,
        ...(o.since !== undefined ? { since: o.since } : {}),
        ...(o.until !== undefined ? { until: o.until } : {}),
      }),
    );
  withExamples(cmd, ['corral logs -f web', 'corral logs -n 20 -t web', 'corral logs --since 10m --until 2m web', 'corral logs --since 2026-01-02T15:04:05Z web']);
}

/** Checks a time flag's form here (a usage error); corrald reads it against its own clock. */
function timeArg(v: string): string {
  try {
    parseTimeArg(v, 'time');
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return v;
}

export async function logs(ctx: Context, req: LogsRequest): Promise<number> {
  const client = await ctx.client();
  const records = client.logs(req.ref, {
    follow: req.follow,
    timestamps: req.timestamps,
    ...(req.tail !== undefined ? { tail: req.tail } : {}),
    ...(req.since !== undefined ? { since: req.since } : {}),
    ...(req.until !== undefined ? { until: req.until } : {}),
  });
  for await (const r of records) {
    const stream = r.stream === 'stderr' ? ctx.io.stderr : ctx.io.stdout;
    const text = req.timestamps ? `${r.time} ${r.log}` : r.log;
    if (!stream.write(text)) await new Promise((resolve) => stream.once('drain', resolve));
  }
  return 0;
}
