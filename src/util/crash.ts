/**
 * Fail points for crash-safety tests (as etcd's gofail): when CORRAL_CRASH_AT names this point,
 * corrald kills itself with SIGKILL right here, so a test can prove the next start repairs
 * whatever the interrupted operation left. Unset in normal use: then this is one env lookup.
 */
export function crashPoint(name: string): void {
  if (process.env.CORRAL_CRASH_AT === name) process.kill(process.pid, 'SIGKILL');
}
