import { ValidationError } from '../errors.js';

/**
 * Who may talk on a bridge: an nftables table of family bridge, one per network and named like the
 * network's inet table (`<prefix><n>`; the families are separate name spaces), as Incus'
 * security.mac_filtering and security.ipv4_filtering. Pure: BridgeNetwork feeds the scripts to
 * `nft -f -`, each one transaction.
 *
 *   map senders       host veth name : jump <its chain>         one element per plugged container
 *   chain prerouting  filter hook prerouting, priority -200:  iifname vmap @senders
 *   chain <veth>      frames the container sends into the bridge:
 *                       Ethernet source not its MAC                 drop (steals a neighbour's MAC in the bridge's FDB)
 *                       EtherType other than IPv4 and ARP            drop (IPv6 is not in use; VLAN tags, anything else)
 *                       ARP sender MAC not its MAC                   drop
 *                       ARP sender IP not its leased address         drop (gateway or neighbour poisoning)
 *                       IPv4 source not its leased address           drop (forged sources)
 *
 * The bridge's prerouting hook runs before the bridge learns the source MAC and before it decides
 * between forwarding and delivering to the host, so one chain covers traffic to neighbours and to
 * the gateway. The map makes the cost per frame one lookup whatever the number of containers.
 */
export const FILTER_FAMILY = 'bridge';
export const SENDERS_MAP = 'senders';
export const FILTER_HOOK_CHAIN = 'prerouting';

/** One container's end of a network: what it may send as. */
export interface Sender {
  /** The host side of its veth (the bridge port its frames come in by). */
  hostVeth: string;
  mac: string;
  ip: string;
}

const TABLE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const VETH = /^[A-Za-z][A-Za-z0-9_-]{0,14}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function table(t: string): string {
  if (!TABLE.test(t)) throw new ValidationError(`invalid nftables table ${JSON.stringify(t)}`);
  return `${FILTER_FAMILY} ${t}`;
}

function veth(name: string): string {
  if (!VETH.test(name) || name === FILTER_HOOK_CHAIN) throw new ValidationError(`invalid veth name ${JSON.stringify(name)}`);
  return name;
}

/** The table, its map and hook chain; idempotent, never touches the senders' chains or map. */
export function filterBaseScript(t: string): string {
  const tb = table(t);
  return [
    `add table ${tb}`,
    `add map ${tb} ${SENDERS_MAP} { type ifname : verdict; }`,
    `add chain ${tb} ${FILTER_HOOK_CHAIN} { type filter hook prerouting priority -200; policy accept; }`,
    `flush chain ${tb} ${FILTER_HOOK_CHAIN}`,
    `add rule ${tb} ${FILTER_HOOK_CHAIN} iifname vmap @${SENDERS_MAP}`,
    '',
  ].join('\n');
}

/** Let `s.hostVeth` send only as `s.mac`/`s.ip`; replaces any earlier rules of that veth. */
export function guardScript(t: string, s: Sender): string {
  const tb = table(t);
  const v = veth(s.hostVeth);
  const mac = s.mac.toLowerCase();
  if (!MAC.test(mac)) throw new ValidationError(`invalid MAC address ${JSON.stringify(s.mac)}`);
  if (!IPV4.test(s.ip)) throw new ValidationError(`invalid IPv4 address ${JSON.stringify(s.ip)}`);
  return [
    `add chain ${tb} ${v}`,
    `flush chain ${tb} ${v}`,
    `add rule ${tb} ${v} ether saddr != ${mac} drop`,
    `add rule ${tb} ${v} ether type != { ip, arp } drop`,
    `add rule ${tb} ${v} arp saddr ether != ${mac} drop`,
    `add rule ${tb} ${v} arp saddr ip != ${s.ip} drop`,
    `add rule ${tb} ${v} ip saddr != ${s.ip} drop`,
    `add element ${tb} ${SENDERS_MAP} { ${JSON.stringify(v)} : jump ${v} }`,
    '',
  ].join('\n');
}

/**
 * Remove a veth's element and chain. Idempotent while the table exists: the element and chain are
 * (re)added first in the same transaction, so deleting them cannot fail for their absence. Without
 * the table nft fails with ENOENT, which the caller takes as "nothing to remove".
 */
export function unguardScript(t: string, hostVeth: string): string {
  const tb = table(t);
  const v = veth(hostVeth);
  return [
    `add chain ${tb} ${v}`,
    `add element ${tb} ${SENDERS_MAP} { ${JSON.stringify(v)} : jump ${v} }`,
    `delete element ${tb} ${SENDERS_MAP} { ${JSON.stringify(v)} }`,
    `delete chain ${tb} ${v}`,
    '',
  ].join('\n');
}

/** Veths that have a chain or a map element, from the JSON of `nft -j list table bridge T`. */
export function parseGuarded(json: string): string[] {
  const text = json.trim();
  if (text === '') return [];
  const v = JSON.parse(text) as { nftables?: { chain?: { name?: unknown }; map?: { name?: unknown; elem?: unknown } }[] };
  const out = new Set<string>();
  for (const item of v.nftables ?? []) {
    const c = item.chain?.name;
    if (typeof c === 'string' && c !== FILTER_HOOK_CHAIN) out.add(c);
    if (item.map?.name === SENDERS_MAP && Array.isArray(item.map.elem)) {
      for (const e of item.map.elem as unknown[]) {
        const key = Array.isArray(e) ? e[0] : undefined;
        if (typeof key === 'string') out.add(key);
      }
    }
  }
  return [...out].sort();
}
