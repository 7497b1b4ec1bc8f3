import { constants } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { CgroupError, isErrno } from '../errors.js';

/**
 * The one way Corral reads and writes cgroup control files. Errors name the value and the path,
 * like youki's write_cgroup_file:
 * `write 0-1 to /sys/fs/cgroup/cpuset/corral/cpuset.cpus: Permission denied (EACCES)`.
 */
export async function writeCgroupFile(path: string, value: string | number): Promise<void> {
  const data = String(value);
  try {
    // cgroupfs takes one value per write(2); writeFile issues a single write for short data.
    // No O_CREAT: the kernel makes every control file with its cgroup, so a missing one is a
    // misspelled name or an absent controller, and fails (ENOENT) instead of leaving a stray file.
    await writeFile(path, data, { flag: WRITE_FLAGS });
  } catch (err) {
    throw cgroupError(`write ${JSON.stringify(data).slice(1, -1)} to`, path, err);
  }
}

/** O_TRUNC as a shell's `>` does (kernfs ignores it; a fake cgroupfs in a temp dir needs it). */
const WRITE_FLAGS = constants.O_WRONLY | constants.O_TRUNC;

/** The trimmed content of a control file, or undefined when it does not exist. */
export async function readCgroupFile(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw cgroupError('read', path, err);
  }
}

/** A CgroupError whose reason is the C library's wording of the errno, not Node's. */
export function cgroupError(operation: string, path: string, err: unknown): CgroupError {
  return new CgroupError(operation, path, plainCause(err));
}

const STRERROR: Record<string, string> = {
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  EBUSY: 'Device or resource busy',
  EINVAL: 'Invalid argument',
  ENOSPC: 'No space left on device',
  EEXIST: 'File exists',
  ENOTEMPTY: 'Directory not empty',
  ENOTDIR: 'Not a directory',
  EROFS: 'Read-only file system',
  ESRCH: 'No such process',
  EOPNOTSUPP: 'Operation not supported',
  ENODEV: 'No such device',
  EAGAIN: 'Resource temporarily unavailable',
};

/** Node's `EACCES: permission denied, open '/x'` becomes `Permission denied (EACCES)`. */
function plainCause(err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (!(err instanceof Error) || !code) return err;
  const text = STRERROR[code] ?? err.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
  return Object.assign(new Error(text, { cause: err }), { code });
}
