import { ValidationError } from '../errors.js';
import { formatIpv4, parseIpv4 } from './ipv4.js';

/**
 * `-p [HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp]`, parsed once at the edge. Pure.
 */
export type Protocol = 'tcp' | 'udp';

export interface PortMapping {
  /** `0.0.0.0` means every address of the host (including 127.0.0.1). */
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: Protocol;
}

export const ANY_HOST_IP = '0.0.0.0';
const FORM = '[HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp]';

export function parsePortMapping(spec: string, flag = '-p'): PortMapping {
  const bad = (why: string): ValidationError =>
    new ValidationError(`invalid ${flag} ${JSON.stringify(spec)}: ${why} (want ${FORM}, e.g. 8080:80 or 127.0.0.1:5353:53/udp)`, { flag, value: spec });
  let rest = spec.trim();
  let protocol: Protocol = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const p = rest.slice(slash + 1).toLowerCase();
    if (p !== 'tcp' && p !== 'udp') throw bad(`protocol ${JSON.stringify(rest.slice(slash + 1))} is not tcp or udp`);
    protocol = p;
    rest = rest.slice(0, slash);
  }
  if (rest.startsWith('[') || rest.split(':').length > 3) throw bad('IPv6 host addresses are not supported yet');
  const parts = rest.split(':');
  if (parts.length < 2) throw bad('a host port and a container port are required');
  const [hostIpText, hostPortText, ctrPortText] = parts.length === 3 ? parts : [ANY_HOST_IP, parts[0], parts[1]];
  let hostIp = ANY_HOST_IP;
  if (hostIpText !== undefined && parts.length === 3) {
    if (hostIpText === '') throw bad('the host address before the first ":" is empty');
    const n = parseIpv4(hostIpText);
    if (n === undefined) throw bad(`host address ${JSON.stringify(hostIpText)} is not an IPv4 address`);
    hostIp = formatIpv4(n);
  }
  return {
    hostIp,
    hostPort: port(hostPortText ?? '', 'host port', bad),
    containerPort: port(ctrPortText ?? '', 'container port', bad),
    protocol,
  };
}

/** Every `-p` of one command; the same host port twice is refused here, before anything is made. */
export function parsePortMappings(specs: readonly string[], flag = '-p'): PortMapping[] {
  const out: PortMapping[] = [];
  for (const s of specs) {
    const m = parsePortMapping(s, flag);
    const dup = out.find((o) => mappingsClash(o, m));
    if (dup) {
      throw new ValidationError(`invalid ${flag} ${JSON.stringify(s)}: host port ${formatHostPort(m)} is already given as ${formatPortMapping(dup)}`, { flag, value: s });
    }
    out.push(m);
  }
  return out;
}

/** Two mappings want the same host socket: same protocol and port, and one address covers the other. */
export function mappingsClash(a: PortMapping, b: PortMapping): boolean {
  return a.protocol === b.protocol && a.hostPort === b.hostPort && (a.hostIp === b.hostIp || a.hostIp === ANY_HOST_IP || b.hostIp === ANY_HOST_IP);
}

/** `0.0.0.0:8080->80/tcp`, as `docker ps` shows it. */
export function formatPortMapping(m: PortMapping): string {
  return `${m.hostIp}:${m.hostPort}->${m.containerPort}/${m.protocol}`;
}

export function formatHostPort(m: PortMapping): string {
  return `${m.hostIp}:${m.hostPort}/${m.protocol}`;
}

function port(text: string, what: string, bad: (why: string) => ValidationError): number {
  if (text === '') throw bad(`the ${what} is empty (random host ports are not supported yet)`);
  if (/^\d+-\d+$/.test(text)) throw bad(`port ranges are not supported yet`);
  if (!/^\d{1,5}$/.test(text)) throw bad(`${what} ${JSON.stringify(text)} is not a number`);
  const n = Number(text);
  if (n < 1 || n > 65535) throw bad(`${what} ${n} is not in 1-65535`);
  return n;
}
