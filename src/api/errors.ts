import type { ApiErrorBody } from './types.js';
import { CorralError, type ErrorCode } from '../errors.js';

/** The error envelope: stable code ↔ HTTP status. */
export const STATUS_OF: Record<ErrorCode, number> = {
  validation: 400,
  permission: 403,
  not_found: 404,
  conflict: 409,
  invalid_state: 409,
  command_failed: 500,
  cgroup: 500,
  network: 500,
  unavailable: 503,
  internal: 500,
};

export function toEnvelope(err: unknown): { status: number; body: ApiErrorBody } {
  if (err instanceof CorralError) {
    return { status: STATUS_OF[err.code], body: { error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } } };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { status: 500, body: { error: { code: 'internal', message } } };
}
