import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corral, inspect, uniqueName } from '../support/corral.js';

describe('run flags: --stop-timeout, --log-opt, --add-host, --shm-size, --ulimit', () => {
  it('--add-host, --shm-size and --ulimit reach the container', async () => {
    const r = await corral(['run', '--rm', '--add-host', 'db.internal:10.1.2.3', '--add-host', 'v6=fd00::5', '--shm-size', '8m', '--ulimit', 'nofile=321:654', '--ulimit', 'nproc=500:600',
      'busybox', 'sh', '-c', 'grep -E "internal|v6" /etc/hosts; grep " /dev/shm " /proc/mounts | grep -o "size=[0-9a-z]*"; grep -E "open files|processes" /proc/self/limits | tr -s " "']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('10.1.2.3\tdb.internal\n');
    expect(r.stdout).toContain('fd00::5\tv6\n');
    expect(r.stdout).toContain('size=8192k\n');
    expect(r.stdout).toContain('Max open files 321 654 files');
    expect(r.stdout).toContain('Max processes 500 600 processes');
  });

  it('--stop-timeout is what stop waits when not given -t', async () => {
    const name = uniqueName('stop-timeout');
    // PID 1 has no SIGTERM handler: only SIGKILL ends it, after the timeout.
    expect((await corral(['run', '-d', '--name', name, '--stop-timeout', '0', 'busybox', 'sleep', '1000'])).exitCode).toBe(0);
    try {
      expect((await inspect(name)).config.stopTimeout).toBe(0);
      const t0 = Date.now();
      expect((await corral(['stop', name])).exitCode).toBe(0);
      // Not the default 10 s.
      expect(Date.now() - t0).toBeLessThan(8000);
      expect((await inspect(name)).state.exitCode).toBe(137);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('--log-opt max-size/max-file cap the log of this container', async () => {
    const name = uniqueName('log-opt');
    const script = 'i=0; while [ $i -lt 300 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done';
    const r = await corral(['run', '--name', name, '--log-opt', 'max-size=2k', '--log-opt', 'max-file=2', 'busybox', 'sh', '-c', script]);
    expect(r.exitCode, r.stderr).toBe(0);
    try {
      const info = await inspect(name);
      expect(info.config.logOptions).toEqual({ maxSize: 2048, maxFiles: 2 });
      const dir = dirname(info.logPath);
      const logs = readdirSync(dir).filter((f) => f.startsWith('container.log')).sort();
      expect(logs).toEqual(['container.log', 'container.log.1']);
      for (const f of logs) expect(statSync(join(dir, f)).size).toBeLessThanOrEqual(2048);
      expect((await corral(['logs', '--tail', '1', name])).stdout).toBe('line-299-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n');
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('bad values: a specific error, a non-zero exit, no container made', async () => {
    const before = (await corral(['ps', '-aq'])).stdout;
    const cases: [string[], RegExp][] = [
      [['--stop-timeout', 'soon'], /invalid --stop-timeout "soon"/],
      [['--log-opt', 'max-size=lots'], /--log-opt max-size/],
      [['--log-opt', 'max-file=0'], /invalid --log-opt max-file=0/],
      [['--log-opt', 'mode=non-blocking'], /unknown --log-opt "mode"/],
      [['--log-opt', 'max-size'], /invalid --log-opt "max-size": expected KEY=VALUE/],
      [['--add-host', 'nohost'], /invalid --add-host "nohost": expected NAME:IP/],
      [['--add-host', 'gw:host-gateway'], /host-gateway is not supported/],
      [['--shm-size', '1k'], /invalid --shm-size "1k": at least 1m/],
      [['--ulimit', 'files=10'], /invalid --ulimit "files=10": unknown name files/],
      [['--ulimit', 'nofile=10:5'], /soft limit is above the hard one/],
    ];
    for (const [flags, message] of cases) {
      const r = await corral(['run', '--rm', ...flags, 'busybox', 'true']);
      expect(r.exitCode, flags.join(' ')).not.toBe(0);
      expect(r.stderr, flags.join(' ')).toMatch(message);
    }
    expect((await corral(['ps', '-aq'])).stdout).toBe(before);
  }, 300_000);
});
