import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { ConflictError, NetworkError } from '../errors.js';
import { formatHostPort, type PortMapping } from './ports.js';

/**
 * Holds the host ports of published ports: corrald binds each host address:port itself (TCP: a
 * listening socket whose rare connections are closed at once; UDP: a bound socket whose datagrams
 * are dropped), as Docker's docker-proxy does, so no host program can bind the port unnoticed and
 * then wait for traffic the DNAT rule sends to the container. A port another program holds is
 * refused with EADDRINUSE. Sockets are opened in corrald's own (the host's) network namespace and
 * close with corrald; its start-up takes them again for the running containers.
 */
export interface PortHolder {
  /** Binds every port for `owner`, or none (those bound are closed again) and throws. */
  hold(owner: string, ports: readonly PortMapping[]): Promise<void>;
  /** Closes what `owner` holds. Idempotent. */
  release(owner: string): Promise<void>;
  /** Whether `owner` holds ports now. */
  holds(owner: string): boolean;
}

type Held = { close: () => Promise<void> };

export class SocketPortHolder implements PortHolder {
  private readonly held = new Map<string, Held[]>();

  holds(owner: string): boolean {
    return (this.held.get(owner)?.length ?? 0) > 0;
  }

  async hold(owner: string, ports: readonly PortMapping[]): Promise<void> {
    const got: Held[] = [];
    try {
      for (const p of ports) got.push(p.protocol === 'udp' ? await bindUdp(p) : await listenTcp(p));
    } catch (err) {
      await Promise.all(got.map((h) => h.close()));
      throw err;
    }
    this.held.set(owner, [...(this.held.get(owner) ?? []), ...got]);
  }

  async release(owner: string): Promise<void> {
    const list = this.held.get(owner) ?? [];
    this.held.delete(owner);
    await Promise.all(list.map((h) => h.close()));
  }
}

function bindError(p: PortMapping, err: NodeJS.ErrnoException): Error {
  if (err.code === 'EADDRINUSE') return new ConflictError(`publish ${formatHostPort(p)}: host port ${p.hostPort}/${p.protocol} is in use by another program (bind ${p.hostIp}:${p.hostPort}: address in use)`, { port: p });
  return new NetworkError(`publish ${formatHostPort(p)}: bind ${p.hostIp}:${p.hostPort}/${p.protocol}: ${err.message}`, { port: p });
}

function listenTcp(p: PortMapping): Promise<Held> {
  return new Promise((resolve, reject) => {
    const server: Server = createServer((s) => s.destroy());
    server.once('error', (err) => reject(bindError(p, err)));
    server.listen({ host: p.hostIp, port: p.hostPort, exclusive: true, backlog: 1 }, () => {
      server.removeAllListeners('error');
      server.on('error', () => {});
      resolve({ close: () => new Promise((ok) => server.close(() => ok())) });
    });
  });
}

function bindUdp(p: PortMapping): Promise<Held> {
  return new Promise((resolve, reject) => {
    const sock: UdpSocket = createSocket({ type: 'udp4', reuseAddr: false });
    sock.once('error', (err) => (sock.close(), reject(bindError(p, err))));
    sock.on('message', () => {}); // what reaches it (not DNATed) is dropped
    sock.bind({ address: p.hostIp, port: p.hostPort, exclusive: true }, () => {
      sock.removeAllListeners('error');
      sock.on('error', () => {});
      resolve({ close: () => new Promise((ok) => sock.close(() => ok())) });
    });
  });
}
