import { CorralError } from '../errors.js';

/**
 * The attach protocol (docs/shim.md, "Attach protocol"): frames both ways, each 1 byte type,
 * a u32 big-endian payload length, then the payload (at most 1 MiB).
 */
export const FrameType = {
  STDIN: 1,
  STDOUT: 2,
  STDERR: 3,
  RESIZE: 4,
  STDIN_EOF: 5,
  EXIT: 6,
  ERROR: 7,
  SIGNAL: 8,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export const FRAME_HEADER_SIZE = 5;
export const MAX_FRAME_PAYLOAD = 1024 * 1024;

export interface Frame {
  /** One of FrameType; unknown types are passed through for the reader to ignore. */
  type: number;
  payload: Buffer;
}

const EMPTY = Buffer.alloc(0);

function tooLarge(length: number): CorralError {
  return new CorralError('validation', `attach frame too large: ${length} bytes (max ${MAX_FRAME_PAYLOAD})`, { length });
}

export function encodeFrame(type: number, payload: Buffer | Uint8Array = EMPTY): Buffer {
  if (payload.length > MAX_FRAME_PAYLOAD) throw tooLarge(payload.length);
  const header = Buffer.allocUnsafe(FRAME_HEADER_SIZE);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, payload]);
}

/** Bytes of any size as one or more frames of `type` (each payload at most 1 MiB). */
export function encodeData(type: number, data: Buffer | Uint8Array): Buffer[] {
  const frames: Buffer[] = [];
  for (let off = 0; off < data.length; off += MAX_FRAME_PAYLOAD) {
    frames.push(encodeFrame(type, data.subarray(off, off + MAX_FRAME_PAYLOAD)));
  }
  return frames;
}

export function encodeResize(rows: number, cols: number): Buffer {
  const p = Buffer.allocUnsafe(4);
  p.writeUInt16BE(clamp(rows, 0, 0xffff), 0);
  p.writeUInt16BE(clamp(cols, 0, 0xffff), 2);
  return encodeFrame(FrameType.RESIZE, p);
}

export function encodeExit(exitCode: number, signal = 0): Buffer {
  const p = Buffer.allocUnsafe(8);
  p.writeInt32BE(exitCode, 0);
  p.writeInt32BE(signal, 4);
  return encodeFrame(FrameType.EXIT, p);
}

export function encodeError(message: string): Buffer {
  return encodeFrame(FrameType.ERROR, Buffer.from(message, 'utf8').subarray(0, MAX_FRAME_PAYLOAD));
}

export function encodeSignal(signal: number): Buffer {
  return encodeFrame(FrameType.SIGNAL, Buffer.from([clamp(signal, 0, 0xff)]));
}

export function decodeResize(payload: Buffer): { rows: number; cols: number } {
  if (payload.length < 4) throw new CorralError('validation', `resize frame: payload of ${payload.length} bytes, want 4`);
  return { rows: payload.readUInt16BE(0), cols: payload.readUInt16BE(2) };
}

export function decodeExit(payload: Buffer): { exitCode: number; signal: number } {
  if (payload.length < 8) throw new CorralError('validation', `exit frame: payload of ${payload.length} bytes, want 8`);
  return { exitCode: payload.readInt32BE(0), signal: payload.readInt32BE(4) };
}

/**
 * Streaming decoder: feed it chunks as they arrive, get back the frames they complete. A header
 * announcing more than 1 MiB throws at once (before any payload is buffered).
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  push(chunk: Buffer): Frame[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const frames: Frame[] = [];
    for (;;) {
      if (this.buffered < FRAME_HEADER_SIZE) break;
      const head = this.peek(FRAME_HEADER_SIZE);
      const length = head.readUInt32BE(1);
      if (length > MAX_FRAME_PAYLOAD) throw tooLarge(length);
      if (this.buffered < FRAME_HEADER_SIZE + length) break;
      const bytes = this.take(FRAME_HEADER_SIZE + length);
      frames.push({ type: bytes[0]!, payload: bytes.subarray(FRAME_HEADER_SIZE) });
    }
    return frames;
  }

  /** Bytes of an incomplete frame still waiting for the rest. */
  get pending(): number {
    return this.buffered;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!.subarray(0, n);
  }

  private take(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    const first = this.chunks[0]!;
    const out = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return out;
  }
}

/** Frames read from a byte stream (for example an upgraded socket), until it ends. */
export async function* readFrames(source: AsyncIterable<Buffer | string>): AsyncGenerator<Frame> {
  const decoder = new FrameDecoder();
  for await (const chunk of source) {
    yield* decoder.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  if (decoder.pending > 0) throw new CorralError('validation', `attach stream ended inside a frame (${decoder.pending} bytes left)`);
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, Math.trunc(n)));
}
