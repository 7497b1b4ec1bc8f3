import { execFile } from 'node:child_process';
import { CgroupError } from '../../errors.js';

export interface AttachOptions {
  attachDevices?: ((dir: string, rules: readonly string[]) => Promise<void>) | undefined;
  shim?: string | undefined;
}

/**
 * cgroup v2 has no devices files: the allow-list is a BPF_PROG_TYPE_CGROUP_DEVICE program attached
 * to the cgroup (as runc and crun do). Node cannot make the bpf(2) call, so `corral-shim devices`
 * builds the program from the rules, loads and attaches it (BPF_F_ALLOW_MULTI: a nested runtime
 * may add programs below, which can only deny more) and exits; the attachment lives as long as
 * the cgroup.
 */
export async function attachDeviceProgram(dir: string, rules: readonly string[], opts: AttachOptions): Promise<void> {
  if (opts.attachDevices) return opts.attachDevices(dir, rules);
  const shim = opts.shim;
  if (!shim) throw new CgroupError('attach a device program to', dir, 'no corral-shim given to the cgroup manager (option shim)');
  await new Promise<void>((resolve, reject) => {
    execFile(shim, ['devices', dir, ...rules], { timeout: 30_000 }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const said = String(stderr).trim().replace(/^corral-shim: /, '');
      reject(new CgroupError('attach a device program to', dir, said || err.message));
    });
  });
}
