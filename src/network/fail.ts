import { CommandFailedError, NetworkError } from '../errors.js';

const PACKAGES: Record<string, string> = { nft: 'nftables', ip: 'iproute2', nsenter: 'util-linux', unshare: 'util-linux', mount: 'mount', umount: 'mount', mountpoint: 'util-linux' };

/**
 * A failed `ip`/`nft`/`unshare` becomes a NetworkError naming what was being done to which
 * interface, table or file: `create veth cv3f9c1d2e4b5a6: RTNETLINK answers: File exists`.
 * A missing program is named with the Debian package that has it. Other errors pass through.
 */
export function networkFailure(operation: string, object: string, err: unknown): unknown {
  if (err instanceof CommandFailedError) {
    const missing = /spawn (\S+) ENOENT/.exec(err.stderr)?.[1];
    const why = missing
      ? `${missing}: command not found${PACKAGES[missing] ? ` (install ${PACKAGES[missing]})` : ''}`
      : err.stderr.trim().split('\n')[0] || `exit ${err.exitCode ?? 'unknown'}`;
    return new NetworkError(`${operation} ${object}: ${why}`, { operation, object, command: err.command });
  }
  return err;
}
