import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../../src/cli/errors.js';
import { buildProgram, type CommandName, type Requests } from '../../../src/cli/program.js';
import type { GlobalOptions } from '../../../src/cli/context.js';

interface Call {
  name: CommandName;
  req: unknown;
  globals: GlobalOptions;
}

/** Parse argv with a recording dispatch: no daemon, no effects. */
async function parse(...argv: string[]): Promise<Call & { stderr: string }> {
  const calls: Call[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const program = buildProgram(
    async (name, req, globals) => {
      calls.push({ name, req, globals });
    },
    { stdout: stdout as unknown as NodeJS.WriteStream, stderr: stderr as unknown as NodeJS.WriteStream },
  );
  await program.parseAsync(argv, { from: 'user' });
  expect(calls).toHaveLength(1);
  return { ...calls[0]!, stderr: String(stderr.read() ?? '') };
}

async function usageError(...argv: string[]): Promise<{ code: number; stderr: string }> {
  const stderr = new PassThrough();
  const program = buildProgram(async () => undefined, {
    stdout: new PassThrough() as unknown as NodeJS.WriteStream,
    stderr: stderr as unknown as NodeJS.WriteStream,
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    return { code: exitCodeFor(err, argv[0]), stderr: String(stderr.read() ?? '') };
  }
  throw new Error(`parsed: ${argv.join(' ')}`);
}

describe('run', () => {
  it('keeps flags after the template for the container: run busybox ls -l', async () => {
    const { name, req } = await parse('run', 'busybox', 'ls', '-l');
    expect(name).toBe('run');
    expect(req).toEqual({ create: { template: 'busybox', command: ['ls', '-l'] }, detach: false } satisfies Requests['run']);
  });

  it('passes flags that look like ours through once the template is given', async () => {
    const { req } = await parse('run', '--rm', 'busybox', 'sh', '-c', 'echo hi', '--rm', '-d', '-e', 'X=1');
    expect(req).toEqual({
      create: { template: 'busybox', command: ['sh', '-c', 'echo hi', '--rm', '-d', '-e', 'X=1'], autoRemove: true },
      detach: false,
    });
  });

  it('parses every create flag into a CreateRequest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'corral-prog-'));
    const { req } = await parse(
      'run', '-dit', '--name', 'web', '-e', 'A=1', '--env', 'B=2', '-w', '/srv', '-u', '1000:1000', '--hostname', 'h1',
      '--read-only', '-v', `${dir}:/data:ro`, '--cap-add', 'NET_ADMIN', '--cap-drop', 'CHOWN', '--cap-drop', 'KILL',
      '--init', '-l', 'tier=front', '--label', 'x', 'busybox',
    );
    expect(req).toEqual({
      detach: true,
      create: {
        template: 'busybox',
        name: 'web',
        env: ['A=1', 'B=2'],
        workdir: '/srv',
        user: '1000:1000',
        hostname: 'h1',
        readOnly: true,
        volumes: [{ source: dir, target: '/data', readOnly: true }],
        capAdd: ['NET_ADMIN'],
        capDrop: ['CHOWN', 'KILL'],
        init: true,
        interactive: true,
        tty: true,
        labels: { tier: 'front', x: '' },
      },
    });
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes global options before the command', async () => {
    const { globals } = await parse('--data-root', '/tmp/d', '--run-root', '/tmp/r', '--cgroup-parent', 'cx', 'ps');
    expect(globals).toEqual({ dataRoot: '/tmp/d', runRoot: '/tmp/r', cgroupParent: 'cx' });
  });

  it('a missing template or an unknown flag is a usage error (125 for run, as Docker; 2 elsewhere)', async () => {
    expect(await usageError('run')).toMatchObject({ code: 125, stderr: "corral: missing required argument 'template'\n" });
    expect((await usageError('run', '--bogus', 'busybox')).code).toBe(125);
    expect((await usageError('nosuch')).code).toBe(2);
  });
});

describe('create', () => {
  it('takes the same flags as run, without -d', async () => {
    expect((await parse('create', '--name', 'c1', '--rm', 'alpine', 'echo', '-n')).req).toEqual({
      template: 'alpine',
      name: 'c1',
      command: ['echo', '-n'],
      autoRemove: true,
    });
    expect((await usageError('create', '-d', 'alpine')).code).toBe(125);
  });
});

describe('network flags of run and create', () => {
  it('passes --network (repeatable), --ip, --network-alias, -p, -P, --expose and --dns as given', async () => {
    const { req } = await parse(
      'run', '-d', '--network', 'front', '--network', 'back', '--ip', '10.89.0.9', '--network-alias', 'db',
      '-p', '8080:80', '--publish', '127.0.0.1:5353:53/udp', '-P', '--expose', '443', '--dns', '192.0.2.53', 'busybox', 'httpd', '-p', '80',
    );
    expect(req).toEqual({
      create: {
        template: 'busybox',
        command: ['httpd', '-p', '80'],
        network: ['front', 'back'],
        ip: '10.89.0.9',
        networkAliases: ['db'],
        publish: ['8080:80', '127.0.0.1:5353:53/udp'],
        publishAll: true,
        expose: ['443'],
        dns: ['192.0.2.53'],
      },
      detach: true,
    });
    expect((await parse('create', '--network', 'none', 'busybox')).req).toEqual({ template: 'busybox', network: ['none'] });
  });
});

describe('network', () => {
  it('create, ls, inspect, rm', async () => {
    const c = await parse('network', 'create', '--subnet', '10.89.0.0/16', 'front');
    expect([c.name, c.req]).toEqual(['network create', { name: 'front', subnet: '10.89.0.0/16' }]);
    expect((await parse('network', 'create', 'back')).req).toEqual({ name: 'back' });
    expect((await parse('network', 'ls')).req).toEqual({ format: { kind: 'table' }, quiet: false });
    expect((await parse('network', 'list', '-q', '--format', 'json')).req).toEqual({ format: { kind: 'json' }, quiet: true });
    const i = await parse('network', 'inspect', 'a', 'b');
    expect([i.name, i.req]).toEqual(['network inspect', { names: ['a', 'b'] }]);
    const r = await parse('network', 'rm', 'a');
    expect([r.name, r.req]).toEqual(['network rm', { names: ['a'] }]);
    expect((await usageError('network', 'create')).code).toBe(2);
    expect((await usageError('network', 'rm')).code).toBe(2);
  });
});

describe('lifecycle commands', () => {
  it('stop/restart -t, kill -s, rm -f, start with several names', async () => {
    expect((await parse('stop', '-t', '3', 'a', 'b')).req).toEqual({ refs: ['a', 'b'], timeout: 3 });
    expect((await parse('stop', 'a')).req).toEqual({ refs: ['a'] });
    expect((await parse('restart', '--time', '0', 'a')).req).toEqual({ refs: ['a'], timeout: 0 });
    expect((await parse('kill', '-s', 'TERM', 'a')).req).toEqual({ refs: ['a'], signal: 'TERM' });
    expect((await parse('kill', 'a')).req).toEqual({ refs: ['a'] });
    expect((await parse('rm', '-f', 'a', 'b', 'c')).req).toEqual({ refs: ['a', 'b', 'c'], force: true });
    expect((await parse('start', 'a')).req).toEqual({ refs: ['a'] });
    expect((await usageError('stop', '-t', 'soon', 'a')).code).toBe(2);
    expect((await usageError('rm')).code).toBe(2);
  });
});

describe('ps, inspect, logs, template, version', () => {
  it('parses their flags', async () => {
    expect((await parse('ps')).req).toEqual({ all: false, quiet: false, format: { kind: 'table' }, filters: {}, noTrunc: false });
    expect((await parse('ps', '-f', 'name=a', '--filter', 'name=b', '-f', 'status=exited', '--no-trunc', '-n', '3')).req).toMatchObject({ filters: { name: ['a', 'b'], status: ['exited'] }, noTrunc: true, last: 3 });
    expect((await parse('ps', '-l')).req).toMatchObject({ last: 1 });
    expect((await usageError('ps', '--filter', 'colour=red')).code).toBe(2);
    expect((await usageError('ps', '--format', '{{.ID')).code).toBe(2);
    expect((await parse('ps', '-aq')).req).toMatchObject({ all: true, quiet: true, format: { kind: 'table' } });
    expect((await parse('ps', '--format', 'json')).req).toMatchObject({ format: { kind: 'json' } });
    expect((await usageError('ps', '--format', 'yaml')).code).toBe(2);
    expect((await parse('inspect', 'a', 'b', '--format', 'json')).req).toEqual({ refs: ['a', 'b'] });
    expect((await parse('logs', '-f', '--tail', '10', '-t', 'web')).req).toEqual({ ref: 'web', follow: true, tail: 10, timestamps: true });
    expect((await parse('logs', '--tail', 'all', 'web')).req).toEqual({ ref: 'web', follow: false, timestamps: false });
    const t = await parse('template', 'ls', '--format', 'json');
    expect([t.name, t.req]).toEqual(['template ls', { format: { kind: 'json' }, quiet: false }]);
    expect(await parse('template', 'build', 'debian', '--include', 'nginx-light,curl', '--name', 'web', '--opt', 'x=1')).toMatchObject({
      name: 'template build',
      req: { recipe: 'debian', name: 'web', args: { x: '1', include: 'nginx-light,curl' } },
    });
    expect(await parse('template', 'rm', 'a', 'b')).toMatchObject({ name: 'template rm', req: { names: ['a', 'b'] } });
    expect(await parse('template', 'prune', '-f')).toMatchObject({ name: 'template prune', req: { force: true } });
    expect(await parse('template', 'inspect', 'debian')).toMatchObject({ name: 'template inspect', req: { names: ['debian'] } });
    expect(await parse('commit', 'web', 'web-v2')).toMatchObject({ name: 'commit', req: { container: 'web', name: 'web-v2' } });
    expect(await parse('export', 'web', '-o', '/tmp/x.tar')).toMatchObject({ name: 'export', req: { container: 'web', output: '/tmp/x.tar' } });
    expect((await parse('version')).name).toBe('version');
  });
});

describe('exec', () => {
  it('keeps the command\'s flags: exec -it web ls -l', async () => {
    const { name, req } = await parse('exec', '-it', '-e', 'A=1', '-u', 'nobody', '-w', '/tmp', 'web', 'ls', '-l', '-e');
    expect(name).toBe('exec');
    expect(req).toEqual({
      ref: 'web',
      detach: false,
      exec: { command: ['ls', '-l', '-e'], env: ['A=1'], user: 'nobody', workdir: '/tmp', tty: true, interactive: true },
    });
    expect((await parse('exec', '-d', 'web', 'sleep', '9')).req).toEqual({ ref: 'web', detach: true, exec: { command: ['sleep', '9'] } });
    expect((await usageError('exec', 'web')).code).toBe(125);
  });
});

describe('an unknown option before the template (issue 9)', () => {
  /** Whether the parse printed help: it must not, for a `-h` that belongs to the container. */
  async function outcome(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const program = buildProgram(async () => undefined, { stdout: stdout as unknown as NodeJS.WriteStream, stderr: stderr as unknown as NodeJS.WriteStream });
    try {
      await program.parseAsync(argv, { from: 'user' });
      return { code: -1, stdout: String(stdout.read() ?? ''), stderr: String(stderr.read() ?? '') };
    } catch (err) {
      return { code: exitCodeFor(err, argv[0]), stdout: String(stdout.read() ?? ''), stderr: String(stderr.read() ?? '') };
    }
  }

  it.each([
    ['run', '--rm', '--tmpfs', '/s', 'busybox', 'df', '-h', '/s'],
    ['create', '--tmpfs', '/s', 'busybox', 'df', '--help'],
    ['exec', '--privileged', 'web', 'df', '-h'],
    ['ps', '--bogus', '-h'],
    ['network', 'ls', '--bogus', '-h'],
    ['--bogus', 'run', 'busybox', 'df', '-h'],
  ])('%s … is refused as an unknown option, not answered with help', async (...argv) => {
    const r = await outcome(...argv);
    expect(r.code).toBe(['run', 'create', 'exec'].includes(argv[0]!) ? 125 : 2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^corral: unknown option '--(tmpfs|privileged|bogus)'/);
  });

  it('-h before any unknown option still shows help', async () => {
    for (const argv of [['run', '-h'], ['run', '--rm', '-h', '--tmpfs'], ['logs', '--help', '--bogus']]) {
      const r = await outcome(...argv);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: corral (run|logs)/);
    }
  });

  it('-h after the template is the container\'s', async () => {
    expect((await parse('run', '--rm', 'busybox', 'df', '-h', '/s')).req).toEqual({ create: { template: 'busybox', command: ['df', '-h', '/s'], autoRemove: true }, detach: false });
    expect((await parse('exec', 'web', 'ls', '--help')).req).toMatchObject({ ref: 'web', exec: { command: ['ls', '--help'] } });
  });
});

describe('an unknown command', () => {
  it('is never answered with a destructive verb', async () => {
    // (`top` and `pull` were the examples before Corral had those verbs.)
    expect(await usageError('kil', 'web')).toEqual({ code: 2, stderr: "corral: unknown command 'kil'\n" });
    expect(await usageError('rmm', 'busybox')).toEqual({ code: 2, stderr: "corral: unknown command 'rmm'\n" });
    expect((await usageError('network', 'rn', 'x')).stderr).toBe("corral: unknown command 'rn'\n");
  });

  it('still gets a harmless suggestion', async () => {
    expect(await usageError('strat', 'web')).toEqual({ code: 2, stderr: "corral: unknown command 'strat' (Did you mean start?)\n" });
    expect((await usageError('network', 'sl')).stderr).toBe("corral: unknown command 'sl' (Did you mean ls?)\n");
  });
});

describe('events', () => {
  it('takes every event type of EVENT_TYPES as a filter, and refuses others before asking corrald', async () => {
    const { EVENT_TYPES } = await import('../../../src/api/types.js');
    const { req } = await parse('events', '-f', 'container=web', ...EVENT_TYPES.flatMap((t) => ['-f', `type=${t}`]));
    expect(req).toEqual({ container: ['web'], type: [...EVENT_TYPES], format: { kind: 'text' } });
    const program = buildProgram(async () => undefined, { stdout: new PassThrough() as never, stderr: new PassThrough() as never });
    const err = await program.parseAsync(['events', '-f', 'type=exited'], { from: 'user' }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`--filter type=exited: expected one of ${EVENT_TYPES.join(', ')}`);
    expect(exitCodeFor(err, 'events')).toBe(1); // as the other --filter mistakes
  });
});
