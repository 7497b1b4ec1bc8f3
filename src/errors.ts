/**
 * One error type with a stable string `code`; the API maps codes to HTTP statuses and the CLI maps
 * them to exit codes. Messages are short, lowercase, and name the operation and the object.
 */
export type ErrorCode =
  | 'not_found'
  | 'conflict'
  | 'invalid_state'
  | 'validation'
  | 'command_failed'
  | 'cgroup'
  | 'network'
  | 'permission'
  | 'unavailable'
  | 'internal';

export class CorralError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    if (details !== undefined) this.details = details;
  }
}

export class NotFoundError extends CorralError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('not_found', message, details);
  }
}

export class ConflictError extends CorralError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('conflict', message, details);
  }
}

export class InvalidStateError extends CorralError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('invalid_state', message, details);
  }
}

export class ValidationError extends CorralError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('validation', message, details);
  }
}

export class CommandFailedError extends CorralError {
  constructor(
    readonly command: string,
    readonly exitCode: number | undefined,
    readonly stderr: string,
    message?: string,
  ) {
    super('command_failed', message ?? `${command}: ${firstLine(stderr) || `exit ${exitCode ?? 'unknown'}`}`, {
      command,
      exitCode,
    });
  }
}

export class CgroupError extends CorralError {
  constructor(operation: string, path: string, cause?: unknown) {
    super('cgroup', `${operation} ${path}: ${describe(cause)}`, { operation, path }, { cause });
  }
}

export class NetworkError extends CorralError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('network', message, details);
  }
}

/** A filesystem or syscall failure, phrased like crun: `write /x/cgroup.procs: Device or resource busy`. */
export function fsError(operation: string, path: string, cause: unknown): CorralError {
  const errno = (cause as NodeJS.ErrnoException | undefined)?.code;
  const code: ErrorCode = errno === 'ENOENT' ? 'not_found' : errno === 'EACCES' || errno === 'EPERM' ? 'permission' : 'internal';
  return new CorralError(code, `${operation} ${path}: ${describe(cause)}`, { operation, path, errno }, { cause });
}

export function describe(cause: unknown): string {
  if (cause instanceof Error) {
    const errno = (cause as NodeJS.ErrnoException).code;
    const msg = cause.message.replace(/^[A-Z]+: /, '');
    return errno && !msg.includes(errno) ? `${msg} (${errno})` : msg;
  }
  return String(cause);
}

function firstLine(s: string): string {
  return s.trim().split('\n')[0] ?? '';
}

export function isErrno(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === code;
}
