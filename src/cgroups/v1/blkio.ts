import { join } from 'node:path';
import { type WantedSetting, writeSetting } from '../controller.js';
import { type ThrottleEntry, parseIoServiceBytes, throttleEntries } from '../io-throttle.js';
import { type AppliedSetting, type IoThrottleKey, type Limits, ioToBlkioWeight, requestedText, skipped } from '../limits.js';
import { hasFile } from '../stat.js';
import type { IoStats } from '../v2/io.js';
import { readCgroupFile } from '../write.js';

/**
 * v1 blkio: blkio.throttle.{read,write}_{bps,iops}_device take `MAJ:MIN RATE`, one device per
 * write; `0` removes a throttle. The weight (10..1000) goes to blkio.weight, or blkio.bfq.weight
 * where only BFQ offers one (CFQ is gone since Linux 5.0); neither present → skipped.
 */
export const CONTROLLER = 'blkio';
export type { IoStats };

const FILE: Record<IoThrottleKey, string> = {
  rbps: 'blkio.throttle.read_bps_device',
  wbps: 'blkio.throttle.write_bps_device',
  riops: 'blkio.throttle.read_iops_device',
  wiops: 'blkio.throttle.write_iops_device',
};

export function wants(limits: Limits): WantedSetting[] {
  const out = entries(limits).map((e) => e.want);
  const w = weightOf(limits);
  if (w !== undefined) out.push({ limit: 'blkio-weight', requested: requestedText(limits, 'blkio-weight', w), file: 'blkio.weight' });
  return out;
}

export async function apply(dir: string, limits: Limits): Promise<AppliedSetting[]> {
  const done: AppliedSetting[] = [];
  for (const e of entries(limits)) done.push(await writeSetting(dir, e.want, `${e.device} ${e.rate === 'max' ? 0 : e.rate}`));
  const want = wants(limits).find((w) => w.limit === 'blkio-weight');
  if (want) {
    const file = (await hasFile(join(dir, 'blkio.weight'))) ? 'blkio.weight' : (await hasFile(join(dir, 'blkio.bfq.weight'))) ? 'blkio.bfq.weight' : undefined;
    done.push(
      file
        ? await writeSetting(dir, { ...want, file }, weightOf(limits)!)
        : skipped(want.limit, want.requested, join(dir, 'blkio.weight'), 'io weights are unavailable: neither blkio.weight nor blkio.bfq.weight exists (no CFQ, no BFQ)'),
    );
  }
  return done;
}

/** Bytes through the throttling layer, nested cgroups included where the kernel offers that. */
export async function stats(dir: string): Promise<IoStats> {
  const text = (await readCgroupFile(join(dir, 'blkio.throttle.io_service_bytes_recursive'))) ?? (await readCgroupFile(join(dir, 'blkio.throttle.io_service_bytes')));
  return parseIoServiceBytes(text ?? '');
}

function entries(limits: Limits): ThrottleEntry[] {
  return throttleEntries(limits, (key) => FILE[key]);
}

function weightOf(limits: Limits): number | undefined {
  const { weight, blkioWeight } = limits.io ?? {};
  return blkioWeight ?? (weight === undefined ? undefined : ioToBlkioWeight(weight));
}
