import { describe, expect, it } from 'vitest';
import { tmpfsArgs } from '../../../src/namespaces/argv.js';
import { parseAddHost, parseLogOpts, parseShmSize, parseStopTimeout, parseTmpfsOptions, parseUlimits } from '../../../src/runtime/spec.js';

describe('issue 16 run flags, as the API validates them', () => {
  it('--ulimit: Docker names, soft[:hard], -1 unlimited; refuses the rest', () => {
    expect(parseUlimits(['nofile=1024:2048', 'nproc=64', 'core=-1'])).toEqual([
      { name: 'nofile', soft: 1024, hard: 2048 },
      { name: 'nproc', soft: 64, hard: 64 },
      { name: 'core', soft: -1, hard: -1 },
    ]);
    expect(() => parseUlimits(['nofile=10:5'])).toThrow(/soft limit is above/);
    expect(() => parseUlimits(['nofile=-1:5'])).toThrow(/soft limit is above/);
    expect(() => parseUlimits(['files=1'])).toThrow(/unknown name files/);
    expect(() => parseUlimits(['nofile=1', 'nofile=2'])).toThrow(/given twice/);
    expect(() => parseUlimits(['nofile'])).toThrow(/NAME=SOFT\[:HARD\]/);
  });

  it('--add-host NAME:IP or NAME=IP, IPv6 too; host-gateway refused', () => {
    expect(parseAddHost('db:10.0.0.2')).toEqual({ host: 'db', ip: '10.0.0.2' });
    expect(parseAddHost('v6:fd00::1')).toEqual({ host: 'v6', ip: 'fd00::1' });
    expect(parseAddHost('v6=[fd00::1]')).toEqual({ host: 'v6', ip: 'fd00::1' });
    expect(() => parseAddHost('db:notanip')).toThrow(/expected NAME:IP/);
    expect(() => parseAddHost('gw:host-gateway')).toThrow(/host-gateway/);
  });

  it('--shm-size, --stop-timeout and --log-opt', () => {
    expect(parseShmSize('256m')).toBe(256 * 1024 * 1024);
    expect(() => parseShmSize('4k')).toThrow(/at least 1m/);
    expect(parseStopTimeout('30')).toBe(30);
    expect(() => parseStopTimeout(-1)).toThrow(/0 to 86400/);
    expect(parseLogOpts({ 'max-size': '1m', 'max-file': '3' })).toEqual({ maxSize: 1024 * 1024, maxFiles: 3 });
    expect(() => parseLogOpts({ compress: 'true' })).toThrow(/unknown --log-opt "compress"/);
  });

  it('--tmpfs options normalized, and split into the shim\'s FLAGS and DATA', () => {
    expect(parseTmpfsOptions('', '/t')).toBe('mode=1777,noexec');
    expect(parseTmpfsOptions('size=1m,exec,mode=700,ro', '/t')).toBe('mode=700,size=1048576,ro');
    expect(() => parseTmpfsOptions('suid', '/t')).toThrow(/option "suid"/);
    expect(() => parseTmpfsOptions('mode=999', '/t')).toThrow(/octal mode/);
    expect(tmpfsArgs('mode=1777,size=1048576,noexec', false)).toEqual(['noexec', 'mode=1777,size=1048576']);
    expect(tmpfsArgs('mode=700', true)).toEqual(['ro', 'mode=700']);
  });
});
