import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { ContainerConfig } from '../api/types.js';
import { CorralError } from '../errors.js';
import { idMap } from '../namespaces/argv.js';
import type { EtcBind, RootfsLayout } from '../namespaces/argv.js';

/**
 * `corral-shim hold`: a stopped container's root filesystem mounted as its start would mount it
 * (idmapped layers, overlay, binds), in the helper's own mount namespace. `root` is the path that
 * reaches it from here (through /proc/PID/root); `release` ends the helper, and its mounts with it.
 */
export interface HeldRoot {
  root: string;
  release(): Promise<void>;
}

export function holdArgv(c: ContainerConfig, layout: RootfsLayout, etc: readonly EtcBind[]): string[] {
  const args = ['hold'];
  if (c.userns.mode === 'private') args.push('--uid-map', idMap(c.userns.uidBase, c.userns.size), '--gid-map', idMap(c.userns.gidBase, c.userns.size));
  args.push('--rootfs', layout.mountpoint);
  for (const l of layout.lower) args.push('--lower', l);
  args.push('--upper', layout.upper, '--work', layout.work);
  const own = c.userns.mode === 'private';
  // Files corrald writes at start (hosts, resolv.conf) may not exist yet: they are not there to copy.
  for (const b of etc) if (existsSync(b.source)) args.push('--bind', b.source, b.target, b.readOnly ? 'ro' : own ? 'rw,idmap' : 'rw');
  // A tmpfs holds nothing while the container is stopped: it is not there to copy.
  for (const v of c.volumes) if (v.type !== 'tmpfs') args.push('--bind', v.source, v.target, (v.readOnly ? 'ro' : 'rw') + (v.idmap ? ',idmap' : ''));
  return args;
}

export async function holdRoot(shim: string, argv: readonly string[], mountpoint: string): Promise<HeldRoot> {
  const child = spawn(shim, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => void (stderr += d.toString('utf8')));
  const ready = await new Promise<boolean>((resolve) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      if (out.includes('ready\n')) resolve(true);
    });
    child.once('error', (err) => {
      stderr += err.message;
      resolve(false);
    });
    child.once('close', () => resolve(false));
  });
  const release = async (): Promise<void> => {
    end(child);
    await exited;
  };
  if (!ready) {
    await release();
    throw new CorralError('internal', `mount the container's filesystem: ${stderr.trim().split('\n').pop() || 'corral-shim hold ended without a word'}`);
  }
  return { root: `/proc/${child.pid}/root${mountpoint}`, release };
}

function end(child: ChildProcess): void {
  child.stdin?.end();
}
