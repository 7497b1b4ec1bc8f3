/**
 * Request and response bodies of corrald's HTTP/JSON API, one file per resource in types/. The
 * CLI and the daemon both use these; docs/api.md describes them for users. Plain types and
 * constants only: src/api imports nothing but src/errors.ts, so every module may import it.
 */
export * from './types/containers.js';
export * from './types/copy.js';
export * from './types/volumes.js';
export * from './types/events.js';
export * from './types/exec.js';
export * from './types/limits.js';
export * from './types/networks.js';
export * from './types/stats.js';
export * from './types/system.js';
export * from './types/templates.js';
export * from './types/inspection.js';
export * from './types/backup.js';
