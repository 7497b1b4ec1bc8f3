/** Lifecycle events a container goes through (GET /v1/events, `corral events --filter type=...`). */
export const EVENT_TYPES = ['create', 'start', 'die', 'oom', 'kill', 'stop', 'restart', 'destroy', 'update', 'health_status', 'rename', 'pause', 'unpause'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** GET /v1/events: one line per event. */
export interface CorralEvent {
  time: string;
  type: EventType;
  id: string;
  name: string;
  attributes: Record<string, string | number | boolean | null>;
}
