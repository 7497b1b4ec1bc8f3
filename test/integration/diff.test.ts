import { describe, expect, it } from 'vitest';
import { corral, uniqueName } from '../support/corral.js';

describe('corral diff', () => {
  it('lists added, changed and deleted paths of the writable layer as A/C/D lines', async () => {
    const name = uniqueName('diff');
    const script = [
      'mkdir -p /srv/app && echo hi > /srv/app/conf', // added (in the template's /srv)
      'echo extra:x:999: >> /etc/group', // changed
      'rm /bin/ls', // a whiteout
      'rm -rf /usr/local && mkdir /usr/local && touch /usr/local/only', // an opaque directory
    ].join('; ');
    const run = await corral(['run', '--name', name, 'busybox', 'sh', '-c', script]);
    expect(run.exitCode).toBe(0);
    try {
      const r = await corral(['diff', name]);
      expect(r.exitCode).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines).toEqual(expect.arrayContaining(['C /srv', 'A /srv/app', 'A /srv/app/conf', 'C /etc', 'C /etc/group', 'C /bin', 'D /bin/ls', 'C /usr', 'C /usr/local', 'A /usr/local/only', 'D /usr/local/bin', 'D /usr/local/sbin']));
      // Sorted by path, each path once, nothing untouched listed.
      expect([...lines].sort((a, b) => (a.slice(2) < b.slice(2) ? -1 : 1))).toEqual(lines);
      expect(new Set(lines.map((l) => l.slice(2))).size).toBe(lines.length);
      expect(lines.some((l) => l.endsWith(' /bin/sh'))).toBe(false);
      for (const l of lines) expect(l).toMatch(/^[ACD] \//);
      const json = JSON.parse((await corral(['diff', '--format', 'json', name])).stdout);
      expect(json).toContainEqual({ path: '/bin/ls', kind: 'D' });
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('is empty for a container that changed nothing', async () => {
    const name = uniqueName('diff-none');
    await corral(['create', '--name', name, 'busybox', 'true']);
    try {
      expect(await corral(['diff', name])).toMatchObject({ exitCode: 0, stdout: '' });
    } finally {
      await corral(['rm', '-f', name]);
    }
  });
});
