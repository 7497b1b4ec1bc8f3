import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Apparent size of what a directory holds (file sizes, as Docker's `SizeRw`, each hard-linked
 * inode once; directories themselves are not counted). Symlinks are never followed. A missing
 * directory is 0; entries vanishing during the walk are skipped.
 */
export async function treeSize(dir: string, seen = new Set<string>()): Promise<number> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  let total = 0;
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      total += await treeSize(p, seen);
      continue;
    }
    const st = await lstat(p).catch(() => undefined);
    if (!st) continue;
    const key = `${st.dev}:${st.ino}`;
    if (st.nlink > 1) {
      if (seen.has(key)) continue;
      seen.add(key);
    }
    total += st.size;
  }
  return total;
}
