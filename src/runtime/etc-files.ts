import { readFile } from 'node:fs/promises';
import type { ContainerConfig } from '../api/types.js';
import { atomicWrite } from '../util/atomic-write.js';
import type { EtcBind } from '../namespaces/argv.js';
import type { ContainerStore } from './store.js';

/**
 * /etc/hostname, /etc/hosts and /etc/resolv.conf are files of the container's state dir bound into
 * it (as Docker does), so corrald can keep them current without touching the rootfs.
 */
export async function writeEtcFiles(store: ContainerStore, c: ContainerConfig, hostResolvConf = '/etc/resolv.conf'): Promise<EtcBind[]> {
  const hosts = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    `127.0.1.1\t${c.hostname}`,
    '',
  ].join('\n');
  await atomicWrite(store.file(c.id, 'hostname'), `${c.hostname}\n`, 0o644);
  await atomicWrite(store.file(c.id, 'hosts'), hosts, 0o644);
  await atomicWrite(store.file(c.id, 'resolv.conf'), await resolvConf(hostResolvConf), 0o644);
  return etcBinds(store, c);
}

/** The binds for files written at create time (start does not rewrite them: it is on the hot path). */
export function etcBinds(store: ContainerStore, c: ContainerConfig): EtcBind[] {
  return [
    { source: store.file(c.id, 'hostname'), target: '/etc/hostname' },
    { source: store.file(c.id, 'hosts'), target: '/etc/hosts' },
    { source: store.file(c.id, 'resolv.conf'), target: '/etc/resolv.conf' },
  ];
}

/** The host's resolv.conf without loopback resolvers, which are unreachable from a container. */
export async function resolvConf(path: string): Promise<string> {
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return '# no resolv.conf on the host\n';
  }
  const lines = text.split('\n').filter((l) => !/^\s*nameserver\s+(127\.|::1\b)/.test(l));
  return lines.join('\n').replace(/\n*$/, '\n');
}
