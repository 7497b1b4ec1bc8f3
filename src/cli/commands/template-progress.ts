import type { Io } from '../context.js';

/**
 * Progress lines of a template build on stderr: on a terminal one status line rewritten in place
 * (the last line stays), otherwise one plain line each, so logs and CI keep every phase.
 */
export function progressPrinter(io: Pick<Io, 'stderr'>, prefix = ''): { line(text: string): void; done(): void } {
  const tty = io.stderr.isTTY === true;
  let open = false;
  return {
    line(text) {
      const t = `${prefix}${text}`;
      if (!tty) return void io.stderr.write(`${t}\n`);
      const width = Math.max(20, (io.stderr.columns || 80) - 1);
      io.stderr.write(`\r\x1b[K${t.length > width ? `${t.slice(0, width - 1)}…` : t}`);
      open = true;
    },
    done() {
      if (open) io.stderr.write('\n');
      open = false;
    },
  };
}
