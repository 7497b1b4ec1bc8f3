import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { CorralError } from '../errors.js';

/** System directories searched first: a container's chain must not depend on root's $PATH. */
const SYSTEM_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The absolute path of a required program, resolved once (an exec by PATH costs a miss per entry). */
export async function findProgram(name: string, hint = 'install util-linux'): Promise<string> {
  for (const dir of [...SYSTEM_PATH, ...(process.env.PATH ?? '').split(':').filter(Boolean)]) {
    const p = join(dir, name);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  throw new CorralError('unavailable', `${name} not found in ${SYSTEM_PATH.join(':')} or $PATH: ${hint}`);
}
