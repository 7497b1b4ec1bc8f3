import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConflictError, NetworkError, ValidationError, fsError, isErrno } from '../errors.js';
import { atomicWriteJson } from '../util/atomic-write.js';
import { KeyedMutex } from '../util/keyed-mutex.js';
import { broadcast, contains, firstHost, formatCidr, formatIpv4, lastHost, parseCidr, parseIpv4, type Cidr } from './ipv4.js';

/** One container's address on one network. */
export interface Lease {
  ip: string;
  mac: string;
  /** The host side of the container's veth; recorded before the veth exists, so a crash can be repaired. */
  hostVeth: string;
  leasedAt: string;
}

/** `<dataRoot>/network/<network>/leases.json`: the truth about who has which address. */
export interface LeaseFile {
  version: 1;
  network: string;
  subnet: string;
  gateway: string;
  /** The address handed out last; the next search starts after it, so a freed address is not reused at once. */
  last?: string;
  leases: Record<string, Lease>;
}

/** A locally administered MAC derived from the address (as Docker does), so it is unique in the subnet. */
export function macFor(ip: string): string {
  const n = parseIpv4(ip);
  if (n === undefined) throw new ValidationError(`mac for ${JSON.stringify(ip)}: not an IPv4 address`);
  const bytes = [0x02, 0x42, n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/**
 * Address management for one network, persisted in one file. Every change is read-modify-write of
 * that file under a mutex and written atomically before the caller configures anything, so an
 * address is never handed out twice, also after a crash of corrald (a lease whose veth was never
 * made is freed by `BridgeNetwork.repair`).
 */
export class Ipam {
  private readonly mutex = new KeyedMutex();

  constructor(
    readonly file: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The file's content, or undefined when no lease was ever written. */
  async load(): Promise<LeaseFile | undefined> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw fsError('read', this.file, err);
    }
    let v: LeaseFile;
    try {
      v = JSON.parse(text) as LeaseFile;
    } catch (err) {
      // Never start afresh over a damaged file: that would hand out addresses twice.
      throw new NetworkError(`read leases ${this.file}: ${(err as Error).message}`, { file: this.file });
    }
    if (v.version !== 1 || typeof v.subnet !== 'string' || typeof v.leases !== 'object' || v.leases === null) {
      throw new NetworkError(`read leases ${this.file}: not a version 1 lease file`, { file: this.file });
    }
    return v;
  }

  /**
   * Make sure the file exists for `network`. An existing file keeps its subnet (the bridge already
   * has it); a different `subnet` is refused while leases exist, and taken over otherwise.
   */
  async init(network: string, subnet: string): Promise<LeaseFile> {
    return this.mutex.run('file', async () => {
      const cidr = requireCidr(subnet);
      const cur = await this.load();
      if (cur && cur.subnet === formatCidr(cidr)) return cur;
      if (cur && Object.keys(cur.leases).length > 0) {
        throw new ConflictError(`network ${network} has subnet ${cur.subnet} with ${Object.keys(cur.leases).length} lease(s); cannot change it to ${subnet}`, {
          network,
          subnet: cur.subnet,
        });
      }
      const next: LeaseFile = { version: 1, network, subnet: formatCidr(cidr), gateway: formatIpv4(firstHost(cidr)), leases: {} };
      await this.write(next);
      return next;
    });
  }

  async get(id: string): Promise<Lease | undefined> {
    return (await this.load())?.leases[id];
  }

  async list(): Promise<Record<string, Lease>> {
    return (await this.load())?.leases ?? {};
  }

  /**
   * Lease an address for `id`: `ip` when given (it must be a free host address of the subnet), else
   * the next free one. A second lease for the same id returns the first.
   */
  async lease(id: string, o: { hostVeth: string; ip?: string | undefined }): Promise<Lease> {
    return this.mutex.run('file', async () => {
      const f = await this.load();
      if (!f) throw new NetworkError(`lease for ${id}: ${this.file} is missing; ensure the network first`, { file: this.file });
      const cidr = requireCidr(f.subnet);
      const existing = f.leases[id];
      if (existing) {
        if (o.ip !== undefined && o.ip !== existing.ip) {
          throw new ConflictError(`--ip ${o.ip}: container ${id.slice(0, 12)} already has ${existing.ip} on ${f.network}`, { id, ip: existing.ip });
        }
        return existing;
      }
      const taken = new Map(Object.entries(f.leases).map(([k, l]) => [l.ip, k]));
      const ip = o.ip !== undefined ? checkFixed(o.ip, f, cidr, taken) : nextFree(f, cidr, taken);
      const lease: Lease = { ip, mac: macFor(ip), hostVeth: o.hostVeth, leasedAt: this.now().toISOString() };
      await this.write({ ...f, last: ip, leases: { ...f.leases, [id]: lease } });
      return lease;
    });
  }

  /**
   * Would `ip` be granted to `id` now? Throws the error `lease` would (outside the subnet, the
   * gateway, taken by another container); for checking `--ip` at create time, before a start.
   */
  async check(id: string, ip: string): Promise<string> {
    const f = await this.load();
    if (!f) throw new NetworkError(`check --ip ${ip}: ${this.file} is missing; ensure the network first`, { file: this.file });
    const existing = f.leases[id];
    if (existing?.ip === ip) return ip;
    const taken = new Map(Object.entries(f.leases).map(([k, l]) => [l.ip, k]));
    return checkFixed(ip, f, requireCidr(f.subnet), taken);
  }

  /** Free `id`'s address; returns the lease it had (undefined when none: idempotent). */
  async release(id: string): Promise<Lease | undefined> {
    return this.mutex.run('file', async () => {
      const f = await this.load();
      const l = f?.leases[id];
      if (!f || !l) return undefined;
      const leases = { ...f.leases };
      delete leases[id];
      await this.write({ ...f, leases });
      return l;
    });
  }

  private async write(f: LeaseFile): Promise<void> {
    try {
      await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    } catch (err) {
      throw fsError('mkdir', dirname(this.file), err);
    }
    await atomicWriteJson(this.file, f, 0o644);
  }
}

function requireCidr(subnet: string): Cidr {
  const c = parseCidr(subnet);
  if (!c || c.prefix > 30) throw new ValidationError(`invalid subnet ${JSON.stringify(subnet)}: want an IPv4 network such as 10.88.0.0/16 (prefix at most /30)`);
  return c;
}

function checkFixed(ipText: string, f: LeaseFile, cidr: Cidr, taken: Map<string, string>): string {
  const n = parseIpv4(ipText);
  if (n === undefined) throw new ValidationError(`invalid --ip ${JSON.stringify(ipText)}: not an IPv4 address`, { ip: ipText });
  const ip = formatIpv4(n);
  if (!contains(cidr, n)) throw new ValidationError(`invalid --ip ${ip}: outside network ${f.network}'s subnet ${f.subnet}`, { ip, subnet: f.subnet });
  if (n === cidr.network || n === broadcast(cidr)) {
    throw new ValidationError(`invalid --ip ${ip}: the ${n === cidr.network ? 'network' : 'broadcast'} address of ${f.subnet}`, { ip });
  }
  if (n === firstHost(cidr)) throw new ValidationError(`invalid --ip ${ip}: the gateway of network ${f.network}`, { ip });
  const owner = taken.get(ip);
  if (owner !== undefined) throw new ConflictError(`--ip ${ip}: already in use on ${f.network} by container ${owner.slice(0, 12)}`, { ip, id: owner });
  return ip;
}

function nextFree(f: LeaseFile, cidr: Cidr, taken: Map<string, string>): string {
  const lo = firstHost(cidr) + 1;
  const hi = lastHost(cidr);
  const size = hi - lo + 1;
  const last = f.last !== undefined ? parseIpv4(f.last) : undefined;
  const start = last !== undefined && last >= lo && last < hi ? last + 1 : lo;
  for (let i = 0; i < size; i++) {
    const n = lo + ((start - lo + i) % size);
    const ip = formatIpv4(n);
    if (!taken.has(ip)) return ip;
  }
  throw new NetworkError(`lease an address on ${f.network}: subnet ${f.subnet} is full (${size} addresses)`, { subnet: f.subnet });
}
