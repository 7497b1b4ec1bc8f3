import type { PortMapping } from './ports.js';

/**
 * nftables scripts for Corral's own table (family inet, IPv4 rules for now). Pure: BridgeNetwork
 * feeds them to `nft -f -`, one script per call, so each is one atomic transaction.
 *
 *   prerouting  (nat, dstnat)   fib daddr type local jump ports       packets from outside
 *   output      (nat, -100)     fib daddr type local jump ports       the host's own, incl. 127.0.0.1
 *   ports                       one DNAT rule per published port, comment "<container id>"
 *   postrouting (nat, srcnat)   masquerade: subnet leaving by another interface; 127.0.0.0/8
 *                               entering the bridge (host-local clients); hairpin (subnet → subnet via DNAT)
 *   forward     (filter)        to the bridge: replies and published ports accepted, the rest dropped;
 *                               from the bridge: accepted
 *   guard       (filter, raw)   drop packets entering from the bridge for 127.0.0.0/8: route_localnet
 *                               on the bridge (needed for host-local clients) would otherwise let a
 *                               container reach the host's loopback-only services (CVE-2020-8558)
 *
 * The base chains are flushed and refilled in the same transaction that (re)creates them, so
 * `ensure` is idempotent and never leaves a moment without rules; `ports` is never flushed by it.
 */
export const FAMILY = 'inet';
export const PORTS_CHAIN = 'ports';

export interface BaseRuleOptions {
  table: string;
  bridge: string;
  /** The network's subnet, e.g. 10.88.0.0/16. */
  subnet: string;
}

export function baseScript(o: BaseRuleOptions): string {
  const t = `${FAMILY} ${o.table}`;
  const br = JSON.stringify(o.bridge);
  return [
    `add table ${t}`,
    `add chain ${t} ${PORTS_CHAIN}`,
    `add chain ${t} prerouting { type nat hook prerouting priority dstnat; policy accept; }`,
    `add chain ${t} output { type nat hook output priority -100; policy accept; }`,
    `add chain ${t} postrouting { type nat hook postrouting priority srcnat; policy accept; }`,
    `add chain ${t} forward { type filter hook forward priority filter; policy accept; }`,
    `add chain ${t} guard { type filter hook prerouting priority raw; policy accept; }`,
    `flush chain ${t} prerouting`,
    `flush chain ${t} output`,
    `flush chain ${t} postrouting`,
    `flush chain ${t} forward`,
    `flush chain ${t} guard`,
    `add rule ${t} prerouting fib daddr type local jump ${PORTS_CHAIN}`,
    `add rule ${t} output fib daddr type local jump ${PORTS_CHAIN}`,
    `add rule ${t} postrouting ip saddr ${o.subnet} oifname != ${br} masquerade`,
    `add rule ${t} postrouting ip saddr 127.0.0.0/8 oifname ${br} masquerade`,
    `add rule ${t} postrouting ct status dnat ip saddr ${o.subnet} oifname ${br} masquerade`,
    `add rule ${t} forward oifname ${br} ct state established,related accept`,
    `add rule ${t} forward oifname ${br} ct status dnat accept`,
    `add rule ${t} forward iifname ${br} accept`,
    `add rule ${t} forward oifname ${br} drop`,
    `add rule ${t} guard iifname ${br} ip daddr 127.0.0.0/8 drop`,
    '',
  ].join('\n');
}

/** DNAT rules for one container's ports, each tagged with the container id. */
export function publishScript(table: string, id: string, containerIp: string, ports: readonly PortMapping[]): string {
  const t = `${FAMILY} ${table}`;
  const lines = ports.map((p) => {
    const dst = p.hostIp === '0.0.0.0' ? 'meta nfproto ipv4' : `ip daddr ${p.hostIp}`;
    return `add rule ${t} ${PORTS_CHAIN} ${dst} ${p.protocol} dport ${p.hostPort} dnat ip to ${containerIp}:${p.containerPort} comment ${JSON.stringify(id)}`;
  });
  return [...lines, ''].join('\n');
}

export function deleteRulesScript(table: string, chain: string, handles: readonly number[]): string {
  return [...handles.map((h) => `delete rule ${FAMILY} ${table} ${chain} handle ${h}`), ''].join('\n');
}

export interface TaggedRule {
  handle: number;
  comment?: string;
}

/** Rules (handle, comment) in the JSON of `nft -j list chain …`. */
export function parseChainRules(json: string): TaggedRule[] {
  const text = json.trim();
  if (text === '') return [];
  const v = JSON.parse(text) as { nftables?: { rule?: { handle?: unknown; comment?: unknown } }[] };
  const out: TaggedRule[] = [];
  for (const item of v.nftables ?? []) {
    const r = item.rule;
    if (!r || typeof r.handle !== 'number') continue;
    out.push(typeof r.comment === 'string' ? { handle: r.handle, comment: r.comment } : { handle: r.handle });
  }
  return out;
}
