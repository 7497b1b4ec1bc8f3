/**
 * Every control-file write, in order (a real cgroup.subtree_control accumulates `+name` writes
 * while a plain file keeps only the last, so tests read this log); `refuse` plays the kernel
 * (EINVAL, EBUSY and the like). A test file wires it in with
 *   vi.mock('node:fs/promises', (orig) => import('./recorded-writes.js').then((m) => m.recordWrites(orig)));
 */
export const io = {
  writes: [] as { path: string; data: string }[],
  refuse: undefined as ((path: string, data: string) => NodeJS.ErrnoException | undefined) | undefined,
};

type FsPromises = typeof import('node:fs/promises');

export async function recordWrites(importOriginal: () => Promise<unknown>): Promise<FsPromises> {
  const fs = (await importOriginal()) as FsPromises;
  const writeFile: FsPromises['writeFile'] = async (path, data, options) => {
    const err = io.refuse?.(String(path), String(data));
    if (err) throw err;
    io.writes.push({ path: String(path), data: String(data) });
    return fs.writeFile(path, data, options);
  };
  return { ...fs, writeFile, default: { ...fs, writeFile } } as FsPromises;
}
