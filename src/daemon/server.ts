import { createServer, type Server } from 'node:http';
import { chmod, chown, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { peerAllowed, peerOf, type PeerCred } from './peer.js';
import { CorralError, ValidationError } from '../errors.js';
import type { Logger } from '../util/logger.js';
import { rejectUpgrade, sendError } from './http.js';
import type { Router } from './router.js';

/** The HTTP server on the unix socket: dispatch, error envelope, upgrades for attach streams. */
export interface ListenOptions {
  /** SO_PEERCRED of a connection; corrald refuses peers that are not root (or in the admin group). */
  peercred: (fd: number) => PeerCred;
  /** The admin group (`--group`): the socket becomes root:GROUP 0660 and its members may connect. */
  group?: { name: string; gid: number };
}

export async function listen(router: Router, socketPath: string, log: Logger, opts: ListenOptions): Promise<Server> {
  const refused = new WeakMap<object, string>();
  const server = createServer({ requestTimeout: 0, headersTimeout: 10_000, maxHeaderSize: 16 * 1024 }, (req, res) => {
    const denied = refused.get(req.socket);
    if (denied) {
      req.resume();
      res.setHeader('connection', 'close');
      return sendError(res, new CorralError('permission', denied));
    }
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
    const denied = refused.get(socket);
    if (denied) return rejectUpgrade(socket, new CorralError('permission', denied));
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
  // Who is calling is checked on every connection, whatever the socket's mode says; a refused
  // peer gets one 403 answer to its first request (so its client can show why) and is cut off.
  server.on('connection', (sock: Socket) => {
    const peer = peerOf(sock, opts.peercred);
    if (peerAllowed(peer, opts.group?.gid)) return;
    log.warn('refused a peer', { pid: peer?.pid, uid: peer?.uid, gid: peer?.gid });
    refused.set(sock, `permission denied: corrald serves root${opts.group ? ` and members of group ${opts.group.name}` : ''} only (peer uid ${peer?.uid ?? 'unknown'})`);
    setTimeout(() => sock.destroy(), 5000).unref();
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
  if (opts.group) {
    await chown(socketPath, 0, opts.group.gid);
    await chmod(socketPath, 0o660);
  } else await chmod(socketPath, 0o600);
  return server;
}
