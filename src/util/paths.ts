import { isAbsolute, normalize, posix } from 'node:path';
import { ValidationError } from '../errors.js';

/** An absolute, normalized container path without `..` components. */
export function containerPath(p: string, what: string): string {
  if (!isAbsolute(p)) throw new ValidationError(`${what} ${JSON.stringify(p)}: must be an absolute path`);
  if (p.split('/').includes('..')) throw new ValidationError(`${what} ${JSON.stringify(p)}: must not contain ".."`);
  if (p.includes('\0')) throw new ValidationError(`${what}: must not contain NUL bytes`);
  return posix.normalize(p);
}

/** Join below a root, refusing anything that would leave it. */
export function safeJoin(root: string, ...parts: string[]): string {
  const joined = normalize(posix.join(root, ...parts));
  const base = normalize(root).replace(/\/+$/, '');
  if (joined !== base && !joined.startsWith(base + '/')) {
    throw new ValidationError(`path ${JSON.stringify(parts.join('/'))} leaves ${root}`);
  }
  return joined;
}
