import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { atomicWrite } from '../../../src/util/atomic-write.js';
import { KeyedMutex } from '../../../src/util/keyed-mutex.js';
import { safeJoin } from '../../../src/util/paths.js';
import { validateName } from '../../../src/util/names.js';
import { ContainerIndex } from '../../../src/runtime/index.js';
import { configFromRequest } from '../../../src/runtime/spec.js';
import { parseStatStartTime } from '../../../src/system/procfs.js';

describe('atomicWrite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-aw-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('replaces the file and leaves no temp file', async () => {
    await atomicWrite(join(dir, 'f'), 'one');
    await atomicWrite(join(dir, 'f'), 'two');
    expect(readFileSync(join(dir, 'f'), 'utf8')).toBe('two');
    expect(readdirSync(dir)).toEqual(['f']);
  });
  it('names the path when it fails', async () => {
    await expect(atomicWrite(join(dir, 'no/such/dir/f'), 'x')).rejects.toThrow(`write ${join(dir, 'no/such/dir/f')}`);
  });
});

describe('KeyedMutex', () => {
  it('serializes one key and not others', async () => {
    const m = new KeyedMutex();
    const order: string[] = [];
    const slow = (tag: string, ms: number) => () => new Promise<void>((r) => setTimeout(() => (order.push(tag), r()), ms));
    await Promise.all([m.run('a', slow('a1', 30)), m.run('a', slow('a2', 1)), m.run('b', slow('b1', 5))]);
    expect(order).toEqual(['b1', 'a1', 'a2']);
  });
  it('keeps going after a failure', async () => {
    const m = new KeyedMutex();
    await expect(m.run('k', async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    await expect(m.run('k', async () => 7)).resolves.toBe(7);
  });
});

describe('names and paths', () => {
  it('accepts Docker names and refuses others', () => {
    expect(validateName('web.1_a-b')).toBe('web.1_a-b');
    for (const bad of ['', '_x', 'a b', 'é', 'a'.repeat(64), '../x']) expect(() => validateName(bad)).toThrow(/invalid container name/);
  });
  it('safeJoin refuses escapes', () => {
    expect(safeJoin('/r', 'a/b')).toBe('/r/a/b');
    expect(() => safeJoin('/r', '../etc')).toThrow(/leaves/);
  });
});

describe('ContainerIndex', () => {
  it('resolves names, ids and unique prefixes; refuses duplicates', () => {
    const idx = new ContainerIndex();
    const a = { ...configFromRequest({ template: 'busybox', name: 'a' }), id: 'ab'.repeat(32) };
    const b = { ...configFromRequest({ template: 'busybox', name: 'b' }), id: 'ac'.repeat(32) };
    idx.add(a);
    idx.add(b);
    expect(idx.resolve('a').id).toBe(a.id);
    expect(idx.resolve('ab').id).toBe(a.id);
    expect(() => idx.resolve('a' + 'x')).toThrow('no such container: ax');
    expect(() => idx.resolve('a'.slice(0, 1) + '')).not.toThrow(); // name wins over prefix
    expect(() => idx.reserve('a', 'f'.repeat(64))).toThrow(/already in use/);
  });
  it('calls a shared prefix ambiguous', () => {
    const idx = new ContainerIndex();
    idx.add({ ...configFromRequest({ template: 'busybox', name: 'x' }), id: '1a'.repeat(32) });
    idx.add({ ...configFromRequest({ template: 'busybox', name: 'y' }), id: '1b'.repeat(32) });
    expect(() => idx.resolve('1')).toThrow(/ambiguous/);
  });
});

describe('parseStatStartTime', () => {
  it('survives spaces and parentheses in comm', () => {
    const fields = Array.from({ length: 40 }, (_, i) => String(i + 3));
    expect(parseStatStartTime(`12 (a) b (c) ${fields.join(' ')}`)).toBe(22);
  });
});
