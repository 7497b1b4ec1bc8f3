import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, corral, inspect, installation, sleep } from '../support/corral.js';

const ex = (f: string) => join(ROOT, 'examples', f);
const tmp = mkdtempSync('/var/tmp/corral-manifest-');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function stateDirs(): string[] {
  try {
    return readdirSync(join(installation().dataRoot, 'containers')).sort();
  } catch {
    return [];
  }
}

describe('manifests', () => {
  it('applies the web stack in dependency order, a second apply does nothing, and delete removes it', async () => {
    const plan = await corral(['plan', '-f', ex('web-stack.yaml')]);
    expect(plan.exitCode).toBe(4);
    expect(plan.stdout).toMatch(/db\s+\+ create[\s\S]*api\s+\+ create[\s\S]*web\s+\+ create/);
    const apply = await corral(['apply', '-f', ex('web-stack.yaml')], { timeoutMs: 120_000 });
    try {
      expect(apply.exitCode).toBe(0);
      expect(apply.stderr).toMatch(/db: creating\nwaiting for db to be healthy\napi: creating\nwaiting for api to be healthy\nweb: creating/);
      const [db, api, web] = await Promise.all(['db', 'api', 'web'].map(inspect));
      expect(Date.parse(db.state.startedAt)).toBeLessThan(Date.parse(api.state.startedAt));
      expect(Date.parse(api.state.startedAt)).toBeLessThan(Date.parse(web.state.startedAt));
      expect(api.limits.find((l: any) => l.limit === 'memory')?.value).toBe('536870912');
      expect(db.config.restartPolicy).toEqual({ name: 'unless-stopped', maxRetries: null });
      expect(db.config.labels['corral.manifest']).toBe(ex('web-stack.yaml'));
      const ps = await corral(['ps']);
      expect(ps.stdout.split('\n')[0]).toMatch(/MANIFEST$/);
      expect(ps.stdout).toMatch(/ db .*web-stack\.yaml$/m);
      expect(JSON.parse((await corral(['ps', '--format', 'json'])).stdout).find((c: any) => c.name === 'db').manifest).toBe(ex('web-stack.yaml'));
      const again = await corral(['apply', '-f', ex('web-stack.yaml')]);
      expect(again.exitCode).toBe(0);
      expect(again.stdout).toMatch(/No changes/);
      expect((await inspect('db')).state.pid).toBe(db.state.pid);

      // Changed outside the manifest: drift sees it, apply puts it back live (same pid).
      await corral(['update', '--memory', '300m', 'api']);
      const drift = await corral(['drift', '-f', ex('web-stack.yaml')]);
      expect(drift.exitCode).toBe(4);
      expect(drift.stdout).toMatch(/api\s+~ update\s+limits\.memory: 300Mi -> 512Mi \(changed outside the manifest\)/);
      expect((await corral(['apply', '-f', ex('web-stack.yaml')])).exitCode).toBe(0);
      const apiAfter = await inspect('api');
      expect(apiAfter.state.pid).toBe(api.state.pid);
      expect(apiAfter.limits.find((l: any) => l.limit === 'memory')?.value).toBe('536870912');
      expect((await corral(['drift', '-f', ex('web-stack.yaml')])).exitCode).toBe(0);

      // A change a running process cannot take is a recreate.
      const changed = join(tmp, 'web-stack.yaml');
      writeFileSync(changed, readFileSync(ex('web-stack.yaml'), 'utf8').replace('API_WORKERS: 4', 'API_WORKERS: 8'));
      const p2 = await corral(['plan', '-f', changed, '--project', 'shop']);
      // A different owner (project) than the applied manifest: a conflict, and apply refuses.
      expect(p2.stdout).toMatch(/x conflict/);
      expect((await corral(['apply', '-f', changed, '--project', 'shop'])).exitCode).not.toBe(0);
    } finally {
      const del = await corral(['delete', '-f', ex('web-stack.yaml')]);
      expect(del.stdout).toBe('web\napi\ndb\n');
    }
    expect((await corral(['ps', '-a'])).stdout).not.toMatch(/\b(db|api|web)\b/);
  }, 180_000);

  it('recreates on a command change, updates in place on a limit change, prunes what left the manifest', async () => {
    const file = join(tmp, 'svc.yaml');
    const write = (cmd: string, mem: string, extra = '') =>
      writeFileSync(file, `containers:\n  svc-a:\n    template: busybox\n    command: [sh, -c, "${cmd}"]\n    limits: {memory: ${mem}}\n${extra}`);
    write('sleep 300', '64Mi', '  svc-b:\n    template: busybox\n    command: [sleep, "300"]\n');
    expect((await corral(['apply', '-f', file])).exitCode).toBe(0);
    try {
      const pid = (await inspect('svc-a')).state.pid;
      write('sleep 300', '96Mi', '  svc-b:\n    template: busybox\n    command: [sleep, "300"]\n');
      const up = await corral(['apply', '-f', file]);
      expect(up.stdout).toMatch(/svc-a\s+~ update\s+limits\.memory: 64Mi -> 96Mi/);
      expect((await inspect('svc-a')).state.pid).toBe(pid);
      write('sleep 301', '96Mi', '  svc-b:\n    template: busybox\n    command: [sleep, "300"]\n');
      const re = await corral(['apply', '-f', file]);
      expect(re.stdout).toMatch(/svc-a\s+! recreate\s+command:/);
      expect((await inspect('svc-a')).state.pid).not.toBe(pid);
      write('sleep 301', '96Mi');
      expect((await corral(['plan', '-f', file])).stdout).not.toMatch(/svc-b/);
      const pruned = await corral(['apply', '--prune', '-f', file]);
      expect(pruned.stdout).toMatch(/svc-b\s+- delete/);
      expect((await corral(['ps', '-a'])).stdout).not.toMatch(/svc-b/);
    } finally {
      await corral(['rm', '-f', 'svc-a', 'svc-b']);
    }
  });

  it('runs the batch job once and the crash loop under its restart policy', async () => {
    expect((await corral(['apply', '-f', ex('batch-job.yaml')])).exitCode).toBe(0);
    try {
      for (let i = 0; i < 100 && (await inspect('usr-bin-audit')).state.status === 'running'; i++) await sleep(200);
      const audit = await inspect('usr-bin-audit');
      expect(audit.state).toMatchObject({ status: 'exited', exitCode: 0 });
      expect((await corral(['logs', '--tail', '1', 'usr-bin-audit'])).stdout).toMatch(/^[0-9a-f]{64}\s+\.\//);
      // A finished one-shot is not started again.
      expect((await corral(['plan', '-f', ex('batch-job.yaml')])).exitCode).toBe(0);
    } finally {
      await corral(['delete', '-f', ex('batch-job.yaml')]);
    }
    expect((await corral(['apply', '-f', ex('crash-loop.yaml')])).exitCode).toBe(0);
    try {
      for (let i = 0; i < 100 && (await inspect('flaky-worker')).state.restartCount < 1; i++) await sleep(200);
      expect((await inspect('flaky-worker')).state.restartCount).toBeGreaterThanOrEqual(1);
      expect((await inspect('watchdog')).state.status).toBe('running');
    } finally {
      await corral(['delete', '-f', ex('crash-loop.yaml')]);
    }
  }, 120_000);

  it('reads -f - with --project, and explains limits in kernel terms', async () => {
    const yaml = 'containers:\n  stdin-svc:\n    template: busybox\n    command: [sleep, "300"]\n    limits: {cpu: 500m, memory: 256Mi}\n';
    expect((await corral(['validate', '-f', '-', '--project', 'p1'], { input: yaml })).exitCode).toBe(0);
    const ex1 = await corral(['explain', '-f', '-', '--project', 'p1'], { input: yaml });
    expect(ex1.stdout).toMatch(/cpu 500m -> cpu\.max "50000 100000"/);
    expect(ex1.stdout).toMatch(/memory 256Mi -> memory\.max 268435456/);
    expect((await corral(['apply', '-f', '-', '--project', 'p1'], { input: yaml })).exitCode).toBe(0);
    try {
      expect((await inspect('stdin-svc')).config.labels['corral.manifest']).toBe('stdin:p1');
    } finally {
      expect((await corral(['delete', '-f', '-', '--project', 'p1'], { input: yaml })).stdout).toBe('stdin-svc\n');
    }
    expect((await corral(['apply', '-f', '-'], { input: yaml })).stderr).toMatch(/--project/);
  });

  it('publishes ports and joins networks from the manifest', async () => {
    const file = join(tmp, 'net.yaml');
    const port = 20000 + (process.pid % 10000);
    writeFileSync(file, `containers:\n  mf-web:\n    template: busybox\n    command: [sh, -c, "echo manifest-web > /tmp/i.html; exec httpd -f -p 80 -h /tmp"]\n    ports: ["127.0.0.1:${port}:80"]\n    aliases: [frontend]\n  mf-client:\n    template: busybox\n    command: [sleep, "300"]\n`);
    expect((await corral(['apply', '-f', file])).exitCode).toBe(0);
    try {
      await sleep(300);
      const body = await new Promise<string>((resolve, reject) => {
        import('node:http').then(({ get }) => get(`http://127.0.0.1:${port}/i.html`, (res) => {
          let t = '';
          res.on('data', (d) => (t += d));
          res.on('end', () => resolve(t));
        }).on('error', reject));
      });
      expect(body).toBe('manifest-web\n');
      const byAlias = await corral(['exec', 'mf-client', 'sh', '-c', 'timeout 5 wget -qO- http://frontend/i.html']);
      expect(byAlias.stdout).toBe('manifest-web\n');
      expect((await inspect('mf-web')).config.labels['corral.manifest']).toBe(file);
    } finally {
      await corral(['delete', '-f', file]);
    }
  });

  it('reports every error with file:line:col and changes nothing (exit 2)', async () => {
    const file = join(tmp, 'bad.yaml');
    writeFileSync(file, 'containers:\n  bad:\n    template: busybox\n    limits:\n      memroy: 1Gi\n      cpu: lots\n  worse:\n    template: nope\n');
    const before = stateDirs();
    const r = await corral(['apply', '-f', file]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${file}:5:7: containers\\.bad\\.limits\\.memroy: .*did you mean "memory"`));
    expect(r.stderr).toMatch(new RegExp(`${file}:6:\\d+: containers\\.bad\\.limits\\.cpu`));
    expect(r.stderr).toMatch(/template.*nope/);
    expect(stateDirs()).toEqual(before);
  });

  it('a few thousand mutated manifests: each one exit 2 with a positioned error, the host unchanged', async () => {
    const { runCli } = await import(join(ROOT, 'dist/cli/program.js'));
    const { checkManifest } = await import(join(ROOT, 'dist/manifest/index.js'));
    const sources = ['web-stack.yaml', 'batch-job.yaml', 'crash-loop.yaml'].map((f) => readFileSync(ex(f), 'utf8'));
    let x = 12345;
    const rnd = (n: number) => ((x = (x * 1103515245 + 12345) & 0x7fffffff), x % n);
    const mutations: ((s: string) => string)[] = [
      (s) => s.replace(/memory: \S+/, 'memory: 500m'),
      (s) => s.replace(/template: busybox/, 'template: [busybox]'),
      (s) => s.replace(/limits:/, 'limitz:'),
      (s) => s.replace(/cpu: \S+/, `cpu: ${['-1', 'x', '1e999', '0'][rnd(4)]}`),
      (s) => s.replace(/restart: \S+/, 'restart: sometimes'),
      (s) => s.replace(/\n {4}(\w+):/, '\n    $1: {bad: [}'),
      (s) => s.replace(/containers:/, 'containers: 7\nextra:'),
      (s) => s.replace(/dependsOn: \[flaky-worker\]/, 'dependsOn: [watchdog]').replace(/command: \[sh, -c, "while/, 'dependsOn: [watchdog]\n    command: [sh, -c, "while'),
      (s) => s.slice(0, rnd(s.length)) + '\t:\n',
      (s) => s.replace(/pids: \d+/, 'pids: many'),
    ];
    const io = () => {
      const chunks: string[] = [];
      const sink = { write: (t: string) => (chunks.push(String(t)), true), isTTY: false } as unknown as NodeJS.WriteStream;
      return { io: { stdin: process.stdin, stdout: sink, stderr: sink, env: { ...process.env, CORRAL_DATA_ROOT: installation().dataRoot, CORRAL_RUN_ROOT: installation().runRoot, CORRAL_CGROUP_PARENT: installation().cgroupParent } }, text: () => chunks.join('') };
    };
    const before = stateDirs();
    const file = join(tmp, 'mutant.yaml');
    let n = 0;
    for (let i = 0; i < 2000; i++) {
      const src = sources[rnd(sources.length)]!;
      const m1 = mutations[rnd(mutations.length)]!(src);
      const mutated = rnd(3) === 0 ? mutations[rnd(mutations.length)]!(m1) : m1;
      if (mutated === src) continue;
      // A mutation that happens to stay valid (a harmless cut) is not what this test is about.
      if (checkManifest(mutated, file, { templates: ['busybox'] }).errors.length === 0) continue;
      writeFileSync(file, mutated);
      const o = io();
      const code = await runCli(['apply', '-f', file], o.io);
      n++;
      if (code !== 2) expect(o.text()).toBe(`exit 2, not ${code}`);
      expect(o.text()).toMatch(/mutant\.yaml:\d+:\d+: /);
    }
    expect(n).toBeGreaterThan(1500);
    expect(stateDirs()).toEqual(before);
  }, 180_000);
});
