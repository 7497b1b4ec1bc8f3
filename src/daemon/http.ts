import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough, type Duplex } from 'node:stream';
import { toEnvelope } from '../api/errors.js';
import { ValidationError } from '../errors.js';

/** Largest request body corrald reads; anything bigger is refused before it is buffered. */
export const MAX_BODY = 1 << 20;
const MAX_BODY_DEFAULT = MAX_BODY;

export async function readJson(req: IncomingMessage, MAX_BODY = MAX_BODY_DEFAULT): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY) throw new ValidationError(`request body too large (${declared} bytes, limit ${MAX_BODY})`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ValidationError(`request body too large (limit ${MAX_BODY} bytes)`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  if (type && !type.startsWith('application/json')) throw new ValidationError(`content-type ${type}: expected application/json`);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new ValidationError(`request body is not valid JSON: ${(err as Error).message}`);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, err: unknown): void {
  const { status, body } = toEnvelope(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, body);
}

/** An error answer on a raw socket whose upgrade did not happen. */
export function rejectUpgrade(socket: Duplex, err: unknown): void {
  const { status, body } = toEnvelope(err);
  const text = JSON.stringify(body);
  socket.end(`HTTP/1.1 ${status} Error\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
}

export function acceptUpgrade(socket: Duplex): void {
  socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: corral-attach\r\n\r\n');
}

export function queryBool(v: string | null): boolean {
  return v === 'true' || v === '1';
}

export function queryInt(v: string | null, name: string, min: number, max: number): number | undefined {
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw new ValidationError(`${name}=${v}: expected a whole number`);
  const n = Number(v);
  if (n < min || n > max) throw new ValidationError(`${name}=${v}: expected ${min}..${max}`);
  return n;
}

/**
 * Hand an upload to `job` through a PassThrough: when the job stops early (a refused entry, a
 * bad header), the rest of the upload is drained, not left unread, so the client gets the answer.
 */
export async function withRequestBody<T>(req: IncomingMessage, job: (body: AsyncIterable<Buffer>) => Promise<T>): Promise<T> {
  const body = new PassThrough();
  req.pipe(body);
  try {
    return await job(body);
  } finally {
    req.unpipe(body);
    body.destroy();
    req.resume();
  }
}
