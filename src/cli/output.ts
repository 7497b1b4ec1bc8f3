import type { ContainerSummary, TemplateInfo } from '../api/types.js';
import { shortId } from '../util/names.js';

/** Output as Docker prints it: aligned tables, "5 seconds ago", quoted and truncated commands. */

/** Docker's (go-units) HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}

/** "5 seconds ago"; empty for a missing or unparsable time. */
export function timeAgo(iso: string | null | undefined, now: number = Date.now()): string {
  const t = iso ? Date.parse(iso) : NaN;
  if (Number.isNaN(t)) return '';
  return `${humanDuration(Math.max(0, now - t))} ago`;
}

/**
 * "Up 5 seconds", "Exited (0) 3 minutes ago", "Created" (Docker's wording). corrald sends its own
 * `statusText`, which the table prefers; this is for summaries without one.
 */
export function statusText(c: Pick<ContainerSummary, 'status' | 'exitCode' | 'startedAt' | 'finishedAt' | 'statusText'>, now: number = Date.now()): string {
  switch (c.status) {
    case 'created':
      return 'Created';
    case 'running': {
      const t = c.startedAt ? Date.parse(c.startedAt) : NaN;
      return Number.isNaN(t) ? 'Up' : `Up ${humanDuration(Math.max(0, now - t))}`;
    }
    case 'exited': {
      const ago = timeAgo(c.finishedAt, now);
      return `Exited (${c.exitCode ?? 0})${ago ? ` ${ago}` : ''}`;
    }
    default:
      return c.statusText ?? String(c.status);
  }
}

/** Docker's Ellipsis: at most `max` characters, the last one `…` when cut. */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  return max <= 1 ? chars.slice(0, max).join('') : `${chars.slice(0, max - 1).join('')}…`;
}

/** The COMMAND column: the argv joined with spaces, truncated to 20, in double quotes. */
export function commandColumn(argv: readonly string[], max = 20): string {
  return JSON.stringify(ellipsis(argv.join(' '), max));
}

/**
 * Columns padded like Docker's tabwriter (minimum width 10, 3 spaces of padding); the last column
 * is not padded.
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[], minWidth = 10, padding = 3): string {
  const all = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(minWidth, ...all.map((r) => [...(r[i] ?? '')].length + padding)));
  const line = (r: readonly string[]) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat(widths[i]! - [...cell].length)))
      .join('')
      .trimEnd();
  return all.map(line).join('\n') + '\n';
}

export function containerTable(list: readonly ContainerSummary[], now: number = Date.now()): string {
  return formatTable(
    ['CONTAINER ID', 'NAME', 'TEMPLATE', 'COMMAND', 'CREATED', 'STATUS'],
    list.map((c) => [shortId(c.id), c.name, c.template, commandColumn(c.command), timeAgo(c.createdAt, now), c.statusText || statusText(c, now)]),
  );
}

/** Docker's HumanSize: decimal units, 3 significant digits ("4.26MB"). */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}

export function templateTable(list: readonly TemplateInfo[], now: number = Date.now()): string {
  return formatTable(
    ['NAME', 'BUILT', 'SIZE', 'DESCRIPTION'],
    list.map((t) => [
      t.name,
      t.built ? timeAgo(t.builtAt, now) || 'yes' : 'not yet',
      t.sizeBytes === null ? '-' : humanSize(t.sizeBytes),
      t.description,
    ]),
  );
}

/** Pretty JSON (4 spaces, like `docker inspect`) with a final newline. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 4) + '\n';
}
