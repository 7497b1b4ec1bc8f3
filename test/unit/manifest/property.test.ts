import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { ManifestError, type ManifestIssue, formatIssue, parseManifest } from '../../../src/manifest/index.js';

/**
 * Property: every malformed manifest made by mutating an example yields at least one error with a
 * line and a column (and the expected kind of error at the mutated path), and parseManifest never
 * throws anything but a ManifestError. Seeded, so a failure reproduces.
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const root = join(import.meta.dirname, '../../..');
const examples = readdirSync(join(root, 'examples'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => ({
    file: f,
    // Plain data with anchors and merge keys resolved, to mutate and write back out.
    docs: parseAllDocuments(readFileSync(join(root, 'examples', f), 'utf8'), { merge: true }) as unknown as { toJS(): Json }[],
  }))
  .map(({ file, docs }) => ({ file, docs: (Array.isArray(docs) ? docs : []).map((d) => d.toJS() as Obj) }));

function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Case {
  docs: Obj[];
  /** The mutated path, formatted as issues format it. */
  path: string;
  /** What must be among the errors. */
  expect: (i: ManifestIssue) => boolean;
  what: string;
}

const clone = <T>(x: T): T => structuredClone(x);
const under = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);

class Mutator {
  constructor(readonly rnd: () => number) {}
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)]!;
  }
  example(): { docs: Obj[] } {
    return clone(this.pick(examples));
  }
  /** A random container: its document, name and map. */
  container(docs: Obj[]): { name: string; c: Obj } {
    const all = docs.flatMap((d) => Object.entries(d['containers'] as Obj).map(([name, c]) => ({ name, c: c as Obj })));
    return this.pick(all);
  }
}

const WRONG_TYPES: Record<string, Json[]> = {
  template: [123, ['busybox'], { a: 1 }, true, null],
  command: ['sh -c x', 5, { a: 'b' }, [['sh']], [true]],
  args: ['-x', 5, [{}]],
  env: [5, 'A=1', true, [5], ['=x']],
  envFile: [5, [5], { a: 'b' }, 'named'],
  workdir: [5, 'relative/dir', ['/a'], '/a/../b'],
  user: [true, [1], { a: 1 }, -1, 'root:wheel:x'],
  hostname: [5, [], 'bad_host', '-x'],
  volumes: ['/a:/b', [5], [{}], ['/a'], [{ source: '/a' }]],
  restart: [['always'], 5, { a: 1 }, 'sometimes', 'on-failure:0'],
  oomScoreAdj: ['high', 5000, 1.5, -1001],
  capAdd: ['ALL', [5], ['not_a_cap_x']],
  capDrop: ['ALL', [{}], ['CAP_FOO_BAR_BAZ']],
  readOnly: ['yes', 1, []],
  init: ['no', 0, {}],
  labels: [['a=b'], 'x', 5, { a: null }, { a: [1] }],
  dependsOn: ['db', 5, true, [5], { x: 'started' }],
  healthcheck: ['test', 5, [], {}, { test: 5 }, { test: [] }, { test: 'x', retries: 0 }],
  limits: ['256Mi', [1], 5],
  ports: ['8080:80', [80], ['80'], ['x:80'], { a: 1 }],
  networks: ['bridge', [5], ['-bad'], { a: 1 }],
};

const WRONG_LIMITS: Record<string, Json[]> = {
  cpu: [[1], { a: 1 }, true, '500M', '1Gi', 'abc', '-1', '0.0001', '0', '5m', '1e9', 0],
  memory: [[1], true, '500m', '1g', '512MB', '-1Gi', '12x', '1.5', '0', '256', 'Mi', 1.5],
  memoryReservation: ['100m', '1k', {}],
  swap: ['1g', '500m', 'lots', -1, []],
  pids: ['many', 0, 1.5, -1, 'Unlimited', 5_000_000],
  cpuWeight: [0, 10001, '100', 1.5],
  cpuset: ['0-1', { cpus: '1-0' }, { cpus: 'a' }, {}, { mems: [0] }],
  io: [5, { weight: 5 }, { weight: 2000 }, { devices: [{}] }, { devices: [{ path: 'vda', readBps: '1Mi' }] }, { devices: [{ path: '/dev/vda' }] }, { devices: [{ path: '/dev/vda', readBps: '1mb' }] }],
};

const UNKNOWN_KEYS = ['memroy', 'zz', 'templte', 'Image', 'command_', 'foo_bar', 'Limits', 'dependson', 'cpus', 'restartPolicy'];

function deleteRequired(m: Mutator): Case {
  const docs = m.example().docs;
  if (m.rnd() < 0.2) {
    const d = m.pick(docs);
    delete d['containers'];
    d['x-left'] = 1;
    return { docs, path: '', what: 'delete containers', expect: (i) => i.code === 'required' };
  }
  const { name, c } = m.container(docs);
  const key = m.rnd() < 0.7 || !c['healthcheck'] ? 'template' : 'healthcheck.test';
  if (key === 'template') delete c['template'];
  else delete (c['healthcheck'] as Obj)['test'];
  const path = key === 'template' ? `containers.${name}` : `containers.${name}.healthcheck`;
  return { docs, path, what: `delete ${path}.${key}`, expect: (i) => i.code === 'required' && i.path === path };
}

function changeType(m: Mutator): Case {
  const docs = m.example().docs;
  const { name, c } = m.container(docs);
  if (m.rnd() < 0.5) {
    const key = m.pick(Object.keys(WRONG_TYPES));
    c[key] = clone(m.pick(WRONG_TYPES[key]!));
    const path = `containers.${name}.${key}`;
    return { docs, path, what: `${path} = ${JSON.stringify(c[key])}`, expect: (i) => under(i.path, path) || (key === 'template' && i.path === `containers.${name}`) };
  }
  const limits = (c['limits'] = typeof c['limits'] === 'object' && c['limits'] && !Array.isArray(c['limits']) ? c['limits'] : {}) as Obj;
  const key = m.pick(Object.keys(WRONG_LIMITS));
  limits[key] = clone(m.pick(WRONG_LIMITS[key]!));
  const path = `containers.${name}.limits.${key}`;
  // swap without memory, or below it, is a conflict reported at the swap
  return { docs, path, what: `${path} = ${JSON.stringify(limits[key])}`, expect: (i) => under(i.path, path) || (key === 'memory' && under(i.path, `containers.${name}.limits`)) };
}

function injectUnknownKey(m: Mutator): Case {
  const docs = m.example().docs;
  const key = m.pick(UNKNOWN_KEYS);
  const { name, c } = m.container(docs);
  const targets: [string, () => Obj][] = [
    ['', () => m.pick(docs)],
    [`containers.${name}`, () => c],
    [`containers.${name}.limits`, () => (c['limits'] ??= {}) as Obj],
  ];
  if (c['healthcheck']) targets.push([`containers.${name}.healthcheck`, () => c['healthcheck'] as Obj]);
  if (c['limits']) targets.push([`containers.${name}.limits.io`, () => ((c['limits'] as Obj)['io'] ??= {}) as Obj]);
  const [where, get] = m.pick(targets);
  const map = get();
  if (key in map) return injectUnknownKey(m);
  map[key] = m.pick<Json>([1, 'x', null, [], {}]);
  const path = where ? `${where}.${key}` : key;
  return { docs, path, what: `add ${path}`, expect: (i) => i.code === 'unknown-key' && i.path === path };
}

function badUnit(m: Mutator): Case {
  const docs = m.example().docs;
  const { name, c } = m.container(docs);
  const limits = (c['limits'] ??= {}) as Obj;
  const [key, values] = m.pick<[string, string[]]>([
    ['memory', ['500m', '1g', '512MB', '-1Gi', '12x', '1.5', '0', '256', '1Ti1', '256mi', '1.5Ki']],
    ['cpu', ['500M', '1Gi', 'abc', '-1', '0.0001', '0', '5m', '1e9', '2k']],
    ['swap', ['1g', '500m', 'lots', '-1']],
    ['memoryReservation', ['100m', '2G8']],
  ]);
  limits[key] = m.pick(values);
  if (key === 'swap') limits['memory'] ??= '64Mi';
  const path = `containers.${name}.limits.${key}`;
  return { docs, path, what: `${path} = ${limits[key]}`, expect: (i) => i.code === 'quantity' && i.path === path };
}

function cycle(m: Mutator): Case {
  const docs = m.example().docs;
  const a = m.container(docs);
  const b = m.container(docs);
  a.c['dependsOn'] = [b.name];
  if (a.name !== b.name) b.c['dependsOn'] = { [a.name]: { condition: 'started' } };
  return { docs, path: `containers.${a.name}.dependsOn`, what: `cycle ${a.name} <-> ${b.name}`, expect: (i) => i.code === 'cycle' && i.message.startsWith('dependsOn cycle: ') };
}

function text(docs: Obj[]): string {
  return docs.map((d) => stringify(d, { aliasDuplicateObjects: false })).join('---\n');
}

/** parseManifest must throw a ManifestError and nothing else; returns its issues. */
function issuesOf(source: string, file: string): readonly ManifestIssue[] {
  try {
    parseManifest(source, file, { templates: ['busybox'] });
  } catch (err) {
    if (!(err instanceof ManifestError)) throw new Error(`threw ${String(err)} for:\n${source}`);
    return err.issues;
  }
  return [];
}

function positioned(i: ManifestIssue, source: string): boolean {
  const lines = source.split('\n').length;
  return Number.isInteger(i.line) && Number.isInteger(i.col) && i.line >= 1 && i.col >= 1 && i.line <= lines && i.message.length > 0;
}

describe('malformed manifests made from the examples', () => {
  it('the examples are there to mutate', () => {
    expect(examples.length).toBeGreaterThanOrEqual(3);
  });

  const kinds = { deleteRequired, changeType, injectUnknownKey, badUnit, cycle };
  for (const [name, mutate] of Object.entries(kinds)) {
    it(`${name}: 600 mutations, each an error at the place mutated`, { timeout: 120_000 }, () => {
      const m = new Mutator(random(name.length * 7919));
      for (let n = 0; n < 600; n++) {
        const c = mutate(m);
        const source = text(c.docs);
        const issues = issuesOf(source, 'm.yaml');
        const detail = () => `${c.what}\n${source}\n${issues.map(formatIssue).join('\n')}`;
        if (issues.length === 0) throw new Error(`no error for ${detail()}`);
        const bad = issues.find((i) => !positioned(i, source));
        if (bad) throw new Error(`issue without a valid position: ${formatIssue(bad)} for ${detail()}`);
        if (!issues.some(c.expect)) throw new Error(`expected error not found at ${c.path || 'top level'} for ${detail()}`);
      }
    });
  }

  it('1500 random text corruptions: only ManifestErrors, always positioned', { timeout: 120_000 }, () => {
    const rnd = random(42);
    const m = new Mutator(rnd);
    const noise = [':', '{', '}', '[', ']', '- ', '&a ', '*a', '!x ', '|', '>', "'", '"', '\t', '#', '%', '@', '`', '? ', ',', '\n', '<<: ', '---\n', '\u0000'];
    let failing = 0;
    for (let n = 0; n < 1500; n++) {
      let source = text(m.example().docs);
      for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) {
        const at = Math.floor(rnd() * source.length);
        const op = rnd();
        if (op < 0.4) source = source.slice(0, at) + m.pick(noise) + source.slice(at);
        else if (op < 0.7) source = source.slice(0, at) + source.slice(at + 1 + Math.floor(rnd() * 8));
        else if (op < 0.85) {
          const lines = source.split('\n');
          const i = Math.floor(rnd() * lines.length);
          lines.splice(i, 0, lines[i]!);
          source = lines.join('\n');
        } else source = source.slice(0, at);
      }
      const issues = issuesOf(source, 'm.yaml');
      if (issues.length > 0) failing++;
      const bad = issues.find((i) => !positioned(i, source));
      if (bad) throw new Error(`issue without a valid position: ${formatIssue(bad)} for:\n${source}`);
    }
    expect(failing).toBeGreaterThan(1000);
  });
});
