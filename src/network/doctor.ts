import { execFile } from 'node:child_process';
import type { Check } from '../system/doctor.js';
import { findProgram } from '../system/which.js';
import { filterBaseScript, guardScript } from './filter.js';

/**
 * `corral doctor`'s bridge-filter line: the kernel is asked to check (`nft --check`: a transaction
 * sent and aborted, nothing applied) the very script that guards a container's veth, in a table
 * no network uses.
 */
export async function bridgeFilterCheck(): Promise<Check> {
  const table = 'corral_doctor_probe';
  const script = filterBaseScript(table) + guardScript(table, { hostVeth: 'corraldoctor0', mac: '02:00:00:00:00:01', ip: '10.88.0.2' });
  let nft: string;
  try {
    nft = await findProgram('nft', 'apt-get install nftables');
  } catch {
    return { name: 'bridge filter', status: 'warn', detail: 'nft is missing: bridge networks cannot be set up (containers need --network none or host)', fix: 'apt-get install nftables' };
  }
  const err = await new Promise<string | undefined>((resolve) => {
    const child = execFile(nft, ['--check', '-f', '-'], { encoding: 'utf8', timeout: 30_000 }, (e, _out, stderr) => resolve(e ? stderr.trim().split('\n')[0] || e.message : undefined));
    child.stdin?.end(script);
  });
  if (err === undefined) {
    return { name: 'bridge filter', status: 'ok', detail: 'nftables bridge family: a container on a bridge can send only from its own MAC and leased IPv4 address, so ARP or IP spoofing of the gateway or a neighbour is dropped' };
  }
  return {
    name: 'bridge filter',
    status: 'warn',
    detail: `the kernel refuses a bridge-family nftables filter (${err}): bridge networks cannot be set up, since Corral never runs a bridge whose containers could spoof each other (containers need --network none or host)`,
    fix: 'use a kernel with CONFIG_NF_TABLES_BRIDGE (modprobe nf_tables_bridge), or run corrald --default-network none',
  };
}
