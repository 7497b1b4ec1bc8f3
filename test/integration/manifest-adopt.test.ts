import { mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, corral, inspect, uniqueName } from '../support/corral.js';

const tmp = mkdtempSync('/var/tmp/corral-adopt-');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('manifests: networks, adoption, units', () => {
  it('creates the networks it names, adopts its containers after a move, and reports drift in its own units', async () => {
    const net = `mfnet-${process.pid}`;
    const name = uniqueName('adopt');
    mkdirSync(join(tmp, 'a'));
    mkdirSync(join(tmp, 'b'));
    const first = join(tmp, 'a', 'stack.yaml');
    const moved = join(tmp, 'b', 'stack.yaml');
    writeFileSync(first, `containers:\n  ${name}:\n    template: busybox\n    command: [sleep, "300"]\n    networks: [${net}]\n    restart: always\n    limits:\n      cpu: 250m\n      memory: 64Mi\n`);
    try {
      const plan = await corral(['plan', '-f', first]);
      expect(plan.exitCode).toBe(4);
      expect(plan.stdout).toMatch(new RegExp(`${net}\\s+\\+ network`));
      expect(plan.stdout).toMatch(/Plan: 1 network to create, 1 to create/);
      const applied = await corral(['apply', '-f', first]);
      expect(applied.exitCode, applied.stderr).toBe(0);
      expect((await corral(['network', 'ls', '-q'])).stdout.split('\n')).toContain(net);
      const before = await inspect(name);
      expect(Object.keys(before.networkSettings.networks)).toEqual([net]);

      // Changed outside the manifest with Docker's units: drift speaks the manifest's.
      expect((await corral(['update', '-m', '100m', '--cpus', '0.5', name])).exitCode).toBe(0);
      const drift = await corral(['drift', '-f', first]);
      expect(drift.exitCode).toBe(4);
      expect(drift.stdout).toContain('limits.cpus: 500m -> 250m');
      expect(drift.stdout).toContain('limits.memory: 100Mi -> 64Mi');
      expect((await corral(['apply', '-f', first])).exitCode).toBe(0);

      // Moved: the containers belong to the old path until --adopt takes them over, in place.
      renameSync(first, moved);
      const conflict = await corral(['plan', '-f', moved]);
      expect(conflict.stdout).toMatch(new RegExp(`${name}\\s+x conflict\\s+it belongs to ${first.replace(/[.]/g, '\\.')} \\(--adopt takes it over\\)`));
      const adoptPlan = await corral(['plan', '-f', moved, '--adopt']);
      expect(adoptPlan.stdout).toMatch(new RegExp(`${name}\\s+~ update\\s+labels:`));
      expect((await corral(['apply', '-f', moved, '--adopt'])).exitCode).toBe(0);
      const after = await inspect(name);
      expect(after.config.labels['corral.manifest']).toBe(moved);
      expect(after.state.pid).toBe(before.state.pid);
      expect((await corral(['plan', '-f', moved])).exitCode).toBe(0);
      expect((await corral(['delete', '-f', moved])).stdout).toBe(`${name}\n`);
    } finally {
      await corral(['rm', '-f', name]);
      await corral(['network', 'rm', net]);
    }
  }, 180_000);

  it('the crash-loop example\'s health check works in the busybox template', async () => {
    const file = join(ROOT, 'examples', 'crash-loop.yaml');
    expect((await corral(['validate', '-f', file])).exitCode).toBe(0);
    const text = readFileSync(file, 'utf8');
    const loop = /watchdog:[\s\S]*?command: \[sh, -c, "(.*)"\]/.exec(text)![1]!;
    const check = /test: \[CMD-SHELL, "(.*)"\]/.exec(text)![1]!;
    const name = uniqueName('watchdog');
    expect((await corral(['run', '-d', '--name', name, 'busybox', 'sh', '-c', loop])).exitCode).toBe(0);
    try {
      let r = await corral(['exec', name, 'sh', '-c', check]);
      for (let i = 0; r.exitCode !== 0 && i < 50; i++) r = await corral(['exec', name, 'sh', '-c', check]);
      expect(r.exitCode, r.stderr).toBe(0);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('docs and examples avoid what busybox-static lacks or crashes on (wget -T, pgrep)', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((n) => {
        const p = join(dir, n);
        return statSync(p).isDirectory() ? files(p) : /\.(md|ya?ml|json)$/.test(n) ? [p] : [];
      });
    const bad = [...files(join(ROOT, 'docs')), ...files(join(ROOT, 'examples'))].filter((f) => /wget[^\n]*\s-T\b|\bpgrep\b/.test(readFileSync(f, 'utf8')));
    expect(bad).toEqual([]);
  });
});
