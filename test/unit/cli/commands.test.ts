import { PassThrough, type Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeExit, encodeExit, encodeFrame, encodeError, FrameDecoder, FrameType, type Frame } from '../../../src/api/frames.js';
import type { Io } from '../../../src/cli/context.js';
import { runCli } from '../../../src/cli/program.js';
import { apiError, json, startFakeCorrald, SWITCHING, type FakeCorrald, type Route, type UpgradeRoute } from '../../support/fake-corrald.js';

/** End to end through runCli against a fake corrald: what the user sees and the exit code. */

let fake: FakeCorrald | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const ID = 'c0ffee'.padEnd(64, '0');
const version: Route = (_, res) => json(res, 200, { version: 'x' });

function io(stdinText?: string) {
  const stdin = new PassThrough();
  if (stdinText !== undefined) stdin.end(stdinText);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const text = (s: PassThrough) => () => String(s.read() ?? '');
  return {
    io: { stdin, stdout, stderr, env: { CORRAL_RUN_ROOT: fake!.runRoot } } as unknown as Io,
    out: text(stdout),
    err: text(stderr),
  };
}

/** Frames the client sent on an attach stream, collected until EOF frame or end. */
function collectFrames(socket: Duplex): Frame[] {
  const d = new FrameDecoder();
  const frames: Frame[] = [];
  socket.on('data', (c: Buffer) => frames.push(...d.push(c)));
  return frames;
}

/** `run` and `create` ask for the template first (a first use of busybox builds it, with progress). */
const prepared: Route = (_, res) => {
  res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
  res.end(`${JSON.stringify({ template: { name: 'busybox' } })}\n`);
};

async function withFake(routes: Record<string, Route>, upgrades: Record<string, UpgradeRoute> = {}) {
  fake = await startFakeCorrald({ 'GET /v1/version': version, 'POST /v1/templates/busybox/prepare': prepared, ...routes }, upgrades);
  return fake;
}

describe('corral run', () => {
  const created: Route = (_, res) => json(res, 201, { id: ID, name: 'x', warnings: [] });

  it('streams output and exits with the container\'s code', async () => {
    const f = await withFake({ 'POST /v1/containers': created }, {
      [`POST /v1/containers/${ID}/start?attach=true`]: (_, s) => {
        s.write(SWITCHING);
        s.write(encodeFrame(FrameType.STDOUT, Buffer.from('hello\n')));
        s.write(encodeFrame(FrameType.STDERR, Buffer.from('warn\n')));
        s.end(encodeExit(3));
      },
    });
    const t = io();
    expect(await runCli(['run', '--rm', 'busybox', 'ls', '-l'], t.io)).toBe(3);
    expect(t.out()).toBe('hello\n');
    expect(t.err()).toBe('warn\n');
    expect(f.seen[2]!.body).toEqual({ template: 'busybox', command: ['ls', '-l'], autoRemove: true });
  });

  it('prints the ERROR frame and exits 127 for a missing command', async () => {
    await withFake({ 'POST /v1/containers': created }, {
      [`POST /v1/containers/${ID}/start?attach=true`]: (_, s) => {
        s.write(SWITCHING);
        s.end(Buffer.concat([encodeError('exec "nosuch": executable file not found in $PATH'), encodeExit(127)]));
      },
    });
    const t = io();
    expect(await runCli(['run', 'busybox', 'nosuch'], t.io)).toBe(127);
    expect(t.err()).toBe('corral: exec "nosuch": executable file not found in $PATH\n');
  });

  it('sends stdin as STDIN frames and STDIN_EOF with -i', async () => {
    let frames: Frame[] = [];
    await withFake({ 'POST /v1/containers': created }, {
      [`POST /v1/containers/${ID}/start?attach=true`]: (_, s) => {
        s.write(SWITCHING);
        frames = collectFrames(s);
        s.on('data', () => {
          if (frames.some((f) => f.type === FrameType.STDIN_EOF)) s.end(encodeExit(0));
        });
      },
    });
    const t = io('line one\nline two\n');
    expect(await runCli(['run', '-i', 'busybox', 'cat'], t.io)).toBe(0);
    const stdin = Buffer.concat(frames.filter((f) => f.type === FrameType.STDIN).map((f) => f.payload)).toString();
    expect(stdin).toBe('line one\nline two\n');
    expect(frames.at(-1)!.type).toBe(FrameType.STDIN_EOF);
  });

  it('a first use that builds busybox says so on stderr, line by line (not a TTY)', async () => {
    const f = await withFake({
      'POST /v1/templates/busybox/prepare': (_, res) => {
        res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
        res.write(`${JSON.stringify({ progress: 'building template busybox from recipe busybox' })}\n`);
        res.end(`${JSON.stringify({ progress: 'template busybox built in 3.1s' })}\n${JSON.stringify({ template: { name: 'busybox' } })}\n`);
      },
      'POST /v1/containers': created,
      [`POST /v1/containers/${ID}/start`]: (_, res) => json(res, 204),
    });
    const t = io();
    expect(await runCli(['run', '-d', 'busybox'], t.io)).toBe(0);
    expect(t.err()).toBe('building template busybox from recipe busybox\ntemplate busybox built in 3.1s\n');
    expect(f.seen.map((s) => s.url)).toContain('/v1/containers');
  });

  it('a build that fails in the stream is an error, and nothing is created', async () => {
    const f = await withFake({
      'POST /v1/templates/busybox/prepare': (_, res) => {
        res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
        res.end(`${JSON.stringify({ progress: 'building template busybox from recipe busybox' })}\n${JSON.stringify({ error: { code: 'command_failed', message: 'build template busybox: no busybox' } })}\n`);
      },
      'POST /v1/containers': created,
    });
    const t = io();
    expect(await runCli(['run', '-d', 'busybox'], t.io)).toBe(125);
    expect(t.err()).toBe('building template busybox from recipe busybox\ncorral: build template busybox: no busybox\n');
    expect(f.seen.map((s) => s.url)).not.toContain('/v1/containers');
  });

  it('-d starts and prints the full id', async () => {
    const f = await withFake({ 'POST /v1/containers': created, [`POST /v1/containers/${ID}/start`]: (_, res) => json(res, 204) });
    const t = io();
    expect(await runCli(['run', '-d', 'busybox', 'sleep', '60'], t.io)).toBe(0);
    expect(t.out()).toBe(`${ID}\n`);
    expect(f.seen.map((s) => s.url)).toEqual(['/v1/version', '/v1/templates/busybox/prepare', '/v1/containers', `/v1/containers/${ID}/start`]);
  });

  it('daemon errors are 125 with one corral: line; a start refused for a missing command is 127', async () => {
    await withFake({
      'POST /v1/templates/nosuch/prepare': (_, res) => apiError(res, 404, 'not_found', 'no such template: nosuch'),
      'POST /v1/containers': (req, res) =>
        (req.body as { template: string }).template === 'nosuch'
          ? apiError(res, 404, 'not_found', 'no such template: nosuch')
          : json(res, 201, { id: ID, name: 'x', warnings: [] }),
      [`POST /v1/containers/${ID}/start`]: (_, res) => apiError(res, 500, 'command_failed', 'start x: exec "nope": executable file not found in $PATH'),
    });
    const t = io();
    expect(await runCli(['run', 'nosuch'], t.io)).toBe(125);
    expect(t.err()).toBe('corral: no such template: nosuch\n');
    expect(await runCli(['run', '-d', 'busybox', 'nope'], t.io)).toBe(127);
  });

  it('a missing volume source is 125 and names the path, before any request', async () => {
    const f = await withFake({});
    const t = io();
    expect(await runCli(['run', '-v', '/nonexistent/x:/x', 'busybox'], t.io)).toBe(125);
    expect(t.err()).toBe('corral: invalid volume "/nonexistent/x:/x": host path /nonexistent/x: no such file or directory\n');
    expect(f.seen).toEqual([]);
  });

  it('usage errors of run are 125, as Docker', async () => {
    await withFake({});
    const t = io();
    expect(await runCli(['run', '--bogus', 'busybox'], t.io)).toBe(125);
    expect(t.err()).toBe("corral: unknown option '--bogus'\n");
  });
});

describe('corral exec', () => {
  it('creates, starts the stream, forwards SIGNAL frames, exits with the process\'s code', async () => {
    let frames: Frame[] = [];
    const f = await withFake({ 'POST /v1/containers/web/exec': (_, res) => json(res, 201, { id: 'e1' }) }, {
      'POST /v1/exec/e1/start': (_, s) => {
        s.write(SWITCHING);
        frames = collectFrames(s);
        s.write(encodeFrame(FrameType.STDOUT, Buffer.from('ok\n')));
        setTimeout(() => process.emit('SIGTERM'), 20);
        s.on('data', () => {
          if (frames.some((fr) => fr.type === FrameType.SIGNAL)) s.end(encodeExit(143, 0));
        });
      },
    });
    const t = io();
    expect(await runCli(['exec', '-e', 'A=1', 'web', 'sleep', '9'], t.io)).toBe(143);
    expect(t.out()).toBe('ok\n');
    expect(f.seen[1]!.body).toEqual({ command: ['sleep', '9'], env: ['A=1'] });
    expect(frames.find((fr) => fr.type === FrameType.SIGNAL)!.payload).toEqual(Buffer.from([15]));
  });
});

describe('multi-container commands', () => {
  it('rm reports each failure and exits 1 if any failed', async () => {
    await withFake({
      'DELETE /v1/containers/a': (_, res) => json(res, 204),
      'DELETE /v1/containers/b': (_, res) => apiError(res, 404, 'not_found', 'no such container: b'),
      'DELETE /v1/containers/c': (req, res) => (req.url.includes('force=true') ? json(res, 204) : apiError(res, 409, 'invalid_state', 'c is running')),
    });
    const t = io();
    expect(await runCli(['rm', 'a', 'b', 'c'], t.io)).toBe(1);
    expect(t.out()).toBe('a\n');
    expect(t.err()).toBe('corral: no such container: b\ncorral: c is running\n');
    expect(await runCli(['rm', '-f', 'a', 'c'], t.io)).toBe(0);
  });

  it('inspect prints a JSON array of those found', async () => {
    await withFake({
      'GET /v1/containers/a': (_, res) => json(res, 200, { id: 'a' }),
      'GET /v1/containers/b': (_, res) => apiError(res, 404, 'not_found', 'no such container: b'),
    });
    const t = io();
    expect(await runCli(['inspect', 'a', 'b'], t.io)).toBe(1);
    expect(JSON.parse(t.out())).toEqual([{ id: 'a' }]);
    expect(t.err()).toBe('corral: no such container: b\n');
  });

  it('logs writes each record to its stream, with timestamps on request', async () => {
    await withFake({
      'GET /v1/containers/web/logs': (_, res) => {
        res.writeHead(200);
        res.end('{"time":"T1","stream":"stdout","log":"a\\n"}\n{"time":"T2","stream":"stderr","log":"b\\n"}\n');
      },
    });
    const t = io();
    expect(await runCli(['logs', '-t', 'web'], t.io)).toBe(0);
    expect(t.out()).toBe('T1 a\n');
    expect(t.err()).toBe('T2 b\n');
  });
});

describe('exit frames', () => {
  it('decode helpers agree with the encoder used by the fake', () => {
    expect(decodeExit(encodeExit(143, 15).subarray(5))).toEqual({ exitCode: 143, signal: 15 });
  });
});
