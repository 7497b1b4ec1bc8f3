import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';

/**
 * A stand-in for corrald on a unix socket in a temp dir, for client and CLI tests: routes answer
 * from a table, upgrades (`Upgrade: corral-attach`) get a 101 and a scripted attach stream.
 */
export interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export type Route = (req: Seen, res: ServerResponse) => void;
export type UpgradeRoute = (req: Seen, socket: Duplex) => void;

export interface FakeCorrald {
  runRoot: string;
  socketPath: string;
  seen: Seen[];
  server: Server;
  close(): Promise<void>;
}

export function json(res: ServerResponse, status: number, body?: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function apiError(res: ServerResponse, status: number, code: string, message: string, details?: Record<string, unknown>): void {
  json(res, status, { error: { code, message, ...(details ? { details } : {}) } });
}

export const SWITCHING = 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: corral-attach\r\n\r\n';

export async function startFakeCorrald(routes: Record<string, Route>, upgrades: Record<string, UpgradeRoute> = {}): Promise<FakeCorrald> {
  const runRoot = mkdtempSync(join(tmpdir(), 'corral-fake-'));
  const socketPath = join(runRoot, 'corrald.sock');
  const seen: Seen[] = [];
  const readBody = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString();
    return text ? (JSON.parse(text) as unknown) : undefined;
  };
  const key = (method: string, url: string) => `${method} ${url}`;
  const server = createServer(async (req, res) => {
    const s: Seen = { method: req.method!, url: req.url!, headers: req.headers, body: await readBody(req) };
    seen.push(s);
    const route = routes[key(s.method, s.url)] ?? routes[key(s.method, s.url.split('?')[0]!)];
    if (route) route(s, res);
    else apiError(res, 404, 'not_found', `no route ${s.method} ${s.url}`);
  });
  const upgraded = new Set<Duplex>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    const s: Seen = { method: req.method!, url: req.url!, headers: req.headers, body: undefined };
    seen.push(s);
    const route = upgrades[key(s.method, s.url)];
    if (!route) {
      const body = JSON.stringify({ error: { code: 'not_found', message: `no upgrade ${s.url}` } });
      socket.end(`HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    route(s, socket);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    runRoot,
    socketPath,
    seen,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        for (const sock of upgraded) sock.destroy();
        server.close(() => {
          rmSync(runRoot, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}
