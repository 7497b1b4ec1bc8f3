/** The paths PID 1 masks and makes read-only are the namespaces module's (its argv carries them). */
export { MASKED_PATHS, READONLY_PATHS } from '../namespaces/paths.js';

export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** SIGTERM, then SIGKILL after this many seconds (Docker's default). */
export const DEFAULT_STOP_TIMEOUT_S = 10;
