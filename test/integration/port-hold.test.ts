import { createServer, type Server } from 'node:net';
import { createSocket } from 'node:dgram';
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { corral, inspect, uniqueName, until } from '../support/corral.js';

// Host ports of this file: away from the other tests' and from the ephemeral range.
const PORT = 20_000 + (process.pid % 5000) * 2;

/** Binds host:port from this (host) process: the error code, or 'ok' (closed again at once). */
function tryTcp(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s: Server = createServer();
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? String(e)));
    s.listen({ host, port }, () => s.close(() => resolve('ok')));
  });
}
function tryUdp(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const d = createSocket('udp4');
    d.once('error', (e: NodeJS.ErrnoException) => (d.close(), resolve(e.code ?? String(e))));
    d.bind({ address: host, port }, () => d.close(() => resolve('ok')));
  });
}
function get(port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', timeout: 3000 }, (res) => {
      let b = '';
      res.on('data', (d) => (b += String(d)));
      res.on('end', () => resolve(b.trim()));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(`ERR ${e.code}`));
    req.on('timeout', () => (req.destroy(), resolve('TIMEOUT')));
    req.end();
  });
}

describe('published ports hold the host port', () => {
  it('no host program can bind a published port while the container runs; stop and rm release it', async () => {
    const name = uniqueName('hold');
    const r = await corral(['run', '-d', '--name', name, '-p', `${PORT}:80`, '-p', `127.0.0.1:${PORT + 1}:53/udp`, 'busybox', 'sh', '-c', 'mkdir -p /www && echo held > /www/index.html && exec httpd -f -p 80 -h /www']);
    expect(r.exitCode).toBe(0);
    try {
      expect(await tryTcp('127.0.0.1', PORT)).toBe('EADDRINUSE');
      expect(await tryTcp('0.0.0.0', PORT)).toBe('EADDRINUSE');
      expect(await tryUdp('127.0.0.1', PORT + 1)).toBe('EADDRINUSE');
      // The traffic still goes to the container, not to corrald's socket.
      expect(await until('httpd to answer', async () => ((await get(PORT)) === 'held' ? 'held' : undefined))).toBe('held');
      await corral(['stop', '-t', '0', name]);
      expect((await inspect(name)).state.status).toBe('exited');
      expect(await tryTcp('127.0.0.1', PORT)).toBe('ok');
      expect(await tryUdp('127.0.0.1', PORT + 1)).toBe('ok');
      // Held again at the next start, released at rm -f.
      expect((await corral(['start', name])).exitCode).toBe(0);
      expect(await tryTcp('127.0.0.1', PORT)).toBe('EADDRINUSE');
      await corral(['rm', '-f', name]);
      expect(await tryTcp('127.0.0.1', PORT)).toBe('ok');
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('a start fails clearly when a host program took the port after create', async () => {
    const name = uniqueName('taken');
    expect((await corral(['create', '--name', name, '-p', `127.0.0.1:${PORT + 2}:80`, 'busybox', 'sleep', '300'])).exitCode).toBe(0);
    const squatter = createServer();
    await new Promise<void>((ok) => squatter.listen({ host: '127.0.0.1', port: PORT + 2 }, ok));
    try {
      const start = await corral(['start', name]);
      expect(start.exitCode).toBe(1);
      expect(start.stderr).toContain(`host port ${PORT + 2}/tcp is in use by another program`);
      expect((await inspect(name)).state.status).not.toBe('running');
    } finally {
      await new Promise<void>((ok) => squatter.close(() => ok()));
      await corral(['rm', '-f', name]);
    }
  });
});
