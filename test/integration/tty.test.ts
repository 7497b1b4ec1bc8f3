import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI, envOf, installation } from '../support/corral.js';

/**
 * Drives `corral run -it` inside a real pty made by util-linux `script`, as a person at a terminal
 * would: type, read the screen, press Ctrl-C.
 */
function terminal(args: string[]): { send(s: string): void; waitFor(re: RegExp, ms?: number): Promise<string>; done: Promise<number>; output(): string } {
  const cmd = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const child = spawn('script', ['-qfec', `stty rows 33 cols 101; exec ${cmd}`, '/dev/null'], { env: { ...process.env, ...envOf(installation()), TERM: 'xterm' } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  return {
    send: (s) => child.stdin.write(s),
    output: () => out,
    done,
    waitFor: async (re, ms = 15_000) => {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        if (re.test(out)) return out;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`timed out waiting for ${re}; screen so far:\n${out}`);
    },
  };
}

describe('corral run -it', () => {
  it('is an interactive shell on a pty with job control, Ctrl-C and the window size', async () => {
    const t = terminal(['run', '--rm', '-it', 'busybox', 'sh']);
    await t.waitFor(/\/ # /); // busybox may follow the prompt with a cursor query
    t.send('tty; stty size; echo $((6*7))\r');
    await t.waitFor(/42/);
    expect(t.output()).toMatch(/\/dev\/(console|pts\/\d+)/);
    expect(t.output()).toMatch(/33 101/);
    // Ctrl-C interrupts the foreground job inside the container, not the session.
    t.send('sleep 30\r');
    await new Promise((r) => setTimeout(r, 500));
    t.send('\x03');
    t.send('echo after-$((1+1))\r');
    await t.waitFor(/after-2/);
    // Job control: a background job is listed.
    t.send('sleep 20 &\r');
    t.send('jobs\r');
    await t.waitFor(/\[1\]\+?\s+Running\s+sleep 20/);
    t.send('kill %1; exit 3\r');
    expect(await t.done).toBe(3);
  });
});
