import { EventEmitter } from 'node:events';
import { appendFile, readFile } from 'node:fs/promises';
import type { CorralEvent, EventType } from '../api/types.js';
import { atomicWrite } from '../util/atomic-write.js';

/** Declared once in src/api (the CLI checks `--filter type=` against the same list). */
export { EVENT_TYPES, type EventType } from '../api/types.js';
export type { CorralEvent };

export interface EventQuery {
  since?: number;
  until?: number;
  /** Container name or id (prefix). */
  container?: string[];
  type?: string[];
}

/**
 * A bounded journal on disk (one JSON object per line) with the recent part in memory, so
 * `events --since 1h` still answers after a daemon restart. Appends are not fsync'ed: losing the
 * last events to a power cut is acceptable; losing them to a daemon restart is not.
 */
export class EventJournal {
  private events: CorralEvent[] = [];
  private readonly live = new EventEmitter();
  private writes: Promise<void> = Promise.resolve();

  constructor(private readonly file: string, private readonly max = 10_000) {
    this.live.setMaxListeners(0);
  }

  async load(): Promise<void> {
    const text = await readFile(this.file, 'utf8').catch(() => '');
    this.events = text
      .split('\n')
      .filter(Boolean)
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as CorralEvent];
        } catch {
          return []; // a torn last line after a crash
        }
      })
      .slice(-this.max);
  }

  record(type: EventType, c: { id: string; name: string }, attributes: CorralEvent['attributes'] = {}): CorralEvent {
    const ev: CorralEvent = { time: new Date().toISOString(), type, id: c.id, name: c.name, attributes };
    this.events.push(ev);
    const compact = this.events.length > this.max * 1.2;
    if (compact) this.events = this.events.slice(-this.max);
    const snapshot = compact ? this.events.map((e) => JSON.stringify(e) + '\n').join('') : undefined;
    // One writer at a time, in order.
    this.writes = this.writes
      .then(() => (snapshot !== undefined ? atomicWrite(this.file, snapshot, 0o600, false) : appendFile(this.file, JSON.stringify(ev) + '\n', { mode: 0o600 })))
      .catch(() => {});
    this.live.emit('event', ev);
    return ev;
  }

  /** Resolves once every event recorded so far is on disk (tests; corrald's shutdown). */
  flushed(): Promise<void> {
    return this.writes;
  }

  query(q: EventQuery): CorralEvent[] {
    return this.events.filter((e) => matches(e, q));
  }

  subscribe(q: EventQuery, fn: (e: CorralEvent) => void): () => void {
    const listener = (e: CorralEvent): void => {
      if (matches(e, q)) fn(e);
    };
    this.live.on('event', listener);
    return () => this.live.off('event', listener);
  }
}

export function matches(e: CorralEvent, q: EventQuery): boolean {
  const t = Date.parse(e.time);
  if (q.since !== undefined && t < q.since) return false;
  if (q.until !== undefined && t > q.until) return false;
  if (q.type?.length && !q.type.includes(e.type)) return false;
  if (q.container?.length && !q.container.some((c) => c === e.name || (/^[0-9a-f]+$/.test(c) && e.id.startsWith(c)))) return false;
  return true;
}
