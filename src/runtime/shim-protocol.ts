/**
 * The shim protocol's message table, the mirror of src/native/proto.h (docs/shim.md, "The shim
 * protocol"): same names, same numbers; test/unit/runtime/shim-protocol.test.ts parses the header to
 * keep the two equal. Inside the shim the messages travel as binary datagrams; between the monitor and
 * corrald they are lines named after the message in lower case: the report on the monitor's stdout
 * (`ready`, `started PID START`, `failed CODE MESSAGE`) and, with `--wait-run`, `run` on its stdin.
 */
export const ShimMessage = {
  PID: 1,
  ERROR: 2,
  IDMAP_REQUEST: 3,
  IDMAP_DONE: 4,
  FD: 5,
  READY: 6,
  RUN: 7,
  STARTED: 8,
  FAILED: 9,
} as const;

export type ShimMessageName = keyof typeof ShimMessage;

/** One line of the monitor's start-up report. */
export type MonitorReport =
  | { kind: 'ready' }
  | { kind: 'started'; pid: number; startTime: number }
  | { kind: 'failed'; code: number; message: string };

/** The report line's word for a message: its name in lower case. */
export function lineName(name: ShimMessageName): string {
  return name.toLowerCase();
}

const MAX_PID = 0x3fffffff; // the kernel's PID_MAX_LIMIT (4M) fits; anything above is not a pid

/**
 * A report line, validated: a known message that the monitor sends to corrald, with well-formed
 * fields (a pid in 1..2^30, a start time that is a safe integer, a code in 0..255, a non-empty message).
 * Anything else is undefined: the caller treats it as a broken monitor.
 */
export function parseReport(line: string): MonitorReport | undefined {
  const sp = line.indexOf(' ');
  const word = sp < 0 ? line : line.slice(0, sp);
  const rest = sp < 0 ? undefined : line.slice(sp + 1);
  if (word === lineName('READY')) return rest === undefined ? { kind: 'ready' } : undefined;
  if (word === lineName('STARTED')) {
    const m = /^(\d{1,10}) (\d{1,20})$/.exec(rest ?? '');
    if (!m) return undefined;
    const pid = Number(m[1]);
    const startTime = Number(m[2]);
    if (pid < 1 || pid > MAX_PID || !Number.isSafeInteger(startTime)) return undefined;
    return { kind: 'started', pid, startTime };
  }
  if (word === lineName('FAILED')) {
    const m = /^(\d{1,3}) (.+)$/.exec(rest ?? '');
    if (!m || Number(m[1]) > 255) return undefined;
    return { kind: 'failed', code: Number(m[1]), message: m[2]! };
  }
  return undefined;
}

/** The line the monitor writes for a report (the C side's report.c), for tests and fakes. */
export function formatReport(r: MonitorReport): string {
  switch (r.kind) {
    case 'ready':
      return lineName('READY');
    case 'started':
      return `${lineName('STARTED')} ${r.pid} ${r.startTime}`;
    case 'failed':
      return `${lineName('FAILED')} ${r.code} ${r.message.replace(/[\r\n]/g, ' ')}`;
  }
}

/** What corrald writes to a `--wait-run` monitor's stdin after `ready`. */
export const RUN_LINE = `${lineName('RUN')}\n`;
