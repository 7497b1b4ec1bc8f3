import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatReport, parseReport, RUN_LINE, ShimMessage, type MonitorReport } from '../../../src/runtime/shim-protocol.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The X(NAME, n) rows of PROTO_MESSAGES in src/native/proto.h. */
function headerTable(): Record<string, number> {
  const text = readFileSync(join(ROOT, 'src/native/proto.h'), 'utf8');
  const block = /#define PROTO_MESSAGES\(X\)((?:.*\\\n)*.*)/.exec(text);
  expect(block, 'PROTO_MESSAGES in proto.h').not.toBeNull();
  const rows = [...block![1]!.matchAll(/X\((\w+),\s*(\d+)\)/g)];
  return Object.fromEntries(rows.map((r) => [r[1]!, Number(r[2])]));
}

describe('shim protocol table', () => {
  it('proto.h and shim-protocol.ts name the same messages with the same numbers', () => {
    const c = headerTable();
    expect(Object.keys(c).length).toBeGreaterThanOrEqual(9);
    expect(c).toEqual({ ...ShimMessage });
  });

  it('numbers are unique and fit the type byte', () => {
    const nums = Object.values(ShimMessage);
    expect(new Set(nums).size).toBe(nums.length);
    for (const n of nums) expect(n > 0 && n < 256).toBe(true);
  });

  it('has the messages the next issues need', () => {
    for (const n of ['PID', 'ERROR', 'IDMAP_REQUEST', 'IDMAP_DONE', 'FD', 'READY', 'RUN', 'STARTED', 'FAILED']) {
      expect(ShimMessage).toHaveProperty(n);
    }
  });
});

describe('report lines', () => {
  it('parses what the monitor writes', () => {
    expect(parseReport('ready')).toEqual({ kind: 'ready' });
    expect(parseReport('started 4242 123456789')).toEqual({ kind: 'started', pid: 4242, startTime: 123456789 });
    expect(parseReport('failed 127 exec "nosuch": executable file not found in $PATH')).toEqual({
      kind: 'failed', code: 127, message: 'exec "nosuch": executable file not found in $PATH',
    });
  });

  it('refuses malformed or out-of-range lines', () => {
    for (const bad of [
      '', 'READY', 'ready now', 'started', 'started 0 5', 'started 12', 'started -1 5', 'started 1073741824 5',
      'started 12 99999999999999999999', 'started 12 5 extra', 'failed 1', 'failed 256 x', 'failed x message',
      'pid 12', 'error oops', 'run', 'idmap_request 5', ' ready',
    ]) {
      expect(parseReport(bad), JSON.stringify(bad)).toBeUndefined();
    }
  });

  it('formats what it parses', () => {
    const reports: MonitorReport[] = [
      { kind: 'ready' },
      { kind: 'started', pid: 1, startTime: 0 },
      { kind: 'failed', code: 1, message: 'mount overlay on /x/rootfs: No such file or directory' },
    ];
    for (const r of reports) expect(parseReport(formatReport(r))).toEqual(r);
    expect(formatReport({ kind: 'failed', code: 1, message: 'two\nlines' })).toBe('failed 1 two lines');
  });

  it('corrald says RUN as the message name in lower case', () => {
    expect(RUN_LINE).toBe('run\n');
  });
});
