import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../util/package-root.js';
import { FORMATS } from './units.js';

/**
 * docs/manifest.schema.json, loaded and checked: the subset of JSON Schema draft 2020-12 that
 * validate.ts implements. The schema file is the one source: adding a key or a range there
 * changes what corral accepts and what editors offer.
 *
 * Assertions: type, enum, const, required, properties, patternProperties, additionalProperties,
 * propertyNames, min/maxProperties, items, min/maxItems, uniqueItems, minimum, maximum,
 * exclusiveMinimum/Maximum, pattern, min/maxLength, allOf, anyOf, oneOf, not, $ref (to #/$defs),
 * and `format` (the formats in units.ts, asserted). Annotations read for messages: x-expected
 * (what a value should be, in words), x-hints (answers to wrong keys), x-unsupported (a key that is
 * refused with that reason). Any other keyword makes loading the schema fail, so the schema cannot
 * ask for something this validator silently skips.
 */

export type Schema = boolean | SchemaNode;
export interface SchemaNode {
  $ref?: string;
  type?: JsonType | JsonType[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, Schema>;
  patternProperties?: Record<string, Schema>;
  additionalProperties?: Schema;
  propertyNames?: Schema;
  required?: string[];
  minProperties?: number;
  maxProperties?: number;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  allOf?: Schema[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  not?: Schema;
  format?: string;
  description?: string;
  'x-expected'?: string;
  'x-hints'?: Record<string, string>;
  'x-unsupported'?: string;
  $defs?: Record<string, Schema>;
}
export type JsonType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';

export const ASSERTIONS = ['$ref', 'type', 'enum', 'const', 'properties', 'patternProperties', 'additionalProperties', 'propertyNames', 'required', 'minProperties', 'maxProperties', 'items', 'minItems', 'maxItems', 'uniqueItems', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'pattern', 'minLength', 'maxLength', 'allOf', 'anyOf', 'oneOf', 'not', 'format'];
const ANNOTATIONS = ['$schema', '$id', '$comment', '$defs', 'title', 'description', 'markdownDescription', 'default', 'examples', 'deprecated', 'x-expected', 'x-hints', 'x-unsupported'];
const KNOWN = new Set([...ASSERTIONS, ...ANNOTATIONS]);

export class CompiledSchema {
  private readonly regexes = new Map<string, RegExp>();
  constructor(readonly root: SchemaNode) {
    this.check(root, '#');
  }

  regex(pattern: string): RegExp {
    let re = this.regexes.get(pattern);
    if (!re) this.regexes.set(pattern, (re = new RegExp(pattern, 'u')));
    return re;
  }

  /** `#/$defs/name` → the schema there. */
  resolve(ref: string): Schema {
    const m = /^#\/\$defs\/([^/]+)$/.exec(ref);
    const target = m ? this.root.$defs?.[m[1]!] : undefined;
    if (target === undefined) throw new Error(`manifest schema: cannot resolve $ref ${ref}`);
    return target;
  }

  /** Follows $ref chains; a $ref's siblings are annotations only (checked on load) and win over the target's. */
  deref(s: Schema): Schema {
    for (let i = 0; typeof s === 'object' && s.$ref && i < 16; i++) {
      const target: Schema = this.resolve(s.$ref);
      const rest = withoutRef(s);
      s = typeof target === 'boolean' ? (Object.keys(rest).length === 0 ? target : rest) : { ...target, ...rest };
    }
    return s;
  }

  private check(s: Schema, where: string): void {
    if (typeof s === 'boolean') return;
    for (const k of Object.keys(s)) if (!KNOWN.has(k)) throw new Error(`manifest schema: unsupported keyword ${k} at ${where}`);
    if (s.$ref) {
      this.resolve(s.$ref);
      const assertion = Object.keys(s).find((k) => k !== '$ref' && ASSERTIONS.includes(k));
      if (assertion) throw new Error(`manifest schema: ${assertion} next to $ref at ${where} (put it in the referenced schema)`);
    }
    if (s.pattern) this.regex(s.pattern);
    if (s.format && !(s.format in FORMATS)) throw new Error(`manifest schema: unknown format ${s.format} at ${where}`);
    for (const [k, sub] of Object.entries(s.properties ?? {})) this.check(sub, `${where}/properties/${k}`);
    for (const [k, sub] of Object.entries(s.patternProperties ?? {})) {
      this.regex(k);
      this.check(sub, `${where}/patternProperties/${k}`);
    }
    for (const [k, sub] of Object.entries(s.$defs ?? {})) this.check(sub, `${where}/$defs/${k}`);
    for (const key of ['additionalProperties', 'propertyNames', 'items', 'not'] as const) if (s[key] !== undefined) this.check(s[key]!, `${where}/${key}`);
    for (const key of ['allOf', 'anyOf', 'oneOf'] as const) s[key]?.forEach((sub, i) => this.check(sub, `${where}/${key}/${i}`));
  }
}

let cached: CompiledSchema | undefined;

/** docs/manifest.schema.json, read and checked once. */
export function manifestSchema(): CompiledSchema {
  return (cached ??= new CompiledSchema(JSON.parse(readFileSync(manifestSchemaPath(), 'utf8')) as SchemaNode));
}

export function manifestSchemaPath(): string {
  return join(packageRoot(), 'docs', 'manifest.schema.json');
}

function withoutRef(s: SchemaNode): SchemaNode {
  const { $ref: _ref, ...rest } = s;
  return rest;
}
