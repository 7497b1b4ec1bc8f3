/** Container logs: the CRI records (cri.ts), the files and their rotation (files.ts), reading (read.ts) and following (follow.ts). */
export { CriParser, type LogRecord } from './cri.js';
export { logFileNames, type LogCursor } from './files.js';
export { readLog } from './read.js';
export { followLog } from './follow.js';
