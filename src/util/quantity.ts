import { ValidationError } from '../errors.js';

/**
 * Two unit conventions, never mixed (ANCHORS "Two notes on units"):
 * - Docker flags: `-m 512m` is 512 MiB; `b k m g t p` are binary, case-insensitive; `--cpus 0.5`.
 * - Kubernetes quantities: `256Mi` = 256·2^20 but `256M` = 256·10^6; `m` is milli, so CPU `500m` is
 *   half a core and memory `500m` is half a byte (refused).
 * Arithmetic is exact (bigint fractions), so `0.1g` or `1.1Gi` never pick up float error.
 */

interface Fraction {
  num: bigint;
  den: bigint;
}

/** Docker's RAMInBytes: `512m`, `512mb`, `512MiB`, `512 m`, `1.5g`, `10b`, `1024`. */
const DOCKER_BYTES = /^(\d+(?:\.\d*)?|\.\d+) ?(?:([kmgtp])i?b?|b)?$/i;
const DOCKER_SHIFT: Record<string, bigint> = { k: 10n, m: 20n, g: 30n, t: 40n, p: 50n };
const DOCKER_BYTES_FORMAT = 'bytes with an optional unit b, k, m, g, t (binary: 512m = 512 MiB, 1g = 1 GiB)';

/** `512m` → 536870912, `1g`, `100k`, `1024` (bytes), `1.5g`; units are binary as in Docker. */
export function parseDockerBytes(value: string | number, field: string): number {
  const text = String(value).trim();
  const m = DOCKER_BYTES.exec(text);
  if (!m) throw invalid(field, value, `use ${DOCKER_BYTES_FORMAT}`);
  const unit = m[2]?.toLowerCase();
  const shift = unit ? DOCKER_SHIFT[unit]! : 0n;
  const f = decimal(m[1]!);
  return wholeBytes({ num: f.num << shift, den: f.den }, field, value, `use ${DOCKER_BYTES_FORMAT}`);
}

/** `--cpus 0.5`: a positive decimal number of CPUs (ranges are the caller's, who knows the host). */
export function parseDockerCpus(value: string | number, field = '--cpus'): number {
  const text = String(value).trim();
  if (!/^(\d+(?:\.\d*)?|\.\d+)$/.test(text)) throw invalid(field, value, 'use a decimal number of CPUs, e.g. 0.5 or 2');
  return Number(text);
}

const K8S_QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;
const BINARY_SHIFT: Record<string, bigint> = { Ki: 10n, Mi: 20n, Gi: 30n, Ti: 40n, Pi: 50n, Ei: 60n };
const DECIMAL_EXP: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const K8S_BYTES_FORMAT = 'bytes as a Kubernetes quantity: 256Mi = 256·2^20, 256M = 256·10^6, 1Gi, 1e3';

/** A parsed Kubernetes quantity as an exact fraction, plus its suffix. */
function k8sQuantity(value: string | number, field: string, format: string): { f: Fraction; suffix: string; negative: boolean } {
  const text = String(value).trim();
  const m = K8S_QUANTITY.exec(text);
  if (!m) throw invalid(field, value, `use ${format}`);
  const suffix = m[3] ?? '';
  let f = decimal(m[2]!);
  if (suffix in BINARY_SHIFT) f = { num: f.num << BINARY_SHIFT[suffix]!, den: f.den };
  else {
    const exp = suffix in DECIMAL_EXP ? DECIMAL_EXP[suffix]! : suffix ? Number(suffix.slice(1)) : 0;
    if (Math.abs(exp) > 30) throw invalid(field, value, `use ${format}`);
    f = exp >= 0 ? { num: f.num * 10n ** BigInt(exp), den: f.den } : { num: f.num, den: f.den * 10n ** BigInt(-exp) };
  }
  return { f, suffix, negative: m[1] === '-' && f.num !== 0n };
}

/**
 * Memory and storage as Kubernetes writes them: `256Mi`, `256M`, `1Gi`, `1e3`, `1.5Gi`. A value
 * that is not a whole number of bytes is refused; `500m` (milli) gets "did you mean 500Mi?".
 */
export function parseK8sBytes(value: string | number, field: string): number {
  const { f, suffix, negative } = k8sQuantity(value, field, K8S_BYTES_FORMAT);
  if (negative) throw invalid(field, value, `must not be negative; use ${K8S_BYTES_FORMAT}`);
  if (suffix === 'm' || suffix === 'u' || suffix === 'n') {
    const number = String(value).trim().slice(0, -1);
    const hint = suffix === 'm' ? `; did you mean ${number}Mi?` : '';
    throw invalid(field, value, `that is ${formatFraction(f)} bytes (${suffix} means ${suffix === 'm' ? 'milli' : suffix === 'u' ? 'micro' : 'nano'})${hint}`);
  }
  return wholeBytes(f, field, value, `use ${K8S_BYTES_FORMAT}`);
}

/** CPU as Kubernetes writes it: `500m` = 0.5 core, `2`, `0.25`, `1e0`. Returns cores. */
export function parseK8sCpu(value: string | number, field: string): number {
  const format = 'cores (2, 0.5) or millicores (500m)';
  const { f, suffix, negative } = k8sQuantity(value, field, format);
  if (suffix !== '' && suffix !== 'm' && !/^[eE]/.test(suffix)) {
    const hint = suffix === 'M' ? `; did you mean ${String(value).trim().slice(0, -1)}m (millicores)?` : '';
    throw invalid(field, value, `CPU takes ${format}, not a ${suffix} suffix${hint}`);
  }
  if (negative) throw invalid(field, value, `must not be negative; use ${format}`);
  return Number(f.num) / Number(f.den);
}

/** 536870912 → `512 MiB`, 1500000 → `1500000 B`: exact binary units only, for messages. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let n = bytes;
  let i = 0;
  while (i < units.length - 1 && n >= 1024 && n % 1024 === 0) {
    n /= 1024;
    i++;
  }
  return `${n} ${units[i]}`;
}

/** `12.50` → 1250/100; `.5` → 5/10. */
function decimal(text: string): Fraction {
  const [int = '', frac = ''] = text.split('.');
  return { num: BigInt((int || '0') + frac), den: 10n ** BigInt(frac.length) };
}

function wholeBytes(f: Fraction, field: string, value: string | number, format: string): number {
  if (f.num % f.den !== 0n) throw invalid(field, value, `that is ${formatFraction(f)} bytes, not a whole number; ${format}`);
  const n = f.num / f.den;
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(field, value, `too large; at most ${Number.MAX_SAFE_INTEGER} bytes`);
  return Number(n);
}

function formatFraction(f: Fraction): string {
  return String(Number(f.num) / Number(f.den));
}

function invalid(field: string, value: string | number, reason: string): ValidationError {
  return new ValidationError(`invalid ${field} ${JSON.stringify(String(value))}: ${reason}`, { field, value: String(value) });
}
