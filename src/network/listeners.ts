import { readFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { fsError, isErrno } from '../errors.js';
import { ANY_HOST_IP, type PortMapping, type Protocol } from './ports.js';

/**
 * Sockets of other programs that a DNAT rule would silently shadow: TCP sockets in LISTEN and
 * unconnected UDP sockets of the host's network namespace, from /proc/net/{tcp,tcp6,udp,udp6}.
 */
export interface Listener {
  protocol: Protocol;
  /** Dotted IPv4 (also for a v4-mapped IPv6 socket), `::` for the IPv6 wildcard, else the IPv6 hex. */
  address: string;
  port: number;
}

const TCP_LISTEN = '0A';
const UDP_UNCONNECTED = '07';

/** One /proc/net table. `hostEndian` is how the kernel printed each 32-bit word (this host's order). */
export function parseProcNet(text: string, protocol: Protocol, hostEndian: 'LE' | 'BE' = endianness()): Listener[] {
  const want = protocol === 'tcp' ? TCP_LISTEN : UDP_UNCONNECTED;
  const out: Listener[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    const local = f[1];
    if (!local || f[3] !== want) continue;
    const [hex, portHex] = local.split(':');
    if (!hex || !portHex) continue;
    const address = decodeAddress(hex, hostEndian);
    if (address === undefined) continue;
    out.push({ protocol, address, port: parseInt(portHex, 16) });
  }
  return out;
}

function words(hex: string, hostEndian: 'LE' | 'BE'): number[] {
  const bytes: number[] = [];
  for (let w = 0; w < hex.length; w += 8) {
    const b = [0, 2, 4, 6].map((i) => parseInt(hex.slice(w + i, w + i + 2), 16));
    bytes.push(...(hostEndian === 'LE' ? b.reverse() : b));
  }
  return bytes;
}

function decodeAddress(hex: string, hostEndian: 'LE' | 'BE'): string | undefined {
  if (hex.length === 8) return words(hex, hostEndian).join('.');
  if (hex.length !== 32) return undefined;
  const b = words(hex, hostEndian);
  if (b.every((x) => x === 0)) return '::';
  const mapped = b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  if (mapped) return b.slice(12).join('.');
  return b.map((x) => x.toString(16).padStart(2, '0')).join('');
}

/** The listeners of the network namespace whose /proc/net is `procNet` (corrald's: the host's). */
export async function readListeners(procNet = '/proc/net'): Promise<Listener[]> {
  const out: Listener[] = [];
  for (const [file, protocol] of [
    ['tcp', 'tcp'],
    ['tcp6', 'tcp'],
    ['udp', 'udp'],
    ['udp6', 'udp'],
  ] as const) {
    const path = join(procNet, file);
    try {
      out.push(...parseProcNet(await readFile(path, 'utf8'), protocol));
    } catch (err) {
      // No IPv6 in the kernel: no tcp6/udp6.
      if (!isErrno(err, 'ENOENT')) throw fsError('read', path, err);
    }
  }
  return out;
}

/**
 * Would publishing `m` take packets away from `l`? A DNAT rule for 0.0.0.0 covers every local
 * IPv4 address; a wildcard socket (0.0.0.0 or ::) is reachable on every one.
 */
export function listenerBlocks(l: Listener, m: PortMapping): boolean {
  if (l.protocol !== m.protocol || l.port !== m.hostPort) return false;
  if (l.address === '0.0.0.0' || l.address === '::') return true;
  if (!l.address.includes('.')) return false; // a specific IPv6 address: IPv4 DNAT never reaches it
  return m.hostIp === ANY_HOST_IP || m.hostIp === l.address;
}
