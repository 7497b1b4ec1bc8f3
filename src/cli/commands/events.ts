import type { Command } from 'commander';
import { EVENT_TYPES } from '../../api/types.js';
import { ValidationError } from '../../errors.js';
import type { Context } from '../context.js';
import { collect } from '../options.js';

export interface EventsRequest {
  since?: string;
  until?: string;
  container: string[];
  type: string[];
  format: 'text' | 'json';
}

export function registerEvents(program: Command, dispatch: (req: EventsRequest) => Promise<void>): void {
  program
    .command('events')
    .description(`lifecycle events (${EVENT_TYPES.join(', ')}), recorded on disk; follows live until --until`)
    .option('--since <time>', 'from this time: 10m, 1h, an RFC 3339 time or Unix seconds')
    .option('--until <time>', 'up to this time (without it, keep following)')
    .option('-f, --filter <key=value>', 'container=NAME or type=die (repeatable)', collect)
    .option('--format <format>', 'text or json (one object per line)', 'text')
    .action((o: { since?: string; until?: string; filter?: string[]; format: string }) => {
      const req: EventsRequest = { container: [], type: [], format: o.format === 'json' ? 'json' : 'text' };
      if (o.since) req.since = o.since;
      if (o.until) req.until = o.until;
      for (const f of o.filter ?? []) {
        const [k, ...rest] = f.split('=');
        const v = rest.join('=');
        if (k === 'container' && v) req.container.push(v);
        else if (k === 'type' && (EVENT_TYPES as readonly string[]).includes(v)) req.type.push(v);
        else if (k === 'type' && v) throw new ValidationError(`--filter ${f}: expected one of ${EVENT_TYPES.join(', ')}`);
        else throw new ValidationError(`--filter ${f}: expected container=NAME or type=EVENT`);
      }
      return dispatch(req);
    });
}

export async function events(ctx: Context, req: EventsRequest): Promise<number> {
  const client = await ctx.client();
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  process.once('SIGINT', stop);
  try {
    for await (const e of client.events({ ...req, follow: req.until === undefined, signal: abort.signal })) {
      if (req.format === 'json') ctx.out(JSON.stringify(e) + '\n');
      else {
        const attrs = Object.entries({ name: e.name, ...e.attributes })
          .filter(([, v]) => v !== null && v !== undefined)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ');
        ctx.out(`${e.time} container ${e.type} ${e.id.slice(0, 12)} (${attrs})\n`);
      }
    }
  } catch (err) {
    if (!abort.signal.aborted) throw err;
  } finally {
    process.off('SIGINT', stop);
  }
  return 0;
}
