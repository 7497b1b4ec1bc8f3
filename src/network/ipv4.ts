/**
 * IPv4 addresses and prefixes as unsigned 32-bit numbers. Pure; every function is unit-tested.
 */
export interface Cidr {
  /** The network address (host bits zero). */
  network: number;
  prefix: number;
}

const DOTTED = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** `10.88.0.2` → number, or undefined when it is not a dotted quad of 0..255 without leading zeros. */
export function parseIpv4(s: string): number | undefined {
  const m = DOTTED.exec(s);
  if (!m) return undefined;
  let n = 0;
  for (const part of m.slice(1)) {
    if (part.length > 1 && part.startsWith('0')) return undefined;
    const v = Number(part);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/**
 * `10.88.0.0/16` → Cidr. `strict` refuses host bits (a subnet must be written as its network);
 * otherwise they are cleared, as for a route's `dst` or an address with its prefix.
 */
export function parseCidr(s: string, strict = true): Cidr | undefined {
  const slash = s.indexOf('/');
  const addr = parseIpv4(slash < 0 ? s : s.slice(0, slash));
  if (addr === undefined) return undefined;
  let prefix = 32;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,2}$/.test(p)) return undefined;
    prefix = Number(p);
    if (prefix > 32) return undefined;
  }
  const network = (addr & mask(prefix)) >>> 0;
  if (strict && network !== addr) return undefined;
  return { network, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIpv4(c.network)}/${c.prefix}`;
}

export function broadcast(c: Cidr): number {
  return (c.network | ~mask(c.prefix)) >>> 0;
}

export function contains(c: Cidr, addr: number): boolean {
  return ((addr & mask(c.prefix)) >>> 0) === c.network;
}

/** Two prefixes overlap when one contains the other's network. */
export function overlaps(a: Cidr, b: Cidr): boolean {
  return contains(a, b.network) || contains(b, a.network);
}

/** The first host address: the gateway on the bridge. */
export function firstHost(c: Cidr): number {
  return c.network + 1;
}

/** Last usable host address (the one before broadcast). */
export function lastHost(c: Cidr): number {
  return broadcast(c) - 1;
}
