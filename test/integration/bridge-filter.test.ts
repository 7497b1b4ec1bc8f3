import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corral, installation, stopDaemon, uniqueName } from '../support/corral.js';
import { findNetworkLeaks, guardedVeths } from '../support/leaks.js';
import { container, spoofScenario } from '../support/spoof-scenario.js';

/** A bridge that checks who is talking on this host; the attack itself is test/support/spoof-scenario.ts. */

const PORT = 17000 + (process.pid % 1000);
let dir = '';
const made: string[] = [];
const children: ChildProcess[] = [];

beforeAll(() => {
  dir = mkdtempSync('/var/tmp/corral-spoof-');
  // Container root is an unprivileged host uid (its user namespace): the directory must be open to it.
  chmodSync(dir, 0o755);
  execFileSync('gcc', ['-static', '-O2', '-o', join(dir, 'spoof'), fileURLToPath(new URL('./fixtures/spoof.c', import.meta.url))], { stdio: 'pipe' });
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (made.length > 0) await corral(['rm', '-f', ...made]);
  rmSync(dir, { recursive: true, force: true });
});

async function ok(args: string[]): Promise<string> {
  const r = await corral(args);
  if (r.exitCode !== 0) throw new Error(`corral ${args.join(' ')}: exit ${r.exitCode}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

describe('the bridge checks who is talking', () => {
  it('ARP and IP spoofing of the gateway and a neighbour, and MAC stealing, are dropped; honest frames pass', async () => {
    await spoofScenario({ corral, runRoot: installation().runRoot, spoofDir: dir, port: PORT, children, made }, uniqueName('spoof'));
  });

  it("each running container's veth has its filter in the installation's bridge table, removed with the container", async () => {
    const table = `${installation().bridgePrefix}0`;
    const c = await container({ corral, runRoot: installation().runRoot, spoofDir: dir, port: PORT, children, made }, uniqueName('filtered'));
    expect(guardedVeths(table)).toContain(c.veth);
    const rules = execFileSync('nft', ['list', 'chain', 'bridge', table, c.veth], { encoding: 'utf8' });
    expect(rules).toContain(`ether saddr != ${c.mac} drop`);
    expect(rules).toContain(`arp saddr ip != ${c.ip} drop`);
    expect(rules).toContain(`ip saddr != ${c.ip} drop`);
    await ok(['stop', '-t', '0', c.id]);
    expect(guardedVeths(table)).not.toContain(c.veth);
    await ok(['start', c.id]);
    expect(guardedVeths(table)).toContain(c.veth);
    await ok(['rm', '-f', c.id]);
    expect(guardedVeths(table)).not.toContain(c.veth);
  });

  it('a filter left by a crash (no lease, no container) is removed at the next corrald start', async () => {
    const table = `${installation().bridgePrefix}0`;
    const stray = 'cvfeedfacecafe0';
    await ok(['run', '--rm', 'busybox', 'true']); // the default network and its tables exist
    await stopDaemon();
    const script = `add chain bridge ${table} ${stray}\nadd rule bridge ${table} ${stray} ip saddr != 10.0.0.1 drop\nadd element bridge ${table} senders { "${stray}" : jump ${stray} }\n`;
    const r = spawnSync('nft', ['-f', '-'], { input: script, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(findNetworkLeaks(installation())).toContain(`sender filter of ${stray} in bridge ${table}`);
    await ok(['ps']); // starts corrald, which repairs
    expect(guardedVeths(table)).not.toContain(stray);
  });
});
