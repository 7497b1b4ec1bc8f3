import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { ApiErrorBody } from '../api/types.js';
import { CorralError, describe, type ErrorCode } from '../errors.js';

/**
 * HTTP/1.1 over corrald's unix socket: one connection per request (no keep-alive, nothing left to
 * hold the CLI's event loop open), JSON in, JSON or a stream or an upgraded socket out.
 */

export const ATTACH_PROTOCOL = 'corral-attach';

export interface RequestOptions {
  body?: unknown;
  signal?: AbortSignal;
}

/** Raised when corrald cannot be reached at all; `errno` says why (ENOENT, ECONNREFUSED, EACCES…). */
export class UnreachableError extends CorralError {
  readonly errno: string | undefined;
  constructor(socketPath: string, cause: unknown) {
    super('unavailable', `cannot reach corrald at ${socketPath}: ${describe(cause)}`, { socketPath }, { cause });
    this.errno = (cause as NodeJS.ErrnoException | undefined)?.code;
  }
}

export class HttpTransport {
  constructor(readonly socketPath: string) {}

  /** A request whose answer is a stream; non-2xx answers are turned into CorralError. */
  async stream(method: string, path: string, opts: RequestOptions = {}): Promise<IncomingMessage> {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = this.open(method, path, opts.body, {}, opts.signal);
      req.once('response', resolve);
      req.once('error', (err) => reject(this.wrap(err)));
    });
    if (res.statusCode === undefined || res.statusCode < 200 || res.statusCode >= 300) throw await errorFrom(res);
    return res;
  }

  /** A request with a JSON answer (or none, for 204). */
  async json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.stream(method, path, opts);
    const text = (await readAll(res)).toString('utf8');
    if (res.statusCode === 204 || text.trim() === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CorralError('internal', `${method} ${path}: corrald answered invalid JSON`);
    }
  }

  /** `Connection: Upgrade`, `Upgrade: corral-attach`; resolves with the raw socket after a 101. */
  upgrade(method: string, path: string, body?: unknown): Promise<Socket> {
    return new Promise<Socket>((resolve, reject) => {
      const req = this.open(method, path, body, { Connection: 'Upgrade', Upgrade: ATTACH_PROTOCOL });
      req.once('upgrade', (res: IncomingMessage, socket: Socket, head: Buffer) => {
        if (res.statusCode !== 101) {
          socket.destroy();
          reject(new CorralError('internal', `${method} ${path}: unexpected HTTP ${res.statusCode} on upgrade`));
          return;
        }
        socket.setTimeout(0);
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
      });
      req.once('response', (res: IncomingMessage) => {
        errorFrom(res).then(reject, reject);
      });
      req.once('error', (err) => reject(this.wrap(err)));
    });
  }

  private open(method: string, path: string, body: unknown, headers: Record<string, string>, signal?: AbortSignal) {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    const req = httpRequest({
      socketPath: this.socketPath,
      method,
      path,
      agent: false,
      headers: {
        Accept: 'application/json',
        ...(payload ? { 'Content-Type': 'application/json' } : {}),
        'Content-Length': String(payload?.length ?? 0),
        ...headers,
      },
      ...(signal ? { signal } : {}),
    });
    req.end(payload);
    return req;
  }

  private wrap(err: unknown): CorralError {
    if (err instanceof CorralError) return err;
    if ((err as Error | undefined)?.name === 'AbortError') {
      return new CorralError('unavailable', `corrald at ${this.socketPath} did not answer in time`, undefined, { cause: err });
    }
    return new UnreachableError(this.socketPath, err);
  }
}

export async function readAll(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}

/** The error envelope `{ "error": { code, message, details? } }` as a CorralError. */
export async function errorFrom(res: IncomingMessage): Promise<CorralError> {
  const text = (await readAll(res).catch(() => Buffer.alloc(0))).toString('utf8');
  try {
    const body = JSON.parse(text) as Partial<ApiErrorBody>;
    if (body.error && typeof body.error.message === 'string') {
      return new CorralError((body.error.code || 'internal') as ErrorCode, body.error.message, body.error.details);
    }
  } catch {
    // not JSON: fall through
  }
  const summary = text.trim().split('\n')[0] || res.statusMessage || 'no message';
  return new CorralError('internal', `corrald: HTTP ${res.statusCode}: ${summary}`);
}
