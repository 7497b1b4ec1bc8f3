import { NetworkError } from '../errors.js';
import { formatCidr, overlaps, parseCidr, type Cidr } from './ipv4.js';

/** Tried in order; the first that no host route overlaps becomes the bridge's subnet. */
export const DEFAULT_SUBNET_CANDIDATES: readonly string[] = [
  '10.88.0.0/16',
  '10.89.0.0/16',
  '10.90.0.0/16',
  '10.91.0.0/16',
  '172.30.0.0/16',
  '172.31.0.0/16',
  '192.168.200.0/24',
  '192.168.201.0/24',
  '192.168.202.0/24',
  '192.168.203.0/24',
];

export interface RouteEntry {
  dst?: string;
  dev?: string;
  type?: string;
}

/**
 * The IPv4 prefixes the host already routes (`ip -j -4 route show table all`), except the default
 * route and routes through `ignoreDevs` (our own bridge: its route must not push the network to
 * another subnet when corrald restarts).
 */
export function routedPrefixes(routes: readonly RouteEntry[], ignoreDevs: readonly string[] = []): Cidr[] {
  const out: Cidr[] = [];
  for (const r of routes) {
    if (!r.dst || r.dst === 'default') continue;
    if (r.dev !== undefined && ignoreDevs.includes(r.dev)) continue;
    const c = parseCidr(r.dst, false);
    if (c) out.push(c);
  }
  return out;
}

/** The first candidate that overlaps none of the host's routes. */
export function chooseSubnet(routes: readonly RouteEntry[], candidates: readonly string[] = DEFAULT_SUBNET_CANDIDATES, ignoreDevs: readonly string[] = []): string {
  const used = routedPrefixes(routes, ignoreDevs);
  for (const cand of candidates) {
    const c = parseCidr(cand);
    if (!c) throw new NetworkError(`choose subnet: candidate ${JSON.stringify(cand)} is not an IPv4 prefix`);
    if (!used.some((u) => overlaps(u, c))) return formatCidr(c);
  }
  throw new NetworkError(`choose subnet: every candidate (${candidates.join(', ')}) overlaps a host route; pass a subnet`, {
    candidates: [...candidates],
  });
}

/** Parse the JSON of `ip -j route`, tolerating an empty answer. */
export function parseRoutes(json: string): RouteEntry[] {
  const text = json.trim();
  if (text === '') return [];
  const v = JSON.parse(text) as unknown;
  if (!Array.isArray(v)) throw new NetworkError('read routes: `ip -j route` did not print a JSON array');
  return v as RouteEntry[];
}
