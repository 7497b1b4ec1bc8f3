/** Container networking lives in ./networking/ (one file per mode); this path is kept for importers. */
export * from './networking/index.js';
