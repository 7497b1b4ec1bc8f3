import { InvalidArgumentError } from 'commander';
import { formatTable } from '../output.js';
import { GoTemplate, TemplateError } from './go-template.js';

/**
 * `--format` as Docker reads it: a built-in name (`table`, `json`, …), a Go template applied to each
 * item (`{{.Names}}`), or `table` followed by a template (`table {{.ID}}\t{{.Names}}`): a header
 * row, then the rows, in aligned columns. `\t` and `\n` written literally (as in shell quotes) are
 * a tab and a newline, as in Docker.
 */
export type FormatSpec<B extends string> = { kind: B } | { kind: 'template'; template: GoTemplate; table: boolean };

export function parseFormat<B extends string>(value: string, builtins: readonly B[]): FormatSpec<B> {
  if ((builtins as readonly string[]).includes(value)) return { kind: value as B };
  const source = value.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  const table = /^table\s/.test(source);
  if (!table && !source.includes('{{')) throw new InvalidArgumentError(`expected ${builtins.join(', ')} or a Go template such as '{{.Name}}'.`);
  try {
    return { kind: 'template', template: new GoTemplate(table ? source.replace(/^table\s+/, '') : source), table };
  } catch (err) {
    if (err instanceof TemplateError) throw new InvalidArgumentError(err.message);
    throw err;
  }
}

/** commander parser for `--format`. */
export function formatOption<B extends string>(builtins: readonly B[]): (value: string) => FormatSpec<B> {
  return (value) => parseFormat(value, builtins);
}

/** A kind of item's template fields: each field's header for `table` templates. */
export interface FormatFields {
  /** Names the item in errors ("a container"). */
  what: string;
  /** Field → column header, as Docker's (`Names` → `NAMES`). Methods (`Label`) take arguments. */
  headers: Record<string, string>;
  methods?: readonly string[];
}

/** Runs a template on each item: one line each, or with `table` a header and aligned columns. */
export function renderTemplate(spec: { template: GoTemplate; table: boolean }, items: readonly unknown[], fields: FormatFields): string {
  const lines = items.map((item) => spec.template.execute(item, fields.what));
  if (!spec.table) return lines.map((l) => `${l}\n`).join('');
  const header: Record<string, unknown> = {};
  for (const [k, h] of Object.entries(fields.headers)) header[k] = fields.methods?.includes(k) ? () => h : h;
  const headerLine = spec.template.execute(header, fields.what);
  const cells = (l: string): string[] => l.split('\t');
  const rows = lines.flatMap((l) => l.split('\n')).map(cells);
  return formatTable(cells(headerLine), rows);
}
