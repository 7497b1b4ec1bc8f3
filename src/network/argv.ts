import { CONTAINER_NAMESPACES } from '../namespaces/argv.js';

/**
 * Pure argv for running the container chain inside a network namespace prepared beforehand
 * (NetnsStore + BridgeNetwork.attach), instead of a fresh loopback-only one:
 *
 *   corral-shim monitor … -- nsenter --net=<runRoot>/netns/<id12> -- unshare --mount --uts --ipc --cgroup --pid … -- corral-shim init …
 *
 * nsenter joins only the network namespace and then execs (it forks only for --pid or --fork), so
 * the monitor's child still execs straight into unshare and the sync fd passes through untouched;
 * unshare then makes every other namespace, without `--net`.
 */
export function nsenterNetArgs(netnsFile: string, nsenter = 'nsenter'): string[] {
  return [nsenter, `--net=${netnsFile}`, '--'];
}

/** The namespaces unshare makes when the network namespace is joined instead. */
export const NAMESPACES_WITHOUT_NET: readonly string[] = CONTAINER_NAMESPACES.filter((n) => n !== '--net');

/** Replacement for `unshareArgs()` of src/namespaces/argv.ts when the container has a prepared netns. */
export function unshareInNetnsArgs(netnsFile: string, o: { unshare?: string; nsenter?: string } = {}): string[] {
  return [...nsenterNetArgs(netnsFile, o.nsenter), o.unshare ?? 'unshare', ...NAMESPACES_WITHOUT_NET, '--propagation', 'private', '--'];
}
