import { join } from 'node:path';

/**
 * Where a container's own disk lives when it has a quota (loop-ext4): the image, and the mount
 * point on the host that holds the overlay's upper and work directories (they must be on one
 * filesystem) while the container runs.
 */
export interface DiskPaths {
  image: string;
  mountpoint: string;
  upper: string;
  work: string;
}

export const DISK_IMAGE = 'disk.img';
export const DISK_MOUNTPOINT = 'upper-disk';

export function diskPaths(containerDir: string): DiskPaths {
  const mountpoint = join(containerDir, DISK_MOUNTPOINT);
  return { image: join(containerDir, DISK_IMAGE), mountpoint, upper: join(mountpoint, 'upper'), work: join(mountpoint, 'work') };
}
