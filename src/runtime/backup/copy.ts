import { spawn } from 'node:child_process';
import { CommandFailedError } from '../../errors.js';

/**
 * Copy the tree `src` into the directory `dest` (which exists; what is in both is replaced),
 * keeping owners, modes, times, links, devices and extended attributes: GNU `cp -a`, with
 * `--reflink=auto` so a filesystem that can share extents (btrfs, XFS) copies in constant time
 * and others copy the bytes.
 */
export function copyTree(src: string, dest: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = ['-a', '--reflink=auto', '--no-target-directory', src, dest];
    const child = spawn('cp', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => void (stderr = (stderr + s).slice(-4096)));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new CommandFailedError('cp', code ?? undefined, stderr, `copy ${src} to ${dest}: ${stderr.trim().split('\n').pop() || `cp exit ${code}`}`))));
  });
}
