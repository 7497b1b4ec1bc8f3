import { describe, expect, it } from 'vitest';
import { canonicalJson, containerConfigHash, parseManifest } from '../../../src/manifest/index.js';

const parse = (text: string, baseDir = '/srv/app') => parseManifest(text, '/srv/app/m.yaml', { baseDir });

describe('the typed spec', () => {
  it('a CreateRequest per container, with restart and healthcheck as corrald reads them and dependsOn typed alongside', () => {
    const spec = parse(`
containers:
  web:
    template: busybox
    command: [httpd, -f]
    args: [-p, "8080"]
    env: {A: "1", B: 2, C: true, D: }
    envFile: [./web.env, /etc/common.env]
    workdir: /www/./srv//
    user: 1000
    hostname: www.example
    volumes:
      - ./site:/www:ro
      - {source: /data, target: /data}
    capAdd: [NET_ADMIN]
    capDrop: [MKNOD]
    readOnly: true
    init: false
    labels: {tier: front, version: 1.10}
    restart: on-failure:3
    healthcheck: {test: [CMD, wget, -q, http://127.0.0.1/]}
    dependsOn: {db: {condition: healthy}, cache: }
  db: {template: busybox, healthcheck: {test: "true"}}
  cache: {template: busybox}
`);
    const web = spec.containers[0]!;
    expect(web.request).toEqual({
      name: 'web',
      template: 'busybox',
      command: ['httpd', '-f', '-p', '8080'],
      env: ['A=1', 'B=2', 'C=true'],
      workdir: '/www/srv/',
      user: '1000',
      hostname: 'www.example',
      volumes: [
        { source: '/srv/app/site', target: '/www', readOnly: true },
        { source: '/data', target: '/data', readOnly: false },
      ],
      capAdd: ['NET_ADMIN'],
      capDrop: ['MKNOD'],
      readOnly: true,
      labels: { tier: 'front', version: '1.10' },
      restart: 'on-failure:3',
      healthcheck: { test: ['wget', '-q', 'http://127.0.0.1/'], interval: '30000ms', timeout: '30000ms', retries: 3, startPeriod: '0ms', onFailure: 'none' },
    });
    expect(web.inheritEnv).toEqual(['D']);
    expect(web.envFiles).toEqual(['/srv/app/web.env', '/etc/common.env']);
    expect(web.restart).toEqual({ name: 'on-failure', maxRetries: 3 });
    expect(web.healthcheck).toEqual({ test: ['wget', '-q', 'http://127.0.0.1/'], intervalMs: 30000, timeoutMs: 30000, retries: 3, startPeriodMs: 0, onFailure: 'none' });
    expect(web.dependsOn).toEqual([
      { name: 'cache', condition: 'started' },
      { name: 'db', condition: 'healthy' },
    ]);
    expect(web.source).toEqual({ file: '/srv/app/m.yaml', line: 3, col: 3 });
    expect(spec.containers.map((c) => c.restart)).toEqual([{ name: 'on-failure', maxRetries: 3 }, { name: 'no', maxRetries: null }, { name: 'no', maxRetries: null }]);
    expect(spec.containers.map((c) => c.request.restart)).toEqual(['on-failure:3', undefined, undefined]);
  });

  it('env as a list; Docker\'s healthcheck forms become the argv corrald runs', () => {
    const spec = parse(`
containers:
  a: {template: busybox, env: [A=1, B, C=x=y], healthcheck: {test: [CMD-SHELL, "exit 0"]}}
  b: {template: busybox, healthcheck: {test: [NONE]}}
  c: {template: busybox, healthcheck: {test: [pgrep, x]}}
`);
    expect(spec.containers[0]!.request.env).toEqual(['A=1', 'C=x=y']);
    expect(spec.containers[0]!.inheritEnv).toEqual(['B']);
    expect(spec.containers.map((c) => c.healthcheck?.test)).toEqual([['sh', '-c', 'exit 0'], undefined, ['pgrep', 'x']]);
    expect(spec.containers[1]!.request.healthcheck).toBeUndefined();
  });

  it('relative host paths are relative to the manifest, by default', () => {
    const spec = parseManifest('containers: {web: {template: busybox, volumes: ["../data:/data"]}}\n', '/srv/app/conf/m.yaml');
    expect(spec.containers[0]!.request.volumes).toEqual([{ source: '/srv/app/data', target: '/data', readOnly: false }]);
  });

  it('a start order from dependsOn, ties in declaration order', () => {
    const spec = parse(`
containers:
  web: {template: busybox, dependsOn: [api, assets]}
  worker: {template: busybox, dependsOn: [db]}
  api: {template: busybox, dependsOn: {db: {condition: started}}}
  assets: {template: busybox}
  db: {template: busybox}
`);
    expect(spec.startLevels).toEqual([['assets', 'db'], ['worker', 'api'], ['web']]);
    expect(spec.startOrder).toEqual(['assets', 'db', 'worker', 'api', 'web']);
  });

  it('containers from several documents, in order', () => {
    const spec = parse('containers: {b: {template: busybox}}\n---\ncontainers: {a: {template: busybox, dependsOn: [b]}}\n');
    expect(spec.containers.map((c) => c.name)).toEqual(['b', 'a']);
    expect(spec.startOrder).toEqual(['b', 'a']);
  });
});

describe('hashes for plan and drift', () => {
  const base = `
containers:
  web:
    template: busybox
    env: {A: "1", B: "2"}
    labels: {x: "1", y: "2"}
    limits: {memory: 256Mi, cpu: 500m}
  db: {template: busybox}
`;

  it('stable across formatting, key order, units and default values', () => {
    const a = parse(base);
    const b = parse(`# reformatted
containers:
  db:
    template: busybox
    restart: "no"
  web: {limits: {cpu: "0.5", memory: 268435456}, labels: {y: "2", x: "1"}, env: [B=2, A=1], template: busybox, readOnly: false}
`);
    expect(b.containers.find((c) => c.name === 'web')!.configHash).toBe(a.containers.find((c) => c.name === 'web')!.configHash);
    expect(b.manifestHash).toBe(a.manifestHash);
    expect(a.manifestHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes with any value', () => {
    const a = parse(base);
    for (const changed of [base.replace('256Mi', '256M'), base.replace('A: "1"', 'A: "2"'), base.replace('db: {template: busybox}', 'db: {template: busybox, init: true}')]) {
      expect(parse(changed).manifestHash).not.toBe(a.manifestHash);
    }
    const web = a.containers[0]!;
    expect(containerConfigHash({ ...web, request: { ...web.request, env: ['A=1', 'B=3'] } })).not.toBe(web.configHash);
  });

  it('canonical JSON sorts keys and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: [{ d: undefined, c: 'x' }], e: null })).toBe('{"a":[{"c":"x"}],"b":1,"e":null}');
  });
});
