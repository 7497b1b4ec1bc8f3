import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { CorralError } from '../errors.js';
import { packageRoot } from '../util/package-root.js';

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

type PeerCredFn = (fd: number) => PeerCred;

/** Loads build/peercred.node (SO_PEERCRED, which Node has no API for); corrald refuses to run without it. */
export function loadPeerCred(): PeerCredFn {
  const path = join(packageRoot(), 'build', 'peercred.node');
  try {
    return (createRequire(import.meta.url)(path) as { peercred: PeerCredFn }).peercred;
  } catch (err) {
    throw new CorralError('unavailable', `load ${path}: ${(err as Error).message.split('\n')[0]} (run "npm run build")`);
  }
}

/** The credentials of the process at the other end of a unix socket connection. */
export function peerOf(sock: Socket, peercred: PeerCredFn): PeerCred | undefined {
  const fd = (sock as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return undefined;
  try {
    return peercred(fd);
  } catch {
    return undefined;
  }
}

/** Supplementary and primary gids of a process, from /proc (the peer may exit: then none). */
export function groupsOf(pid: number, procRoot = '/proc'): number[] {
  try {
    const status = readFileSync(`${procRoot}/${pid}/status`, 'utf8');
    const groups = /^Groups:\s*(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/).filter(Boolean).map(Number) ?? [];
    const gid = Number(/^Gid:\s*(\d+)/m.exec(status)?.[1]);
    return Number.isFinite(gid) ? [gid, ...groups] : groups;
  } catch {
    return [];
  }
}

/** Root always; members of the admin group when one is configured; nobody else. */
export function peerAllowed(p: PeerCred | undefined, adminGid: number | undefined, groups: (pid: number) => number[] = groupsOf): boolean {
  if (!p) return false;
  if (p.uid === 0) return true;
  if (adminGid === undefined) return false;
  return p.gid === adminGid || groups(p.pid).includes(adminGid);
}
