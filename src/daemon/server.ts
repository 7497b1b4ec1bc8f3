import { createServer, type Server } from 'node:http';
import { chmod, rm } from 'node:fs/promises';
import { ValidationError } from '../errors.js';
import type { Logger } from '../runtime/containers.js';
import { rejectUpgrade, sendError } from './http.js';
import type { Router } from './router.js';

/** The HTTP server on the unix socket: dispatch, error envelope, upgrades for attach streams. */
export async function listen(router: Router, socketPath: string, log: Logger): Promise<Server> {
  const server = createServer({ requestTimeout: 0, headersTimeout: 10_000, maxHeaderSize: 16 * 1024 }, (req, res) => {
    let handler;
    try {
      handler = router.match(req);
    } catch (err) {
      req.resume();
      return sendError(res, err);
    }
    handler.handler(handler.ctx, res).catch((err: unknown) => {
      log.debug('request failed', { method: req.method, url: req.url, err: String(err) });
      sendError(res, err);
    });
  });
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => {});
    let handler;
    try {
      if ((req.headers.upgrade ?? '').toLowerCase() !== 'corral-attach') throw new ValidationError(`unsupported upgrade ${JSON.stringify(req.headers.upgrade)}: expected corral-attach`);
      handler = router.matchUpgrade(req);
    } catch (err) {
      return rejectUpgrade(socket, err);
    }
    handler.handler(handler.ctx, socket, head).catch((err: unknown) => {
      if (socket.writable) rejectUpgrade(socket, err);
    });
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
  });
  await rm(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Only root may talk to corrald: the socket is created 0600 (umask) and chmod'ed to be sure.
    const old = process.umask(0o177);
    server.listen(socketPath, () => {
      process.umask(old);
      resolve();
    });
  });
  await chmod(socketPath, 0o600);
  return server;
}
