import { ValidationError } from '../errors.js';
import { parseDockerBytes } from '../util/quantity.js';

/**
 * How much container output is kept on disk, with Docker json-file's max-size/max-file meaning:
 * the monitor rotates `container.log` to `container.log.1` … when it passes `maxSize`, keeping
 * `maxFiles` files in all (the live one included).
 */
export interface LogPolicy {
  maxSize: number;
  maxFiles: number;
}

export const DEFAULT_LOG_POLICY: LogPolicy = { maxSize: 20 * 1024 * 1024, maxFiles: 5 };

/** More files than the monitor accepts (`--log-max-files`). */
const MAX_FILES = 1000;

/**
 * The installation's policy: the defaults, or `CORRAL_LOG_MAX_SIZE` (Docker bytes: `20m`, `1g`,
 * `65536`) and `CORRAL_LOG_MAX_FILES` from corrald's environment.
 */
export function logPolicy(env: NodeJS.ProcessEnv = process.env): LogPolicy {
  const size = env.CORRAL_LOG_MAX_SIZE;
  const files = env.CORRAL_LOG_MAX_FILES;
  const maxSize = size === undefined || size === '' ? DEFAULT_LOG_POLICY.maxSize : parseDockerBytes(size, 'CORRAL_LOG_MAX_SIZE');
  if (maxSize < 1) throw new ValidationError(`CORRAL_LOG_MAX_SIZE: ${JSON.stringify(size)} must be at least 1 byte`);
  let maxFiles = DEFAULT_LOG_POLICY.maxFiles;
  if (files !== undefined && files !== '') {
    maxFiles = /^\d+$/.test(files) ? Number(files) : NaN;
    if (!(maxFiles >= 1 && maxFiles <= MAX_FILES)) throw new ValidationError(`CORRAL_LOG_MAX_FILES: ${JSON.stringify(files)} is not a number from 1 to ${MAX_FILES}`);
  }
  return { maxSize, maxFiles };
}
