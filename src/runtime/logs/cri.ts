/** One CRI log record (kubelet/podman k8s-file format), partial lines already joined. */
export interface LogRecord {
  time: string;
  stream: 'stdout' | 'stderr';
  /** The text, ending in "\n" unless the output ended without one. */
  log: string;
}

const LINE = /^(\S+) (stdout|stderr) ([FP]) (.*)$/s;

/** Parses CRI lines, joining `P` (partial) records with the `F` record that ends them. */
export class CriParser {
  private pending = '';
  private partial: { time: string; stream: 'stdout' | 'stderr'; text: string } | undefined;

  /** Feed raw file bytes (as text); returns the completed records. */
  push(chunk: string): LogRecord[] {
    const text = this.pending + chunk;
    const out: LogRecord[] = [];
    let start = 0;
    let nl: number;
    while ((nl = text.indexOf('\n', start)) >= 0) {
      const line = text.slice(start, nl);
      start = nl + 1;
      const m = LINE.exec(line);
      if (!m) continue;
      const [, time, stream, tag, body] = m as unknown as [string, string, 'stdout' | 'stderr', 'F' | 'P', string];
      if (this.partial && this.partial.stream !== stream) out.push(this.flushPartial()!);
      if (tag === 'P') {
        this.partial = this.partial ? { ...this.partial, text: this.partial.text + body } : { time, stream, text: body };
        continue;
      }
      const head = this.partial?.stream === stream ? this.partial : undefined;
      this.partial = undefined;
      out.push({ time: head?.time ?? time, stream, log: (head?.text ?? '') + body + '\n' });
    }
    this.pending = text.slice(start);
    return out;
  }

  /** A partial record with no end yet (output that did not end in a newline). */
  flushPartial(): LogRecord | undefined {
    const p = this.partial;
    this.partial = undefined;
    return p ? { time: p.time, stream: p.stream, log: p.text } : undefined;
  }
}
