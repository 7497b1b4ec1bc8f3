import { ValidationError } from '../errors.js';

/**
 * The merged, read-only view of layers (top first) as a command sees it: a private mount
 * namespace (util-linux `unshare --mount --propagation private`) mounts the overlay and execs the
 * command in it. The mount lives only as long as that namespace, so nothing is ever left mounted
 * on the host, whatever kills the command. Used by `export` (tar of the view) and by commits that
 * flatten (a copy of the view).
 *
 * overlayfs without an upper directory wants at least two lower ones; a single layer is its own
 * merged view and needs no mount: `command` gets the directory to work on (the mount point or the layer).
 */
export function mergedArgv(unshare: string, mountpoint: string, layers: readonly string[], command: (root: string) => string[]): { file: string; args: string[] } {
  if (layers.length === 0) throw new ValidationError('merged view: no layers');
  for (const l of layers) {
    // lowerdir splits on ':' and options on ','; data-root paths never need escaping.
    if (!l.startsWith('/') || /[:,\\\n]/.test(l)) throw new ValidationError(`merged view: layer path ${JSON.stringify(l)} must be absolute, without ':' ',' or '\\'`);
  }
  if (layers.length === 1) {
    const [file, ...args] = command(layers[0]!);
    return { file: file!, args };
  }
  const script = 'mount -t overlay -o "ro,lowerdir=$2" corral-merged "$1" && shift 2 && exec "$@"';
  return { file: unshare, args: ['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', script, 'sh', mountpoint, layers.join(':'), ...command(mountpoint)] };
}
