import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NetworkError, describe } from '../errors.js';

/**
 * The seam for kernel settings (`net.ipv4.ip_forward`, `net.ipv4.conf.<if>.route_localnet`):
 * /proc/sys on a host, a map in tests.
 */
export interface Sysctl {
  read(key: string): Promise<string>;
  write(key: string, value: string): Promise<void>;
}

export function sysctlPath(root: string, key: string): string {
  if (!/^[a-z0-9_]+(\.[A-Za-z0-9_-]+)+$/.test(key)) throw new NetworkError(`sysctl: invalid key ${JSON.stringify(key)}`);
  return join(root, ...key.split('.'));
}

export class ProcSysctl implements Sysctl {
  constructor(private readonly root = '/proc/sys') {}

  async read(key: string): Promise<string> {
    const path = sysctlPath(this.root, key);
    try {
      return (await readFile(path, 'utf8')).trim();
    } catch (err) {
      throw new NetworkError(`read ${key} (${path}): ${describe(err)}`, { key, path });
    }
  }

  async write(key: string, value: string): Promise<void> {
    const path = sysctlPath(this.root, key);
    try {
      await writeFile(path, value);
    } catch (err) {
      throw new NetworkError(`write ${key}=${value} (${path}): ${describe(err)}`, { key, path });
    }
  }
}

/** For tests: settings in a map, every write recorded. */
export class MemorySysctl implements Sysctl {
  readonly writes: { key: string; value: string }[] = [];
  constructor(readonly values: Record<string, string> = {}) {}

  async read(key: string): Promise<string> {
    const v = this.values[key];
    if (v === undefined) throw new NetworkError(`read ${key}: no such setting`);
    return v;
  }

  async write(key: string, value: string): Promise<void> {
    this.writes.push({ key, value });
    this.values[key] = value;
  }
}
