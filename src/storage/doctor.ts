import type { Check } from '../system/doctor.js';
import type { StorageProbe } from './probe.js';

/** `corral doctor`'s disk-quota line: the backend the data root gets, and why the better ones are not used. */
export function storageCheck(dataRoot: string, p: StorageProbe): Check {
  const used = p.findings.find((f) => f.usable);
  const others = p.findings.filter((f) => f !== used).map((f) => `${f.backend}: ${f.detail}`);
  if (!used) {
    return { name: 'disk quotas', status: 'warn', detail: `--storage-opt size is not available for ${dataRoot} (${others.join('; ')})`, fix: 'apt-get install e2fsprogs, and make loop devices available (modprobe loop)' };
  }
  return { name: 'disk quotas', status: 'ok', detail: `${used.backend} (${used.detail}); not used: ${others.join('; ')}` };
}
