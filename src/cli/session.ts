import type { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { FrameDecoder, FrameType, decodeExit, encodeData, encodeFrame, encodeResize, type Frame } from '../api/frames.js';
import { CorralError } from '../errors.js';
import type { Io } from './context.js';

/**
 * The terminal side of an attach stream (foreground `run`, `exec`): stdin → STDIN frames,
 * STDOUT/STDERR frames → stdout/stderr, RESIZE on start and on SIGWINCH, SIGINT/SIGTERM forwarded,
 * until the EXIT frame. The terminal is always restored.
 */
export interface SessionOptions {
  /** Forward stdin (`-i`); its end becomes STDIN_EOF. */
  interactive: boolean;
  /** The container has a tty (`-t`): raw mode (with -i) and window sizes. */
  tty: boolean;
  /** Called with SIGINT/SIGTERM when the CLI receives them. */
  forwardSignal(signal: NodeJS.Signals): void | Promise<void>;
  /** Where SIGINT/SIGTERM come from; default `process`. */
  signals?: EventEmitter;
  /**
   * Typed on stdin, these bytes end the session without ending the container (Docker's
   * detach keys, e.g. Ctrl-P Ctrl-Q = [0x10, 0x11]); they are not sent.
   */
  detachKeys?: readonly number[];
}

export interface SessionResult {
  exitCode: number;
  signal: number;
  /** The ERROR frame's message, if one came. */
  error: string | null;
  /** The user typed the detach keys: the container runs on. */
  detached?: boolean;
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
/** How long to wait after EXIT for corrald to close the stream. */
const CLOSE_GRACE_MS = 10_000;

export function runSession(socket: Duplex, io: Io, opts: SessionOptions): Promise<SessionResult> {
  const signals = opts.signals ?? process;
  const decoder = new FrameDecoder();
  const cleanups: (() => void)[] = [];
  let error: string | null = null;
  let done = false;

  return new Promise<SessionResult>((resolve, reject) => {
    const finish = (outcome: { result: SessionResult } | { err: unknown }) => {
      if (done) return;
      done = true;
      for (const undo of cleanups.reverse()) {
        try {
          undo();
        } catch {
          // keep restoring the rest
        }
      }
      if ('result' in outcome) {
        // corrald closes the stream once it has handled the exit (with --rm: removed the container)
        const result = outcome.result;
        if (socket.destroyed) return resolve(result);
        const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
        socket.once('close', () => {
          clearTimeout(timer);
          resolve(result);
        });
        socket.end();
      } else {
        socket.destroy();
        reject(outcome.err);
      }
    };

    const send = (buf: Buffer) => {
      if (!done && !socket.destroyed) return socket.write(buf);
      return true;
    };

    // Raw mode first, so that nothing typed before the stream is up is echoed by the host's tty.
    if (opts.tty && opts.interactive && io.stdin.isTTY) {
      io.stdin.setRawMode(true);
      const restore = () => io.stdin.setRawMode(false);
      process.once('exit', restore);
      cleanups.push(() => {
        restore();
        process.removeListener('exit', restore);
      });
    }

    if (opts.tty && io.stdout.isTTY) {
      const resize = () => send(encodeResize(io.stdout.rows ?? 24, io.stdout.columns ?? 80));
      resize();
      io.stdout.on('resize', resize);
      cleanups.push(() => io.stdout.removeListener('resize', resize));
    }

    for (const sig of FORWARDED) {
      const onSignal = () => void Promise.resolve(opts.forwardSignal(sig)).catch(() => undefined);
      signals.on(sig, onSignal);
      cleanups.push(() => signals.removeListener(sig, onSignal));
    }

    if (opts.interactive) {
      const keys = opts.detachKeys ?? [];
      let matched = 0; // bytes of the detach sequence seen so far (held back until it fails)
      const onData = (chunk: Buffer | string) => {
        let buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        if (keys.length > 0) {
          const out: number[] = [];
          for (const b of buf) {
            if (b === keys[matched]) {
              if (++matched === keys.length) return finish({ result: { exitCode: 0, signal: 0, error: null, detached: true } });
              continue;
            }
            out.push(...keys.slice(0, matched));
            matched = b === keys[0] ? 1 : 0;
            if (matched === 0) out.push(b);
          }
          buf = Buffer.from(out);
          if (buf.length === 0) return;
        }
        let ok = true;
        for (const frame of encodeData(FrameType.STDIN, buf)) ok = send(frame) && ok;
        if (!ok) {
          io.stdin.pause();
          socket.once('drain', () => io.stdin.resume());
        }
      };
      const onEnd = () => send(encodeFrame(FrameType.STDIN_EOF));
      io.stdin.on('data', onData);
      io.stdin.once('end', onEnd);
      io.stdin.resume();
      cleanups.push(() => {
        io.stdin.removeListener('data', onData);
        io.stdin.removeListener('end', onEnd);
        io.stdin.pause();
      });
    }

    const output = (stream: NodeJS.WritableStream, payload: Buffer) => {
      if (!stream.write(payload)) {
        socket.pause();
        stream.once('drain', () => socket.resume());
      }
    };

    const handle = (frame: Frame) => {
      switch (frame.type) {
        case FrameType.STDOUT:
          return output(io.stdout, frame.payload);
        case FrameType.STDERR:
          return output(io.stderr, frame.payload);
        case FrameType.ERROR:
          error = frame.payload.toString('utf8').trim();
          io.stderr.write(`corral: ${error}\n`);
          return;
        case FrameType.EXIT: {
          const { exitCode, signal } = decodeExit(frame.payload);
          return finish({ result: { exitCode, signal, error } });
        }
        default:
          return; // frames meant for the other direction, or newer than us
      }
    };

    socket.on('data', (chunk: Buffer) => {
      if (done) return;
      try {
        for (const frame of decoder.push(chunk)) {
          handle(frame);
          if (done) return;
        }
      } catch (err) {
        finish({ err });
      }
    });
    socket.once('error', (err) => finish({ err: new CorralError('unavailable', `attach stream: ${err.message}`) }));
    socket.once('close', () =>
      finish({ err: new CorralError('unavailable', error ?? 'attach stream closed before the container exited') }),
    );
    socket.resume();
  });
}

/** Docker's exit status for a session: the code (128+signal when killed), within 0..255. */
export function sessionExitCode(r: SessionResult): number {
  const code = r.exitCode < 0 || r.exitCode > 255 ? (r.signal > 0 ? 128 + r.signal : 1) : r.exitCode;
  return code & 0xff;
}
