import type { WantedSetting } from './controller.js';
import { type IoThrottleKey, type Limits, THROTTLE_LIMIT } from './limits.js';

/** One device throttle to write: `254:0` `rbps` 1048576. */
export interface ThrottleEntry {
  device: string;
  key: IoThrottleKey;
  rate: number | 'max';
  want: WantedSetting;
}

const KEYS: IoThrottleKey[] = ['rbps', 'wbps', 'riops', 'wiops'];

/** Every per-device throttle in `limits`, devices in key order, with the file it goes to. */
export function throttleEntries(limits: Limits, fileOf: (key: IoThrottleKey) => string): ThrottleEntry[] {
  const out: ThrottleEntry[] = [];
  for (const [device, t] of Object.entries(limits.io?.devices ?? {})) {
    for (const key of KEYS) {
      const rate = t[key];
      if (rate === undefined) continue;
      const limit = THROTTLE_LIMIT[key];
      out.push({ device, key, rate, want: { limit, requested: t.requested?.[key] ?? `${device} ${rate}`, file: fileOf(key) } });
    }
  }
  return out;
}

/** Linux dev_t: major in bits 8-19 and 32-43, minor in bits 0-7 and 20-31 (glibc gnu_dev_major). */
export function splitRdev(rdev: number): { major: number; minor: number } {
  const d = BigInt(rdev);
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn);
  const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}

/** Sum of per-device byte counters: v2 io.stat `254:0 rbytes=1 wbytes=2 ...`. */
export function parseIoStat(text: string): { readBytes: number; writeBytes: number } {
  let readBytes = 0;
  let writeBytes = 0;
  for (const line of text.split('\n')) {
    for (const field of line.trim().split(/\s+/).slice(1)) {
      const [k, v] = field.split('=');
      if (k === 'rbytes') readBytes += Number(v);
      if (k === 'wbytes') writeBytes += Number(v);
    }
  }
  return { readBytes, writeBytes };
}

/** v1 blkio.throttle.io_service_bytes: `254:0 Read 1`, `254:0 Write 2`, ..., `Total 3`. */
export function parseIoServiceBytes(text: string): { readBytes: number; writeBytes: number } {
  let readBytes = 0;
  let writeBytes = 0;
  for (const line of text.split('\n')) {
    const [device, op, value] = line.trim().split(/\s+/);
    if (!device?.includes(':') || value === undefined) continue;
    if (op === 'Read') readBytes += Number(value);
    if (op === 'Write') writeBytes += Number(value);
  }
  return { readBytes, writeBytes };
}
