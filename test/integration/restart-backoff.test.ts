import { describe, expect, it } from 'vitest';
import { corral, inspect, uniqueName, until } from '../support/corral.js';

// corrald runs with its default back-off here: 0.1 s, then doubling (Docker's fast first retry).
describe('restart back-off', () => {
  it('a crash loop is restarted at once, then more and more slowly', async () => {
    const name = uniqueName('fastloop');
    await corral(['run', '-d', '--name', name, '--restart', 'always', 'busybox', 'sh', '-c', 'exit 1']);
    try {
      await until('four restarts', async () => ((await inspect(name)).state.restartCount >= 4 ? true : undefined), 60_000);
      const ev = (await corral(['events', '--since', '10m', '--until', '0s', '--filter', `container=${name}`, '--format', '{{.Action}} {{.TimeRFC3339}}'])).stdout;
      const events = ev.trim().split('\n').map((l) => {
        const [action, time] = l.split(' ');
        return { action: action!, t: Date.parse(time!) };
      });
      const dies = events.filter((e) => e.action === 'die');
      const restarts = events.filter((e) => e.action === 'restart');
      expect(restarts.length).toBeGreaterThanOrEqual(4);
      // The first retry follows the first exit within a generous bound (it was 10 s before).
      expect(restarts[0]!.t - dies[0]!.t).toBeLessThan(3000);
      // Four restarts in well under the 10 s + 20 s + 40 s + 80 s of the old back-off.
      expect(restarts[3]!.t - dies[0]!.t).toBeLessThan(30_000);
      // And it does back off: each wait after an exit is longer than the one before, from the third.
      const waits = restarts.slice(0, 4).map((r, i) => r.t - dies[i]!.t);
      expect(waits[3]!).toBeGreaterThan(waits[1]!);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });
});
