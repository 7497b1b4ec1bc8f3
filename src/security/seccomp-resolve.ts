import { release } from 'node:os';
import { ValidationError } from '../errors.js';
import type { SeccompAction, SeccompArg, SeccompProfile, SeccompRule } from './seccomp-profile.js';

/**
 * A Docker-format profile resolved for one container, as Docker does it (profiles/seccomp in moby,
 * rule splitting as runc): the capability, architecture and kernel conditions are decided here, so
 * the shim gets a flat list of rules (format in docs/shim.md) it only has to hand to libseccomp.
 */

export interface SeccompTarget {
  /** The container's capabilities, without CAP_. */
  capabilities: readonly string[];
  /** Go's name for the host architecture (what includes/excludes.arches compare with). */
  goArch: string;
  /** libseccomp's name for it. */
  nativeArch: string;
  /** [major, minor] of the running kernel. */
  kernel: readonly [number, number];
}

/** Node's process.arch → Go's and libseccomp's names. */
const HOST_ARCHES: Record<string, { goArch: string; nativeArch: string }> = {
  x64: { goArch: 'amd64', nativeArch: 'x86_64' },
  arm64: { goArch: 'arm64', nativeArch: 'aarch64' },
  ia32: { goArch: '386', nativeArch: 'x86' },
  arm: { goArch: 'arm', nativeArch: 'arm' },
  riscv64: { goArch: 'riscv64', nativeArch: 'riscv64' },
  s390x: { goArch: 's390x', nativeArch: 's390x' },
  ppc64: { goArch: 'ppc64le', nativeArch: 'ppc64le' },
};

export function hostTarget(capabilities: readonly string[], arch: string = process.arch, kernelRelease: string = release()): SeccompTarget {
  const a = HOST_ARCHES[arch];
  if (!a) throw new ValidationError(`seccomp: this host's architecture (${arch}) is not supported; use --security-opt seccomp=unconfined`);
  const m = /^(\d+)\.(\d+)/.exec(kernelRelease);
  return { capabilities, ...a, kernel: m ? [Number(m[1]), Number(m[2])] : [0, 0] };
}

export interface FlatProfile {
  defaultAction: string;
  arches: string[];
  /** `ACTION NAME [aI:OP:V[:V2]]...` */
  rules: string[];
}

export function resolveSeccomp(p: SeccompProfile, t: SeccompTarget): FlatProfile {
  const defaultAction = actionToken(p.defaultAction, p.defaultRet);
  const arches = p.archMap.size > 0 ? (p.archMap.has(t.nativeArch) ? [t.nativeArch, ...p.archMap.get(t.nativeArch)!] : []) : [...p.architectures];
  const rules: string[] = [];
  for (const r of p.rules) {
    if (!applies(r, t)) continue;
    const act = actionToken(r.action, r.ret);
    // libseccomp refuses a rule whose action is the default's; it would change nothing.
    if (act === defaultAction) continue;
    for (const args of argGroups(r.args)) for (const name of r.names) rules.push([act, name, ...args.map(argToken)].join(' '));
  }
  return { defaultAction, arches: [...new Set(arches)], rules: [...new Set(rules)] };
}

/** Docker's includes/excludes: every included capability held, none excluded; arch and kernel likewise. */
function applies(r: SeccompRule, t: SeccompTarget): boolean {
  const { includes: inc, excludes: exc } = r;
  if (inc.arches.length > 0 && !inc.arches.includes(t.goArch)) return false;
  if (exc.arches.includes(t.goArch)) return false;
  if (!inc.caps.every((c) => t.capabilities.includes(c))) return false;
  if (exc.caps.some((c) => t.capabilities.includes(c))) return false;
  if (inc.minKernel !== null && !kernelAtLeast(t.kernel, inc.minKernel)) return false;
  if (exc.minKernel !== null && kernelAtLeast(t.kernel, exc.minKernel)) return false;
  return true;
}

function kernelAtLeast(k: readonly [number, number], min: string): boolean {
  const [maj, min2] = min.split('.').map(Number) as [number, number];
  return k[0] > maj || (k[0] === maj && k[1] >= min2);
}

/**
 * runc's rule: conditions on different arguments are ANDed in one rule; when one argument is
 * named twice, each condition becomes a rule of its own (ORed), as libseccomp cannot AND those.
 */
function argGroups(args: readonly SeccompArg[]): SeccompArg[][] {
  if (args.length === 0) return [[]];
  const indexes = args.map((a) => a.index);
  return new Set(indexes).size < indexes.length ? args.map((a) => [a]) : [[...args]];
}

function actionToken(a: SeccompAction, ret: number): string {
  return a === 'errno' || a === 'trace' ? `${a}:${ret}` : a;
}

/** Docker puts the mask in `value` and the expected bits in `valueTwo` for SCMP_CMP_MASKED_EQ. */
function argToken(a: SeccompArg): string {
  return a.op === 'masked_eq' ? `a${a.index}:masked_eq:${a.value}:${a.valueTwo}` : `a${a.index}:${a.op}:${a.value}`;
}

/** The file the shim reads with `--seccomp` (src/native/seccomp.c). */
export function renderFlat(f: FlatProfile): string {
  const lines = ['corral-seccomp 1', `default ${f.defaultAction}`, ...f.arches.map((a) => `arch ${a}`), ...f.rules.map((r) => `rule ${r}`)];
  for (const l of lines) if (!/^[a-z0-9_:\- ]+$/.test(l) || l.includes('  ')) throw new Error(`seccomp: cannot render line ${JSON.stringify(l)}`);
  return `${lines.join('\n')}\n`;
}
