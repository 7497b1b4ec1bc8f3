import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeExit, encodeFrame, FrameType, readFrames, decodeExit, type Frame } from '../../../src/api/frames.js';
import { CorralClient } from '../../../src/client/client.js';
import { connect, NEEDS_ROOT } from '../../../src/client/connect.js';
import { UnreachableError } from '../../../src/client/http.js';
import { resolvePaths } from '../../../src/config.js';
import { CorralError } from '../../../src/errors.js';
import { apiError, json, startFakeCorrald, SWITCHING, type FakeCorrald } from '../../support/fake-corrald.js';

let fake: FakeCorrald | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await fake?.close();
  fake = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const VERSION = { version: '0.1.0', apiVersion: '1', pid: 1, dataRoot: '/d', runRoot: '/r', cgroupDriver: 'v1', cgroupParent: 'corral' };

describe('CorralClient', () => {
  it('calls each route with the documented method, path and query', async () => {
    const noContent = (_: unknown, res: import('node:http').ServerResponse) => json(res, 204);
    fake = await startFakeCorrald({
      'GET /v1/version': (_, res) => json(res, 200, VERSION),
      'GET /v1/templates': (_, res) => json(res, 200, []),
      'POST /v1/containers': (req, res) => json(res, 201, { id: 'abc', name: (req.body as { name: string }).name, warnings: [] }),
      'GET /v1/containers': (_, res) => json(res, 200, []),
      'GET /v1/containers/web': (_, res) => json(res, 200, { id: 'abc' }),
      'POST /v1/containers/web/start': noContent,
      'POST /v1/containers/web/stop': noContent,
      'POST /v1/containers/web/restart': noContent,
      'POST /v1/containers/web/kill': noContent,
      'POST /v1/containers/web/wait': (_, res) => json(res, 200, { exitCode: 0, signal: null, error: null }),
      'DELETE /v1/containers/web': noContent,
      'POST /v1/containers/web/exec': (_, res) => json(res, 201, { id: 'e1' }),
    });
    const c = new CorralClient(fake.socketPath);
    expect(await c.version()).toEqual(VERSION);
    expect(await c.templates()).toEqual([]);
    expect(await c.create({ template: 'busybox', name: 'web' })).toEqual({ id: 'abc', name: 'web', warnings: [] });
    await c.list();
    await c.list({ all: true });
    expect(await c.inspect('web')).toEqual({ id: 'abc' });
    await c.start('web');
    await c.stop('web', { timeout: 3 });
    await c.stop('web');
    await c.restart('web', { timeout: 0 });
    await c.kill('web', { signal: 'SIGTERM' });
    expect(await c.wait('web')).toEqual({ exitCode: 0, signal: null, error: null });
    await c.remove('web', { force: true });
    await c.remove('web');
    expect(await c.execCreate('web', { command: ['ls'] })).toEqual({ id: 'e1' });
    expect(fake.seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'GET /v1/version',
      'GET /v1/templates',
      'POST /v1/containers',
      'GET /v1/containers',
      'GET /v1/containers?all=true',
      'GET /v1/containers/web',
      'POST /v1/containers/web/start',
      'POST /v1/containers/web/stop?timeout=3',
      'POST /v1/containers/web/stop',
      'POST /v1/containers/web/restart?timeout=0',
      'POST /v1/containers/web/kill?signal=SIGTERM',
      'POST /v1/containers/web/wait',
      'DELETE /v1/containers/web?force=true',
      'DELETE /v1/containers/web',
      'POST /v1/containers/web/exec',
    ]);
    expect(fake.seen[2]!.body).toEqual({ template: 'busybox', name: 'web' });
    expect(fake.seen[2]!.headers['content-type']).toBe('application/json');
  });

  it('turns the error envelope into a CorralError with the server\'s code and message', async () => {
    fake = await startFakeCorrald({
      'GET /v1/containers/nope': (_, res) => apiError(res, 404, 'not_found', 'no such container: nope'),
      'POST /v1/containers/web/start': (_, res) => apiError(res, 409, 'invalid_state', 'container web is running', { status: 'running' }),
      'GET /v1/version': (_, res) => {
        res.writeHead(502);
        res.end('bad gateway\nmore');
      },
    });
    const c = new CorralClient(fake.socketPath);
    const err = await c.inspect('nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorralError);
    expect(err).toMatchObject({ code: 'not_found', message: 'no such container: nope' });
    await expect(c.start('web')).rejects.toMatchObject({ code: 'invalid_state', details: { status: 'running' } });
    await expect(c.version()).rejects.toMatchObject({ code: 'internal', message: 'corrald: HTTP 502: bad gateway' });
  });

  it('streams NDJSON log records split anywhere, with follow/tail/timestamps in the query', async () => {
    const lines = [
      { time: 't1', stream: 'stdout', log: 'hello\n' },
      { time: 't2', stream: 'stderr', log: 'oops\n' },
      { time: 't3', stream: 'stdout', log: 'part' },
    ]
      .map((r) => JSON.stringify(r) + '\n')
      .join('');
    fake = await startFakeCorrald({
      'GET /v1/containers/web/logs': (_, res) => {
        res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
        let i = 0;
        const step = () => {
          if (i >= lines.length) return res.end();
          res.write(lines.slice(i, i + 7));
          i += 7;
          setImmediate(step);
        };
        step();
      },
    });
    const c = new CorralClient(fake.socketPath);
    const got = [];
    for await (const r of c.logs('web', { follow: true, tail: 2, timestamps: true })) got.push(r);
    expect(got.map((r) => r.log)).toEqual(['hello\n', 'oops\n', 'part']);
    expect(fake.seen[0]!.url).toBe('/v1/containers/web/logs?follow=true&tail=2&timestamps=true');
  });

  it('upgrades with Connection/Upgrade headers and keeps frames sent with the 101', async () => {
    fake = await startFakeCorrald({}, {
      'POST /v1/containers/web/start?attach=true': (_, socket) => {
        socket.write(Buffer.concat([Buffer.from(SWITCHING), encodeFrame(FrameType.STDOUT, Buffer.from('early'))]));
        setTimeout(() => socket.end(encodeExit(7)), 10);
      },
      'POST /v1/exec/e1/start': (_, socket) => socket.end(Buffer.concat([Buffer.from(SWITCHING), encodeExit(0)])),
    });
    const c = new CorralClient(fake.socketPath);
    const socket = await c.startAttached('web');
    const frames: Frame[] = [];
    for await (const f of readFrames(socket)) frames.push(f);
    expect(frames[0]).toMatchObject({ type: FrameType.STDOUT });
    expect(frames[0]!.payload.toString()).toBe('early');
    expect(decodeExit(frames[1]!.payload)).toEqual({ exitCode: 7, signal: 0 });
    const seen = fake.seen[0]!;
    expect(seen.headers.connection).toBe('Upgrade');
    expect(seen.headers.upgrade).toBe('corral-attach');

    const exec = await c.execStart('e1');
    const execFrames: Frame[] = [];
    for await (const f of readFrames(exec)) execFrames.push(f);
    expect(execFrames.map((f) => f.type)).toEqual([FrameType.EXIT]);
  });

  it('an upgrade refused with an error envelope rejects with it', async () => {
    fake = await startFakeCorrald({});
    const c = new CorralClient(fake.socketPath);
    await expect(c.attach('ghost')).rejects.toMatchObject({ code: 'not_found', message: 'no upgrade /v1/containers/ghost/attach' });
  });

  it('reports an unreachable socket with its errno', async () => {
    const c = new CorralClient('/nonexistent/corrald.sock');
    const err = await c.version().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnreachableError);
    expect((err as UnreachableError).errno).toBe('ENOENT');
    expect((err as Error).message).toMatch(/^cannot reach corrald at \/nonexistent\/corrald.sock/);
  });
});

describe('connect', () => {
  it('returns a client when corrald answers', async () => {
    fake = await startFakeCorrald({ 'GET /v1/version': (_, res) => json(res, 200, VERSION) });
    const client = await connect(resolvePaths({ runRoot: fake.runRoot }, {}), { isRoot: false });
    expect(client.socketPath).toBe(fake.socketPath);
  });

  it('tells a non-root user that corral needs root when there is no socket', async () => {
    await expect(connect(resolvePaths({ runRoot: '/nonexistent-corral' }, {}), { isRoot: false })).rejects.toThrow(NEEDS_ROOT);
  });

  it('as root, starts corrald detached with the roots passed through, and waits for it', async () => {
    const runRoot = mkdtempSync(join(tmpdir(), 'corral-start-'));
    dirs.push(runRoot);
    const argsFile = join(runRoot, 'args.json');
    const entry = join(runRoot, 'fake-daemon.mjs');
    writeFileSync(
      entry,
      `import { createServer } from 'node:http';
       import { writeFileSync } from 'node:fs';
       writeFileSync(${JSON.stringify(argsFile)}, JSON.stringify(process.argv.slice(2)));
       console.log('fake corrald starting');
       setTimeout(() => {
         const s = createServer((req, res) => { res.setHeader('Content-Type', 'application/json'); res.end(JSON.stringify({ version: 'fake' })); });
         s.listen(${JSON.stringify(join(runRoot, 'corrald.sock'))});
         setTimeout(() => process.exit(0), 3000);
       }, 300);`,
    );
    const paths = resolvePaths({ runRoot, dataRoot: '/tmp/d', cgroupParent: 'cx' }, {});
    const client = await connect(paths, { isRoot: true, daemonEntry: entry });
    expect(await client.version()).toEqual({ version: 'fake' });
    expect(JSON.parse(readFileSync(argsFile, 'utf8'))).toEqual(['--data-root', '/tmp/d', '--run-root', runRoot, '--cgroup-parent', 'cx', '--bridge-prefix', 'corral']);
    expect(readFileSync(join(runRoot, 'corrald.log'), 'utf8')).toContain('fake corrald starting');
  });

  it('as root, names the log file when corrald dies during start-up', async () => {
    const runRoot = mkdtempSync(join(tmpdir(), 'corral-dead-'));
    dirs.push(runRoot);
    const entry = join(runRoot, 'dead.mjs');
    writeFileSync(entry, `console.error('cannot mount cgroup'); process.exit(3);`);
    chmodSync(entry, 0o755);
    await expect(connect(resolvePaths({ runRoot }, {}), { isRoot: true, daemonEntry: entry })).rejects.toThrow(
      `corrald exited during start-up (3): cannot mount cgroup; see ${runRoot}/corrald.log`,
    );
  });
});
