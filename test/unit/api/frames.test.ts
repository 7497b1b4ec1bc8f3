import { describe, expect, it } from 'vitest';
import {
  FrameDecoder,
  FrameType,
  MAX_FRAME_PAYLOAD,
  decodeExit,
  decodeResize,
  encodeData,
  encodeError,
  encodeExit,
  encodeFrame,
  encodeResize,
  encodeSignal,
  readFrames,
  type Frame,
} from '../../../src/api/frames.js';

const simplify = (frames: Frame[]) => frames.map((f) => ({ type: f.type, payload: f.payload.toString('hex') }));

describe('encodeFrame', () => {
  it('writes type, u32 BE length, payload', () => {
    expect(encodeFrame(FrameType.STDOUT, Buffer.from('hi')).toString('hex')).toBe('020000000268' + '69');
    expect(encodeFrame(FrameType.STDIN_EOF).toString('hex')).toBe('0500000000');
  });

  it('encodes resize, exit, error and signal payloads', () => {
    expect(encodeResize(24, 80).toString('hex')).toBe('0400000004' + '0018' + '0050');
    expect(encodeExit(137, 9).toString('hex')).toBe('0600000008' + '00000089' + '00000009');
    expect(encodeError('nope').subarray(5).toString()).toBe('nope');
    expect(encodeSignal(15).toString('hex')).toBe('08000000010f');
    expect(decodeResize(encodeResize(50, 200).subarray(5))).toEqual({ rows: 50, cols: 200 });
    expect(decodeExit(encodeExit(-1, 0).subarray(5))).toEqual({ exitCode: -1, signal: 0 });
  });

  it('refuses payloads over 1 MiB and splits data into frames that fit', () => {
    expect(() => encodeFrame(FrameType.STDIN, Buffer.alloc(MAX_FRAME_PAYLOAD + 1))).toThrow(/too large/);
    expect(encodeFrame(FrameType.STDIN, Buffer.alloc(MAX_FRAME_PAYLOAD)).length).toBe(MAX_FRAME_PAYLOAD + 5);
    const parts = encodeData(FrameType.STDIN, Buffer.alloc(2 * MAX_FRAME_PAYLOAD + 3, 7));
    expect(parts.map((p) => p.readUInt32BE(1))).toEqual([MAX_FRAME_PAYLOAD, MAX_FRAME_PAYLOAD, 3]);
    expect(encodeData(FrameType.STDIN, Buffer.alloc(0))).toEqual([]);
  });
});

describe('FrameDecoder', () => {
  const stream = Buffer.concat([
    encodeFrame(FrameType.STDOUT, Buffer.from('hello\n')),
    encodeFrame(FrameType.STDERR, Buffer.from('oops')),
    encodeFrame(FrameType.STDIN_EOF),
    encodeResize(24, 80),
    encodeError('exec "x": executable file not found in $PATH'),
    encodeExit(127),
  ]);
  const whole = simplify(new FrameDecoder().push(stream));

  it('decodes several frames from one chunk', () => {
    expect(whole.map((f) => f.type)).toEqual([2, 3, 5, 4, 7, 6]);
    expect(whole[0]!.payload).toBe(Buffer.from('hello\n').toString('hex'));
    expect(whole[2]!.payload).toBe('');
  });

  it('gives the same frames when the bytes are split at every boundary', () => {
    for (let i = 0; i <= stream.length; i++) {
      const d = new FrameDecoder();
      const got = [...d.push(stream.subarray(0, i)), ...d.push(stream.subarray(i))];
      expect(simplify(got)).toEqual(whole);
      expect(d.pending).toBe(0);
    }
  });

  it('handles one byte at a time', () => {
    const d = new FrameDecoder();
    const got: Frame[] = [];
    for (const b of stream) got.push(...d.push(Buffer.from([b])));
    expect(simplify(got)).toEqual(whole);
  });

  it('keeps an incomplete frame pending', () => {
    const d = new FrameDecoder();
    expect(d.push(stream.subarray(0, 8))).toEqual([]);
    expect(d.pending).toBe(8);
  });

  it('rejects a header announcing more than 1 MiB before the payload arrives', () => {
    const header = Buffer.from([2, 0, 0x10, 0, 1]); // 1 MiB + 1
    expect(() => new FrameDecoder().push(header)).toThrow(/attach frame too large: 1048577 bytes/);
    const d = new FrameDecoder();
    expect(d.push(header.subarray(0, 3))).toEqual([]);
    expect(() => d.push(header.subarray(3))).toThrow(/too large/);
  });

  it('accepts a frame of exactly 1 MiB in many chunks', () => {
    const frame = encodeFrame(FrameType.STDOUT, Buffer.alloc(MAX_FRAME_PAYLOAD, 1));
    const d = new FrameDecoder();
    const got: Frame[] = [];
    for (let off = 0; off < frame.length; off += 65536) got.push(...d.push(frame.subarray(off, off + 65536)));
    expect(got).toHaveLength(1);
    expect(got[0]!.payload.length).toBe(MAX_FRAME_PAYLOAD);
  });
});

describe('readFrames', () => {
  it('yields frames from an async source and fails on a truncated end', async () => {
    async function* src() {
      yield encodeExit(3).subarray(0, 4);
      yield encodeExit(3).subarray(4);
    }
    const got: Frame[] = [];
    for await (const f of readFrames(src())) got.push(f);
    expect(got.map((f) => decodeExit(f.payload))).toEqual([{ exitCode: 3, signal: 0 }]);

    async function* cut() {
      yield encodeExit(3).subarray(0, 7);
    }
    await expect(async () => {
      for await (const _ of readFrames(cut())) void _;
    }).rejects.toThrow(/ended inside a frame/);
  });
});
