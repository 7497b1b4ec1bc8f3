import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, FrameType, decodeExit } from '../../src/api/frames.js';
import { corral, inspect, installation, uniqueName } from '../support/corral.js';

/**
 * Two attach clients writing the container's stdin at once (docs/shim.md, Attach protocol): every
 * STDIN frame reaches the container whole, in its client's order, never cut by another client's
 * bytes. The clients speak to the monitor's attach socket directly, as corrald's attach bridge does.
 */

const PER_CLIENT = 400_000;
const ROUNDS = 5;

/** Frame `seq` of client `who`: `A000012:` then filler, so the stream can be split back into frames. */
function payload(who: string, seq: number, size: number): Buffer {
  const b = Buffer.alloc(size, who.toLowerCase());
  b.write(`${who}${String(seq).padStart(6, '0')}:`, 0, 'latin1');
  return b;
}

/** About PER_CLIENT bytes in frames of 9..12000 bytes (sizes from a seeded generator), ending with a short one. */
function framesOf(who: string, seed: number): Buffer[] {
  const out: Buffer[] = [];
  let x = seed;
  let total = 0;
  while (total < PER_CLIENT) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const p = payload(who, out.length, 9 + (x % 12000));
    out.push(p);
    total += p.length;
  }
  out.push(payload(who, out.length, 16)); // the last: seeing it whole means all came through
  return out;
}

interface Client {
  socket: Socket;
  stdout: Buffer[];
  exit: Promise<{ exitCode: number; signal: number }>;
}

async function connect(path: string): Promise<Client> {
  const socket = createConnection(path);
  const decoder = new FrameDecoder();
  const stdout: Buffer[] = [];
  const exit = new Promise<{ exitCode: number; signal: number }>((resolve, reject) => {
    socket.on('data', (d: Buffer) => {
      for (const f of decoder.push(d)) {
        if (f.type === FrameType.STDOUT) stdout.push(f.payload);
        if (f.type === FrameType.EXIT) resolve(decodeExit(f.payload));
      }
    });
    socket.on('close', () => reject(new Error('attach socket closed without an EXIT frame')));
  });
  exit.catch(() => {});
  socket.on('error', () => {});
  await new Promise<void>((res, rej) => {
    socket.once('connect', res);
    socket.once('error', rej);
  });
  return { socket, stdout, exit };
}

/** Writes every frame, one write each, waiting for 'drain' when the socket is full. */
async function send(socket: Socket, frames: Buffer[]): Promise<void> {
  for (const f of frames) {
    if (!socket.write(encodeFrame(FrameType.STDIN, f))) await new Promise((r) => socket.once('drain', r));
  }
}

/** Waits until `seen()` or the client's EXIT; gives up (without failing by itself) after `ms`. */
async function waitUntil(seen: () => boolean, c: Client, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let ended = false;
  c.exit.then(() => (ended = true), () => (ended = true));
  while (!seen() && !ended && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

/**
 * Splits what the container echoed back into the frames sent; returns how each client's frames
 * arrived (their seq numbers in order) and the first place the stream stops matching.
 */
function split(stream: Buffer, sent: Map<string, Buffer[]>): { order: Map<string, number[]>; badAt?: number } {
  const order = new Map<string, number[]>([...sent.keys()].map((k) => [k, []]));
  let at = 0;
  while (at < stream.length) {
    const m = /^([AB])(\d{6}):/.exec(stream.subarray(at, at + 8).toString('latin1'));
    const want = m ? sent.get(m[1]!)?.[Number(m[2])] : undefined;
    if (!m || !want || !stream.subarray(at, at + want.length).equals(want)) return { order, badAt: at };
    order.get(m[1]!)!.push(Number(m[2]));
    at += want.length;
  }
  return { order };
}

describe('attach: two clients writing stdin at once', () => {
  it(`every STDIN frame arrives whole and in order, none lost (${ROUNDS} rounds of 2 x ${PER_CLIENT} bytes)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const name = uniqueName('stdin2');
      const run = await corral(['run', '-d', '-i', '--name', name, 'busybox', 'cat']);
      expect(run.exitCode, run.stderr).toBe(0);
      const clients: Client[] = [];
      try {
        const id = (await inspect(name)).id as string;
        const sock = join(installation().runRoot, 'a', `${id.slice(0, 12)}.sock`);
        const a = await connect(sock);
        clients.push(a);
        const b = await connect(sock);
        clients.push(b);
        const sent = new Map([
          ['A', framesOf('A', 7 + round)],
          ['B', framesOf('B', 1000 + round)],
        ]);
        const total = [...sent.values()].flat().reduce((n, f) => n + f.length, 0);
        const lasts = [...sent.values()].map((fs) => fs[fs.length - 1]!);
        await Promise.all([send(a.socket, sent.get('A')!), send(b.socket, sent.get('B')!)]);
        // STDIN_EOF only once both clients' last frames came back: an earlier one would close stdin
        // before the other client's frames (the rule: it waits only for a frame in progress).
        const seen = () => {
          const got = Buffer.concat(a.stdout);
          a.stdout.splice(0, a.stdout.length, got);
          return lasts.every((l) => got.includes(l));
        };
        await waitUntil(seen, a, 60_000);
        a.socket.write(encodeFrame(FrameType.STDIN_EOF));
        expect(await a.exit).toEqual({ exitCode: 0, signal: 0 });
        const stream = Buffer.concat(a.stdout);
        const { order, badAt } = split(stream, sent);
        expect({ round, bytes: stream.length, badAt }).toEqual({ round, bytes: total, badAt: undefined });
        for (const [who, frames] of sent) expect(order.get(who), who).toEqual(frames.map((_, i) => i));
      } finally {
        for (const c of clients) c.socket.destroy();
        await corral(['rm', '-f', name]);
      }
    }
  }, 300_000);
});
