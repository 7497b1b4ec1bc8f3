import { archiveError } from './errors.js';

/**
 * Exact reads over a chunk stream, counting every byte pulled against a budget (the decompressed
 * size of the archive), so an endless or bomb stream stops at the budget, not at the disk's end.
 */
export class ByteReader {
  private readonly it: AsyncIterator<Buffer>;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private eof = false;
  /** Bytes pulled from the source so far. */
  total = 0;

  constructor(
    source: AsyncIterable<Buffer>,
    private readonly maxBytes: number,
    private readonly where: () => string,
  ) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** Bytes consumed by the parser (the offset of the next unread byte). */
  get offset(): number {
    return this.total - this.buffered;
  }

  private async fill(n: number): Promise<boolean> {
    while (this.buffered < n) {
      if (this.eof) return false;
      const r = await this.it.next();
      if (r.done) {
        this.eof = true;
        return false;
      }
      this.total += r.value.length;
      if (this.total > this.maxBytes) throw archiveError(`archive is larger than the budget of ${this.maxBytes} bytes (at ${this.where()})`, { maxBytes: this.maxBytes });
      this.chunks.push(r.value);
      this.buffered += r.value.length;
    }
    return true;
  }

  private take(n: number): Buffer {
    const out: Buffer[] = [];
    let need = n;
    while (need > 0) {
      const c = this.chunks[0]!;
      if (c.length <= need) {
        out.push(c);
        this.chunks.shift();
        need -= c.length;
      } else {
        out.push(c.subarray(0, need));
        this.chunks[0] = c.subarray(need);
        need = 0;
      }
    }
    this.buffered -= n;
    return out.length === 1 ? out[0]! : Buffer.concat(out, n);
  }

  /** Exactly n bytes; null at a clean end of stream; an error when the stream ends inside them. */
  async exact(n: number): Promise<Buffer | null> {
    if (!(await this.fill(n))) {
      if (this.buffered === 0) return null;
      throw archiveError(`archive is truncated (at ${this.where()})`);
    }
    return this.take(n);
  }

  /** n bytes as they arrive, without buffering them all. */
  async *stream(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.buffered === 0 && !(await this.fill(1))) throw archiveError(`archive is truncated (at ${this.where()})`);
      const piece = this.take(Math.min(left, this.chunks[0]!.length));
      left -= piece.length;
      yield piece;
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.stream(n)) {
      /* discard */
    }
  }

  /** Stop pulling from the source (its generator's finally blocks run: tools are stopped). */
  async close(): Promise<void> {
    await this.it.return?.();
  }
}
