import { ValidationError } from '../errors.js';

/** A place in the manifest text: 1-based line and column (UTF-16 units), and the 0-based offset. */
export interface Pos {
  line: number;
  col: number;
  offset: number;
}

/** A path into the manifest, `['containers', 'web', 'limits', 'memory']` or with list indexes. */
export type PathSegment = string | number;

/** What kind of problem an issue is; stable, for tests and tools. */
export type IssueCode =
  // input refused before or while parsing
  | 'too-large'
  | 'not-utf8'
  | 'too-deep'
  | 'too-many-nodes'
  | 'alias-bomb'
  | 'syntax'
  | 'duplicate-key'
  | 'bad-key'
  | 'alias'
  | 'merge'
  | 'empty'
  // the schema (docs/manifest.schema.json)
  | 'type'
  | 'enum'
  | 'required'
  | 'unknown-key'
  | 'pattern'
  | 'range'
  | 'length'
  | 'count'
  | 'unique'
  | 'unsupported'
  | 'format'
  | 'quantity'
  | 'duration'
  // semantic validators
  | 'reference'
  | 'cycle'
  | 'duplicate-name'
  | 'template'
  | 'conflict'
  // warnings
  | 'unit-trap';

export interface ManifestIssue {
  severity: 'error' | 'warning';
  code: IssueCode;
  file: string;
  line: number;
  col: number;
  /** `containers.web.limits.memory`; empty for the file as a whole. */
  path: string;
  /** What is wrong: what was expected and what was found. */
  message: string;
  /** A way out: `did you mean "memory"?`, `quote it: "1.10"`. */
  hint?: string;
}

/** `web.yaml:7:7: containers.web.limits.memroy: unknown key "memroy"; did you mean "memory"?` */
export function formatIssue(i: ManifestIssue): string {
  const where = `${i.file}:${i.line}:${i.col}`;
  const what = i.path ? `${i.path}: ${i.message}` : i.message;
  return `${where}: ${i.severity === 'warning' ? 'warning: ' : ''}${what}${i.hint ? `; ${i.hint}` : ''}`;
}

/**
 * A manifest that cannot be used. `issues` holds every error found in the file (not just the
 * first), in text order; the message lists them one per line after a summary line.
 */
export class ManifestError extends ValidationError {
  readonly file: string;
  readonly issues: readonly ManifestIssue[];
  readonly warnings: readonly ManifestIssue[];
  constructor(file: string, issues: readonly ManifestIssue[], warnings: readonly ManifestIssue[] = []) {
    const n = issues.length;
    super(`invalid manifest ${file}: ${n} ${n === 1 ? 'error' : 'errors'}\n${issues.map(formatIssue).join('\n')}`, {
      file,
      issues: issues.map((i) => ({ ...i })),
    });
    this.file = file;
    this.issues = issues;
    this.warnings = warnings;
  }
}

/** `containers.web.limits.memory`, `containers.web.volumes[0]`, `containers.web.labels["a b"]`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z0-9_][A-Za-z0-9_-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Issues in text order (stable for equal positions). */
export function sortIssues(issues: ManifestIssue[]): ManifestIssue[] {
  return issues.map((i, n) => [i, n] as const).sort(([a, na], [b, nb]) => a.line - b.line || a.col - b.col || na - nb).map(([i]) => i);
}

/**
 * The closest candidate to `word` (optimal string alignment distance, case-insensitive), if it is
 * close enough to be a likely typo: at most 2 edits, or 40 % of the word for long words.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  if (word.length > 128) return undefined;
  const w = word.toLowerCase();
  const allowed = Math.max(2, Math.floor(word.length * 0.4));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    // The length difference is a lower bound of the distance: skip what cannot be close.
    if (Math.abs(c.length - w.length) > Math.min(allowed, bestDistance)) continue;
    const d = editDistance(w, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= allowed && bestDistance < word.length ? best : undefined;
}

/** Levenshtein distance where swapping two neighbours counts as one edit. Bounded input: keys and enum values. */
export function editDistance(a: string, b: string): number {
  if (a.length > 256 || b.length > 256) return Math.max(a.length, b.length);
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const prev = rows[i - 1]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}
