import { join } from 'node:path';
import { diskPaths } from '../storage/paths.js';

/** A container's own overlay layer, under its state directory. */
export interface LayerLayout {
  /** The writable upper layer: what the container changed. */
  upper: string;
  /** overlayfs' work directory (same filesystem as upper). */
  work: string;
  /** The overlay's mount point; mounted only inside the container's mount namespace. */
  mountpoint: string;
}

/** With a disk quota, upper and work live in the container's disk image (mounted while it runs). */
export function layerLayout(containerDir: string, onDisk = false): LayerLayout {
  const mountpoint = join(containerDir, 'rootfs');
  if (onDisk) {
    const d = diskPaths(containerDir);
    return { upper: d.upper, work: d.work, mountpoint };
  }
  return { upper: join(containerDir, 'upper'), work: join(containerDir, 'work'), mountpoint };
}
