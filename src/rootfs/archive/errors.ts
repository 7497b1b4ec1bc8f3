import { CorralError } from '../../errors.js';

/**
 * A refused archive. `entry` is the member's name as the archive spells it (JSON-quoted in the
 * message), so a user can find it with `tar -tvf`:
 *   refused entry "../../etc/passwd": path climbs out of the layer
 */
export class ArchiveError extends CorralError {
  readonly entry: string | undefined;
  constructor(message: string, entry?: string, details?: Record<string, unknown>) {
    super('validation', entry === undefined ? message : `refused entry ${JSON.stringify(entry)}: ${message}`, { ...details, ...(entry === undefined ? {} : { entry }) });
    this.entry = entry;
  }
}

/** The archive (or an image in it) is malformed or over a budget, not one member. */
export function archiveError(message: string, details?: Record<string, unknown>): ArchiveError {
  return new ArchiveError(message, undefined, details);
}
