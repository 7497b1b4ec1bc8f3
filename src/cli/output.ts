import type { ContainerSummary, NetworkSummary, PortBinding, TemplateInfo } from '../api/types.js';
import { shortId } from '../util/names.js';
import { describeStatus, timeAgo } from '../util/duration.js';

/** Output as Docker prints it: aligned tables, "5 seconds ago", quoted and truncated commands. */

export { humanDuration, timeAgo } from '../util/duration.js';

/** The summary's status in Docker's wording, computed from its times (corrald's text is the same). */
export function statusText(c: Pick<ContainerSummary, 'status' | 'exitCode' | 'startedAt' | 'finishedAt'>, now: number = Date.now()): string {
  return describeStatus(c, now);
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

export function containerTable(list: readonly ContainerSummary[], now: number = Date.now(), noTrunc = false): string {
  // Which manifest a container came from, when any did (the file's name; stdin:PROJECT as is).
  const fromManifest = list.some((c) => c.manifest);
  const manifest = (m: string | null | undefined): string => (!m ? '-' : m.startsWith('/') ? m.slice(m.lastIndexOf('/') + 1) : m);
  return formatTable(
    ['CONTAINER ID', 'NAME', 'TEMPLATE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', ...(fromManifest ? ['MANIFEST'] : [])],
    list.map((c) => [noTrunc ? c.id : shortId(c.id), c.name, c.template, noTrunc ? JSON.stringify(c.command.join(' ')) : commandColumn(c.command), timeAgo(c.createdAt, now), c.statusText || statusText(c, now), portsColumn(c.ports ?? []), ...(fromManifest ? [manifest(c.manifest)] : [])]),
  );
}

/** Docker's PORTS column: `0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp`. */
export function portsColumn(ports: readonly PortBinding[]): string {
  return ports.map((p) => `${p.hostIp}:${p.hostPort}->${p.containerPort}/${p.protocol}`).join(', ');
}

export function networkTable(list: readonly NetworkSummary[]): string {
  return formatTable(
    ['NAME', 'DRIVER', 'BRIDGE', 'SUBNET', 'GATEWAY', 'CONTAINERS'],
    list.map((n) => [n.name, n.driver, n.bridge ?? '-', n.subnet ?? (n.driver === 'bridge' ? '(on first use)' : '-'), n.gateway ?? '-', String(n.containers)]),
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

/** `template ls`: own size, what it shares with its parent, and who uses it. */
export function templateTable(list: readonly TemplateInfo[], now: number = Date.now()): string {
  return formatTable(
    ['NAME', 'SOURCE', 'SIZE', 'SHARED', 'CONTAINERS', 'CREATED'],
    list.map((t) => [
      t.name,
      templateSourceText(t),
      t.ownSizeBytes === null ? '-' : humanSize(t.ownSizeBytes),
      t.sharedSizeBytes === null ? '-' : t.sharedSizeBytes === 0 ? '0B' : `${humanSize(t.sharedSizeBytes)} (${t.parent ?? 'parent'})`,
      String(t.containers.length),
      t.status === 'ready' ? timeAgo(t.builtAt, now) : '-',
    ]),
  );
}

export function templateSourceText(t: TemplateInfo): string {
  if (t.status === 'invalid') return `invalid: ${t.problem ?? 'unknown'}`;
  const s = t.source;
  if (t.status === 'recipe') return `recipe ${t.name}, not built${t.autoBuild ? ' (builds on first use)' : ` (corral template build ${t.name})`}`;
  if (!s) return '-';
  if (s.kind === 'recipe') {
    const args = Object.entries(s.args).filter(([, v]) => v !== '').map(([k, v]) => `${k}=${v}`);
    return `recipe ${s.recipe}${args.length ? ` ${args.join(' ')}` : ''}`;
  }
  if (s.kind === 'commit') return `commit of ${s.containerName} on ${s.parent}${s.flattened ? ' (flattened)' : ''}`;
  return `${s.format} ${s.file}${s.tag ? ` (${s.tag})` : ''}`;
}

/** Pretty JSON (4 spaces, like `docker inspect`) with a final newline. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 4) + '\n';
}
