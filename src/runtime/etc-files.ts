import { open, readFile } from 'node:fs/promises';
import type { ContainerConfig } from '../api/types.js';
import { fsError, isErrno } from '../errors.js';
import { atomicWrite } from '../util/atomic-write.js';
import type { EtcBind } from '../namespaces/argv.js';
import type { ContainerStore } from './store.js';

/**
 * /etc/hostname, /etc/hosts and /etc/resolv.conf are files of the container's state dir bound into
 * it (as Docker does), so corrald can keep them current without touching the rootfs.
 */
export async function writeEtcFiles(store: ContainerStore, c: ContainerConfig, hostResolvConf = '/etc/resolv.conf'): Promise<EtcBind[]> {
  await atomicWrite(store.file(c.id, 'hostname'), `${c.hostname}\n`, 0o644);
  await atomicWrite(store.file(c.id, 'hosts'), renderHosts({ hostname: c.hostname, self: null, peers: [], extra: c.extraHosts ?? [] }), 0o644);
  await atomicWrite(store.file(c.id, 'resolv.conf'), await resolvConf(hostResolvConf), 0o644);
  return etcBinds(store, c);
}

/** Where the three files are bound in the container (written at create, hosts and resolv.conf refreshed at start). */
export function etcBinds(store: ContainerStore, c: ContainerConfig): EtcBind[] {
  return [
    { source: store.file(c.id, 'hostname'), target: '/etc/hostname' },
    { source: store.file(c.id, 'hosts'), target: '/etc/hosts' },
    { source: store.file(c.id, 'resolv.conf'), target: '/etc/resolv.conf' },
  ];
}

/** The host's resolv.conf without loopback resolvers, which are unreachable from a container. */
export async function resolvConf(path: string, o: { dns?: readonly string[]; keepLoopback?: boolean } = {}): Promise<string> {
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch {
    if (!o.dns?.length) return '# no resolv.conf on the host\n';
  }
  return renderResolvConf(text, o);
}

/**
 * The container's resolv.conf from the host's: with `dns`, those nameservers replace the host's
 * (its search and options lines are kept, as Docker does); otherwise the host's nameservers minus
 * loopback ones (127.0.0.0/8, ::1), unless `keepLoopback` (a container in the host's network
 * namespace reaches them).
 */
export function renderResolvConf(host: string, o: { dns?: readonly string[]; keepLoopback?: boolean } = {}): string {
  const isNameserver = (l: string): boolean => /^\s*nameserver\s/.test(l);
  const loopback = (l: string): boolean => /^\s*nameserver\s+(127\.|::1\b)/.test(l);
  let lines = host.replace(/\n+$/, '').split('\n');
  if (o.dns?.length) lines = [...lines.filter((l) => !isNameserver(l)), ...o.dns.map((d) => `nameserver ${d}`)];
  else if (!o.keepLoopback) lines = lines.filter((l) => !loopback(l));
  const text = lines.join('\n').replace(/^\n+/, '').replace(/\n*$/, '\n');
  return text === '\n' ? '' : text;
}

export interface HostsEntry {
  ip: string;
  names: string[];
}

/**
 * /etc/hosts of a container. `self` is its own address and names (null: loopback-only or not
 * started, where the hostname is 127.0.1.1 as Debian does); `peers` are the other containers on
 * its networks. `host` (the host's /etc/hosts) is the base in host network mode.
 */
export function renderHosts(o: { hostname: string; self: HostsEntry | null; peers: readonly HostsEntry[]; host?: string; extra?: readonly { host: string; ip: string }[] }): string {
  // `--add-host` lines come last, as Docker writes them.
  const extra = (o.extra ?? []).map((e) => `${e.ip}\t${e.host}\n`).join('');
  if (o.host !== undefined) {
    const base = o.host.replace(/\n*$/, '\n');
    const has = base.split('\n').some((l) => !l.trim().startsWith('#') && l.trim().split(/\s+/).slice(1).includes(o.hostname));
    return (has ? base : `${base}127.0.1.1\t${o.hostname}\n`) + extra;
  }
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback'];
  if (o.self) lines.push(`${o.self.ip}\t${unique([o.hostname, ...o.self.names]).join(' ')}`);
  else lines.push(`127.0.1.1\t${o.hostname}`);
  if (o.peers.length > 0) {
    lines.push('# containers on the same networks (kept current by corrald)');
    for (const p of o.peers) lines.push(`${p.ip}\t${unique(p.names).join(' ')}`);
  }
  return lines.join('\n') + '\n' + extra;
}

function unique(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}

/**
 * Replace a file's content without replacing the file: a bind-mounted file keeps its inode, and a
 * rename over it would leave the container reading the old one. The new bytes are written over
 * the old and the file is then cut to length, so a reader never sees it empty. Returns false when
 * the content was already the same. A missing file is created, unless `create: false` (a container
 * being removed).
 */
export async function writeInPlace(path: string, content: string, o: { create?: boolean } = {}): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'r+');
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw fsError('open', path, err);
    if (o.create === false) return false;
    await atomicWrite(path, content, 0o644, false);
    return true;
  }
  try {
    const buf = Buffer.from(content);
    const cur = await fh.readFile();
    if (cur.equals(buf)) return false;
    await fh.write(buf, 0, buf.length, 0);
    await fh.truncate(buf.length);
    return true;
  } catch (err) {
    throw fsError('write', path, err);
  } finally {
    await fh.close();
  }
}
