import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { Io } from '../../../src/cli/context.js';
import { runCli } from '../../../src/cli/program.js';
import { connect } from '../../../src/client/connect.js';
import { askedRoots, checkRoots, WrongDaemonError } from '../../../src/client/roots.js';
import { resolvePaths } from '../../../src/config.js';
import { json, startFakeCorrald, type FakeCorrald } from '../../support/fake-corrald.js';

let fake: FakeCorrald | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await fake?.close();
  fake = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const served = (runRoot: string) => ({
  version: '0.1.0',
  apiVersion: 'v1',
  pid: 4242,
  dataRoot: '/var/lib/corral',
  runRoot,
  cgroupDriver: 'v2',
  cgroupParent: 'corral',
  bridgePrefix: 'corral',
});

describe('askedRoots', () => {
  it('takes flags and CORRAL_* variables, never defaults', () => {
    const env = { CORRAL_RUN_ROOT: '/r', CORRAL_BRIDGE_PREFIX: 'ab' };
    const overrides = { dataRoot: 'rel/d' };
    const paths = resolvePaths(overrides, env);
    expect(askedRoots(paths, overrides, env)).toEqual([
      { key: 'dataRoot', value: paths.dataRoot, via: '--data-root' },
      { key: 'runRoot', value: '/r', via: 'CORRAL_RUN_ROOT' },
      { key: 'bridgePrefix', value: 'ab', via: 'CORRAL_BRIDGE_PREFIX' },
    ]);
    expect(askedRoots(resolvePaths({}, {}), {}, {})).toEqual([]);
  });

  it('names the flag when both a flag and the variable set a root', () => {
    const env = { CORRAL_CGROUP_PARENT: 'x' };
    expect(askedRoots(resolvePaths({ cgroupParent: 'y' }, env), { cgroupParent: 'y' }, env)).toEqual([{ key: 'cgroupParent', value: 'y', via: '--cgroup-parent' }]);
  });
});

describe('checkRoots', () => {
  it('passes when corrald serves what was asked, or reports nothing about it', () => {
    expect(() => checkRoots(served('/r'), [{ key: 'dataRoot', value: '/var/lib/corral/', via: '--data-root' }], '/r/corrald.sock')).not.toThrow();
    expect(() => checkRoots({ version: 'old' }, [{ key: 'dataRoot', value: '/x', via: '--data-root' }], '/r/corrald.sock')).not.toThrow();
  });

  it('takes a symlink to the served directory as the same root', () => {
    const d = mkdtempSync(join(tmpdir(), 'corral-roots-'));
    dirs.push(d);
    symlinkSync(d, `${d}.link`);
    dirs.push(`${d}.link`);
    expect(() => checkRoots({ ...served('/r'), dataRoot: d }, [{ key: 'dataRoot', value: `${d}.link`, via: '--data-root' }], '/r/corrald.sock')).not.toThrow();
  });

  it('refuses another root, naming both values, the socket, the pid and the ways out', () => {
    const err = (() => {
      try {
        checkRoots(served('/r'), [{ key: 'dataRoot', value: '/nonexistent', via: '--data-root' }, { key: 'cgroupParent', value: 'other', via: 'CORRAL_CGROUP_PARENT' }], '/r/corrald.sock');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(WrongDaemonError);
    expect((err as Error).message).toBe(
      'the corrald on /r/corrald.sock (pid 4242) serves data root /var/lib/corral, not /nonexistent (--data-root); cgroup parent corral, not other (CORRAL_CGROUP_PARENT): ' +
        'one corrald serves one installation; for another, give it its own --run-root, or stop that corrald first',
    );
  });
});

describe('connect with asked roots', () => {
  it('checks them on the one version request it makes', async () => {
    fake = await startFakeCorrald({ 'GET /v1/version': (_, res) => json(res, 200, served(fake!.runRoot)) });
    const paths = resolvePaths({ runRoot: fake.runRoot, dataRoot: '/elsewhere' }, {});
    await expect(connect(paths, { isRoot: false, asked: askedRoots(paths, { runRoot: fake.runRoot, dataRoot: '/elsewhere' }, {}) })).rejects.toThrow(
      /serves data root \/var\/lib\/corral, not \/elsewhere \(--data-root\)/,
    );
    expect(fake.seen.map((s) => s.url)).toEqual(['/v1/version']);
    await expect(connect(resolvePaths({ runRoot: fake.runRoot }, {}), { isRoot: false, asked: [] })).resolves.toBeDefined();
  });

  it('through the CLI: corral --data-root X ps fails (exit 1) without listing anything', async () => {
    fake = await startFakeCorrald({
      'GET /v1/version': (_, res) => json(res, 200, served(fake!.runRoot)),
      'GET /v1/containers': (_, res) => json(res, 200, []),
    });
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const io = { stdin: new PassThrough(), stdout, stderr, env: { CORRAL_RUN_ROOT: fake.runRoot } } as unknown as Io;
    expect(await runCli(['--data-root', '/nonexistent', 'ps'], io)).toBe(1);
    expect(String(stdout.read() ?? '')).toBe('');
    expect(String(stderr.read() ?? '')).toMatch(/^corral: the corrald on .*corrald\.sock \(pid 4242\) serves data root \/var\/lib\/corral, not \/nonexistent \(--data-root\): .*--run-root.*stop that corrald/);
    expect(fake.seen.map((s) => s.url)).toEqual(['/v1/version']);
  });
});
