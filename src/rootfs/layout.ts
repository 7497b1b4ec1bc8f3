import { join } from 'node:path';

/** A container's own overlay layer, under its state directory. */
export interface LayerLayout {
  /** The writable upper layer: what the container changed. */
  upper: string;
  /** overlayfs' work directory (same filesystem as upper). */
  work: string;
  /** The overlay's mount point; mounted only inside the container's mount namespace. */
  mountpoint: string;
}

export function layerLayout(containerDir: string): LayerLayout {
  return { upper: join(containerDir, 'upper'), work: join(containerDir, 'work'), mountpoint: join(containerDir, 'rootfs') };
}
