/** Defaults a container gets when neither its template nor the user says otherwise. */
export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** SIGTERM, then SIGKILL after this many seconds (Docker's default). */
export const DEFAULT_STOP_TIMEOUT_S = 10;
