import { existsSync, readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MASKED_DIRECTORIES, MASKED_FILES } from '../../src/security/masked-paths.js';
import { corral, inspect, uniqueName } from '../support/corral.js';

/**
 * Host-wide /proc and /sys files are /dev/null inside a container (empty; writes go nowhere, as in
 * Docker); masked directories are empty read-only tmpfs mounts; `inspect` lists every one. Paths this kernel does
 * not have are skipped by the shim and here.
 */
const files = MASKED_FILES.filter((p) => existsSync(p));
const dirs = MASKED_DIRECTORIES.filter((p) => existsSync(p) && statSync(p).isDirectory());

describe('masked paths', () => {
  it('the paths added to Docker\'s list exist on this host and show host data there', () => {
    expect(files).toEqual(expect.arrayContaining(['/proc/interrupts', '/sys/kernel/vmcoreinfo', '/proc/slabinfo']));
    expect(dirs).toEqual(expect.arrayContaining(['/sys/kernel/debug', '/sys/kernel/tracing', '/sys/kernel/security']));
    expect(readFileSync('/proc/interrupts', 'utf8')).toMatch(/CPU0/);
    expect(readFileSync('/sys/kernel/vmcoreinfo', 'utf8')).toMatch(/^0x[0-9a-f]+ \d+/);
  });

  it('inside a container each masked file is /dev/null (reads empty, writes go nowhere); each masked directory is an empty read-only tmpfs', async () => {
    const script = [
      ...files.map((f) => `echo "${f} $(wc -c < ${f}) $(stat -c %t:%T ${f})"`),
      ...dirs.map((d) => `echo "${d} $(ls -A ${d} | wc -l) $(touch ${d}/x 2>/dev/null && echo written || echo refused) $(grep " ${d} " /proc/self/mountinfo | sed 's/.* - //' | cut -d' ' -f1)"`),
    ].join('\n');
    const r = await corral(['run', '--rm', 'busybox', 'sh', '-c', script]);
    expect(r.exitCode, r.stderr).toBe(0);
    const got = r.stdout.trim().split('\n');
    // A file is /dev/null itself (char 1:3): what is written there goes nowhere.
    expect(got).toEqual([...files.map((f) => `${f} 0 1:3`), ...dirs.map((d) => `${d} 0 refused tmpfs`)]);
  });

  it('corral inspect lists every masked path: files under /dev/null, directories as read-only tmpfs', async () => {
    const name = uniqueName('masked');
    expect((await corral(['create', '--name', name, 'busybox', 'true'])).exitCode).toBe(0);
    try {
      const mounts = (await inspect(name)).mounts as { type: string; source: string; destination: string; options: string[] }[];
      const masked = mounts.filter((m) => m.options.includes('masked'));
      for (const f of MASKED_FILES) expect(masked).toContainEqual({ type: 'bind', source: '/dev/null', destination: f, options: ['masked'] });
      for (const d of MASKED_DIRECTORIES) expect(masked).toContainEqual({ type: 'tmpfs', source: 'tmpfs', destination: d, options: ['masked', 'ro'] });
      expect(masked.length).toBe(MASKED_FILES.length + MASKED_DIRECTORIES.length);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });
});
