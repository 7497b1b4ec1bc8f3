import { ValidationError } from '../errors.js';
import { ALL_CAPABILITIES } from './capabilities.js';

/**
 * Docker's seccomp profile format (the JSON of `--security-opt seccomp=FILE`, and of
 * src/security/seccomp/default.json), parsed strictly: every field is checked, and an unknown
 * field, action, operator, architecture or capability is an error that names the profile and
 * where in it, so a typo never silently weakens a filter.
 */

export type SeccompAction = 'allow' | 'errno' | 'trace' | 'kill_thread' | 'kill_process' | 'trap' | 'log';
export type SeccompOp = 'ne' | 'lt' | 'le' | 'eq' | 'ge' | 'gt' | 'masked_eq';

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo: number;
  op: SeccompOp;
}

export interface SeccompCondition {
  /** Capabilities without CAP_ (as ContainerConfig.capabilities). */
  caps: string[];
  /** Go architecture names (amd64, arm64, …), as Docker compares them. */
  arches: string[];
  /** "MAJOR.MINOR", or null. */
  minKernel: string | null;
}

export interface SeccompRule {
  names: string[];
  action: SeccompAction;
  /** errno for `errno`, message number for `trace`. */
  ret: number;
  args: SeccompArg[];
  includes: SeccompCondition;
  excludes: SeccompCondition;
}

export interface SeccompProfile {
  defaultAction: SeccompAction;
  defaultRet: number;
  /** Legacy `architectures`: every one is added as is. */
  architectures: string[];
  /** `archMap`: libseccomp names (x86_64, x86, …) keyed by the native one. */
  archMap: Map<string, string[]>;
  rules: SeccompRule[];
}

const ACTIONS: Record<string, SeccompAction> = {
  SCMP_ACT_ALLOW: 'allow',
  SCMP_ACT_ERRNO: 'errno',
  SCMP_ACT_TRACE: 'trace',
  SCMP_ACT_KILL: 'kill_thread',
  SCMP_ACT_KILL_THREAD: 'kill_thread',
  SCMP_ACT_KILL_PROCESS: 'kill_process',
  SCMP_ACT_TRAP: 'trap',
  SCMP_ACT_LOG: 'log',
};

const OPS: Record<string, SeccompOp> = {
  SCMP_CMP_NE: 'ne',
  SCMP_CMP_LT: 'lt',
  SCMP_CMP_LE: 'le',
  SCMP_CMP_EQ: 'eq',
  SCMP_CMP_GE: 'ge',
  SCMP_CMP_GT: 'gt',
  SCMP_CMP_MASKED_EQ: 'masked_eq',
};

/** Docker's SCMP_ARCH_* names and the libseccomp names the shim resolves. */
export const SECCOMP_ARCHES: Record<string, string> = {
  SCMP_ARCH_X86: 'x86',
  SCMP_ARCH_X86_64: 'x86_64',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_ARM: 'arm',
  SCMP_ARCH_AARCH64: 'aarch64',
  SCMP_ARCH_MIPS: 'mips',
  SCMP_ARCH_MIPS64: 'mips64',
  SCMP_ARCH_MIPS64N32: 'mips64n32',
  SCMP_ARCH_MIPSEL: 'mipsel',
  SCMP_ARCH_MIPSEL64: 'mipsel64',
  SCMP_ARCH_MIPSEL64N32: 'mipsel64n32',
  SCMP_ARCH_PPC: 'ppc',
  SCMP_ARCH_PPC64: 'ppc64',
  SCMP_ARCH_PPC64LE: 'ppc64le',
  SCMP_ARCH_S390: 's390',
  SCMP_ARCH_S390X: 's390x',
  SCMP_ARCH_PARISC: 'parisc',
  SCMP_ARCH_PARISC64: 'parisc64',
  SCMP_ARCH_RISCV64: 'riscv64',
};

/** Names `includes.arches`/`excludes.arches` may use (Go's, plus Docker's x86/x32 spellings). */
const GO_ARCHES = new Set(['386', 'x86', 'x32', 'amd64', 'arm', 'arm64', 'mips', 'mipsle', 'mips64', 'mips64le', 'mips64n32', 'mips64len32', 'ppc', 'ppc64', 'ppc64le', 's390', 's390x', 'riscv64', 'loong64', 'parisc', 'parisc64']);

const SYSCALL_NAME = /^[a-z_][a-z0-9_]{0,63}$/;
const MAX_PROFILE_BYTES = 1 << 20;

/** Parse a profile's text; `source` (a file name, or "the default profile") starts every message. */
export function parseSeccompProfile(text: string, source: string): SeccompProfile {
  const bad = (where: string, why: string): ValidationError => new ValidationError(`seccomp profile ${source}: ${where}${where ? ': ' : ''}${why}`, { seccompProfile: source });
  if (Buffer.byteLength(text) > MAX_PROFILE_BYTES) throw bad('', `larger than ${MAX_PROFILE_BYTES} bytes`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw bad('', `not valid JSON (${(err as Error).message})`);
  }
  const top = object(raw, '', bad);
  known(top, ['comment', 'defaultAction', 'defaultErrnoRet', 'architectures', 'archMap', 'syscalls', 'flags', 'listenerPath', 'listenerMetadata'], '', bad);
  if (top.listenerPath !== undefined && top.listenerPath !== '') throw bad('listenerPath', 'seccomp notification listeners are not supported');
  if (top.flags !== undefined && top.flags !== null && !(Array.isArray(top.flags) && top.flags.length === 0)) {
    throw bad('flags', 'filter flags are not supported');
  }
  const defaultAction = action(top.defaultAction, 'defaultAction', bad);
  const defaultRet = ret(top.defaultErrnoRet, 'defaultErrnoRet', defaultAction, bad);
  const architectures = optList(top.architectures, 'architectures', bad).map((a, i) => arch(a, `architectures[${i}]`, bad));
  const archMap = new Map<string, string[]>();
  optList(top.archMap, 'archMap', bad).forEach((entry, i) => {
    const where = `archMap[${i}]`;
    const e = object(entry, where, bad);
    known(e, ['architecture', 'subArchitectures'], where, bad);
    const native = arch(e.architecture, `${where}.architecture`, bad);
    if (archMap.has(native)) throw bad(`${where}.architecture`, `${String(e.architecture)} is mapped twice`);
    archMap.set(native, optList(e.subArchitectures, `${where}.subArchitectures`, bad).map((a, j) => arch(a, `${where}.subArchitectures[${j}]`, bad)));
  });
  if (architectures.length > 0 && archMap.size > 0) throw bad('', 'give either architectures or archMap, not both');
  const rules = optList(top.syscalls, 'syscalls', bad).map((r, i) => rule(r, `syscalls[${i}]`, bad));
  return { defaultAction, defaultRet, architectures, archMap, rules };
}

type Bad = (where: string, why: string) => ValidationError;

function rule(raw: unknown, where: string, bad: Bad): SeccompRule {
  const r = object(raw, where, bad);
  known(r, ['comment', 'name', 'names', 'action', 'errnoRet', 'args', 'includes', 'excludes'], where, bad);
  if (r.name !== undefined && r.names !== undefined) throw bad(where, 'give either name or names, not both');
  const names = r.name !== undefined ? [r.name] : optList(r.names, `${where}.names`, bad);
  if (names.length === 0) throw bad(where, 'names no syscall');
  names.forEach((n, j) => {
    if (typeof n !== 'string' || !SYSCALL_NAME.test(n)) throw bad(`${where}.names[${j}]`, `${JSON.stringify(n)} is not a syscall name`);
  });
  const act = action(r.action, `${where}.action`, bad);
  const args = optList(r.args, `${where}.args`, bad).map((a, j) => arg(a, `${where}.args[${j}]`, bad));
  return {
    names: names as string[],
    action: act,
    ret: ret(r.errnoRet, `${where}.errnoRet`, act, bad),
    args,
    includes: condition(r.includes, `${where}.includes`, bad),
    excludes: condition(r.excludes, `${where}.excludes`, bad),
  };
}

function arg(raw: unknown, where: string, bad: Bad): SeccompArg {
  const a = object(raw, where, bad);
  known(a, ['index', 'value', 'valueTwo', 'op'], where, bad);
  const index = a.index;
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 5) throw bad(`${where}.index`, 'expected 0 to 5');
  const op = OPS[String(a.op)];
  if (typeof a.op !== 'string' || !op) throw bad(`${where}.op`, `unknown operator ${JSON.stringify(a.op)} (${Object.keys(OPS).join(', ')})`);
  return { index, op, value: u64(a.value, `${where}.value`, bad), valueTwo: a.valueTwo === undefined ? 0 : u64(a.valueTwo, `${where}.valueTwo`, bad) };
}

function condition(raw: unknown, where: string, bad: Bad): SeccompCondition {
  if (raw === undefined || raw === null) return { caps: [], arches: [], minKernel: null };
  const c = object(raw, where, bad);
  known(c, ['caps', 'arches', 'minKernel'], where, bad);
  const caps = optList(c.caps, `${where}.caps`, bad).map((x, j) => {
    const n = typeof x === 'string' ? x.toUpperCase().replace(/^CAP_/, '') : '';
    if (!(ALL_CAPABILITIES as readonly string[]).includes(n)) throw bad(`${where}.caps[${j}]`, `unknown capability ${JSON.stringify(x)}`);
    return n;
  });
  const arches = optList(c.arches, `${where}.arches`, bad).map((x, j) => {
    if (typeof x !== 'string' || !GO_ARCHES.has(x)) throw bad(`${where}.arches[${j}]`, `unknown architecture ${JSON.stringify(x)} (Go's names: amd64, arm64, …)`);
    return x;
  });
  let minKernel: string | null = null;
  if (c.minKernel !== undefined && c.minKernel !== null && c.minKernel !== '') {
    if (typeof c.minKernel !== 'string' || !/^\d+\.\d+$/.test(c.minKernel)) throw bad(`${where}.minKernel`, `expected "MAJOR.MINOR", not ${JSON.stringify(c.minKernel)}`);
    minKernel = c.minKernel;
  }
  return { caps, arches, minKernel };
}

function action(raw: unknown, where: string, bad: Bad): SeccompAction {
  if (raw === 'SCMP_ACT_NOTIFY') throw bad(where, 'SCMP_ACT_NOTIFY needs a notification listener, which is not supported');
  const a = typeof raw === 'string' ? ACTIONS[raw] : undefined;
  if (!a) throw bad(where, `unknown action ${JSON.stringify(raw)} (${Object.keys(ACTIONS).join(', ')})`);
  return a;
}

/** errno (default EPERM, as runc) or a trace message number; other actions take none. */
function ret(raw: unknown, where: string, act: SeccompAction, bad: Bad): number {
  if (raw === undefined || raw === null) return act === 'errno' || act === 'trace' ? 1 : 0;
  if (act !== 'errno' && act !== 'trace') throw bad(where, `only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take a return value`);
  const max = act === 'errno' ? 4095 : 65535;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 0 || raw > max) throw bad(where, `expected a whole number from 0 to ${max}`);
  return raw;
}

function arch(raw: unknown, where: string, bad: Bad): string {
  const a = typeof raw === 'string' ? SECCOMP_ARCHES[raw] : undefined;
  if (!a) throw bad(where, `unknown architecture ${JSON.stringify(raw)} (e.g. SCMP_ARCH_X86_64)`);
  return a;
}

/** JSON numbers are doubles: above 2^53 a value may already be another number, so it is refused. */
function u64(raw: unknown, where: string, bad: Bad): number {
  if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < 0) throw bad(where, `expected a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`);
  return raw;
}

function object(raw: unknown, where: string, bad: Bad): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad(where, 'expected an object');
  return raw as Record<string, unknown>;
}

function optList(raw: unknown, where: string, bad: Bad): unknown[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw bad(where, 'expected a list');
  return raw;
}

function known(o: Record<string, unknown>, keys: readonly string[], where: string, bad: Bad): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw bad(where, `unknown field ${JSON.stringify(k)}`);
}
