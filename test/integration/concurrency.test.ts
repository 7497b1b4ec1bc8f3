import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CorralClient } from '../../src/client/client.js';
import { installation, uniqueName } from '../support/corral.js';

/** Two busy loops beside the test (the machine has 2 cores): a loaded host, as CI's can be. */
function busyLoops(): () => void {
  const loops = [0, 1].map(() => spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));
  return () => {
    for (const l of loops) if (l.pid) process.kill(l.pid, 'SIGKILL');
  };
}

describe('concurrency', () => {
  it('100 containers created, started and removed concurrently through the API, beside two busy loops: all succeed, nothing leaks', async () => {
    const stopLoops = busyLoops();
    try {
      await hundredAtOnce();
    } finally {
      stopLoops();
    }
  }, 300_000);
});

async function hundredAtOnce(): Promise<void> {
  {
    const client = new CorralClient(join(installation().runRoot, 'corrald.sock'));
    const names = Array.from({ length: 100 }, () => uniqueName('many'));
    const created = await Promise.allSettled(names.map((name) => client.create({ template: 'busybox', name, command: ['sleep', '300'] })));
    expect(created.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    const started = await Promise.allSettled(names.map((n) => client.start(n)));
    expect(started.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    const running = (await client.list()).filter((c) => names.includes(c.name));
    expect(running).toHaveLength(100);
    expect(new Set(running.map((c) => c.pid)).size).toBe(100);
    // The same container from many requests at once: serialized; starting a running one is a
    // no-op (Docker's rule), so it keeps its one process.
    const again = await Promise.allSettled(names.slice(0, 10).map((n) => client.start(n)));
    expect(again.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    const after = (await client.list()).filter((c) => names.includes(c.name));
    expect(new Set(after.map((c) => c.pid))).toEqual(new Set(running.map((c) => c.pid)));
    const removed = await Promise.allSettled(names.map((n) => client.remove(n, { force: true })));
    expect(removed.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    expect((await client.list({ all: true })).filter((c) => names.includes(c.name))).toEqual([]);
    const dirs = readdirSync(join(installation().dataRoot, 'containers'));
    expect(dirs.filter((d) => d.startsWith('.trash'))).toEqual([]);
  }
}
