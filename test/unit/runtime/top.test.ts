import { describe, expect, it } from 'vitest';
import { filterPs } from '../../../src/runtime/lifecycle/top.js';
import { parsePasswd, psTime } from '../../../src/system/proc-top.js';

describe('top', () => {
  it("formats TIME as ps does", () => {
    expect(psTime(0)).toBe('00:00:00');
    expect(psTime(3723.9)).toBe('01:02:03');
    expect(psTime(2 * 86_400 + 61)).toBe('2-00:01:01');
  });

  it('names uids from passwd, the first entry winning', () => {
    const u = parsePasswd('root:x:0:0::/root:/bin/sh\ntoor:x:0:0::/:/bin/sh\nbad line\nnobody:x:65534:65534::/:/sbin/nologin\n');
    expect([...u]).toEqual([[0, 'root'], [65534, 'nobody']]);
  });

  it("keeps ps's header and the rows whose PID is the container's, the command whole", () => {
    const out = '  PID TTY      STAT   TIME COMMAND\n    1 ?        Ss     0:01 /sbin/init splash\n  812 ?        S      0:00 sleep 300 now\n';
    expect(filterPs(out, new Set([812]))).toEqual({ titles: ['PID', 'TTY', 'STAT', 'TIME', 'COMMAND'], processes: [['812', '?', 'S', '0:00', 'sleep 300 now']] });
    expect(() => filterPs('USER COMMAND\nroot x\n', new Set([1]))).toThrow(/no PID column/);
  });
});
