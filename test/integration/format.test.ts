import { describe, expect, it } from 'vitest';
import { corral, uniqueName } from '../support/corral.js';

describe('--format Go templates and ps filters', () => {
  it('ps, inspect, network ls, template ls and stats take Go templates; an unknown field is a usage error', async () => {
    const name = uniqueName('fmt');
    await corral(['run', '-d', '--name', name, '-l', 'app=web', 'busybox', 'sleep', '300']);
    try {
      const names = await corral(['ps', '--filter', `name=^${name}$`, '--format', '{{.Names}} {{.Image}} {{.State}} {{.Label "app"}}']);
      expect(names.stdout).toBe(`${name} busybox running web\n`);
      const table = await corral(['ps', '--filter', `name=^${name}$`, '--format', 'table {{.ID}}\\t{{.Names}}']);
      const [header, row] = table.stdout.split('\n');
      expect(header).toMatch(/^CONTAINER ID\s+NAMES$/);
      expect(row).toMatch(new RegExp(`^[0-9a-f]{12}\\s+${name}$`));
      const json = JSON.parse((await corral(['ps', '--filter', `name=^${name}$`, '--format', '{{json .}}'])).stdout);
      expect(json).toMatchObject({ Names: name, Image: 'busybox', Labels: 'app=web', State: 'running' });

      const insp = await corral(['inspect', '-f', '{{.State.Status}} {{.Name}} {{.Config.Hostname}} {{if .State.Running}}up{{end}} {{len .Id}}', name]);
      expect(insp.stdout).toBe(`running ${name} ${name} up 64\n`);
      const ip = (await corral(['inspect', '--format', '{{.NetworkSettings.IPAddress}}', name])).stdout.trim();
      expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect((await corral(['inspect', '-f', '{{range .Config.Command}}[{{.}}]{{end}}', name])).stdout).toBe('[sleep][300]\n');

      const bad = await corral(['inspect', '-f', '{{.State.Stauts}}', name]);
      expect(bad.exitCode).toBe(2);
      expect(bad.stderr).toMatch(/no field Stauts in \.State/);
      const badPs = await corral(['ps', '--format', '{{.Nmes}}']);
      expect(badPs.exitCode).toBe(2);
      expect(badPs.stderr).toMatch(/no field Nmes in a container/);
      expect((await corral(['ps', '--format', '{{.Names'])).exitCode).toBe(2);

      expect((await corral(['network', 'ls', '--format', '{{.Name}}:{{.Driver}}'])).stdout).toMatch(/^bridge:bridge$/m);
      expect((await corral(['template', 'ls', '--format', '{{.Name}} {{.Status}}'])).stdout).toMatch(/^busybox ready$/m);
      const st = await corral(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', name]);
      expect(st.stdout).toMatch(new RegExp(`^${name} 1 / \\d+\\n$`));
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('ps --filter: same keys OR, different keys AND; -n, -l, --no-trunc, -q', async () => {
    const tag = uniqueName('flt');
    const a = `${tag}-a`;
    const b = `${tag}-b`;
    const c = `${tag}-c`;
    await corral(['run', '-d', '--name', a, '-l', `grp=${tag}`, '-l', 'tier=web', 'busybox', 'sleep', '300']);
    await corral(['run', '--name', b, '-l', `grp=${tag}`, '-l', 'tier=db', 'busybox', 'sh', '-c', 'exit 3']);
    await corral(['create', '--name', c, '-l', `grp=${tag}`, 'busybox', 'true']);
    try {
      const names = async (...args: string[]): Promise<string[]> => (await corral(['ps', ...args, '--format', '{{.Names}}'])).stdout.split('\n').filter(Boolean).sort();
      expect(await names('--filter', `label=grp=${tag}`)).toEqual([a]);
      expect(await names('-a', '--filter', `label=grp=${tag}`)).toEqual([a, b, c]);
      // label filters all have to match, as in Docker
      expect(await names('-a', '--filter', `label=grp=${tag}`, '--filter', 'label=tier=db')).toEqual([b]);
      expect(await names('-a', '--filter', `label=grp=${tag}`, '--filter', 'label=tier=web', '--filter', 'label=tier=db')).toEqual([]);
      expect(await names('--filter', `label=grp=${tag}`, '--filter', 'status=exited')).toEqual([b]);
      expect(await names('--filter', `label=grp=${tag}`, '--filter', 'status=exited', '--filter', 'status=created')).toEqual([b, c]);
      expect(await names('--filter', `label=grp=${tag}`, '--filter', 'exited=3')).toEqual([b]);
      expect(await names('-a', '--filter', `name=^${tag}-[ab]$`)).toEqual([a, b]);
      expect(await names('-a', '--filter', `label=grp=${tag}`, '--filter', 'ancestor=busybox', '--filter', 'label=tier')).toEqual([a, b]);
      expect(await names('-a', '--filter', `label=grp=${tag}`, '--filter', 'template=nope')).toEqual([]);
      expect(await names('-l')).toEqual([c]);
      expect(await names('-n', '2')).toEqual([b, c]);
      const id = (await corral(['ps', '-l', '-q', '--no-trunc'])).stdout.trim();
      expect(id).toMatch(/^[0-9a-f]{64}$/);
      expect(await names('-a', '--filter', `id=${id.slice(0, 10)}`)).toEqual([c]);
      expect((await corral(['ps', '-l', '-q'])).stdout.trim()).toBe(id.slice(0, 12));
      expect((await corral(['ps', '-l', '--no-trunc'])).stdout).toContain(id);
      expect((await corral(['ps', '--filter', 'colour=red'])).exitCode).toBe(2);
    } finally {
      await corral(['rm', '-f', a, b, c]);
    }
  });
});
