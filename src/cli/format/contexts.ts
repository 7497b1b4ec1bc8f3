import type { ContainerInspect, ContainerSummary, CorralEvent, NetworkSummary, TemplateInfo } from '../../api/types.js';
import { shortId } from '../../util/names.js';
import { commandColumn, humanSize, portsColumn, statusText, templateSourceText, timeAgo } from '../output.js';
import type { FormatFields } from './format.js';

/** What `{{.Field}}` sees for each kind of item: Docker's field names, then Corral's own. */

/** Go's time.Time String(), as Docker prints CreatedAt: `2024-05-01 10:00:00 +0000 UTC`. */
export function goTime(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}

const labelText = (labels: Record<string, string>): string =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

export const PS_FIELDS: FormatFields = {
  what: 'a container',
  headers: {
    ID: 'CONTAINER ID', Names: 'NAMES', Name: 'NAME', Image: 'IMAGE', Template: 'TEMPLATE', Command: 'COMMAND', CreatedAt: 'CREATED AT',
    RunningFor: 'CREATED', Ports: 'PORTS', State: 'STATE', Status: 'STATUS', Labels: 'LABELS', Label: 'LABEL', Networks: 'NETWORKS',
    Manifest: 'MANIFEST', ExitCode: 'EXIT CODE', Pid: 'PID',
  },
  methods: ['Label'],
};

/** `docker ps`'s fields (Image is the template); `noTrunc` keeps ids and commands whole. */
export function psItem(c: ContainerSummary, noTrunc: boolean, now: number = Date.now()): Record<string, unknown> {
  const labels = c.labels ?? {};
  return {
    ID: noTrunc ? c.id : shortId(c.id),
    Names: c.name,
    Name: c.name,
    Image: c.template,
    Template: c.template,
    Command: noTrunc ? JSON.stringify(c.command.join(' ')) : commandColumn(c.command),
    CreatedAt: goTime(c.createdAt),
    RunningFor: c.createdAt ? timeAgo(c.createdAt, now) : '',
    Ports: portsColumn(c.ports ?? []),
    State: c.status,
    Status: c.statusText || statusText(c, now),
    Labels: labelText(labels),
    Label: (k: unknown) => labels[String(k)] ?? '',
    Networks: c.networks.map((n) => n.name).join(','),
    Manifest: c.manifest ?? '',
    ExitCode: c.exitCode,
    Pid: c.pid,
  };
}

/**
 * `inspect`'s data is its JSON (camelCase keys, which `.State.Status` finds), plus Docker's names
 * where they differ: `.Id`, `.Name`, `.Config.Image`, `.NetworkSettings.IPAddress`, `.State.Running`.
 */
export function inspectItem(c: ContainerInspect): Record<string, unknown> {
  const s = c.state as unknown as Record<string, unknown>;
  return aliases({ ...c }, {
    Id: c.id,
    Image: c.config.template,
    config: aliases({ ...c.config }, { Image: c.config.template, Cmd: c.config.command }),
    state: aliases({ ...s }, { Running: s.status === 'running' || s.status === 'paused', Paused: s.status === 'paused', Pid: s.pid ?? 0 }),
    networkSettings: aliases({ ...c.networkSettings }, { IPAddress: c.networkSettings.ipAddress ?? '' }),
  });
}

/** Adds Docker's names as fields `{{json .}}` leaves out (not enumerable); replaces those given. */
function aliases(o: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(extra)) {
    if (Object.prototype.hasOwnProperty.call(o, k)) o[k] = v;
    else Object.defineProperty(o, k, { value: v, enumerable: false });
  }
  return o;
}

export const NETWORK_FIELDS: FormatFields = {
  what: 'a network',
  headers: { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', Bridge: 'BRIDGE', Subnet: 'SUBNET', Gateway: 'GATEWAY', Containers: 'CONTAINERS', CreatedAt: 'CREATED AT', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS' },
};

export function networkItem(n: NetworkSummary): Record<string, unknown> {
  return {
    ID: n.name, Name: n.name, Driver: n.driver, Scope: 'local', Bridge: n.bridge ?? '', Subnet: n.subnet ?? '', Gateway: n.gateway ?? '',
    Containers: n.containers, CreatedAt: goTime(n.createdAt), IPv6: false, Internal: false, Labels: '',
  };
}

export const TEMPLATE_FIELDS: FormatFields = {
  what: 'a template',
  headers: {
    Name: 'NAME', Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', Digest: 'DIGEST', Source: 'SOURCE', Size: 'SIZE', Shared: 'SHARED',
    Containers: 'CONTAINERS', CreatedAt: 'CREATED AT', CreatedSince: 'CREATED', Status: 'STATUS', Parent: 'PARENT',
  },
};

/** `docker images`'s fields where they fit (Repository is the name, ID the digest). */
export function templateItem(t: TemplateInfo, now: number = Date.now()): Record<string, unknown> {
  return {
    Name: t.name, Repository: t.name, Tag: 'latest', ID: (t.digest ?? '').replace(/^sha256:/, '').slice(0, 12), Digest: t.digest ?? '',
    Source: templateSourceText(t), Size: t.ownSizeBytes === null ? '' : humanSize(t.ownSizeBytes),
    Shared: t.sharedSizeBytes === null ? '' : humanSize(t.sharedSizeBytes), Containers: t.containers.length,
    CreatedAt: goTime(t.builtAt), CreatedSince: t.builtAt ? timeAgo(t.builtAt, now) : '', Status: t.status, Parent: t.parent ?? '',
  };
}

export const STATS_FIELDS: FormatFields = {
  what: 'a stats row',
  headers: { Container: 'CONTAINER', ID: 'CONTAINER ID', Name: 'NAME', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %', NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS' },
};

export const EVENT_FIELDS: FormatFields = {
  what: 'an event',
  headers: { Time: 'TIME', TimeNano: 'TIME NANO', Type: 'TYPE', Action: 'ACTION', Status: 'STATUS', ID: 'ID', From: 'FROM', Name: 'NAME', Actor: 'ACTOR', Scope: 'SCOPE' },
};

/** Docker's event message: Type `container`, Action the event, Actor.Attributes with the name. */
export function eventItem(e: CorralEvent): Record<string, unknown> {
  const ms = Date.parse(e.time);
  return {
    Type: 'container', Action: e.type, Status: e.type, ID: e.id, Name: e.name, From: '', Scope: 'local',
    Actor: { ID: e.id, Attributes: { name: e.name, ...e.attributes } },
    Time: Math.floor(ms / 1000), TimeNano: String(BigInt(ms) * 1_000_000n), TimeRFC3339: e.time,
  };
}
