import { LIMIT_KEYS } from '../../api/limit-keys.js';
import type { ManifestContainer } from '../../manifest/index.js';
import { parseDockerBytes } from '../../util/quantity.js';

/**
 * Limit values as a manifest writes them (Kubernetes units: `512Mi`, `250m` of a CPU), so plan and
 * drift say `limits.memory: 300Mi -> 512Mi` rather than mixing Docker's `300m` with raw bytes.
 * The manifest's side is its own text; the live side is converted.
 */
const BYTES = new Set(['memory', 'memoryReservation', 'memorySwap']);
const BINARY: [string, number][] = [['Ei', 60], ['Pi', 50], ['Ti', 40], ['Gi', 30], ['Mi', 20], ['Ki', 10]];

export function k8sBytes(bytes: number): string {
  for (const [unit, shift] of BINARY) {
    const d = 2 ** shift;
    if (bytes >= d && bytes % d === 0) return `${bytes / d}${unit}`;
  }
  return String(bytes);
}

/** A live limit value (as corrald holds what was asked: Docker's forms) in the manifest's units. */
export function inManifestUnits(key: string, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  const text = String(value);
  try {
    if (BYTES.has(key)) return text === '-1' ? 'unlimited' : k8sBytes(parseDockerBytes(text, key));
    if (key === 'pidsLimit') return text === '-1' ? 'unlimited' : Number(text);
    if (key === 'cpus') {
      const cpus = Number(text);
      return Number.isInteger(cpus) ? String(cpus) : `${Math.round(cpus * 1000)}m`;
    }
  } catch {
    return value; // not a form we know: shown as it is
  }
  return value;
}

/** The manifest's own text for limit `key` of `c`, when it wrote one (quantities only). */
export function writtenLimit(c: ManifestContainer, key: string): string | undefined {
  const entry = LIMIT_KEYS.find((e) => e.key === key);
  if (!entry || !('manifest' in entry) || entry.manifest.includes('[]')) return undefined;
  return c.written[entry.manifest]?.text;
}
