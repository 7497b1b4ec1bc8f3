/**
 * v1 pids: the pids controller has the same files on v1 and v2 (pids.max, pids.current), and v1's
 * pids.max takes `max`, never `-1`, so the v2 module serves both.
 */
export { CONTROLLER, apply, stats, wants, type PidsStats } from '../v2/pids.js';
