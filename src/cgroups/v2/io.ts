import { join } from 'node:path';
import { type WantedSetting, writeSetting } from '../controller.js';
import { parseIoStat, throttleEntries } from '../io-throttle.js';
import { type AppliedSetting, type Limits, blkioToIoWeight, ioToBlkioWeight, requestedText, skipped } from '../limits.js';
import { hasFile } from '../stat.js';
import { readCgroupFile } from '../write.js';

/**
 * v2 io: io.max gets one `MAJ:MIN key=value` write per throttle (keys not written stay as they
 * are; `max` removes one). The weight goes to io.bfq.weight on Docker's 10..1000 scale when BFQ is
 * there, else to io.weight on 1..10000, as runc and crun do.
 */
export const CONTROLLER = 'io';

export interface IoStats {
  readBytes: number;
  writeBytes: number;
}

export function wants(limits: Limits): WantedSetting[] {
  const out = throttleEntries(limits, () => 'io.max').map((e) => e.want);
  const w = limits.io?.weight ?? limits.io?.blkioWeight;
  if (w !== undefined) out.push({ limit: 'blkio-weight', requested: requestedText(limits, 'blkio-weight', w), file: 'io.weight' });
  return out;
}

export async function apply(dir: string, limits: Limits): Promise<AppliedSetting[]> {
  const done: AppliedSetting[] = [];
  for (const e of throttleEntries(limits, () => 'io.max')) done.push(await writeSetting(dir, e.want, `${e.device} ${e.key}=${e.rate}`));
  const want = wants(limits).find((w) => w.limit === 'blkio-weight');
  if (want) done.push(await applyWeight(dir, want, limits));
  return done;
}

export async function stats(dir: string): Promise<IoStats> {
  return parseIoStat((await readCgroupFile(join(dir, 'io.stat'))) ?? '');
}

async function applyWeight(dir: string, want: WantedSetting, limits: Limits): Promise<AppliedSetting> {
  const { weight, blkioWeight } = limits.io!;
  if (await hasFile(join(dir, 'io.bfq.weight'))) {
    return writeSetting(dir, { ...want, file: 'io.bfq.weight' }, blkioWeight ?? ioToBlkioWeight(weight!));
  }
  if (await hasFile(join(dir, 'io.weight'))) return writeSetting(dir, want, weight ?? blkioToIoWeight(blkioWeight!));
  return skipped(want.limit, want.requested, join(dir, 'io.weight'), 'io weights are unavailable: neither io.bfq.weight nor io.weight exists (no BFQ, no iocost)');
}
