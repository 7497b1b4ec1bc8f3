import type { Status } from '../api/types.js';
import { InvalidStateError } from '../errors.js';

/**
 * The closed set of statuses and the one table of what each allows (youki's can_start/can_kill).
 * A status is derived from the kernel (see state.ts); this only says what may happen next.
 */
export type Action = 'start' | 'stop' | 'kill' | 'remove' | 'exec' | 'attach' | 'restart' | 'pause' | 'unpause';

const ALLOWED: Record<Status, readonly Action[]> = {
  created: ['start', 'remove', 'restart', 'stop'],
  running: ['stop', 'kill', 'exec', 'attach', 'restart', 'pause'],
  // Frozen (pause): stop, kill and restart thaw it after their signal, as Docker's do.
  paused: ['stop', 'kill', 'attach', 'restart', 'unpause'],
  exited: ['start', 'remove', 'restart', 'stop'],
  // Waiting out a back-off: stop cancels the pending restart, start runs it now.
  restarting: ['start', 'stop', 'restart'],
  // Its config cannot be read (start-up recovery quarantined it): it can only be removed.
  broken: ['remove'],
};

export function can(status: Status, action: Action): boolean {
  return ALLOWED[status].includes(action);
}

const HINT: Partial<Record<`${Action}:${Status}`, string>> = {
  'start:running': 'it is already running',
  'remove:running': 'it is running: stop it first, or use --force',
  'kill:created': 'it is not running',
  'kill:exited': 'it is not running',
  'exec:created': 'it is not running: start it first',
  'exec:exited': 'it is not running: start it first',
  'attach:created': 'it is not running',
  'attach:exited': 'it is not running',
  'remove:restarting': 'it is restarting: stop it first, or use --force',
  'kill:restarting': 'it is not running (a restart is pending: use stop)',
  'exec:restarting': 'it is restarting',
  'attach:restarting': 'it is restarting',
  'exec:paused': 'it is paused: unpause it first',
  'remove:paused': 'it is paused: unpause and stop it first, or use --force',
  'pause:paused': 'it is already paused',
  'unpause:running': 'it is not paused',
  'pause:created': 'it is not running',
  'pause:exited': 'it is not running',
  'unpause:created': 'it is not paused',
  'unpause:exited': 'it is not paused',
};

export function assertCan(name: string, status: Status, action: Action): void {
  if (!can(status, action)) {
    throw new InvalidStateError(`cannot ${action} container ${name}: ${HINT[`${action}:${status}`] ?? `it is ${status}`}`, { status, action });
  }
}
