import { execa } from 'execa';
import { chmodSync, readdirSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, corral, envOf, installation } from '../support/corral.js';

interface Answer {
  status: number;
  body: string;
}

function call(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: join(installation().runRoot, 'corrald.sock'), method, path, headers: { ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`timeout: ${method} ${path}`)));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function containerDirs(): string[] {
  try {
    return readdirSync(join(installation().dataRoot, 'containers'));
  } catch {
    return [];
  }
}

/** A small deterministic PRNG so a failing case can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

describe('the API', () => {
  it('answers errors with a stable code and message', async () => {
    const cases: [string, string, string | undefined, number, string][] = [
      ['GET', '/v1/nope', undefined, 404, 'not_found'],
      ['GET', '/v1/containers/does-not-exist', undefined, 404, 'not_found'],
      ['POST', '/v1/containers', '{bad json', 400, 'validation'],
      ['POST', '/v1/containers', '{"template":42}', 400, 'validation'],
      ['POST', '/v1/containers', '{"template":"busybox","name":"../../etc"}', 400, 'validation'],
      ['POST', '/v1/containers', '{"template":"busybox","extra":1}', 400, 'validation'],
      ['DELETE', '/v1/version', undefined, 400, 'validation'],
      ['GET', '/v1/containers/..%2f..%2fetc', undefined, 400, 'validation'],
      ['GET', '/v1/containers/%00', undefined, 400, 'validation'],
      ['POST', '/v1/containers/x/kill?signal=SIGNOPE', undefined, 400, 'validation'],
      ['GET', '/v1/events?since=yesterday', undefined, 400, 'validation'],
      ['POST', '/v1/exec/zzz/start', undefined, 404, 'not_found'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const a = await call(method, path, body);
      expect({ method, path, status: a.status }).toEqual({ method, path, status });
      expect(JSON.parse(a.body).error.code).toBe(code);
      expect(JSON.parse(a.body).error.message).toMatch(/\S/);
    }
  });

  it('refuses a body over 1 MiB before buffering it', async () => {
    const a = await call('POST', '/v1/containers', Buffer.alloc(2 * 1024 * 1024, 0x20));
    expect(a.status).toBe(400);
    expect(JSON.parse(a.body).error.message).toMatch(/too large/);
  });

  it('stays up and consistent under a few thousand malformed requests', async () => {
    const next = rng(20261121);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
    const methods = ['GET', 'POST', 'DELETE', 'PUT', 'PATCH'];
    const paths = [
      '/v1/containers', '/v1/containers/', '/v1/containers/%ff', '/v1/containers/a/b/c', '/v1/containers/x/start', '/v1/containers/x/stop?timeout=-5',
      '/v1/containers/x/stop?timeout=abc', '/v1/containers/x/logs?tail=-1', '/v1/containers/x/exec', '/v1/containers/x/update', '/v1/exec/../start',
      '/v1/templates/../../etc', `/v1/containers/${'a'.repeat(5000)}`, '/v1/containers/x%00y', '/v1/events?type=bogus', '/v1/containers/x/kill?signal=99',
      '//v1//containers', '/v1/containers?all=maybe', '/v1/containers/x/stats', '/', '/v2/containers',
    ];
    const bodies = [
      undefined, '', '{', '[]', 'null', '"x"', '{"template":null}', '{"template":"busybox","command":"ls"}', '{"template":"busybox","volumes":[{"source":"/","target":"relative"}]}',
      '{"template":"busybox","limits":{"memory":"lots"}}', '{"template":"busybox","env":[1,2]}', '{"template":"busybox","name":""}', '{"template":"busybox","capAdd":["ALL"],"name":"-x"}',
      '{"template":"busybox","restart":"sometimes"}', '{"command":[]}', '{"cpus":"-1"}', JSON.stringify({ template: 'busybox', labels: { a: 1 } }), '\u0000\u0001\u0002',
    ];
    const before = containerDirs();
    const statuses = new Map<number, number>();
    const N = 2000;
    for (let i = 0; i < N; i += 20) {
      const batch = Array.from({ length: 20 }, () => call(pick(methods), pick(paths), pick(bodies)));
      for (const a of await Promise.all(batch)) {
        statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
        // Some combinations are valid reads (GET /v1/containers); none may be a server error.
        expect(a.status).toBeLessThan(500);
        if (a.status >= 400) expect(JSON.parse(a.body).error.code).toMatch(/^[a-z_]+$/);
      }
    }
    expect([...statuses.values()].reduce((a, b) => a + b)).toBe(N);
    expect((await call('GET', '/v1/version')).status).toBe(200);
    expect(containerDirs()).toEqual(before);
  }, 120_000);

  it('refuses a non-root peer even if the socket is opened up by mistake', async () => {
    const sock = join(installation().runRoot, 'corrald.sock');
    const mode = statSync(sock).mode & 0o777;
    const dirs = [installation().runRoot, dirname(installation().runRoot)];
    const dirModes = dirs.map((d) => statSync(d).mode & 0o777);
    chmodSync(sock, 0o666);
    for (const d of dirs) chmodSync(d, 0o755);
    try {
      const r = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, 'ps'], { env: envOf(installation()), reject: false });
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr.trim()).toMatch(/^corral: permission denied: corrald serves root only \(peer uid 65534\)$/);
    } finally {
      chmodSync(sock, mode);
      dirs.forEach((d, i) => chmodSync(d, dirModes[i]!));
    }
    expect((await corral(['ps'])).exitCode).toBe(0);
  });
});
