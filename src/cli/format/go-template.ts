import { ValidationError } from '../../errors.js';

/**
 * The part of Go's text/template that `docker … --format` users write: `{{.Field.Sub}}`, `{{.}}`,
 * `{{json .}}`, pipelines (`{{.Names | upper}}`), `{{if}}`/`{{else}}`/`{{end}}`, `{{range}}` (with
 * `$i, $v :=`), `{{with}}`, variables, `{{- trim -}}`, comments, and Docker's functions (json, join,
 * split, lower, upper, title, pad, truncate, println) with Go's builtins (and, or, not, len, index,
 * eq, ne, lt, le, gt, ge, print, printf). No npm package implements text/template itself (the ones
 * named so are mustache-like or unmaintained), so this is ours, small and tested.
 *
 * Data are plain JS values. A field is looked up on an object by its exact name, then with its first
 * letter lower-cased (`.State.Status` finds `state.status`), then case-insensitively; a field that
 * is a function is a method (`{{.Label "k"}}`). A field that does not exist is an error, never an
 * empty string, so a typo is seen at once.
 */

/** A template error: the template, where, and what. Its `details.usage` makes it a usage error (exit 2). */
export class TemplateError extends ValidationError {
  constructor(source: string, message: string) {
    super(`template ${JSON.stringify(source)}: ${message}`, { usage: true });
  }
}

type Value = unknown;
type Fn = (...args: Value[]) => Value;

// ---- lexing ----------------------------------------------------------------------------------

type Tok =
  | { k: 'field'; path: string[] } // .A.B, or [] for "."
  | { k: 'var'; name: string; path: string[] } // $x.A
  | { k: 'ident'; name: string }
  | { k: 'str'; v: string }
  | { k: 'num'; v: number }
  | { k: 'pipe' | 'lparen' | 'rparen' | 'declare' | 'assign' | 'comma' };

type Piece = { text: string } | { action: Tok[]; at: number };

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;

function lex(src: string): Piece[] {
  const out: Piece[] = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = src.slice(i, open < 0 ? src.length : open);
    if (trimNext) text = text.replace(/^\s+/, '');
    trimNext = false;
    if (open < 0) {
      if (text) out.push({ text });
      break;
    }
    let j = open + 2;
    if (src[j] === '-' && /\s/.test(src[j + 1] ?? '')) {
      text = text.replace(/\s+$/, '');
      j += 2;
    }
    if (text) out.push({ text });
    const { toks, end, trim } = lexAction(src, j);
    trimNext = trim;
    if (toks !== null) out.push({ action: toks, at: open });
    i = end;
  }
  return out;
}

function lexAction(src: string, start: number): { toks: Tok[] | null; end: number; trim: boolean } {
  const fail = (msg: string): never => {
    throw new TemplateError(src, `at column ${start}: ${msg}`);
  };
  let j = start;
  while (/\s/.test(src[j] ?? '')) j++;
  if (src.startsWith('/*', j)) {
    const close = src.indexOf('*/', j + 2);
    if (close < 0) fail('unclosed comment');
    let k = close + 2;
    while (/\s/.test(src[k] ?? '')) k++;
    const trim = src[k] === '-';
    if (trim) k++;
    if (!src.startsWith('}}', k)) fail('comment ends with "*/}}"');
    return { toks: null, end: k + 2, trim };
  }
  const toks: Tok[] = [];
  const path = (): string[] => {
    const p: string[] = [];
    while (src[j] === '.') {
      IDENT.lastIndex = j + 1;
      const m = IDENT.exec(src);
      if (!m) break;
      p.push(m[0]);
      j = IDENT.lastIndex;
    }
    return p;
  };
  for (;;) {
    while (/\s/.test(src[j] ?? '')) j++;
    if (j >= src.length) fail('unclosed action (no "}}")');
    if (src[j] === '-' && /\s/.test(src[j - 1] ?? '') && src.startsWith('}}', j + 1)) return { toks, end: j + 3, trim: true };
    if (src.startsWith('}}', j)) return { toks, end: j + 2, trim: false };
    const c = src[j]!;
    if (c === '|') (toks.push({ k: 'pipe' }), j++);
    else if (c === '(') (toks.push({ k: 'lparen' }), j++);
    else if (c === ')') (toks.push({ k: 'rparen' }), j++);
    else if (c === ',') (toks.push({ k: 'comma' }), j++);
    else if (src.startsWith(':=', j)) (toks.push({ k: 'declare' }), (j += 2));
    else if (c === '=') (toks.push({ k: 'assign' }), j++);
    else if (c === '.') {
      const p = path();
      if (p.length === 0) j++; // "." alone
      toks.push({ k: 'field', path: p });
    } else if (c === '$') {
      IDENT.lastIndex = j + 1;
      const m = IDENT.exec(src);
      j = m ? IDENT.lastIndex : j + 1;
      toks.push({ k: 'var', name: m ? m[0] : '', path: path() });
    } else if (c === '"') {
      let k = j + 1;
      while (k < src.length && src[k] !== '"') k += src[k] === '\\' ? 2 : 1;
      if (k >= src.length) fail('unterminated string');
      try {
        toks.push({ k: 'str', v: JSON.parse(src.slice(j, k + 1)) as string });
      } catch {
        fail(`bad string ${src.slice(j, k + 1)}`);
      }
      j = k + 1;
    } else if (c === '`') {
      const k = src.indexOf('`', j + 1);
      if (k < 0) fail('unterminated raw string');
      toks.push({ k: 'str', v: src.slice(j + 1, k) });
      j = k + 1;
    } else if (/[-+0-9]/.test(c)) {
      const m = /[-+]?\d+(\.\d+)?/y;
      m.lastIndex = j;
      const r = m.exec(src);
      if (!r) fail(`unexpected "${c}"`);
      toks.push({ k: 'num', v: Number(r![0]) });
      j = m.lastIndex;
    } else {
      IDENT.lastIndex = j;
      const m = IDENT.exec(src);
      if (!m) fail(`unexpected "${c}"`);
      toks.push({ k: 'ident', name: m![0] });
      j = IDENT.lastIndex;
    }
  }
}

// ---- parsing ---------------------------------------------------------------------------------

type Arg =
  | { k: 'field'; path: string[] }
  | { k: 'var'; name: string; path: string[] }
  | { k: 'fn'; name: string }
  | { k: 'lit'; v: Value }
  | { k: 'sub'; pipe: Pipeline };
interface Cmd {
  args: Arg[];
}
interface Pipeline {
  decl: string[];
  assign: boolean;
  cmds: Cmd[];
}
interface Block {
  k: 'if' | 'with' | 'range';
  pipe: Pipeline;
  body: Node[];
  otherwise: Node[];
}
type Node = { k: 'text'; text: string } | { k: 'action'; pipe: Pipeline } | Block;

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'break', 'continue']);

class Parser {
  private pos = 0;
  constructor(private readonly src: string, private readonly pieces: Piece[], private readonly funcs: Record<string, Fn>) {}

  fail(msg: string): never {
    throw new TemplateError(this.src, msg);
  }

  parseAll(): Node[] {
    const { nodes, stop } = this.list();
    if (stop) this.fail(`unexpected {{${stop}}}`);
    return nodes;
  }

  /** Nodes up to an {{else}} or {{end}} (returned as `stop`, with an else's trailing tokens). */
  private list(): { nodes: Node[]; stop?: 'else' | 'end'; rest?: Tok[] } {
    const nodes: Node[] = [];
    while (this.pos < this.pieces.length) {
      const p = this.pieces[this.pos++]!;
      if ('text' in p) {
        nodes.push({ k: 'text', text: p.text });
        continue;
      }
      const t = p.action;
      if (t.length === 0) this.fail('empty action {{}}');
      const head = t[0]!;
      if (head.k === 'ident' && (head.name === 'end' || head.name === 'else')) {
        if (head.name === 'end' && t.length > 1) this.fail('unexpected tokens after {{end}}');
        return { nodes, stop: head.name, rest: t.slice(1) };
      }
      if (head.k === 'ident' && (head.name === 'if' || head.name === 'with' || head.name === 'range')) {
        nodes.push(this.block(head.name, t.slice(1)));
        continue;
      }
      if (head.k === 'ident' && (head.name === 'break' || head.name === 'continue' || head.name === 'define' || head.name === 'template' || head.name === 'block')) {
        this.fail(`{{${head.name}}} is not supported`);
      }
      nodes.push({ k: 'action', pipe: this.pipeline(t) });
    }
    return { nodes };
  }

  private block(kind: 'if' | 'with' | 'range', toks: Tok[]): Node {
    if (toks.length === 0) this.fail(`missing value for {{${kind}}}`);
    const pipe = this.pipeline(toks);
    const body = this.list();
    if (!body.stop) this.fail(`unclosed {{${kind}}} (no {{end}})`);
    let otherwise: Node[] = [];
    if (body.stop === 'else') {
      const rest = body.rest ?? [];
      if (rest.length > 0) {
        // {{else if …}} / {{else with …}}: a nested block that shares our {{end}}
        const h = rest[0]!;
        if (h.k !== 'ident' || (h.name !== 'if' && h.name !== 'with')) this.fail('unexpected tokens after {{else}}');
        otherwise = [this.block(h.name as 'if' | 'with', rest.slice(1))];
      } else {
        const tail = this.list();
        if (tail.stop !== 'end') this.fail(`unclosed {{${kind}}} (no {{end}} after {{else}})`);
        otherwise = tail.nodes;
      }
    }
    return { k: kind, pipe, body: body.nodes, otherwise };
  }

  private pipeline(toks: Tok[]): Pipeline {
    let i = 0;
    const decl: string[] = [];
    let assign = false;
    // `$x :=`, `$i, $v :=`, `$x =`
    const declEnd = toks.findIndex((t) => t.k === 'declare' || t.k === 'assign');
    if (declEnd > 0 && toks.slice(0, declEnd).every((t) => t.k === 'var' || t.k === 'comma')) {
      for (const t of toks.slice(0, declEnd)) if (t.k === 'var') decl.push(t.name);
      assign = toks[declEnd]!.k === 'assign';
      i = declEnd + 1;
    }
    const cmds: Cmd[] = [];
    let args: Arg[] = [];
    const end = (): void => {
      if (args.length === 0) this.fail('missing command in pipeline');
      cmds.push({ args });
      args = [];
    };
    while (i < toks.length) {
      const t = toks[i++]!;
      if (t.k === 'pipe') end();
      else if (t.k === 'lparen') {
        let depth = 1;
        const start = i;
        while (i < toks.length && depth > 0) {
          const k = toks[i++]!.k;
          if (k === 'lparen') depth++;
          else if (k === 'rparen') depth--;
        }
        if (depth !== 0) this.fail('unclosed "("');
        args.push({ k: 'sub', pipe: this.pipeline(toks.slice(start, i - 1)) });
      } else if (t.k === 'field') args.push({ k: 'field', path: t.path });
      else if (t.k === 'var') args.push({ k: 'var', name: t.name, path: t.path });
      else if (t.k === 'str' || t.k === 'num') args.push({ k: 'lit', v: t.v });
      else if (t.k === 'ident') {
        if (t.name === 'true' || t.name === 'false') args.push({ k: 'lit', v: t.name === 'true' });
        else if (t.name === 'nil') args.push({ k: 'lit', v: null });
        else if (KEYWORDS.has(t.name)) this.fail(`unexpected "${t.name}"`);
        else if (!(t.name in this.funcs)) this.fail(`function "${t.name}" not defined`);
        else args.push({ k: 'fn', name: t.name });
      } else this.fail(`unexpected "${t.k === 'rparen' ? ')' : t.k === 'comma' ? ',' : '='}"`);
    }
    end();
    return { decl, assign, cmds };
  }
}

// ---- evaluation ------------------------------------------------------------------------------

/** Go's %v of a value: strings as they are, lists as [a b], maps as map[k:v] with sorted keys. */
export function goString(v: Value): string {
  if (v === null || v === undefined) return '<no value>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (typeof v === 'function') return '<func>';
  const o = v as Record<string, unknown>;
  return `map[${Object.keys(o)
    .filter((k) => typeof o[k] !== 'function')
    .sort()
    .map((k) => `${k}:${goString(o[k])}`)
    .join(' ')}]`;
}

function truthy(v: Value): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

/** What a field lookup tries: exact, first letter lower-cased, case-insensitive. */
function lookup(obj: Record<string, unknown>, name: string): { found: boolean; value?: Value } {
  if (Object.prototype.hasOwnProperty.call(obj, name)) return { found: true, value: obj[name] };
  const lower = name[0]!.toLowerCase() + name.slice(1);
  if (Object.prototype.hasOwnProperty.call(obj, lower)) return { found: true, value: obj[lower] };
  const ci = Object.keys(obj).filter((k) => k.toLowerCase() === name.toLowerCase());
  if (ci.length === 1) return { found: true, value: obj[ci[0]!] };
  return { found: false };
}

function printf(format: string, ...args: Value[]): string {
  let n = 0;
  return format.replace(/%([-+ 0#]*)(\d*)(?:\.(\d+))?([svdqftx%])/g, (_m, flags: string, width: string, prec: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    const a = args[n++];
    let s: string;
    if (verb === 'd') s = String(Math.trunc(Number(a)));
    else if (verb === 'f') s = Number(a).toFixed(prec === undefined ? 6 : Number(prec));
    else if (verb === 'q') s = JSON.stringify(goString(a));
    else if (verb === 'x') s = typeof a === 'number' ? a.toString(16) : Buffer.from(goString(a)).toString('hex');
    else if (verb === 't') s = String(Boolean(a));
    else s = goString(a);
    if (verb === 's' && prec !== undefined) s = s.slice(0, Number(prec));
    const w = Number(width || 0);
    return flags.includes('-') ? s.padEnd(w) : s.padStart(w, flags.includes('0') && verb !== 's' ? '0' : ' ');
  });
}

const cmp = (name: string, f: (a: number | string, b: number | string) => boolean): Fn => (a, b) => {
  if (typeof a !== typeof b || (typeof a !== 'number' && typeof a !== 'string')) throw new Error(`${name}: incompatible types for comparison`);
  return f(a as number | string, b as number | string);
};

/** Go's builtins and Docker's template functions (cli/templates). */
export const FUNCS: Record<string, Fn> = {
  and: (...a) => a.find((v) => !truthy(v)) ?? a[a.length - 1],
  or: (...a) => a.find(truthy) ?? a[a.length - 1],
  not: (a) => !truthy(a),
  len: (a) => {
    if (typeof a === 'string' || Array.isArray(a)) return a.length;
    if (a && typeof a === 'object') return Object.keys(a).length;
    throw new Error(`len of ${goString(a)}`);
  },
  index: (a, ...keys) => {
    let v = a;
    for (const k of keys) {
      if (Array.isArray(v) && typeof k === 'number') {
        if (k < 0 || k >= v.length) throw new Error(`index out of range: ${k}`);
        v = v[k];
      } else if (v && typeof v === 'object' && typeof k === 'string') v = (v as Record<string, unknown>)[k];
      else throw new Error(`cannot index ${goString(v)} with ${goString(k)}`);
    }
    return v ?? null;
  },
  eq: (a, ...b) => b.some((x) => x === a || (x == null && a == null)),
  ne: (a, b) => a !== b,
  lt: cmp('lt', (a, b) => a < b),
  le: cmp('le', (a, b) => a <= b),
  gt: cmp('gt', (a, b) => a > b),
  ge: cmp('ge', (a, b) => a >= b),
  print: (...a) => a.map(goString).join(''),
  println: (...a) => a.map(goString).join(' ') + '\n',
  printf: (f, ...a) => printf(String(f), ...a),
  json: (a) => JSON.stringify(a ?? null),
  join: (a, sep) => (Array.isArray(a) ? a.map(goString).join(String(sep)) : goString(a)),
  split: (a, sep) => String(a).split(String(sep)),
  lower: (a) => goString(a).toLowerCase(),
  upper: (a) => goString(a).toUpperCase(),
  title: (a) => goString(a).replace(/(^|\s)(\S)/g, (_m, s: string, c: string) => s + c.toUpperCase()),
  pad: (a, l, r) => ' '.repeat(Number(l)) + goString(a) + ' '.repeat(Number(r)),
  truncate: (a, n) => [...goString(a)].slice(0, Number(n)).join(''),
};

interface Scope {
  vars: Map<string, Value>[];
}

export class GoTemplate {
  private readonly nodes: Node[];

  /** Parses `source`; a syntax error or an unknown function is a TemplateError. */
  constructor(readonly source: string, private readonly funcs: Record<string, Fn> = FUNCS) {
    this.nodes = new Parser(source, lex(source), funcs).parseAll();
  }

  /** Runs the template on `data`; `what` names the data in errors ("a container"). */
  execute(data: Value, what = 'the data'): string {
    const out: string[] = [];
    const scope: Scope = { vars: [new Map([['', data]])] };
    try {
      this.walk(this.nodes, data, scope, out, what);
    } catch (err) {
      if (err instanceof TemplateError) throw err;
      throw new TemplateError(this.source, (err as Error).message);
    }
    return out.join('');
  }

  private walk(nodes: Node[], dot: Value, scope: Scope, out: string[], what: string): void {
    for (const n of nodes) {
      if (n.k === 'text') out.push(n.text);
      else if (n.k === 'action') {
        const v = this.pipe(n.pipe, dot, scope, what);
        if (n.pipe.decl.length === 0) out.push(goString(v));
      } else {
        scope.vars.push(new Map());
        try {
          if (n.k === 'range') this.range(n, dot, scope, out, what);
          else {
            const v = this.pipe(n.pipe, dot, scope, what);
            if (truthy(v)) this.walk(n.body, n.k === 'with' ? v : dot, scope, out, what);
            else this.walk(n.otherwise, dot, scope, out, what);
          }
        } finally {
          scope.vars.pop();
        }
      }
    }
  }

  private range(n: Block, dot: Value, scope: Scope, out: string[], what: string): void {
    const decl = n.pipe.decl;
    const v = this.pipe({ ...n.pipe, decl: [] }, dot, scope, what);
    let entries: [Value, Value][];
    if (Array.isArray(v)) entries = v.map((x, i) => [i, x]);
    else if (v && typeof v === 'object') entries = Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]);
    else if (typeof v === 'number') entries = Array.from({ length: Math.max(0, v) }, (_, i) => [i, i]);
    else if (v === null || v === undefined) entries = [];
    else throw new Error(`range can't iterate over ${goString(v)}`);
    if (entries.length === 0) return this.walk(n.otherwise, dot, scope, out, what);
    const vars = scope.vars[scope.vars.length - 1]!;
    for (const [k, x] of entries) {
      if (decl.length === 1) vars.set(decl[0]!, x);
      else if (decl.length === 2) (vars.set(decl[0]!, k), vars.set(decl[1]!, x));
      this.walk(n.body, x, scope, out, what);
    }
  }

  private pipe(p: Pipeline, dot: Value, scope: Scope, what: string): Value {
    let v: Value;
    let piped = false;
    for (const c of p.cmds) {
      v = this.command(c, dot, scope, what, piped ? [v] : []);
      piped = true;
    }
    if (p.decl.length > 0) {
      const name = p.decl[p.decl.length - 1]!;
      if (p.assign) {
        const frame = [...scope.vars].reverse().find((m) => m.has(name));
        if (!frame) throw new Error(`undefined variable: $${name}`);
        frame.set(name, v);
      } else scope.vars[scope.vars.length - 1]!.set(name, v);
    }
    return v;
  }

  private command(c: Cmd, dot: Value, scope: Scope, what: string, piped: Value[]): Value {
    const [head, ...rest] = c.args;
    const args = (): Value[] => [...rest.map((a) => this.arg(a, dot, scope, what)), ...piped];
    if (head!.k === 'fn') return this.funcs[head!.name]!(...args());
    if (head!.k === 'field' || head!.k === 'var') {
      const base = head!.k === 'var' ? this.variable(head!.name, scope) : dot;
      const v = this.path(base, head!.path, what, true);
      if (typeof v === 'function') return (v as Fn)(...args());
      if (rest.length > 0 || piped.length > 0) throw new Error(`${head!.k === 'var' ? '$' + head!.name : ''}.${head!.path.join('.')} is not a method but has arguments`);
      return v;
    }
    if (rest.length > 0 || piped.length > 0) throw new Error(`cannot give arguments to a value that is not a function`);
    return this.arg(head!, dot, scope, what);
  }

  private arg(a: Arg, dot: Value, scope: Scope, what: string): Value {
    if (a.k === 'lit') return a.v;
    if (a.k === 'sub') return this.pipe(a.pipe, dot, scope, what);
    if (a.k === 'fn') return this.funcs[a.name]!();
    const base = a.k === 'var' ? this.variable(a.name, scope) : dot;
    const v = this.path(base, a.path, what, false);
    return typeof v === 'function' ? (v as Fn)() : v;
  }

  private variable(name: string, scope: Scope): Value {
    for (let i = scope.vars.length - 1; i >= 0; i--) if (scope.vars[i]!.has(name)) return scope.vars[i]!.get(name);
    throw new Error(`undefined variable: $${name}`);
  }

  /** `.A.B.C` from `base`; the last step may be a method, returned uncalled when `keepLast`. */
  private path(base: Value, path: string[], what: string, keepLast: boolean): Value {
    let v = base;
    path.forEach((name, i) => {
      if (typeof v === 'function') v = (v as Fn)();
      if (v === null || v === undefined) throw new Error(`.${path.slice(0, i + 1).join('.')}: nil has no field ${name}`);
      if (typeof v !== 'object' || Array.isArray(v)) throw new Error(`.${path.slice(0, i + 1).join('.')}: can't evaluate field ${name} in ${Array.isArray(v) ? 'a list' : `a ${typeof v}`}`);
      const r = lookup(v as Record<string, unknown>, name);
      if (!r.found) {
        const known = Object.keys(v as object);
        throw new Error(`.${path.slice(0, i + 1).join('.')}: no field ${name} in ${i === 0 ? what : `.${path.slice(0, i).join('.')}`}${known.length ? ` (fields: ${known.join(', ')})` : ''}`);
      }
      v = r.value;
    });
    if (!keepLast && typeof v === 'function') return (v as Fn)();
    return v;
  }
}
