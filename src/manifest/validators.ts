import { formatBytes } from '../util/quantity.js';
import { findCycles } from './graph.js';
import { type IssueCode, type PathSegment, type Pos, closest } from './issues.js';
import type { Dependency, ManifestContainer } from './spec.js';
import { bytesUnitTrap, cpuUnitTrap } from './units.js';
import type { LMap, LValue } from './yaml-tree.js';

/**
 * The checks the schema cannot express, run after it, in the style of runc's
 * libcontainer/configs/validate: a list of small functions, each reporting every problem it sees
 * (with a position) rather than stopping at the first. Validators see every container declared,
 * and the built form of each container the schema found nothing wrong with.
 */

/** One `containers.NAME` entry of one YAML document. */
export interface Declared {
  name: string;
  /** 0-based index of its YAML document. */
  doc: number;
  keyPos: Pos;
  node: LValue;
  /**
   * Its dependencies when its dependsOn (if any) passed the schema, even if something else in the
   * container did not: cycles and dangling names are reported along with the other errors.
   */
  dependsOn?: Dependency[];
  /** Whether it has a healthcheck that can pass; undefined when its healthcheck is invalid. */
  healthy?: boolean;
}

export interface Built {
  decl: Declared;
  node: LMap;
  container: ManifestContainer;
}

export interface ValidatorContext {
  declared: readonly Declared[];
  built: readonly Built[];
  /** Template names corrald knows, when the caller passed them. */
  templates?: readonly string[];
  /** Recipes corrald could build but has not (`corral template build NAME`). */
  unbuilt?: readonly string[];
  report(severity: 'error' | 'warning', code: IssueCode, pos: Pos, path: PathSegment[], message: string, hint?: string): void;
}

export interface Validator {
  name: string;
  check(ctx: ValidatorContext): void;
}

export const VALIDATORS: readonly Validator[] = [
  { name: 'unique names across documents', check: uniqueNames },
  { name: 'known templates', check: knownTemplates },
  { name: 'args need a command', check: argsNeedCommand },
  { name: 'env names once', check: envOnce },
  { name: 'volume targets', check: volumeTargets },
  { name: 'memory, reservation and swap agree', check: memoryOrder },
  { name: 'one throttle entry per device', check: devicesOnce },
  { name: 'healthcheck test', check: healthcheckTest },
  { name: 'dependsOn targets exist', check: dependsOnTargets },
  { name: 'healthy needs a healthcheck', check: healthyNeedsHealthcheck },
  { name: 'no dependsOn cycles', check: noCycles },
  { name: 'unit traps', check: unitTraps },
  { name: 'no host port published twice', check: hostPortsOnce },
];

/** `[HOSTIP:]HOSTPORT:CTRPORT[/proto]` → the host side that must be unique on this host. */
function hostSide(spec: string): { key: string; port: number } | undefined {
  const m = /^(?:((?:\d{1,3}\.){3}\d{1,3}):)?(\d{1,5}):(\d{1,5})(?:\/(tcp|udp))?$/.exec(spec);
  if (!m) return undefined;
  return { key: `${m[2]}/${m[4] ?? 'tcp'}@${m[1] ?? '0.0.0.0'}`, port: Number(m[2]) };
}

/** Two containers (or one, twice) cannot both publish the same host port and protocol. */
function hostPortsOnce(ctx: ValidatorContext): void {
  const seen = new Map<string, { name: string; i: number; ip: string }[]>();
  for (const b of ctx.built) {
    (b.container.request.publish ?? []).forEach((spec, i) => {
      const h = hostSide(spec);
      if (!h) return;
      const at = find(b.node, ['ports', i]);
      if (h.port < 1 || h.port > 65535) {
        ctx.report('error', 'range', at, path(b, 'ports', i), `host port ${h.port} is out of range (1-65535)`);
        return;
      }
      const [portProto, ip] = h.key.split('@') as [string, string];
      const others = seen.get(portProto) ?? [];
      // The same port on 0.0.0.0 clashes with every address; on two specific addresses it does not.
      const clash = others.find((o) => o.ip === ip || o.ip === '0.0.0.0' || ip === '0.0.0.0');
      if (clash) ctx.report('error', 'conflict', at, path(b, 'ports', i), `host port ${portProto} is already published by ${clash.name} (ports[${clash.i}])`);
      others.push({ name: b.container.name, i, ip });
      seen.set(portProto, others);
    });
  }
}

export function runValidators(ctx: ValidatorContext, validators: readonly Validator[] = VALIDATORS): void {
  for (const v of validators) v.check(ctx);
}

function uniqueNames(ctx: ValidatorContext): void {
  const first = new Map<string, Declared>();
  for (const d of ctx.declared) {
    const f = first.get(d.name);
    if (!f) first.set(d.name, d);
    else ctx.report('error', 'duplicate-name', d.keyPos, ['containers', d.name], `container ${JSON.stringify(d.name)} is already declared (document ${f.doc + 1}, line ${f.keyPos.line}, column ${f.keyPos.col})`, 'give each container its own name');
  }
}

function knownTemplates(ctx: ValidatorContext): void {
  if (!ctx.templates) return;
  for (const b of ctx.built) {
    const t = b.container.request.template;
    if (ctx.templates.includes(t)) continue;
    const pos = find(b.node, ['template']);
    if (ctx.unbuilt?.includes(t)) {
      ctx.report('error', 'template', pos, path(b, 'template'), `template ${JSON.stringify(t)} is not built yet`, `build it first: corral template build ${t}`);
      continue;
    }
    const near = closest(t, [...ctx.templates, ...(ctx.unbuilt ?? [])]);
    const howTo = `make it with corral template build RECIPE --name ${t}, corral template load -i FILE --name ${t} or corral commit CONTAINER ${t}`;
    ctx.report('error', 'template', pos, path(b, 'template'), `unknown template ${JSON.stringify(t)}`, near ? `did you mean ${JSON.stringify(near)}?` : `known templates: ${ctx.templates.join(', ') || 'none'}; ${howTo}`);
  }
}

function argsNeedCommand(ctx: ValidatorContext): void {
  for (const b of ctx.built) {
    if (b.node.entries.has('args') && !b.node.entries.has('command')) {
      ctx.report('error', 'reference', b.node.entries.get('args')!.keyPos, path(b, 'args'), 'args without command: templates have no entrypoint to pass them to', 'put the program first in command: [prog, args...]');
    }
  }
}

function envOnce(ctx: ValidatorContext): void {
  for (const b of ctx.built) {
    const env = b.node.entries.get('env')?.value;
    if (env?.kind !== 'seq') continue;
    const seen = new Map<string, number>();
    env.items.forEach((item, i) => {
      const name = item.kind === 'scalar' ? String(item.value).split('=')[0]! : '';
      const f = seen.get(name);
      if (f === undefined) seen.set(name, i);
      else ctx.report('error', 'conflict', item.pos, path(b, 'env', i), `${name} is set twice (first at env[${f}])`);
    });
  }
}

const RESERVED_TARGETS = ['/proc', '/sys', '/dev'];
/** corrald's shortest probe interval and timeout (src/runtime/healthcheck.ts). */
const MIN_PROBE_MS = 100;

function volumeTargets(ctx: ValidatorContext): void {
  for (const b of ctx.built) {
    const seen = new Map<string, number>();
    (b.container.request.volumes ?? []).forEach((v, i) => {
      const at = find(b.node, ['volumes', i]);
      const reserved = RESERVED_TARGETS.find((r) => v.target === r || v.target.startsWith(`${r}/`));
      if (v.target === '/') ctx.report('error', 'conflict', at, path(b, 'volumes', i), 'cannot mount over the root filesystem (/)');
      else if (reserved) ctx.report('error', 'conflict', at, path(b, 'volumes', i), `${v.target}: ${reserved} is managed by corral`);
      const f = seen.get(v.target);
      if (f === undefined) seen.set(v.target, i);
      else ctx.report('error', 'conflict', at, path(b, 'volumes', i), `${v.target} is mounted twice (first at volumes[${f}])`);
    });
  }
}

function memoryOrder(ctx: ValidatorContext): void {
  for (const b of ctx.built) {
    const l = b.container.request.limits ?? {};
    const memory = l.memory === undefined ? undefined : Number(l.memory);
    if (l.memoryReservation !== undefined && memory !== undefined && Number(l.memoryReservation) > memory) {
      ctx.report('error', 'conflict', find(b.node, ['limits', 'memoryReservation']), path(b, 'limits', 'memoryReservation'), `memoryReservation is more than memory (${formatBytes(memory)})`);
    }
    if (l.memorySwap === undefined) continue;
    const at = find(b.node, ['limits', 'swap']);
    if (memory === undefined) ctx.report('error', 'conflict', at, path(b, 'limits', 'swap'), 'swap is memory plus swap: it needs memory too');
    else if (l.memorySwap !== '-1' && Number(l.memorySwap) < memory) {
      ctx.report('error', 'conflict', at, path(b, 'limits', 'swap'), `swap is memory plus swap, so at least memory (${formatBytes(memory)})`, 'unlimited for no swap limit; equal to memory for no swap');
    }
  }
}

function devicesOnce(ctx: ValidatorContext): void {
  for (const b of ctx.built) {
    const devices = valueAt(b.node, ['limits', 'io', 'devices']);
    if (devices?.kind !== 'seq') continue;
    const seen = new Map<string, number>();
    devices.items.forEach((d, i) => {
      const p = d.kind === 'map' ? d.entries.get('path')?.value : undefined;
      if (p?.kind !== 'scalar') return;
      const f = seen.get(String(p.value));
      if (f === undefined) seen.set(String(p.value), i);
      else ctx.report('error', 'conflict', p.pos, path(b, 'limits', 'io', 'devices', i, 'path'), `${String(p.value)} is throttled twice (first at devices[${f}]): give one entry per device`);
    });
  }
}

function healthcheckTest(ctx: ValidatorContext): void {
  for (const b of ctx.built) {
    const test = valueAt(b.node, ['healthcheck', 'test']);
    if (test?.kind === 'seq') {
      const argv = test.items.map((i) => (i.kind === 'scalar' ? String(i.value) : ''));
      const p = path(b, 'healthcheck', 'test');
      if (argv[0] === 'CMD' && argv.length < 2) ctx.report('error', 'format', test.pos, p, '[CMD] needs a program: [CMD, prog, args...]');
      if (argv[0] === 'CMD-SHELL' && argv.length !== 2) ctx.report('error', 'format', test.pos, p, '[CMD-SHELL] takes one script: [CMD-SHELL, "script"]');
      if (argv[0] === 'NONE' && argv.length !== 1) ctx.report('error', 'format', test.pos, p, '[NONE] takes nothing else');
    }
    const h = b.container.healthcheck;
    for (const [key, ms] of [['interval', h?.intervalMs], ['timeout', h?.timeoutMs]] as const) {
      const written = valueAt(b.node, ['healthcheck', key]);
      if (written && ms !== undefined && ms < MIN_PROBE_MS) ctx.report('error', 'duration', written.pos, path(b, 'healthcheck', key), `${key} must be at least ${MIN_PROBE_MS}ms`);
    }
  }
}

function dependsOnTargets(ctx: ValidatorContext): void {
  const names = new Set(ctx.declared.map((d) => d.name));
  for (const d of ctx.declared) {
    for (const dep of d.dependsOn ?? []) {
      if (names.has(dep.name)) continue;
      const near = closest(dep.name, [...names].filter((n) => n !== d.name));
      ctx.report('error', 'reference', dependencyPos(d, dep.name), ['containers', d.name, 'dependsOn', dep.name], `depends on ${JSON.stringify(dep.name)}, which this manifest does not declare`, near ? `did you mean ${JSON.stringify(near)}?` : undefined);
    }
  }
}

function healthyNeedsHealthcheck(ctx: ValidatorContext): void {
  const byName = new Map(ctx.declared.map((d) => [d.name, d]));
  for (const d of ctx.declared) {
    for (const dep of d.dependsOn ?? []) {
      if (dep.condition !== 'healthy' || byName.get(dep.name)?.healthy !== false) continue;
      ctx.report('error', 'reference', dependencyPos(d, dep.name), ['containers', d.name, 'dependsOn', dep.name], `waits for ${dep.name} to be healthy, but ${dep.name} has no healthcheck`, `add a healthcheck to ${dep.name}, or use condition: started`);
    }
  }
}

function noCycles(ctx: ValidatorContext): void {
  const first = new Map<string, Declared>();
  for (const d of ctx.declared) if (!first.has(d.name)) first.set(d.name, d);
  const edges = new Map([...first.values()].map((d) => [d.name, (d.dependsOn ?? []).map((x) => x.name)]));
  for (const cycle of findCycles([...first.keys()], edges)) {
    const d = first.get(cycle[0]!)!;
    ctx.report('error', 'cycle', dependencyPos(d, cycle[1]!), ['containers', d.name, 'dependsOn', cycle[1]!], `dependsOn cycle: ${cycle.join(' -> ')}`, 'no order can start these: remove one of the dependencies');
  }
}

function unitTraps(ctx: ValidatorContext): void {
  for (const b of ctx.built) {
    for (const [key, w] of Object.entries(b.container.written)) {
      const trap = key === 'limits.cpu' ? cpuUnitTrap(w.text) : /^limits\.(memory|memoryReservation|swap)$|Bps$/.test(key) ? bytesUnitTrap(w.text) : undefined;
      if (trap) ctx.report('warning', 'unit-trap', w.pos, ['containers', b.decl.name, ...key.split('.')], trap);
    }
  }
}

function path(b: Built, ...rest: PathSegment[]): PathSegment[] {
  return ['containers', b.decl.name, ...rest];
}

function valueAt(node: LValue, keys: PathSegment[]): LValue | undefined {
  let v: LValue | undefined = node;
  for (const k of keys) {
    if (v?.kind === 'map' && typeof k === 'string') v = v.entries.get(k)?.value;
    else if (v?.kind === 'seq' && typeof k === 'number') v = v.items[k];
    else return undefined;
  }
  return v;
}

/** The position of the value at `keys`, or of the deepest part of the path that exists. */
function find(node: LValue, keys: PathSegment[]): Pos {
  let v: LValue = node;
  for (const k of keys) {
    const next = valueAt(v, [k]);
    if (!next) break;
    v = next;
  }
  return v.pos;
}

function dependencyPos(d: Declared, name: string): Pos {
  const deps = d.node.kind === 'map' ? d.node.entries.get('dependsOn') : undefined;
  if (!deps) return d.keyPos;
  if (deps.value.kind === 'map') return deps.value.entries.get(name)?.keyPos ?? deps.keyPos;
  if (deps.value.kind === 'seq') return deps.value.items.find((i) => i.kind === 'scalar' && i.value === name)?.pos ?? deps.keyPos;
  return deps.keyPos;
}
