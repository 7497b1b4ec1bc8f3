import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { NetworkError, fsError, isErrno } from '../errors.js';
import { atomicWriteJson } from '../util/atomic-write.js';
import type { PortMapping } from './ports.js';

/** A host port forwarded to a container. */
export interface PublishedPort extends PortMapping {
  containerIp: string;
}

/**
 * `<dataRoot>/network/<network>/ports.json`: which container published which host ports, written
 * before the DNAT rules are added, so a second container can never take the same host port.
 */
export class PortStore {
  constructor(readonly file: string) {}

  async load(): Promise<Record<string, PublishedPort[]>> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return {};
      throw fsError('read', this.file, err);
    }
    try {
      const v = JSON.parse(text) as { version?: number; ports?: Record<string, PublishedPort[]> };
      if (v.version !== 1 || typeof v.ports !== 'object' || v.ports === null) throw new Error('not a version 1 ports file');
      return v.ports;
    } catch (err) {
      throw new NetworkError(`read published ports ${this.file}: ${(err as Error).message}`, { file: this.file });
    }
  }

  async save(ports: Record<string, PublishedPort[]>): Promise<void> {
    try {
      await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    } catch (err) {
      throw fsError('mkdir', dirname(this.file), err);
    }
    await atomicWriteJson(this.file, { version: 1, ports }, 0o644);
  }
}
