import { access } from 'node:fs/promises';
import { CgroupError } from '../errors.js';
import { readCgroupFile } from './write.js';

/**
 * Readers for the control files stats come from. A missing file reads as absent (undefined or 0),
 * so stats of a cgroup being torn down do not fail; other read errors name the path.
 */

/** v1 reports "unlimited" as a huge page-aligned number (9223372036854771712); v2 writes `max`. */
const UNLIMITED_FROM = 2n ** 62n;

/** A single number, `max` → null, missing → undefined. */
export async function readLimit(path: string): Promise<number | null | undefined> {
  const text = await readCgroupFile(path);
  if (text === undefined) return undefined;
  const n = parseLimit(text);
  if (n === undefined) throw new CgroupError('read', path, `not a number or max: ${JSON.stringify(text.slice(0, 40))}`);
  return n;
}

/** `max`/`-1` → null (unlimited), a number → itself; undefined when it is neither. */
export function parseLimit(text: string): number | null | undefined {
  if (text === 'max' || text === '-1') return null;
  if (!/^\d+$/.test(text)) return undefined;
  const n = BigInt(text);
  return n >= UNLIMITED_FROM ? null : Number(n);
}

/** A single counter; missing → 0. */
export async function readCounter(path: string): Promise<number> {
  const text = await readCgroupFile(path);
  return text === undefined || text === '' ? 0 : Number(text);
}

/** `key value` lines (cpu.stat, memory.events, memory.oom_control) → a map; missing → empty. */
export async function readKeyed(path: string): Promise<Map<string, number>> {
  return parseKeyed((await readCgroupFile(path)) ?? '');
}

export function parseKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^-?\d+$/.test(value)) out.set(key, Number(value));
  }
  return out;
}

/** Whether a control file exists (optional files: memory.memsw.*, blkio.weight, memory.swap.max). */
export async function hasFile(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
