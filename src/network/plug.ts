import { NetworkError, ValidationError } from '../errors.js';
import type { Runner } from '../system/runner.js';
import { IFNAME, type Attachment, type BridgeNetwork } from './bridge.js';
import { networkFailure } from './fail.js';
import type { NetnsStore, NetnsUserns } from './netns.js';

export interface PlugRequest {
  net: BridgeNetwork;
  /** The interface inside (`eth0`, `eth1`, …). */
  ifname: string;
  hostVeth: string;
  ip?: string | undefined;
  /** The default route goes via this network's gateway (one network at most). */
  defaultRoute: boolean;
}

/**
 * A new network namespace for `id`, plugged into every network of `plugs`, in three process spawns
 * whatever the number of networks (the start path pays for each spawn), the first two side by side:
 *
 *   nft -f -                                   each host end's sender filter (filter.ts), by name,
 *                                              in its network's bridge table
 *   unshare --net=<netns file> ip -batch -     inside the new namespace: each veth made there with its
 *                                              host end sent to corrald's namespace, addresses, lo, route
 *   ip -batch -                                on the host: each host end onto its bridge, up, once
 *                                              both above are done: no frame passes unfiltered
 *
 * Leases (with the veths' names) are written first, as BridgeNetwork.attach does, so a crash is
 * repaired from them; on failure everything made here is undone and the error names the step.
 */
export async function plugNamespace(o: { id: string; netns: NetnsStore; runner: Runner; plugs: readonly PlugRequest[]; hostNetns?: string; userns?: NetnsUserns | undefined }): Promise<{ file: string; attachments: Attachment[] }> {
  if (o.plugs.length === 0) throw new ValidationError('plug a network namespace: no network given');
  if (o.plugs.filter((p) => p.defaultRoute).length > 1) throw new ValidationError('plug a network namespace: more than one default route');
  const hostNetns = o.hostNetns ?? `/proc/${process.pid}/ns/net`;
  const made: { plug: PlugRequest; fresh: boolean }[] = [];
  const attachments: Attachment[] = [];
  let file: string | undefined;
  let guarding: Promise<unknown> | undefined;
  try {
    const inside: string[] = [];
    const routes: string[] = [];
    for (const p of o.plugs) {
      if (!IFNAME.test(p.ifname)) throw new ValidationError(`invalid interface name ${JSON.stringify(p.ifname)}`);
      const r = await p.net.reserve(o.id, { hostVeth: p.hostVeth, ip: p.ip });
      made.push({ plug: p, fresh: r.fresh });
      inside.push(
        `link add ${p.ifname} address ${r.lease.mac} type veth peer name ${p.hostVeth} netns ${hostNetns}`,
        `addr add ${r.lease.ip}/${r.info.prefix} dev ${p.ifname}`,
        `link set ${p.ifname} up`,
      );
      if (p.defaultRoute) routes.push(`route add default via ${r.info.gateway} dev ${p.ifname}`);
      attachments.push({ ip: r.lease.ip, mac: r.lease.mac, gateway: r.info.gateway, prefix: r.info.prefix, hostVeth: p.hostVeth });
    }
    const senders = made.map((m, i) => m.plug.net.guardScript([{ hostVeth: m.plug.hostVeth, mac: attachments[i]!.mac, ip: attachments[i]!.ip }])).join('');
    guarding = o.runner.run('nft', ['-f', '-'], { input: senders }).catch((err: unknown) => {
      throw networkFailure('filter senders', o.plugs.map((p) => `${p.hostVeth} on bridge ${p.net.bridge}`).join(', '), err);
    });
    const [g, n] = await Promise.allSettled([
      guarding,
      o.netns.create(o.id, { run: ['ip', '-batch', '-'], input: [...inside, 'link set lo up', ...routes, ''].join('\n'), operation: 'create and configure network namespace', ...(o.userns ? { userns: o.userns } : {}) }),
    ]);
    if (n.status === 'rejected') throw n.reason;
    const netnsFile = n.value;
    file = netnsFile;
    if (g.status === 'rejected') throw g.reason;
    const host = o.plugs.map((p) => `link set ${p.hostVeth} master ${p.net.bridge} up`);
    try {
      await o.runner.run('ip', ['-batch', '-'], { input: [...host, ''].join('\n') });
    } catch (err) {
      throw networkFailure('attach veths', `${o.plugs.map((p) => `${p.hostVeth} to bridge ${p.net.bridge}`).join(', ')}`, err);
    }
    return { file: netnsFile, attachments };
  } catch (err) {
    for (const m of made) {
      const del = await o.runner.run('ip', ['link', 'del', m.plug.hostVeth], { allowFailure: true });
      if (del.exitCode !== 0 && !/Cannot find device|does not exist/.test(del.stderr)) {
        throw new NetworkError(`undo a failed network set-up: delete veth ${m.plug.hostVeth}: ${del.stderr.trim().split('\n')[0]} (after: ${(err as Error).message})`);
      }
      if (guarding) await m.plug.net.unguard(m.plug.hostVeth);
      if (m.fresh) await m.plug.net.unreserve(o.id);
    }
    if (file) await o.netns.remove(o.id);
    throw err;
  }
}
