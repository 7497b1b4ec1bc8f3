/**
 * Fail points for crash-safety tests (as etcd's gofail): when CORRAL_CRASH_AT names this point,
 * corrald kills itself with SIGKILL right here, so a test can prove the next start repairs
 * whatever the interrupted operation left. Unset in normal use: then this is one env lookup.
 */
export function crashPoint(name: string): void {
  if (process.env.CORRAL_CRASH_AT === name) process.kill(process.pid, 'SIGKILL');
}

/**
 * Fault points for failure-path tests: when CORRAL_FAIL_AT names this point, the operation fails
 * right here as if the disk were full (ENOSPC), so a test can prove what a failed step leaves.
 */
export function failPoint(name: string, path: string): void {
  if (process.env.CORRAL_FAIL_AT === name) {
    throw Object.assign(new Error(`ENOSPC: no space left on device, write '${path}' (fail point ${name})`), { code: 'ENOSPC', path });
  }
}
