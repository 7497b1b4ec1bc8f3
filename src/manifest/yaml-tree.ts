import { Composer, type Document, Lexer, LineCounter, type Node, Parser, Scalar, isAlias, isMap, isPair, isScalar, isSeq, visit } from 'yaml';
import type { CST } from 'yaml';
import { type IssueCode, type ManifestIssue, type PathSegment, type Pos, formatPath } from './issues.js';

/**
 * YAML text → a small tree of plain values that remembers where each came from (LValue), with
 * the guards hostile input needs. Aliases are expanded here and `<<` merge keys applied, so the
 * schema and the validators see plain maps, lists and scalars.
 *
 * Guards, each checked as early as it can be and each bounding time and memory:
 * - size: refused before the text is looked at (`maxBytes`);
 * - nesting: measured on the parser's own stack while it streams, refused at depth `maxDepth`
 *   before any document is composed (yaml's composer recurses per level);
 * - duplicate keys: detected here with a set per map. yaml's `uniqueKeys` compares each key with
 *   every earlier one (quadratic: a 1 MiB flat map took 146 s), so it is turned off;
 * - aliases: resolved through a table built in one pass, and every node an alias expands to counts
 *   against `maxAliasNodes` (a "billion laughs" stops there at once). yaml's own `maxAliasCount` is
 *   enforced only by `toJS()`, which is not used: it would lose positions, and its alias lookup
 *   scans every anchor of the document for each alias;
 * - size after expansion: at most `maxNodes` values in a file.
 */

export interface LMap {
  kind: 'map';
  pos: Pos;
  entries: Map<string, LEntry>;
}
export interface LEntry {
  key: string;
  keyPos: Pos;
  value: LValue;
}
export interface LSeq {
  kind: 'seq';
  pos: Pos;
  items: LValue[];
}
export interface LScalar {
  kind: 'scalar';
  pos: Pos;
  value: string | number | boolean | null;
  /** The scalar as written for plain scalars (`1.10`, `0x1f`); the value as a string otherwise. */
  text: string;
  /** Nothing was written (`memory:` with no value). */
  empty: boolean;
  /** Stands in for something already reported (a dangling alias): the schema skips it. */
  invalid?: true;
}
export type LValue = LMap | LSeq | LScalar;

export interface ReadLimits {
  maxBytes: number;
  maxDepth: number;
  maxNodes: number;
  maxAliasNodes: number;
}

export const DEFAULT_READ_LIMITS: ReadLimits = {
  // 1 MiB of hostile YAML (a flat flow list, 500k items) took yaml ~3 s and ~500 MiB here; 256 KiB
  // is thousands of lines of manifest and stays well under a second.
  maxBytes: 256 * 1024,
  maxDepth: 64,
  maxNodes: 100_000,
  maxAliasNodes: 10_000,
};

/** One YAML document: its root value, or null when it holds nothing (or could not be read). */
export interface ReadDocument {
  root: LValue | null;
  pos: Pos;
}

export interface ReadResult {
  docs: ReadDocument[];
  issues: ManifestIssue[];
}

type Issue = Omit<ManifestIssue, 'file' | 'line' | 'col'> & { pos: Pos };

class Refusal extends Error {
  constructor(readonly issue: Issue) {
    super(issue.message);
  }
}

export function readYaml(input: string | Uint8Array, file: string, limits: ReadLimits = DEFAULT_READ_LIMITS): ReadResult {
  const at = (i: Issue): ManifestIssue => ({ severity: i.severity, code: i.code, file, line: i.pos.line, col: i.pos.col, path: i.path, message: i.message, ...(i.hint ? { hint: i.hint } : {}) });
  const start: Pos = { line: 1, col: 1, offset: 0 };
  const refuse = (code: IssueCode, message: string, hint?: string): ReadResult => ({
    docs: [],
    issues: [at({ severity: 'error', code, pos: start, path: '', message, ...(hint ? { hint } : {}) })],
  });

  // Size, before anything else: a UTF-16 length above the limit means more bytes than that too.
  const size = typeof input === 'string' ? (input.length > limits.maxBytes ? input.length : Buffer.byteLength(input)) : input.byteLength;
  if (size > limits.maxBytes) {
    return refuse('too-large', `the manifest is ${humanBytes(size)}, more than the ${humanBytes(limits.maxBytes)} allowed`, 'split it into several files');
  }
  let text: string;
  if (typeof input === 'string') text = input;
  else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      return refuse('not-utf8', 'the manifest is not UTF-8 text');
    }
  }

  const lines = new LineCounter();
  lines.addNewLine(0);
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines.addNewLine(i + 1);
  const posAt = (offset: number): Pos => {
    const { line, col } = lines.linePos(Math.max(0, Math.min(offset, text.length)));
    return { line, col, offset };
  };

  // Parse to a CST, watching the parser's stack: one entry per open collection (plus the document
  // and the current scalar), so nesting is refused as soon as it gets too deep.
  const tokens: CST.Token[] = [];
  const parser = new Parser();
  for (const lexeme of new Lexer().lex(text)) {
    for (const t of parser.next(lexeme)) tokens.push(t);
    if (parser.stack.length > limits.maxDepth + 2) {
      const pos = posAt(parser.offset - lexeme.length);
      return { docs: [], issues: [at({ severity: 'error', code: 'too-deep', pos, path: '', message: `values are nested more than ${limits.maxDepth} levels deep` })] };
    }
  }
  for (const t of parser.end()) tokens.push(t);

  const docs: ReadDocument[] = [];
  const issues: ManifestIssue[] = [];
  const budget = { nodes: 0, aliasNodes: 0 };
  const composed = Array.from(new Composer({ uniqueKeys: false, prettyErrors: false }).compose(tokens));
  for (const doc of composed) {
    const pos = posAt(doc.range[0]);
    const yamlProblems = [...doc.errors, ...doc.warnings];
    for (const e of yamlProblems) {
      issues.push(at({ severity: 'error', code: 'syntax', pos: posAt(e.pos[0]), path: '', message: firstLine(e.message) }));
    }
    if (yamlProblems.length > 0 || doc.contents === null) {
      docs.push({ root: null, pos });
      continue;
    }
    try {
      const reader = new TreeReader(doc, posAt, limits, budget);
      const root = reader.read(doc.contents, [], undefined);
      issues.push(...reader.issues.map(at));
      // `---` followed by nothing (or only comments) holds an empty scalar: an empty document.
      docs.push({ root: root.kind === 'scalar' && root.empty ? null : root, pos });
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      return { docs: [], issues: [...issues, at(err.issue)] };
    }
  }
  return { docs, issues };
}

class TreeReader {
  readonly issues: Issue[] = [];
  private readonly targets = new Map<Node, Node | undefined>();
  private readonly open = new Set<Node>();

  constructor(
    doc: Document.Parsed,
    private readonly posAt: (offset: number) => Pos,
    private readonly limits: ReadLimits,
    private readonly budget: { nodes: number; aliasNodes: number },
  ) {
    // Each alias refers to the last node with its anchor before it, in document order.
    const anchors = new Map<string, Node>();
    visit(doc, {
      Node: (_key, node) => {
        if (isAlias(node)) this.targets.set(node, anchors.get(node.source));
        else if (node.anchor) anchors.set(node.anchor, node);
      },
    });
  }

  /** `alias` is the outermost alias being expanded, if any; nesting depth is the path's length. */
  read(node: Node | null, path: PathSegment[], alias: Pos | undefined, emptyPos?: Pos): LValue {
    const depth = path.length;
    const pos = this.posAt(node?.range?.[0] ?? 0);
    if (++this.budget.nodes > this.limits.maxNodes) {
      throw new Refusal({ severity: 'error', code: 'too-many-nodes', pos, path: '', message: `the manifest holds more than ${this.limits.maxNodes} values` });
    }
    if (alias && ++this.budget.aliasNodes > this.limits.maxAliasNodes) {
      throw new Refusal({
        severity: 'error',
        code: 'alias-bomb',
        pos: alias,
        path: '',
        message: `aliases expand to more than ${this.limits.maxAliasNodes} values: refusing what looks like an alias bomb ("billion laughs")`,
        hint: 'write the values out, or use fewer aliases of aliases',
      });
    }
    if (depth > this.limits.maxDepth) {
      throw new Refusal({ severity: 'error', code: 'too-deep', pos: alias ?? pos, path: '', message: `values are nested more than ${this.limits.maxDepth} levels deep (after expanding aliases)` });
    }
    if (node === null) return { kind: 'scalar', pos: emptyPos ?? pos, value: null, text: '', empty: true };
    if (isAlias(node)) {
      const target = this.targets.get(node);
      if (target === undefined) return this.bad('alias', pos, path, `alias *${node.source} has no anchor &${node.source} before it`);
      if (this.open.has(target)) return this.bad('alias', pos, path, `alias *${node.source} refers to a value that contains it`);
      return this.read(target, path, alias ?? pos, emptyPos);
    }
    if (isScalar(node)) return this.scalar(node, pos, path, emptyPos);
    this.open.add(node);
    try {
      if (isMap(node)) return this.map(node.items, pos, path, alias);
      if (isSeq(node)) {
        const items = node.items.map((item, i) =>
          isPair(item) ? this.map([item], this.posAt(rangeStart(item.key) ?? node.range?.[0] ?? 0), [...path, i], alias) : this.read(item as Node | null, [...path, i], alias),
        );
        return { kind: 'seq', pos, items };
      }
    } finally {
      this.open.delete(node);
    }
    return this.bad('syntax', pos, path, 'unsupported YAML node');
  }

  private scalar(node: Scalar, pos: Pos, path: PathSegment[], emptyPos: Pos | undefined): LScalar {
    const v = node.value;
    if (v !== null && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      return this.bad('syntax', pos, path, `unsupported YAML value (${typeof v})`);
    }
    const plain = node.type === Scalar.PLAIN || node.type === undefined;
    const text = plain && typeof node.source === 'string' ? node.source : v === null ? '' : String(v);
    const empty = v === null && !!node.range && node.range[0] === node.range[1];
    return { kind: 'scalar', pos: empty && emptyPos ? emptyPos : pos, value: v, text, empty };
  }

  private map(pairs: readonly unknown[], pos: Pos, path: PathSegment[], alias: Pos | undefined): LValue {
    const entries = new Map<string, LEntry>();
    const merges: { value: LValue; pos: Pos }[] = [];
    for (const pair of pairs) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as Node | null;
      const keyPos = this.posAt(rangeStart(keyNode) ?? pos.offset);
      let k: Node | null | undefined = keyNode;
      if (k && isAlias(k)) k = this.targets.get(k);
      if (!k || !isScalar(k) || (k.value !== null && typeof k.value === 'object')) {
        this.issues.push({ severity: 'error', code: 'bad-key', pos: keyPos, path: formatPath(path), message: 'keys must be plain words, not lists, maps or nothing' });
        continue;
      }
      const key = (k.type === Scalar.PLAIN || k.type === undefined) && typeof k.source === 'string' ? k.source : String(k.value);
      const value = this.read(pair.value as Node | null, [...path, key], alias, keyPos);
      if (key === '<<' && (k.type === Scalar.PLAIN || k.type === undefined)) {
        merges.push({ value, pos: keyPos });
        continue;
      }
      const first = entries.get(key);
      if (first) {
        this.issues.push({ severity: 'error', code: 'duplicate-key', pos: keyPos, path: formatPath([...path, key]), message: `duplicate key ${JSON.stringify(key)} (first at line ${first.keyPos.line}, column ${first.keyPos.col})` });
        continue;
      }
      entries.set(key, { key, keyPos, value });
    }
    // `<<: *defaults` or `<<: [*a, *b]`: keys written in the map win, then earlier sources.
    for (const m of merges) {
      const sources = m.value.kind === 'seq' ? m.value.items : [m.value];
      for (const src of sources) {
        if (src.kind !== 'map') {
          this.issues.push({ severity: 'error', code: 'merge', pos: m.pos, path: formatPath(path), message: '<< merges maps: give it an alias of a map (<<: *defaults) or a list of them' });
          continue;
        }
        for (const [key, e] of src.entries) if (!entries.has(key)) entries.set(key, e);
      }
    }
    return { kind: 'map', pos, entries };
  }

  private bad(code: IssueCode, pos: Pos, path: PathSegment[], message: string): LScalar {
    this.issues.push({ severity: 'error', code, pos, path: formatPath(path), message });
    return { kind: 'scalar', pos, value: null, text: '', empty: false, invalid: true };
  }
}

function rangeStart(node: unknown): number | undefined {
  return (node as { range?: [number, number, number] } | null)?.range?.[0];
}

function firstLine(s: string): string {
  return (s.split('\n')[0] ?? s).replace(/ at line \d+, column \d+:?$/, '');
}

function humanBytes(n: number): string {
  const trim = (x: number) => String(Math.round(x * 10) / 10);
  if (n >= 1024 * 1024) return `${trim(n / (1024 * 1024))} MiB`;
  if (n >= 1024) return `${trim(n / 1024)} KiB`;
  return `${n} bytes`;
}
