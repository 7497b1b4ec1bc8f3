import { CommandFailedError, NetworkError } from '../errors.js';

/**
 * A failed `ip`/`nft`/`unshare` becomes a NetworkError naming what was being done to which
 * interface, table or file: `create veth cv3f9c1d2e4b5a6: RTNETLINK answers: File exists`.
 * Other errors pass through unchanged.
 */
export function networkFailure(operation: string, object: string, err: unknown): unknown {
  if (err instanceof CommandFailedError) {
    const why = err.stderr.trim().split('\n')[0] || `exit ${err.exitCode ?? 'unknown'}`;
    return new NetworkError(`${operation} ${object}: ${why}`, { operation, object, command: err.command });
  }
  return err;
}
