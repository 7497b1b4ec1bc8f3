import { existsSync } from 'node:fs';
import { readFile, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { StorageBackend } from '../api/types.js';
import { findProgram } from '../system/which.js';
import { parseMountinfo, type HostView } from './host.js';
import type { LoopTools } from './loop-ext4.js';

/** The quota backends, best first. Only loop-ext4 is driven by Corral today. */
export type BackendName = 'xfs-pquota' | 'btrfs-qgroup' | 'loop-ext4';

export interface BackendFinding {
  backend: BackendName;
  usable: boolean;
  /** Why it is or is not the one (names what is missing). */
  detail: string;
}

export interface StorageProbe {
  /** The backend a `--storage-opt size=` container gets; null: quotas cannot be had here. */
  backend: StorageBackend | null;
  findings: BackendFinding[];
  tools?: LoopTools;
}

const XFS_MAGIC = 0x58465342;
const BTRFS_MAGIC = 0x9123683e;
const FS_NAMES: Record<number, string> = { [XFS_MAGIC]: 'xfs', [BTRFS_MAGIC]: 'btrfs', 0xef53: 'ext4', 0x01021994: 'tmpfs', 0x794c7630: 'overlayfs', 0x6969: 'nfs', 0x2fc12fc1: 'zfs' };

/** What the probe reads, as a seam (unit tests answer from fixtures). */
export interface ProbeDeps {
  host: HostView;
  /** statfs f_type of a directory. */
  fsType(dir: string): Promise<number>;
  /** The running kernel's config (/proc/config.gz), or undefined when it is not readable. */
  kernelConfig(): Promise<string | undefined>;
  /** /proc/filesystems. */
  filesystems(): Promise<string>;
  /** Absolute path of a program, or undefined. */
  findProgram(name: string): Promise<string | undefined>;
  exists(path: string): boolean;
}

export const realProbeDeps = (host: HostView): ProbeDeps => ({
  host,
  fsType: async (dir) => Number((await statfs(dir)).type),
  kernelConfig: async () => readFile('/proc/config.gz').then((b) => gunzipSync(b).toString('utf8'), () => undefined),
  filesystems: () => readFile('/proc/filesystems', 'utf8').catch(() => ''),
  findProgram: (name) => findProgram(name).catch(() => undefined),
  exists: existsSync,
});

/**
 * Which disk-quota backend the data root can have, in order of preference: XFS project quota,
 * btrfs qgroups, then a loop-mounted ext4 image per container, with the reason for each one
 * that is not used.
 */
export async function probeStorage(dataRoot: string, d: ProbeDeps): Promise<StorageProbe> {
  let dir = dataRoot;
  while (!d.exists(dir) && dir !== '/') dir = dirname(dir);
  const type = await d.fsType(dir).catch(() => 0);
  const fsName = FS_NAMES[type] ?? `fs type 0x${type.toString(16)}`;
  const config = await d.kernelConfig();
  const kernelHas = (opt: string): boolean | undefined => (config === undefined ? undefined : new RegExp(`^${opt}=[ym]$`, 'm').test(config));
  const mount = mountOf(await d.host.mountinfo().catch(() => ''), dir);
  const findings: BackendFinding[] = [];

  if (type !== XFS_MAGIC) findings.push({ backend: 'xfs-pquota', usable: false, detail: `the data root is on ${fsName}, not XFS` });
  else if (kernelHas('CONFIG_XFS_QUOTA') === false) findings.push({ backend: 'xfs-pquota', usable: false, detail: 'this kernel is built without CONFIG_XFS_QUOTA' });
  else if (!mount?.superOptions.some((o) => /^(prjquota|pquota|pqnoenforce)$/.test(o))) findings.push({ backend: 'xfs-pquota', usable: false, detail: `${mount?.mountpoint ?? dir} is not mounted with prjquota` });
  else findings.push({ backend: 'xfs-pquota', usable: false, detail: 'XFS project quota is available, but Corral does not drive it yet' });

  if (type !== BTRFS_MAGIC) findings.push({ backend: 'btrfs-qgroup', usable: false, detail: `the data root is on ${fsName}, not btrfs` });
  else findings.push({ backend: 'btrfs-qgroup', usable: false, detail: 'btrfs qgroups are available, but Corral does not drive them yet' });

  const names = ['mkfs.ext4', 'e2fsck', 'resize2fs', 'losetup', 'mount', 'umount'] as const;
  const found = await Promise.all(names.map((n) => d.findProgram(n)));
  const missing = names.filter((_n, i) => found[i] === undefined);
  const ext4 = /\text4$/m.test(await d.filesystems()) || kernelHas('CONFIG_EXT4_FS') === true;
  let tools: LoopTools | undefined;
  if (!d.exists('/dev/loop-control')) findings.push({ backend: 'loop-ext4', usable: false, detail: 'no /dev/loop-control (loop devices: CONFIG_BLK_DEV_LOOP, modprobe loop)' });
  else if (!ext4) findings.push({ backend: 'loop-ext4', usable: false, detail: 'the kernel has no ext4' });
  else if (missing.length > 0) findings.push({ backend: 'loop-ext4', usable: false, detail: `missing ${missing.join(', ')} (apt-get install e2fsprogs util-linux mount)` });
  else {
    const [mkfs, e2fsck, resize2fs, losetup, mountBin, umount] = found as string[];
    tools = { mkfs: mkfs!, e2fsck: e2fsck!, resize2fs: resize2fs!, losetup: losetup!, mount: mountBin!, umount: umount! };
    findings.push({ backend: 'loop-ext4', usable: true, detail: `a sparse ext4 image per container under ${dataRoot}/containers, loop-mounted while it runs` });
  }
  return { backend: tools ? 'loop-ext4' : null, findings, ...(tools ? { tools } : {}) };
}

/** The mount a path is on: the longest mount point that is a prefix of it. */
function mountOf(mountinfo: string, path: string) {
  let best: ReturnType<typeof parseMountinfo>[number] | undefined;
  for (const m of parseMountinfo(mountinfo)) {
    const inside = path === m.mountpoint || path.startsWith(m.mountpoint === '/' ? '/' : `${m.mountpoint}/`);
    if (inside && (!best || m.mountpoint.length >= best.mountpoint.length)) best = m;
  }
  return best;
}
