import { readFile } from 'node:fs/promises';
import type { ContainerConfig } from '../../api/types.js';
import { fsError, isErrno } from '../../errors.js';
import { resolvConf, writeInPlace } from '../etc-files.js';
import type { ContainerStore } from '../store.js';

/**
 * The container's own /etc/hosts and /etc/resolv.conf, at every start (they follow the host's).
 * `hostsText` is the mode's; resolv.conf keeps loopback nameservers only in the host's namespace.
 */
export async function writeEtc(
  d: { store: ContainerStore; hostResolvConf?: string | undefined },
  c: ContainerConfig,
  hostsText: () => Promise<string> | string,
): Promise<void> {
  const hosts = d.store.file(c.id, 'hosts');
  const resolv = d.store.file(c.id, 'resolv.conf');
  const resolvText = (): Promise<string> => resolvConf(d.hostResolvConf ?? '/etc/resolv.conf', { dns: c.network.dns, keepLoopback: c.network.mode === 'host' });
  // Both files at once: this is on the start path.
  await Promise.all([
    Promise.resolve()
      .then(hostsText)
      .then((t) => writeInPlace(hosts, t)),
    resolvText().then((t) => writeInPlace(resolv, t)),
  ]);
}

export async function readOr<T extends string | undefined>(path: string, fallback: T): Promise<string | T> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return fallback;
    throw fsError('read', path, err);
  }
}
