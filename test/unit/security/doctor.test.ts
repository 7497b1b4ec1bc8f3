import { describe, expect, it } from 'vitest';
import { parseProbe, usernsDefaultCheck } from '../../../src/security/doctor.js';

describe('corral doctor: isolation lines', () => {
  it('reads corral-shim probe lines, messages included, and ignores anything else', () => {
    const out = 'userns ok\nidmap fail idmapped mount of /x/.corral-probe-1/lower: mount_setattr: Invalid argument\noverlay skip\nnoise\n';
    expect(parseProbe(out)).toEqual([
      { step: 'userns', status: 'ok', message: '' },
      { step: 'idmap', status: 'fail', message: 'idmapped mount of /x/.corral-probe-1/lower: mount_setattr: Invalid argument' },
      { step: 'overlay', status: 'skip', message: '' },
    ]);
  });

  it('a private default on a data root that cannot be idmapped fails; host warns; private on an idmappable one is ok', () => {
    expect(usernsDefaultCheck('private', 'corrald pid 1', false).status).toBe('fail');
    expect(usernsDefaultCheck('host', 'corrald pid 1', true)).toMatchObject({ status: 'warn', detail: expect.stringContaining('their root is host root') });
    expect(usernsDefaultCheck('private', 'corrald pid 1', true)).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^private \(corrald pid 1\)/) });
  });
});
