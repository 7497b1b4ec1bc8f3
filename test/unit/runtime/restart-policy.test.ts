import { describe, expect, it } from 'vitest';
import { decide, INITIAL_RESTART_STATE, parseRestartPolicy } from '../../../src/runtime/restart-policy.js';

const s0 = INITIAL_RESTART_STATE;
const failed = { exitCode: 1, ranMs: 1000 };

describe('parseRestartPolicy', () => {
  it.each([
    ['no', { name: 'no', maxRetries: null }],
    ['always', { name: 'always', maxRetries: null }],
    ['unless-stopped', { name: 'unless-stopped', maxRetries: null }],
    ['on-failure', { name: 'on-failure', maxRetries: null }],
    ['on-failure:3', { name: 'on-failure', maxRetries: 3 }],
  ])('%s', (v, want) => expect(parseRestartPolicy(v)).toEqual(want));
  it.each(['sometimes', 'always:3', 'on-failure:0', 'on-failure:x', ''])('refuses %j', (v) => expect(() => parseRestartPolicy(v)).toThrow(/--restart/));
});

describe('decide', () => {
  it('never restarts with no', () => expect(decide(parseRestartPolicy('no'), s0, failed).restart).toBe(false));
  it('on-failure ignores exit 0 and stops at the maximum', () => {
    const p = parseRestartPolicy('on-failure:2');
    expect(decide(p, s0, { exitCode: 0, ranMs: 1 }).restart).toBe(false);
    expect(decide(p, { ...s0, restartCount: 1 }, failed).restart).toBe(true);
    expect(decide(p, { ...s0, restartCount: 2 }, failed)).toMatchObject({ restart: false, reason: expect.stringMatching(/gave up after 2/) });
  });
  it('always restarts after exit 0, unless the user stopped it', () => {
    expect(decide(parseRestartPolicy('always'), s0, { exitCode: 0, ranMs: 1 }).restart).toBe(true);
    expect(decide(parseRestartPolicy('always'), { ...s0, userStopped: true }, failed).restart).toBe(false);
    expect(decide(parseRestartPolicy('unless-stopped'), { ...s0, userStopped: true }, failed).restart).toBe(false);
  });
  it('backs off 0.1 s, 0.2 s, 0.4 s … capped at 300 s, and resets after 10 minutes of running', () => {
    const p = parseRestartPolicy('always');
    const delays: number[] = [];
    let s = s0;
    for (let i = 0; i < 16; i++) {
      const d = decide(p, s, failed);
      if (!d.restart) throw new Error('expected a restart');
      delays.push(d.delayMs);
      s = { ...s, backoffLevel: d.backoffLevel, restartCount: s.restartCount + 1 };
    }
    expect(delays).toEqual([100, 200, 400, 800, 1600, 3200, 6400, 12_800, 25_600, 51_200, 102_400, 204_800, 300_000, 300_000, 300_000, 300_000]);
    expect(decide(p, s, { exitCode: 1, ranMs: 600_000 })).toMatchObject({ restart: true, delayMs: 100, backoffLevel: 1 });
  });
});
