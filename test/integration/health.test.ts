import { describe, expect, it } from 'vitest';
import { corral, inspect, sleep, uniqueName, until } from '../support/corral.js';


describe('health checks', () => {
  it('goes starting → healthy → unhealthy, shown in ps and inspect, with events', async () => {
    const name = uniqueName('health');
    // Healthy while /tmp/ok exists.
    await corral(['run', '-d', '--name', name, '--health-cmd', 'test -e /tmp/ok', '--health-interval', '300ms', '--health-retries', '2', 'busybox', 'sh', '-c', 'touch /tmp/ok; exec sleep 300']);
    try {
      await until('healthy', async () => ((await inspect(name)).state.health?.status === 'healthy' ? true : undefined));
      const ps = JSON.parse((await corral(['ps', '--format', 'json'])).stdout).find((c: any) => c.name === name);
      expect(ps.statusText).toMatch(/^Up .* \(healthy\)$/);
      await corral(['exec', name, 'rm', '/tmp/ok']);
      const bad = await until('unhealthy', async () => {
        const h = (await inspect(name)).state.health;
        return h?.status === 'unhealthy' ? h : undefined;
      });
      expect(bad.failingStreak).toBeGreaterThanOrEqual(2);
      expect(bad.log.at(-1).exitCode).toBe(1);
      const ev = (await corral(['events', '--since', '5m', '--until', '0s', '--filter', `container=${name}`, '--filter', 'type=health_status', '--format', 'json'])).stdout;
      expect(ev.trim().split('\n').map((l) => JSON.parse(l).attributes.status)).toEqual(['healthy', 'unhealthy']);
      // The probes left nothing running in the container.
      expect((await corral(['exec', name, 'sh', '-c', 'ps -o comm | grep -c test || true'])).stdout.trim()).toBe('0');
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('--health-on-failure kill lets the restart policy act on an unhealthy container', async () => {
    const name = uniqueName('unhealthy');
    await corral(['run', '-d', '--name', name, '--restart', 'always', '--health-cmd', 'false', '--health-interval', '200ms', '--health-retries', '1', '--health-on-failure', 'kill', 'busybox', 'sleep', '300']);
    try {
      await until('a restart after the kill', async () => ((await inspect(name)).state.restartCount >= 1 ? true : undefined));
      const i = await inspect(name);
      expect(i.config.healthcheck).toMatchObject({ test: ['sh', '-c', 'false'], retries: 1, onFailure: 'kill' });
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('times out a check that hangs, and kills it', async () => {
    const name = uniqueName('hang');
    await corral(['run', '-d', '--name', name, '--health-cmd', 'sleep 30', '--health-interval', '300ms', '--health-timeout', '300ms', '--health-retries', '1', 'busybox', 'sleep', '300']);
    try {
      const h = await until('unhealthy by timeout', async () => {
        const x = (await inspect(name)).state.health;
        return x?.status === 'unhealthy' ? x : undefined;
      });
      expect(h.log.at(-1).output).toMatch(/exceeded timeout/);
      // Timed-out probes are killed: however many intervals pass, they never pile up.
      const hanging = async (): Promise<number> => Number((await corral(['exec', name, 'sh', '-c', 'ps -o args | grep -c "^sleep 30" || true'])).stdout.trim());
      const counts: number[] = [];
      for (let i = 0; i < 5; i++) {
        counts.push(await hanging());
        await sleep(600);
      }
      expect(Math.max(...counts)).toBeLessThanOrEqual(2);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });
});
