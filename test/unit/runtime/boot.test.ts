import { PassThrough } from 'node:stream';
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { initArgs } from '../../../src/namespaces/argv.js';
import { migrateConfig } from '../../../src/runtime/config-version.js';
import { bootExit } from '../../../src/runtime/lifecycle/exits.js';
import { configFromRequest } from '../../../src/runtime/spec.js';
import { normalizeStopSignal, stopSignalValue } from '../../../src/runtime/stop-signal.js';
import { ALL_CAPABILITIES } from '../../../src/security/capabilities.js';
import { runSession } from '../../../src/cli/session.js';
import type { Io } from '../../../src/cli/context.js';

describe('--boot in a create request', () => {
  it("runs the template's /sbin/init with systemd's container interface", () => {
    const c = configFromRequest({ template: 'debian', boot: true }, undefined, ['bash']);
    expect(c).toMatchObject({ boot: true, command: ['/sbin/init'], tty: true, interactive: true, stopSignal: 'SIGRTMIN+3' });
    expect(c.env).toContain('container=corral');
    expect(c.env).toContain(`container_uuid=${c.id.slice(0, 8)}-${c.id.slice(8, 12)}-${c.id.slice(12, 16)}-${c.id.slice(16, 20)}-${c.id.slice(20, 32)}`);
    // Every capability, over its own user namespace only.
    expect(c.capabilities).toEqual([...ALL_CAPABILITIES]);
    expect(c.userns.mode).toBe('private');
  });

  it('keeps a command given as the init, and --stop-signal over the default', () => {
    const c = configFromRequest({ template: 'debian', boot: true, command: ['/lib/systemd/systemd', '--log-level=debug'], stopSignal: 'TERM' });
    expect(c.command).toEqual(['/lib/systemd/systemd', '--log-level=debug']);
    expect(c.stopSignal).toBe('SIGTERM');
  });

  it('is refused with the host user namespace', () => {
    expect(() => configFromRequest({ template: 'debian', boot: true, userns: 'host' })).toThrow(/needs its own user namespace/);
  });

  it('is not a system container without it', () => {
    const c = configFromRequest({ template: 'busybox' });
    expect(c).toMatchObject({ boot: false, stopSignal: 'SIGTERM' });
    expect(c.env.some((e) => e.startsWith('container='))).toBe(false);
  });

  it('asks the init stage for --boot', () => {
    const c = configFromRequest({ template: 'debian', boot: true });
    const args = initArgs(c, { lower: ['/l'], upper: '/u', work: '/w', mountpoint: '/r' }, []);
    expect(args).toContain('--boot');
    expect(initArgs(configFromRequest({ template: 'busybox' }), { lower: ['/l'], upper: '/u', work: '/w', mountpoint: '/r' }, [])).not.toContain('--boot');
  });

  it('older configs are migrated to no boot and SIGTERM', () => {
    const r = migrateConfig({ version: 3, id: 'a', name: 'a', template: 'busybox', createdAt: 'now', command: [], env: [], volumes: [] });
    expect('config' in r && r.config).toMatchObject({ boot: false, stopSignal: 'SIGTERM' });
  });
});

describe('--stop-signal', () => {
  it.each([
    ['SIGTERM', 'SIGTERM', 'SIGTERM'],
    ['term', 'SIGTERM', 'SIGTERM'],
    ['15', '15', 15],
    ['SIGRTMIN+3', 'SIGRTMIN+3', 37],
    ['rtmin+3', 'SIGRTMIN+3', 37],
    ['RTMAX-2', 'SIGRTMAX-2', 62],
    ['SIGRTMIN', 'SIGRTMIN', 34],
  ])('%s is %s (%s)', (given, normalized, value) => {
    expect(normalizeStopSignal(given)).toBe(normalized);
    expect(stopSignalValue(normalizeStopSignal(given))).toBe(value);
  });

  it.each(['SIGNOPE', '0', '65', 'SIGRTMIN+31', 'RTMAX+1'])('refuses %s', (v) => {
    expect(() => normalizeStopSignal(v)).toThrow(/--stop-signal/);
  });
});

describe('how a system container ended', () => {
  it('SIGHUP is a reboot, SIGINT a power-off, a SIGHUP during a stop a stop', () => {
    expect(bootExit(1, false)).toBe('reboot');
    expect(bootExit(1, true)).toBe('poweroff');
    expect(bootExit(2, false)).toBe('poweroff');
    expect(bootExit(9, false)).toBe('other');
    expect(bootExit(null, false)).toBe('other');
  });
});

describe('console detach keys', () => {
  it('Ctrl-P Ctrl-Q ends the session without sending them; other bytes go through', async () => {
    const socket = new PassThrough();
    const sent: Buffer[] = [];
    socket.write = ((chunk: Buffer) => (sent.push(chunk), true)) as typeof socket.write;
    const stdin = Object.assign(new PassThrough(), { isTTY: false, setRawMode: () => undefined });
    const io = { stdin, stdout: new PassThrough(), stderr: new PassThrough() } as unknown as Io;
    const done = runSession(socket, io, { interactive: true, tty: false, forwardSignal: () => undefined, signals: new EventEmitter(), detachKeys: [0x10, 0x11] });
    stdin.write(Buffer.from([0x61, 0x10, 0x62, 0x10]));
    stdin.write(Buffer.from([0x11]));
    socket.destroy();
    const r = await done;
    expect(r.detached).toBe(true);
    const payload = Buffer.concat(sent.map((f) => f.subarray(5)));
    expect([...payload]).toEqual([0x61, 0x10, 0x62]);
  });
});
