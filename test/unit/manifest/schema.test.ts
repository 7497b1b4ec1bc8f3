import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { closest, editDistance } from '../../../src/manifest/issues.js';
import { CompiledSchema, type SchemaNode, manifestSchema, manifestSchemaPath } from '../../../src/manifest/schema.js';
import { ALL_CAPABILITIES } from '../../../src/security/capabilities.js';

const raw = JSON.parse(readFileSync(manifestSchemaPath(), 'utf8')) as SchemaNode;

describe('docs/manifest.schema.json', () => {
  it('is draft 2020-12 and loads: every keyword is one the validator implements', () => {
    expect(raw.$schema ?? (raw as Record<string, unknown>)['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(() => manifestSchema()).not.toThrow();
  });

  it('refuses keywords the validator does not implement, so nothing is skipped silently', () => {
    expect(() => new CompiledSchema({ type: 'object', properties: { a: { dependentRequired: {} } as SchemaNode } })).toThrow('unsupported keyword dependentRequired at #/properties/a');
    expect(() => new CompiledSchema({ properties: { a: { type: 'string', format: 'email' } } })).toThrow('unknown format email');
    expect(() => new CompiledSchema({ properties: { a: { $ref: '#/$defs/nope' } } })).toThrow('cannot resolve $ref #/$defs/nope');
    expect(() => new CompiledSchema({ $defs: { x: { type: 'string' } }, properties: { a: { $ref: '#/$defs/x', minLength: 1 } } })).toThrow('minLength next to $ref');
  });

  it('lists the capabilities the runtime knows', () => {
    const caps = (raw.$defs!['capability'] as SchemaNode).enum;
    expect(caps).toEqual(['ALL', ...ALL_CAPABILITIES]);
  });

  it('documents every container key in docs/manifest.md', () => {
    const doc = readFileSync(manifestSchemaPath().replace(/manifest\.schema\.json$/, 'manifest.md'), 'utf8');
    const container = raw.$defs!['container'] as SchemaNode;
    const limits = raw.$defs!['limits'] as SchemaNode;
    for (const key of [...Object.keys(container.properties!), ...Object.keys(limits.properties!)]) expect(doc, key).toMatch(new RegExp(`\`${key}[\`.]`));
  });

  it('describes every container key for editors', () => {
    const container = raw.$defs!['container'] as SchemaNode;
    for (const [key, s] of Object.entries(container.properties!)) {
      const d = s as SchemaNode;
      const target = d.$ref ? (raw.$defs![d.$ref.split('/').pop()!] as SchemaNode) : d;
      expect(d.description ?? target.description ?? d['x-expected'] ?? target['x-expected'], key).toBeTruthy();
    }
  });
});

describe('suggestions', () => {
  it('optimal string alignment: a swap is one edit', () => {
    expect(editDistance('memroy', 'memory')).toBe(1);
    expect(editDistance('cpu', 'cpus')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('only close words, case-insensitively', () => {
    expect(closest('memroy', ['memory', 'cpu'])).toBe('memory');
    expect(closest('sys_admin', ['SYS_ADMIN', 'NET_ADMIN'])).toBe('SYS_ADMIN');
    expect(closest('zzz', ['memory', 'cpu'])).toBeUndefined();
    expect(closest('x'.repeat(500), ['memory'])).toBeUndefined();
  });
});
