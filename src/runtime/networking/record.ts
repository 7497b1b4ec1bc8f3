import { readFile, rm } from 'node:fs/promises';
import type { EndpointSettings, PortBinding } from '../../api/types.js';
import { isErrno } from '../../errors.js';
import { atomicWriteJson } from '../../util/atomic-write.js';
import type { Logger } from '../../util/logger.js';
import type { ContainerStore } from '../store.js';

/** What a running bridge-mode container got: `<state dir>/network.json`, written before its program runs. */
export interface NetworkRecord {
  version: 1;
  name: string;
  netns: string;
  endpoints: EndpointSettings[];
  /** The ports in force, `-P`'s random host ports resolved. */
  ports: PortBinding[];
}

/** The records of the running bridge-mode containers, by id (kept in memory, mirrored on disk). */
export type Attached = Map<string, NetworkRecord>;

export async function readRecord(store: ContainerStore, log: Logger, id: string): Promise<NetworkRecord | undefined> {
  const path = store.file(id, 'network.json');
  try {
    return JSON.parse(await readFile(path, 'utf8')) as NetworkRecord;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    // A torn cache is not worth failing a stop for: the leases are the truth.
    log.warn('unreadable network record', { path, err: String(err) });
    return undefined;
  }
}

export async function writeRecord(store: ContainerStore, id: string, rec: NetworkRecord): Promise<void> {
  await atomicWriteJson(store.file(id, 'network.json'), rec, 0o600, false);
}

export async function removeRecord(store: ContainerStore, id: string): Promise<void> {
  await rm(store.file(id, 'network.json'), { force: true });
}
