import { DEFAULT_PIDS_LIMIT, blkioToIoWeight, cpusToQuota, weightToShares } from '../cgroups/limits.js';
import { formatBytes } from '../util/quantity.js';
import type { Pos } from './issues.js';
import type { ManifestContainer, ManifestSpec } from './spec.js';
import { bytesUnitTrap, cpuUnitTrap, millicoresToCpus, parseBytes, parseCpu } from './units.js';

/**
 * What each limit of a manifest becomes in the kernel, on cgroup v2 and on v1: the file and the
 * exact value corrald writes (the same conversions as src/cgroups), plus the unit traps. Pure; the
 * numbers of block devices are filled in only when the caller can look them up.
 */

export interface KernelWrite {
  /** Control file name in the container's cgroup (`cpu.max`), or a /proc path. */
  file: string;
  value: string;
  /** When this write applies instead of another (`with BFQ`). */
  when?: string;
}

export interface Explained {
  /** Path below the container: `limits.cpu`, `limits.io.devices[0].readBps`. */
  field: string;
  /** As written in the manifest, or how the default is chosen. */
  written: string;
  /** The value in plain units: `0.5 CPU`, `268435456 bytes (256 MiB)`. */
  meaning: string;
  v2: KernelWrite[];
  v1: KernelWrite[];
  warnings: string[];
  /** Where it is written in the manifest (absent for defaults). */
  pos?: Pos;
}

export interface ContainerExplanation {
  name: string;
  items: Explained[];
}

export interface ExplainOptions {
  /** `major:minor` of a block device path (stat it), when known; else a placeholder is shown. */
  deviceNumber?: (path: string) => string | undefined;
}

export function explainManifest(spec: ManifestSpec, opts: ExplainOptions = {}): ContainerExplanation[] {
  return spec.containers.map((c) => explainContainer(c, opts));
}

export function explainContainer(c: ManifestContainer, opts: ExplainOptions = {}): ContainerExplanation {
  const l = c.request.limits ?? {};
  const items: Explained[] = [];
  const add = (field: string, meaning: string, v2: KernelWrite[], v1: KernelWrite[], fallback?: string) => {
    const w = c.written[field];
    const warnings: string[] = [];
    const trap = !w ? undefined : field === 'limits.cpu' ? cpuUnitTrap(w.text) : /^limits\.(memory|memoryReservation|swap)$|Bps$/.test(field) ? bytesUnitTrap(w.text) : undefined;
    if (trap) warnings.push(trap);
    items.push({ field, written: w?.text ?? fallback ?? '', meaning, v2, v1, warnings, ...(w ? { pos: w.pos } : {}) });
  };

  const cpu = c.written['limits.cpu'];
  if (cpu) {
    const cores = parseCpu(cpu.text) / 1000;
    const { quotaUs, periodUs } = cpusToQuota(cores);
    add('limits.cpu', `${millicoresToCpus(parseCpu(cpu.text))} CPU`, [{ file: 'cpu.max', value: `${quotaUs} ${periodUs}` }], [
      { file: 'cpu.cfs_quota_us', value: String(quotaUs) },
      { file: 'cpu.cfs_period_us', value: String(periodUs) },
    ]);
  }
  if (l.cpuWeight !== undefined) {
    const w = Number(l.cpuWeight);
    add('limits.cpuWeight', `weight ${w} of the v2 default 100`, [{ file: 'cpu.weight', value: String(w) }], [{ file: 'cpu.shares', value: String(weightToShares(w)) }]);
  }
  for (const [key, v] of [['cpus', l.cpusetCpus], ['mems', l.cpusetMems]] as const) {
    if (v !== undefined) add(`limits.cpuset.${key}`, key === 'cpus' ? `CPUs ${v}` : `memory nodes ${v}`, [{ file: `cpuset.${key}`, value: v }], [{ file: `cpuset.${key}`, value: v }]);
  }

  const memory = l.memory === undefined ? undefined : Number(l.memory);
  if (memory !== undefined) add('limits.memory', bytes(memory), [{ file: 'memory.max', value: String(memory) }], [{ file: 'memory.limit_in_bytes', value: String(memory) }]);
  if (l.memoryReservation !== undefined) {
    const low = Number(l.memoryReservation);
    add('limits.memoryReservation', bytes(low), [{ file: 'memory.low', value: String(low) }], [{ file: 'memory.soft_limit_in_bytes', value: String(low) }]);
  }
  if (l.memorySwap === '-1') {
    add('limits.swap', 'no swap limit', [{ file: 'memory.swap.max', value: 'max' }], [{ file: 'memory.memsw.limit_in_bytes', value: '-1' }]);
  } else if (memory !== undefined) {
    // Docker's meaning: memory plus swap; v2 takes the swap alone. Twice memory when not given.
    const total = l.memorySwap === undefined ? 2 * memory : Number(l.memorySwap);
    add('limits.swap', `memory + swap = ${bytes(total)}, so swap ${bytes(total - memory)}`, [{ file: 'memory.swap.max', value: String(total - memory) }], [{ file: 'memory.memsw.limit_in_bytes', value: String(total) }], '(default: twice memory)');
  }

  const pids = l.pidsLimit === undefined ? DEFAULT_PIDS_LIMIT : l.pidsLimit === '-1' ? 'max' : Number(l.pidsLimit);
  add('limits.pids', pids === 'max' ? 'no limit' : `${pids} processes and threads`, [{ file: 'pids.max', value: String(pids) }], [{ file: 'pids.max', value: String(pids) }], `(default ${DEFAULT_PIDS_LIMIT})`);

  if (l.blkioWeight !== undefined) {
    const w = Number(l.blkioWeight);
    add('limits.io.weight', `weight ${w} of Docker's default 500 (10-1000)`, [
      { file: 'io.bfq.weight', value: String(w), when: 'with the BFQ scheduler' },
      { file: 'io.weight', value: String(blkioToIoWeight(w)), when: 'otherwise' },
    ], [
      { file: 'blkio.weight', value: String(w) },
    ]);
  }
  const throttle = { readBps: ['rbps', 'read_bps'], writeBps: ['wbps', 'write_bps'], readIops: ['riops', 'read_iops'], writeIops: ['wiops', 'write_iops'] } as const;
  for (const [field, w] of Object.entries(c.written)) {
    const m = /^limits\.io\.devices\[(\d+)\]\.(readBps|writeBps|readIops|writeIops)$/.exec(field);
    if (!m) continue;
    const key = m[2] as keyof typeof throttle;
    const path = c.written[`limits.io.devices[${m[1]}].path`]?.text ?? '';
    const rate = key.endsWith('Bps') ? parseBytes(w.text, key) : Number(w.text);
    const dev = opts.deviceNumber?.(path) ?? `<MAJ:MIN of ${path}>`;
    const meaning = key.endsWith('Bps') ? `${bytes(rate)} per second on ${path}` : `${rate} IO/s on ${path}`;
    const [v2key, v1key] = throttle[key];
    add(field, meaning, [{ file: 'io.max', value: `${dev} ${v2key}=${rate}` }], [{ file: `blkio.throttle.${v1key}_device`, value: `${dev} ${rate}` }]);
  }

  if (l.oomScoreAdj !== undefined) {
    const v = String(l.oomScoreAdj);
    add('oomScoreAdj', Number(v) < 0 ? 'less likely to be OOM-killed' : Number(v) > 0 ? 'more likely to be OOM-killed' : 'the default', [{ file: '/proc/PID/oom_score_adj', value: v }], [{ file: '/proc/PID/oom_score_adj', value: v }]);
  }
  return { name: c.name, items };
}

/**
 * One line per value, as `corral explain` prints it:
 *   cpu 500m -> cpu.max "50000 100000" (v1: cpu.cfs_quota_us 50000 / cpu.cfs_period_us 100000)
 */
export function formatExplanation(list: readonly ContainerExplanation[]): string {
  const out: string[] = [];
  for (const c of list) {
    out.push(`${c.name}:`);
    for (const i of c.items) {
      const name = i.field.replace(/^limits\./, '');
      out.push(`  ${name} ${i.written} -> ${writes(i.v2)} (v1: ${writes(i.v1)})`);
      for (const w of i.warnings) out.push(`    warning: ${w}`);
    }
  }
  return out.join('\n');
}

function writes(list: readonly KernelWrite[]): string {
  return list.map((w) => `${w.file} ${/\s/.test(w.value) ? JSON.stringify(w.value) : w.value}${w.when ? ` ${w.when}` : ''}`).join(' / ');
}

function bytes(n: number): string {
  const pretty = formatBytes(n);
  return pretty === `${n} B` ? `${n} bytes` : `${n} bytes (${pretty})`;
}
