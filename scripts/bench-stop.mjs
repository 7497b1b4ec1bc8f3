// Stops a benchmark's own Corral installation: corrald by the pid in its pid file, then waits for
// it and its lxcfs (stopped by corrald once nothing reads through it) to be gone, and unmounts an
// lxcfs left mounted, so the caller can delete the installation's directories. Returns whether
// anything is still mounted under `base` (then leave it in place).
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pidIn = (file) => (existsSync(file) ? Number(readFileSync(file, 'utf8').trim().split(' ')[0]) : 0);
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export async function stopInstallation(runRoot, base) {
  const daemon = pidIn(join(runRoot, 'corrald.pid'));
  const lxcfs = pidIn(join(runRoot, 'lxcfs.pid'));
  if (daemon && alive(daemon)) process.kill(daemon, 'SIGTERM');
  for (let i = 0; i < 300 && ((daemon && alive(daemon)) || (lxcfs && alive(lxcfs))); i++) await sleep(100);
  const lxcfsDir = join(runRoot, 'lxcfs');
  if (readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${lxcfsDir} `)) spawnSync('umount', ['-l', lxcfsDir]);
  const left = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4]?.startsWith(`${base}/`));
  if (left) console.error(`mounts left under ${base}: left in place`);
  return left;
}
