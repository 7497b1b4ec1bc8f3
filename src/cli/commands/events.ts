import { Option, type Command } from 'commander';
import { EVENT_TYPES } from '../../api/types.js';
import { ValidationError } from '../../errors.js';
import type { Context } from '../context.js';
import { withExamples } from '../examples.js';
import { eventItem, EVENT_FIELDS } from '../format/contexts.js';
import { formatOption, renderTemplate, type FormatSpec } from '../format/format.js';
import { collect } from '../options.js';

export interface EventsRequest {
  since?: string;
  until?: string;
  container: string[];
  type: string[];
  format: FormatSpec<'text' | 'json'>;
}

export function registerEvents(program: Command, dispatch: (req: EventsRequest) => Promise<void>): void {
  const cmd = program
    .command('events')
    .description(`lifecycle events (${EVENT_TYPES.join(', ')}) as they happen; with --since, recorded ones first; follows until --until`)
    .option('--since <time>', 'from this time: 10m, 1h, an RFC 3339 time or Unix seconds (default: now, only new events)')
    .option('--until <time>', 'up to this time (without it, keep following)')
    .option('-f, --filter <key=value>', 'container=NAME, event=die (Docker\'s name; type=die too) (repeatable)', collect)
    .addOption(new Option('--format <format>', 'text, json (one object per line), or a Go template (\'{{.Action}} {{.Actor.Attributes.name}}\')').argParser(formatOption(['text', 'json'] as const)).default({ kind: 'text' }, 'text'))
    .action((o: { since?: string; until?: string; filter?: string[]; format: FormatSpec<'text' | 'json'> }) => {
      const req: EventsRequest = { container: [], type: [], format: o.format };
      if (o.since) req.since = o.since;
      if (o.until) req.until = o.until;
      for (const f of o.filter ?? []) {
        const [k, ...rest] = f.split('=');
        const v = rest.join('=');
        if (k === 'container' && v) req.container.push(v);
        else if (k === 'type' && v === 'container') continue; // Docker's object type: every Corral event is one
        else if ((k === 'type' || k === 'event') && (EVENT_TYPES as readonly string[]).includes(v)) req.type.push(v);
        else if ((k === 'type' || k === 'event') && v) throw new ValidationError(`--filter ${f}: expected one of ${EVENT_TYPES.join(', ')}`);
        else throw new ValidationError(`--filter ${f}: expected container=NAME or event=EVENT`);
      }
      return dispatch(req);
    });
  withExamples(cmd, ['corral events', 'corral events --since 10m --until 0s --filter event=die', "corral events --filter container=web --format '{{.Time}} {{.Action}}'"]);
}

export async function events(ctx: Context, req: EventsRequest): Promise<number> {
  const client = await ctx.client();
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  process.once('SIGINT', stop);
  // As Docker: without --since (or --until) only what happens from now on, not the journal.
  const since = req.since ?? (req.until === undefined ? new Date().toISOString() : undefined);
  try {
    for await (const e of client.events({ ...req, ...(since !== undefined ? { since } : {}), follow: req.until === undefined, signal: abort.signal })) {
      if (req.format.kind === 'json') ctx.out(JSON.stringify(e) + '\n');
      else if (req.format.kind === 'template') ctx.out(renderTemplate({ template: req.format.template, table: false }, [eventItem(e)], EVENT_FIELDS));
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
