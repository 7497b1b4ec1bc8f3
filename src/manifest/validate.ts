import { type IssueCode, type PathSegment, type Pos, closest, formatPath } from './issues.js';
import type { CompiledSchema, JsonType, Schema, SchemaNode } from './schema.js';
import { FORMATS, UnitError } from './units.js';
import type { LMap, LScalar, LSeq, LValue } from './yaml-tree.js';

/**
 * Validation of the located tree against the manifest schema (schema.ts), so that every problem
 * has a position; all problems are collected, not just the first.
 */

/** A problem found by the schema; `pos` is where it is in the text. */
export interface SchemaIssue {
  code: IssueCode;
  pos: Pos;
  path: PathSegment[];
  message: string;
  hint?: string;
}

/** Every problem of `value` against `schema` (not just the first). */
export function validateSchema(value: LValue, schema: CompiledSchema, start: Schema = schema.root, path: PathSegment[] = []): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  new Walker(schema, issues).walk(value, start, path, undefined);
  return issues;
}

class Walker {
  constructor(
    private readonly schema: CompiledSchema,
    private readonly issues: SchemaIssue[],
  ) {}

  /** `keyPos`: where the key holding this value is, for "missing" and "not supported" problems. */
  walk(v: LValue, raw: Schema, path: PathSegment[], keyPos: Pos | undefined): void {
    if (raw === true) return;
    const at = keyPos && (v.kind !== 'scalar' || v.empty) ? keyPos : v.pos;
    if (raw === false) return this.add('unknown-key', at, path, 'not allowed here');
    const s = this.schema.deref(raw) as SchemaNode;
    if (typeof s !== 'object') return this.walk(v, s, path, keyPos);
    if (s['x-unsupported']) return this.add('unsupported', keyPos ?? v.pos, path, s['x-unsupported']);
    if (v.kind === 'scalar' && v.invalid) return;

    if (s.type !== undefined && !typeMatches(v, s.type)) {
      return this.add('type', v.pos, path, `expected ${this.describe(s)}, got ${got(v)}`, this.quoteHint(v, s, path));
    }
    if (s.const !== undefined && !sameScalar(v, s.const)) {
      return this.add('enum', v.pos, path, `expected ${this.describe(s)}, got ${got(v)}`, suggestion(v, [s.const]));
    }
    if (s.enum !== undefined && !s.enum.some((e) => sameScalar(v, e))) {
      return this.add('enum', v.pos, path, `expected ${this.describe(s)}, got ${got(v)}`, suggestion(v, s.enum));
    }
    if (v.kind === 'scalar') this.scalar(v, s, path);
    else if (v.kind === 'map') this.map(v, s, path, keyPos);
    else this.seq(v, s, path);

    for (const sub of s.allOf ?? []) this.walk(v, sub, path, keyPos);
    if (s.anyOf) this.alternatives(v, s, s.anyOf, 'anyOf', path, keyPos);
    if (s.oneOf) this.alternatives(v, s, s.oneOf, 'oneOf', path, keyPos);
    if (s.not !== undefined && this.trial(v, s.not, path, keyPos).length === 0) this.add('type', at, path, `${got(v)} is not allowed here`);
  }

  private scalar(v: LScalar, s: SchemaNode, path: PathSegment[]): void {
    if (typeof v.value === 'string') {
      const t = v.value;
      if (s.pattern && !this.schema.regex(s.pattern).test(t)) this.add('pattern', v.pos, path, `expected ${this.describe(s)}, got ${got(v)}`);
      if (s.minLength !== undefined && [...t].length < s.minLength) this.add('length', v.pos, path, s.minLength === 1 ? 'must not be empty' : `must be at least ${s.minLength} characters long`);
      if (s.maxLength !== undefined && [...t].length > s.maxLength) this.add('length', v.pos, path, `must be at most ${s.maxLength} characters long`);
    }
    if (typeof v.value === 'number') {
      const n = v.value;
      const low = s.minimum !== undefined && n < s.minimum;
      const high = s.maximum !== undefined && n > s.maximum;
      const xlow = s.exclusiveMinimum !== undefined && n <= s.exclusiveMinimum;
      const xhigh = s.exclusiveMaximum !== undefined && n >= s.exclusiveMaximum;
      if (low || high || xlow || xhigh) this.add('range', v.pos, path, `expected ${this.describe(s)}, got ${v.text}`);
    }
    if (s.format && v.value !== null && typeof v.value !== 'boolean') {
      const field = String(path.findLast((p) => typeof p === 'string') ?? 'value');
      try {
        FORMATS[s.format]!(v.text, field);
      } catch (err) {
        if (!(err instanceof UnitError)) throw err;
        this.add(err.code, v.pos, path, err.message, err.hint);
      }
    }
  }

  private map(v: LMap, s: SchemaNode, path: PathSegment[], keyPos: Pos | undefined): void {
    const n = v.entries.size;
    if (s.minProperties !== undefined && n < s.minProperties) this.add('count', keyPos ?? v.pos, path, `expected ${this.describe(s)} with at least ${s.minProperties} ${s.minProperties === 1 ? 'entry' : 'entries'}, got ${n === 0 ? 'none' : n}`);
    if (s.maxProperties !== undefined && n > s.maxProperties) this.add('count', keyPos ?? v.pos, path, `at most ${s.maxProperties} entries, got ${n}`);
    for (const req of s.required ?? []) {
      if (!v.entries.has(req)) this.add('required', keyPos ?? v.pos, path, `missing required key ${JSON.stringify(req)}`, this.requiredHint(s, req));
    }
    for (const [key, e] of v.entries) {
      const p = [...path, key];
      if (s.propertyNames !== undefined) {
        const keyScalar: LScalar = { kind: 'scalar', pos: e.keyPos, value: key, text: key, empty: false };
        const sub = this.trial(keyScalar, s.propertyNames, p, undefined);
        for (const i of sub) this.issues.push({ ...i, message: i.message.replace(/^expected /, 'invalid key: expected ') });
      }
      const prop = s.properties?.[key];
      const patterns = Object.entries(s.patternProperties ?? {}).filter(([re]) => this.schema.regex(re).test(key));
      if (prop !== undefined) this.walk(e.value, prop, p, e.keyPos);
      for (const [, sub] of patterns) this.walk(e.value, sub, p, e.keyPos);
      if (prop !== undefined || patterns.length > 0) continue;
      if (s.additionalProperties === false) this.add('unknown-key', e.keyPos, p, `unknown key ${JSON.stringify(key)}`, this.keyHint(s, key));
      else if (s.additionalProperties !== undefined) this.walk(e.value, s.additionalProperties, p, e.keyPos);
    }
  }

  private seq(v: LSeq, s: SchemaNode, path: PathSegment[]): void {
    const n = v.items.length;
    if (s.minItems !== undefined && n < s.minItems) this.add('count', v.pos, path, `expected ${this.describe(s)} with at least ${s.minItems} ${s.minItems === 1 ? 'item' : 'items'}, got ${n === 0 ? 'an empty list' : n}`);
    if (s.maxItems !== undefined && n > s.maxItems) this.add('count', v.pos, path, `at most ${s.maxItems} items, got ${n}`);
    if (s.items !== undefined) v.items.forEach((item, i) => this.walk(item, s.items!, [...path, i], undefined));
    if (s.uniqueItems) {
      const seen = new Map<string, number>();
      v.items.forEach((item, i) => {
        if (item.kind !== 'scalar') return;
        const k = `${typeof item.value}:${String(item.value)}`;
        const first = seen.get(k);
        if (first === undefined) seen.set(k, i);
        else this.add('unique', item.pos, [...path, i], `${got(item)} is listed twice (first at [${first}])`);
      });
    }
  }

  /**
   * anyOf / oneOf. When no alternative fits, the message comes from the one alternative whose
   * type fits the value (its own, deeper problems are the most precise), or else from x-expected.
   */
  private alternatives(v: LValue, s: SchemaNode, alts: Schema[], kind: 'anyOf' | 'oneOf', path: PathSegment[], keyPos: Pos | undefined): void {
    const results = alts.map((a) => this.trial(v, a, path, keyPos));
    const passing = results.filter((r) => r.length === 0).length;
    if (kind === 'anyOf' ? passing > 0 : passing === 1) return;
    if (passing > 1) return this.add('type', v.pos, path, `ambiguous: ${got(v)} fits several alternatives`);
    const fitting = alts.map((a, i) => [a, i] as const).filter(([a]) => this.kindFits(v, a));
    const words = s['x-expected'] ?? alts.map((a) => this.describe(a)).join(' or ');
    if (fitting.length === 1) {
      const own = results[fitting[0]![1]]!;
      // Shallow type/enum/pattern/range problems read better in the holder's words; anything
      // deeper or more specific (a unit, a path) is kept as the alternative said it.
      const generic = own.every((i) => formatPath(i.path) === formatPath(path) && ['type', 'enum', 'pattern', 'range'].includes(i.code));
      if (!generic || !s['x-expected']) {
        this.issues.push(...own);
        return;
      }
      return this.add(own[0]!.code, own[0]!.pos, path, `expected ${words}, got ${got(v)}`, own.find((i) => i.hint)?.hint);
    }
    const code: IssueCode = fitting.length === 0 ? 'type' : v.kind === 'scalar' && typeof v.value === 'string' ? 'enum' : 'type';
    const at = keyPos && v.kind !== 'scalar' ? keyPos : v.pos;
    this.add(code, at, path, `expected ${words}, got ${got(v)}`, suggestion(v, alts.flatMap((a) => this.literals(a))) ?? this.quoteHint(v, s, path));
  }

  /**
   * `8080` where a string is wanted: "quote it" when the quoted text would pass, else the hint the
   * quoted text gets (`30` as a duration: "add a unit: 30s").
   */
  private quoteHint(v: LValue, s: Schema, path: PathSegment[]): string | undefined {
    if (v.kind !== 'scalar' || typeof v.value === 'string' || v.value === null || !this.types(s).includes('string')) return undefined;
    const quoted = this.trial({ ...v, value: v.text }, s, path, undefined);
    return quoted.length === 0 ? `quote it: "${v.text}"` : quoted.find((i) => i.hint)?.hint;
  }

  private trial(v: LValue, s: Schema, path: PathSegment[], keyPos: Pos | undefined): SchemaIssue[] {
    const out: SchemaIssue[] = [];
    new Walker(this.schema, out).walk(v, s, path, keyPos);
    return out;
  }

  private add(code: IssueCode, pos: Pos, path: PathSegment[], message: string, hint?: string): void {
    this.issues.push({ code, pos, path, message, ...(hint ? { hint } : {}) });
  }

  /** Whether the value's kind (map, list, string, number, boolean, null) is one `s` can take. */
  private kindFits(v: LValue, s: Schema): boolean {
    const types = this.types(s);
    if (types.length === 0) return true;
    return types.some((t) => typeMatches(v, t === 'integer' ? 'number' : t));
  }

  /** The JSON types `s` accepts; empty when any. */
  private types(raw: Schema): JsonType[] {
    const s = this.schema.deref(raw);
    if (typeof s === 'boolean') return [];
    if (s.type !== undefined) return Array.isArray(s.type) ? s.type : [s.type];
    const lits = s.const !== undefined ? [s.const] : s.enum;
    if (lits) return [...new Set(lits.map(jsonType))];
    const alts = s.oneOf ?? s.anyOf;
    if (alts) {
      const all = alts.map((a) => this.types(a));
      return all.some((t) => t.length === 0) ? [] : [...new Set(all.flat())];
    }
    return [];
  }

  private literals(raw: Schema): unknown[] {
    const s = this.schema.deref(raw);
    if (typeof s === 'boolean') return [];
    return s.const !== undefined ? [s.const] : (s.enum ?? []);
  }

  /** What a schema wants, in words. */
  describe(raw: Schema): string {
    const s = this.schema.deref(raw);
    if (typeof s === 'boolean') return s ? 'anything' : 'nothing';
    if (s['x-expected']) return s['x-expected'];
    if (s.const !== undefined) return JSON.stringify(s.const);
    if (s.enum) return `one of ${s.enum.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join(', ')}`;
    const types = this.types(s);
    const words = types.map((t) => {
      if (t === 'integer' || t === 'number') {
        const noun = t === 'integer' ? 'a whole number' : 'a number';
        if (s.minimum !== undefined && s.maximum !== undefined) return `${noun} from ${s.minimum} to ${s.maximum}`;
        if (s.minimum !== undefined) return `${noun} of at least ${s.minimum}`;
        if (s.maximum !== undefined) return `${noun} of at most ${s.maximum}`;
        return noun;
      }
      return { object: 'a map', array: 'a list', string: 'a string', boolean: 'true or false', null: 'nothing' }[t];
    });
    return words.length > 0 ? words.join(' or ') : 'a value';
  }

  private requiredHint(s: SchemaNode, key: string): string | undefined {
    const sub = s.properties?.[key];
    return sub === undefined ? undefined : `${key}: ${this.describe(sub)}`;
  }

  /** For an unknown key: a written hint, the key one level down, a near spelling, or the keys allowed. */
  private keyHint(s: SchemaNode, key: string): string | undefined {
    const hinted = s['x-hints']?.[key];
    if (hinted) return hinted;
    const names = Object.keys(s.properties ?? {});
    const camel = key.replace(/[_-]([a-z])/g, (_, c: string) => c.toUpperCase());
    if (camel !== key && names.includes(camel)) return `did you mean ${JSON.stringify(camel)}?`;
    const near = closest(key, names);
    if (near) return `did you mean ${JSON.stringify(near)}?`;
    for (const [name, sub] of Object.entries(s.properties ?? {})) {
      const d = this.schema.deref(sub);
      if (typeof d === 'object' && d.properties && (key in d.properties || camel in d.properties)) return `did you mean ${JSON.stringify(`${name}.${key in d.properties ? key : camel}`)}?`;
    }
    const patterns = Object.keys(s.patternProperties ?? {}).map((re) => (/^\^[\w-]+$/.test(re) ? `${re.slice(1)}...` : `/${re}/`));
    const allowed = [...names, ...patterns];
    return names.length > 0 && names.length <= 12 ? `expected ${allowed.length === 1 ? allowed[0] : `one of ${allowed.join(', ')}`}` : undefined;
  }
}

function typeMatches(v: LValue, type: JsonType | JsonType[]): boolean {
  const types = Array.isArray(type) ? type : [type];
  return types.some((t) => {
    switch (t) {
      case 'object':
        return v.kind === 'map';
      case 'array':
        return v.kind === 'seq';
      case 'null':
        return v.kind === 'scalar' && v.value === null;
      case 'integer':
        return v.kind === 'scalar' && typeof v.value === 'number' && Number.isInteger(v.value);
      default:
        return v.kind === 'scalar' && typeof v.value === t;
    }
  });
}

function jsonType(x: unknown): JsonType {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'array';
  if (typeof x === 'number') return Number.isInteger(x) ? 'integer' : 'number';
  return typeof x as JsonType;
}

function sameScalar(v: LValue, x: unknown): boolean {
  return v.kind === 'scalar' && v.value === x;
}

/** How a value reads in a message. */
export function got(v: LValue): string {
  if (v.kind === 'map') return 'a map';
  if (v.kind === 'seq') return 'a list';
  if (v.value === null) return v.empty ? 'nothing' : 'null';
  if (typeof v.value === 'string') return JSON.stringify(v.value.length > 60 ? `${v.value.slice(0, 57)}...` : v.value);
  return v.text || String(v.value);
}

function suggestion(v: LValue, options: readonly unknown[]): string | undefined {
  if (v.kind !== 'scalar' || typeof v.value !== 'string') return undefined;
  const near = closest(v.value, options.filter((o): o is string => typeof o === 'string'));
  return near === undefined ? undefined : `did you mean ${JSON.stringify(near)}?`;
}
