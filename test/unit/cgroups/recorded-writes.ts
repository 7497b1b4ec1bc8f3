/**
 * Every control-file write, in order (a real cgroup.subtree_control accumulates `+name` writes
 * while a plain file keeps only the last, so tests read this log); `refuse` plays the kernel
 * (EINVAL, EBUSY and the like). A write that fails (a missing file: no O_CREAT) is not logged.
 * mkdir in a fake cgroupfs makes the new cgroup's control files, as the kernel does (`kernels`,
 * filled by fake-cgroupfs.ts). A test file wires it in with
 *   vi.mock('node:fs/promises', (orig) => import('./recorded-writes.js').then((m) => m.recordWrites(orig)));
 */
export const io = {
  writes: [] as { path: string; data: string }[],
  refuse: undefined as ((path: string, data: string) => NodeJS.ErrnoException | undefined) | undefined,
};

/** Fake cgroupfs roots and how each fills a directory made below it (sync node:fs calls). */
export const kernels = new Map<string, (dir: string) => void>();

type FsPromises = typeof import('node:fs/promises');

/** Run the fake kernel of the cgroupfs `path` is in on a directory mkdir just made. */
export function kernelMkdir(path: string): void {
  for (const [root, populate] of kernels) if (path.startsWith(`${root}/`)) populate(path);
}

/** fs.mkdir that, like cgroupfs, gives a new cgroup directory its control files. */
export function withKernelMkdir(fs: FsPromises): FsPromises['mkdir'] {
  return (async (path: Parameters<FsPromises['mkdir']>[0], options?: Parameters<FsPromises['mkdir']>[1]) => {
    const made = await fs.mkdir(path, options);
    if (!(options as { recursive?: boolean } | undefined)?.recursive) kernelMkdir(String(path));
    return made;
  }) as FsPromises['mkdir'];
}

export async function recordWrites(importOriginal: () => Promise<unknown>): Promise<FsPromises> {
  const fs = (await importOriginal()) as FsPromises;
  const writeFile: FsPromises['writeFile'] = async (path, data, options) => {
    const err = io.refuse?.(String(path), String(data));
    if (err) throw err;
    await fs.writeFile(path, data, options);
    io.writes.push({ path: String(path), data: String(data) });
  };
  const mkdir = withKernelMkdir(fs);
  return { ...fs, writeFile, mkdir, default: { ...fs, writeFile, mkdir } } as FsPromises;
}
