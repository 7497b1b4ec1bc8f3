import { ArchiveError } from './errors.js';
import { MAX_COMPONENT_BYTES, MAX_PATH_BYTES } from './limits.js';

/**
 * A member name as path components below the layer root: `./a//b/` → ["a", "b"]; the root itself
 * is []. Refused, never rewritten: absolute names, `..` anywhere (even `a/../b`, as GNU tar
 * does), NUL bytes, names over PATH_MAX and components over NAME_MAX.
 */
export function entryComponents(name: string, what = 'path', entry = name): string[] {
  if (name === '') throw new ArchiveError(`empty ${what}`, entry);
  if (name.includes('\0')) throw new ArchiveError(`${what} contains a NUL byte`, entry);
  if (Buffer.byteLength(name) > MAX_PATH_BYTES) throw new ArchiveError(`${what} is longer than ${MAX_PATH_BYTES} bytes`, entry);
  if (name.startsWith('/')) throw new ArchiveError(`${what} is absolute`, entry);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  for (const p of parts) {
    if (p === '..') throw new ArchiveError(`${what} climbs out of the layer`, entry);
    if (Buffer.byteLength(p) > MAX_COMPONENT_BYTES) throw new ArchiveError(`${what} has a component longer than ${MAX_COMPONENT_BYTES} bytes`, entry);
  }
  return parts;
}

/** A symlink's value may point anywhere (it is resolved inside the container), but must be a path. */
export function checkSymlinkTarget(target: string, entry: string): void {
  if (target === '') throw new ArchiveError('symlink target is empty', entry);
  if (target.includes('\0')) throw new ArchiveError('symlink target contains a NUL byte', entry);
  if (Buffer.byteLength(target) > MAX_PATH_BYTES) throw new ArchiveError(`symlink target is longer than ${MAX_PATH_BYTES} bytes`, entry);
}
