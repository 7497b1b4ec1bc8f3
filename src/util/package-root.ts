import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The directory holding Corral's package.json, found from this file (src/ or dist/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'rootfs-templates'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the corral package root');
    dir = up;
  }
}
