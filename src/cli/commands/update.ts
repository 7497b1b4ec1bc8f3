import type { Command } from 'commander';
import type { UpdateRequest } from '../../api/types.js';
import type { Context } from '../context.js';
import { storageOptFromFlags } from '../../storage/size.js';
import { collect } from '../options.js';
import { addLimitFlags, toLimitRequest, type LimitFlags } from '../limit-flags.js';
import { formatTable, toJson } from '../output.js';

export interface UpdateCommandRequest {
  refs: string[];
  limits: UpdateRequest;
  format: 'table' | 'json';
}

export function registerUpdate(program: Command, dispatch: (req: UpdateCommandRequest) => Promise<void>): void {
  addLimitFlags(
    program
      .command('update')
      .description("change containers' limits in place: a running container keeps its pid and the kernel enforces the new values at once")
      .argument('<container...>', 'names or ids'),
    { create: false },
  )
    .option('--restart <policy>', 'a new restart policy: no, on-failure[:MAX], always, unless-stopped')
    .option('--storage-opt <key=value>', 'size=SIZE: grow the container\'s disk (never shrink); a running container\'s grows at its next start', collect)
    .option('--format <format>', 'table or json', 'table')
    .action((refs: string[], f: LimitFlags & { format: string; restart?: string; storageOpt?: string[] }) => {
      const { ignoreMissingLimits: _ignored, restart, storageOpt, ...flags } = f;
      const limits: UpdateRequest = { ...toLimitRequest(flags), ...(restart !== undefined ? { restart } : {}), ...(storageOpt?.length ? { storageOpt: storageOptFromFlags(storageOpt) } : {}) };
      return dispatch({ refs, limits, format: f.format === 'json' ? 'json' : 'table' });
    });
}

export async function update(ctx: Context, req: UpdateCommandRequest): Promise<number> {
  const client = await ctx.client();
  let failed = false;
  const results = [];
  for (const ref of req.refs) {
    try {
      const r = await client.update(ref, req.limits);
      results.push({ container: ref, ...r });
      for (const w of r.warnings ?? []) ctx.warn(`warning: ${w}`);
      if (req.format === 'table') {
        ctx.out(`${ref}\n`);
        if (r.applied.length > 0) ctx.out(formatTable(['LIMIT', 'REQUESTED', 'FILE', 'VALUE'], r.applied.map((a) => [a.limit, a.requested, a.file, a.skipped ? `(skipped: ${a.skipped})` : a.value])));
      }
    } catch (err) {
      failed = true;
      ctx.warn(err);
    }
  }
  if (req.format === 'json') ctx.out(toJson(results));
  return failed ? 1 : 0;
}
