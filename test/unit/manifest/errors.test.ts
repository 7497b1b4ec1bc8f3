import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.js';
import { ManifestError, checkManifest, formatIssue, parseManifest } from '../../../src/manifest/index.js';

/** Every error of `text` as `file:line:col: path: message; hint`. */
function errors(text: string, opts: Parameters<typeof checkManifest>[2] = {}): string[] {
  return checkManifest(text, 'm.yaml', opts).errors.map(formatIssue);
}

const web = (body: string) => `containers:\n  web:\n    template: busybox\n${body}`;

describe('schema errors point at the line, the column and the path', () => {
  it('unknown key, with the closest valid key', () => {
    expect(errors(web('    limits:\n      memroy: 256Mi\n'))).toEqual(['m.yaml:5:7: containers.web.limits.memroy: unknown key "memroy"; did you mean "memory"?']);
    expect(errors(web('    comand: [sh]\n'))).toEqual(['m.yaml:4:5: containers.web.comand: unknown key "comand"; did you mean "command"?']);
  });

  it('a key one level too high, and Compose spellings', () => {
    expect(errors(web('    memory: 256Mi\n'))).toEqual(['m.yaml:4:5: containers.web.memory: unknown key "memory"; did you mean "limits.memory"?']);
    expect(errors(web('    depends_on: [db]\n'))).toEqual(['m.yaml:4:5: containers.web.depends_on: unknown key "depends_on"; did you mean "dependsOn"?']);
    expect(errors(web('    environment: {A: b}\n'))).toEqual(['m.yaml:4:5: containers.web.environment: unknown key "environment"; did you mean "env"?']);
    expect(errors('services:\n  web: {template: busybox}\n')).toEqual([
      'm.yaml:1:1: missing required key "containers"; containers: a map of container names to containers',
      'm.yaml:1:1: services: unknown key "services"; corral calls them "containers"',
    ]);
  });

  it('wrong type', () => {
    expect(errors(web('    command: httpd -f\n'))).toEqual([
      'm.yaml:4:14: containers.web.command: expected a list of strings, e.g. [httpd, -f, -p, "8080"] (for a shell: [sh, -c, "..."]), got "httpd -f"',
    ]);
    expect(errors(web('    command: [httpd, -p, 8080]\n'))).toEqual(['m.yaml:4:26: containers.web.command[2]: expected a string (quote numbers: "8080"), got 8080; quote it: "8080"']);
    expect(errors(web('    readOnly: "yes"\n'))).toEqual(['m.yaml:4:15: containers.web.readOnly: expected true or false, got "yes"']);
    expect(errors(web('    limits:\n'))).toEqual(['m.yaml:4:5: containers.web.limits: expected a map, got nothing']);
  });

  it('missing required key, at the key of the map that lacks it', () => {
    expect(errors('containers:\n  web:\n    command: [sh]\n')).toEqual(['m.yaml:2:3: containers.web: missing required key "template"; template: a template name, e.g. busybox']);
  });

  it('enum, with a suggestion', () => {
    expect(errors(web('    restart: allways\n'))).toEqual([
      'm.yaml:4:14: containers.web.restart: expected a restart policy: no, always, unless-stopped, on-failure or on-failure:N, got "allways"; did you mean "always"?',
    ]);
    expect(errors(web('    capAdd: [NET_AMDIN]\n'))).toEqual([
      'm.yaml:4:14: containers.web.capAdd[0]: expected a capability name in capitals without CAP_, e.g. NET_ADMIN (see capabilities(7)), got "NET_AMDIN"; did you mean "NET_ADMIN"?',
    ]);
    const cond = 'containers:\n  db: {template: busybox, healthcheck: {test: "true"}}\n  web:\n    template: busybox\n    dependsOn:\n      db: {condition: helthy}\n';
    expect(errors(cond)).toEqual(['m.yaml:6:23: containers.web.dependsOn.db.condition: expected one of started, healthy, got "helthy"; did you mean "healthy"?']);
  });

  it('pattern and range', () => {
    expect(errors(web('    hostname: bad_host\n'))).toEqual([
      'm.yaml:4:15: containers.web.hostname: expected a hostname: letters, digits, \'-\' and \'.\', at most 63 characters, got "bad_host"',
    ]);
    expect(errors(web('    oomScoreAdj: 2000\n'))).toEqual(['m.yaml:4:18: containers.web.oomScoreAdj: expected a whole number from -1000 to 1000, got 2000']);
    expect(errors(web('    limits: {cpuWeight: 0}\n'))).toEqual(['m.yaml:4:25: containers.web.limits.cpuWeight: expected a whole number from 1 to 10000, got 0']);
    expect(errors('containers:\n  -web: {template: busybox}\n')).toEqual([
      'm.yaml:2:3: containers["-web"]: invalid key: expected a container name: 1-63 characters from [a-zA-Z0-9_.-], starting with a letter or digit, got "-web"',
    ]);
  });

  it('checks networks and ports, and refuses a host port published twice', () => {
    expect(errors(web('    ports: ["80"]\n'))[0]).toMatch(/^m\.yaml:4:13: containers\.web\.ports\[0\]: .*HOSTPORT:CTRPORT/);
    const two = 'containers:\n  a:\n    template: busybox\n    ports: ["8080:80"]\n  b:\n    template: busybox\n    ports: ["127.0.0.1:8080:8080", "9090:90/udp"]\n';
    expect(errors(two)).toEqual(['m.yaml:7:13: containers.b.ports[0]: host port 8080/tcp is already published by a (ports[0])']);
  });

  it('x- keys are ignored and carry anchors; << merges them', () => {
    const text = 'x-base: &base\n  template: busybox\n  init: true\ncontainers:\n  web:\n    <<: *base\n    init: false\n    x-note: anything\n';
    const spec = parseManifest(text, 'm.yaml');
    expect(spec.containers[0]!.request).toEqual({ name: 'web', template: 'busybox' });
  });
});

describe('YAML-level errors', () => {
  it('syntax errors, with positions', () => {
    expect(errors('containers:\n  web:\n\ttemplate: busybox\n')).toEqual(['m.yaml:3:1: Tabs are not allowed as indentation']);
    const [first] = errors('containers: [web\n');
    expect(first).toMatch(/^m\.yaml:\d+:\d+: /);
  });

  it('duplicate keys', () => {
    expect(errors(web('    template: alpine\n'))).toEqual(['m.yaml:4:5: containers.web.template: duplicate key "template" (first at line 3, column 5)']);
  });

  it('dangling and self-referring aliases, unknown tags', () => {
    expect(errors(web('    hostname: *nope\n'))).toEqual(['m.yaml:4:15: containers.web.hostname: alias *nope has no anchor &nope before it']);
    expect(errors('x-a: &a [*a]\n' + web(''))).toEqual(['m.yaml:1:10: x-a[0]: alias *a refers to a value that contains it']);
    expect(errors(web('    hostname: !host web\n'))).toEqual(['m.yaml:4:15: Unresolved tag: !host']);
  });

  it('an empty manifest', () => {
    expect(errors('')).toEqual(['m.yaml:1:1: the manifest is empty; declare containers: with at least one container']);
    expect(errors('# only a comment\n---\n')).toEqual(['m.yaml:1:1: the manifest is empty; declare containers: with at least one container']);
    expect(errors('containers: {}\n')).toEqual(['m.yaml:1:1: containers: expected a map of container names to containers with at least 1 entry, got none']);
  });
});

describe('semantic validators', () => {
  it('a name declared in two documents', () => {
    expect(errors('containers: {web: {template: busybox}}\n---\ncontainers:\n  web: {template: busybox}\n')).toEqual([
      'm.yaml:4:3: containers.web: container "web" is already declared (document 1, line 1, column 14); give each container its own name',
    ]);
  });

  it('unknown templates, when the caller knows the templates', () => {
    const text = 'containers:\n  web:\n    template: busybx\n';
    expect(errors(text)).toEqual([]);
    expect(errors(text, { templates: ['busybox', 'alpine'] })).toEqual(['m.yaml:3:15: containers.web.template: unknown template "busybx"; did you mean "busybox"?']);
    expect(errors('containers: {web: {template: debian}}\n', { templates: ['busybox'] })).toEqual([
      'm.yaml:1:30: containers.web.template: unknown template "debian"; known templates: busybox; make it with corral template build RECIPE --name debian, corral template load -i FILE --name debian or corral commit CONTAINER debian',
    ]);
    expect(errors('containers: {web: {template: debian}}\n', { templates: ['busybox'], unbuilt: ['debian'] })).toEqual([
      'm.yaml:1:30: containers.web.template: template "debian" is not built yet; build it first: corral template build debian',
    ]);
  });

  it('dependsOn targets must exist', () => {
    const text = 'containers:\n  db: {template: busybox}\n  web:\n    template: busybox\n    dependsOn: [dbb]\n';
    expect(errors(text)).toEqual(['m.yaml:5:17: containers.web.dependsOn.dbb: depends on "dbb", which this manifest does not declare; did you mean "db"?']);
  });

  it('condition: healthy needs a healthcheck', () => {
    const text = 'containers:\n  db: {template: busybox}\n  web:\n    template: busybox\n    dependsOn:\n      db: {condition: healthy}\n';
    expect(errors(text)).toEqual(['m.yaml:6:7: containers.web.dependsOn.db: waits for db to be healthy, but db has no healthcheck; add a healthcheck to db, or use condition: started']);
    const none = text.replace('db: {template: busybox}', 'db: {template: busybox, healthcheck: {test: [NONE]}}');
    expect(errors(none)).toHaveLength(1);
    expect(errors(text.replace('db: {template: busybox}', 'db: {template: busybox, healthcheck: {test: [CMD, "true"]}}'))).toEqual([]);
  });

  it('cycles are reported with their path', () => {
    const text = ['containers:', '  web: {template: busybox, dependsOn: [api]}', '  api: {template: busybox, dependsOn: [db]}', '  db:', '    template: busybox', '    dependsOn: [web]', ''].join('\n');
    expect(errors(text)).toEqual(['m.yaml:2:40: containers.web.dependsOn.api: dependsOn cycle: web -> api -> db -> web; no order can start these: remove one of the dependencies']);
    expect(errors('containers:\n  web: {template: busybox, dependsOn: [web]}\n')).toEqual([
      'm.yaml:2:40: containers.web.dependsOn.web: dependsOn cycle: web -> web; no order can start these: remove one of the dependencies',
    ]);
  });

  it('a cycle is found even when its containers have other errors', () => {
    const text = 'containers:\n  a: {template: busybox, dependsOn: [b], limits: {memory: 1k}}\n  b: {dependsOn: [a]}\n';
    const found = checkManifest(text, 'm.yaml').errors.map((e) => e.code);
    expect(found).toEqual(['cycle', 'quantity', 'required']);
  });

  it('memory, reservation and swap must agree', () => {
    expect(errors(web('    limits: {memory: 64Mi, memoryReservation: 128Mi}\n'))).toEqual(['m.yaml:4:47: containers.web.limits.memoryReservation: memoryReservation is more than memory (64 MiB)']);
    expect(errors(web('    limits: {swap: 1Gi}\n'))).toEqual(['m.yaml:4:20: containers.web.limits.swap: swap is memory plus swap: it needs memory too']);
    expect(errors(web('    limits: {memory: 1Gi, swap: 512Mi}\n'))).toEqual([
      'm.yaml:4:33: containers.web.limits.swap: swap is memory plus swap, so at least memory (1 GiB); unlimited for no swap limit; equal to memory for no swap',
    ]);
    expect(errors(web('    limits: {memory: 1Gi, swap: unlimited}\n'))).toEqual([]);
  });

  it('volumes, env, devices and healthchecks', () => {
    expect(errors(web('    volumes: [/srv:/proc/x, "/a:/data", "/b:/data:ro"]\n'))).toEqual([
      'm.yaml:4:15: containers.web.volumes[0]: /proc/x: /proc is managed by corral',
      'm.yaml:4:41: containers.web.volumes[2]: /data is mounted twice (first at volumes[1])',
    ]);
    expect(errors(web('    args: [-x]\n'))).toEqual(['m.yaml:4:5: containers.web.args: args without command: templates have no entrypoint to pass them to; put the program first in command: [prog, args...]']);
    expect(errors(web('    env: [A=1, B=2, A=3]\n'))).toEqual(['m.yaml:4:21: containers.web.env[2]: A is set twice (first at env[0])']);
    expect(errors(web('    limits:\n      io:\n        devices: [{path: /dev/vda, readBps: 1Mi}, {path: /dev/vda, writeIops: 10}]\n'))).toEqual([
      'm.yaml:6:58: containers.web.limits.io.devices[1].path: /dev/vda is throttled twice (first at devices[0]): give one entry per device',
    ]);
    expect(errors(web('    limits:\n      io:\n        devices: [{path: /dev/vda}]\n'))).toEqual([
      'm.yaml:6:19: containers.web.limits.io.devices[0]: expected a device with at least one of readBps, writeBps, readIops, writeIops, got a map',
    ]);
    expect(errors(web('    healthcheck: {test: [CMD], interval: 0s}\n'))).toEqual([
      'm.yaml:4:25: containers.web.healthcheck.test: [CMD] needs a program: [CMD, prog, args...]',
      'm.yaml:4:42: containers.web.healthcheck.interval: interval must be at least 100ms',
    ]);
  });
});

describe('every error of a file at once', () => {
  it('reports them all, in text order', () => {
    const text = [
      'containers:', //                          1
      '  web:', //                               2
      '    template: busybox', //                3
      '    restart: sometimes', //               4
      '    limits:', //                          5
      '      cpu: 500M', //                      6
      '      memory: 500m', //                   7
      '      pids: -1', //                       8
      '    dependsOn: [db]', //                  9
      '  api:', //                              10
      '    comand: [sh]', //                    11
      '',
    ].join('\n');
    expect(errors(text)).toEqual([
      'm.yaml:4:14: containers.web.restart: expected a restart policy: no, always, unless-stopped, on-failure or on-failure:N, got "sometimes"',
      'm.yaml:6:12: containers.web.limits.cpu: invalid cpu "500M": CPU takes cores (2, 0.5) or millicores (500m), not a M suffix; did you mean 500m (millicores)?',
      'm.yaml:7:15: containers.web.limits.memory: invalid memory "500m": that is 0.5 bytes (m means milli); did you mean 500Mi?',
      'm.yaml:8:13: containers.web.limits.pids: expected a whole number from 1 to 4194304, or unlimited, got -1',
      'm.yaml:9:17: containers.web.dependsOn.db: depends on "db", which this manifest does not declare',
      'm.yaml:10:3: containers.api: missing required key "template"; template: a template name, e.g. busybox',
      'm.yaml:11:5: containers.api.comand: unknown key "comand"; did you mean "command"?',
    ]);
  });

  it('parseManifest throws one ManifestError holding them', () => {
    const err = (() => {
      try {
        parseManifest('containers:\n  web: {template: busybox, limits: {memroy: 1Gi, cpu: x}}\n', 'web.yaml');
      } catch (e) {
        return e;
      }
      return undefined;
    })() as ManifestError;
    expect(err).toBeInstanceOf(ManifestError);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.code).toBe('validation');
    expect(err.issues.map((i) => [i.line, i.col, i.path, i.code])).toEqual([
      [2, 37, 'containers.web.limits.memroy', 'unknown-key'],
      [2, 55, 'containers.web.limits.cpu', 'quantity'],
    ]);
    expect(err.message.split('\n')).toEqual([
      'invalid manifest web.yaml: 2 errors',
      'web.yaml:2:37: containers.web.limits.memroy: unknown key "memroy"; did you mean "memory"?',
      'web.yaml:2:55: containers.web.limits.cpu: invalid cpu "x": use cores (2, 0.5) or millicores (500m)',
    ]);
  });
});
