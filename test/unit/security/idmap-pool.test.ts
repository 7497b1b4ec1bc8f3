import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IdmapPool, IdPoolExhaustedError, poolFor } from '../../../src/security/idmap-pool.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'corral-idmap-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const pool = (count = 8) => new IdmapPool({ file: join(dir, 'data', 'userns-pool.json'), start: 1_000_000, size: 65_536, count });
const ids = (n: number) => Array.from({ length: n }, (_, i) => `${i}`.padStart(64, 'c'));

describe('IdmapPool', () => {
  it('gives concurrent creates disjoint ranges, each of 65,536 ids', async () => {
    const p = pool(64);
    const got = await Promise.all(ids(40).map((id) => p.allocate(id)));
    const bases = got.map((r) => r.uidBase).sort((a, b) => a - b);
    expect(new Set(bases).size).toBe(40);
    for (let i = 1; i < bases.length; i++) expect(bases[i]! - bases[i - 1]!).toBeGreaterThanOrEqual(65_536);
    expect(bases[0]).toBe(1_000_000);
    expect(got.every((r) => r.size === 65_536 && r.gidBase === r.uidBase)).toBe(true);
  });

  it('is idempotent for one container', async () => {
    const p = pool();
    const [a, b] = await Promise.all([p.allocate('x'), p.allocate('x')]);
    expect(a).toEqual(b);
    expect(Object.keys(await p.held())).toEqual(['x']);
  });

  it('survives a restart (a new pool reads the record) and never hands a held range out again', async () => {
    const [a, b] = ids(2);
    await pool().allocate(a!);
    const again = pool();
    expect((await again.allocate(a!)).uidBase).toBe(1_000_000);
    expect((await again.allocate(b!)).uidBase).toBe(1_065_536);
    expect(JSON.parse(readFileSync(join(dir, 'data', 'userns-pool.json'), 'utf8'))).toEqual({ version: 1, ranges: { [a!]: 1_000_000, [b!]: 1_065_536 } });
  });

  it('frees a range at release and reuses it afterwards', async () => {
    const p = pool();
    const [a, b, c] = ids(3);
    await p.allocate(a!);
    await p.allocate(b!);
    await p.release(a!);
    await p.release('never-allocated');
    expect((await p.allocate(c!)).uidBase).toBe(1_000_000);
  });

  it('says what to do when every range is held', async () => {
    const p = pool(2);
    await p.allocate('a');
    await p.allocate('b');
    const err = await p.allocate('c').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdPoolExhaustedError);
    expect((err as Error).message).toBe(
      `allocate a user namespace range from ${join(dir, 'data', 'userns-pool.json')}: all 2 ranges of 65536 ids from host id 1000000 are held (2 containers); remove containers, widen the pool (CORRAL_USERNS_POOL=START:COUNT) or create with --userns host`,
    );
  });

  it('reconciles with the containers that exist: frees the gone, records a range the record lost', async () => {
    const p = pool();
    await p.allocate('gone');
    await p.allocate('kept');
    expect(await p.reconcile(new Map([['kept', 1_065_536], ['restored', 1_131_072], ['host-userns', undefined]]))).toEqual(['gone']);
    expect(await p.held()).toEqual({
      kept: { uidBase: 1_065_536, gidBase: 1_065_536, size: 65_536 },
      restored: { uidBase: 1_131_072, gidBase: 1_131_072, size: 65_536 },
    });
    expect((await p.allocate('new')).uidBase).toBe(1_000_000);
    expect((await p.allocate('next')).uidBase).toBe(1_196_608);
  });

  it('refuses a record it cannot read rather than guess (a guess could share a range)', async () => {
    const p = pool();
    await p.allocate('a');
    writeFileSync(join(dir, 'data', 'userns-pool.json'), '{"version":1,"ranges":{"a":"x"}}');
    await expect(p.allocate('b')).rejects.toThrow(/not a user namespace pool record/);
  });

  it('checks its layout, and takes CORRAL_USERNS_POOL', () => {
    expect(() => new IdmapPool({ file: 'x', start: 4_294_000_000, size: 65_536, count: 100 })).toThrow(/pass the highest host id/);
    expect(poolFor('/d', {}).o).toEqual({ file: '/d/userns-pool.json', start: 1_000_000, size: 65_536, count: 65_520 });
    expect(poolFor('/d', { CORRAL_USERNS_POOL: '200000000:10' }).o).toMatchObject({ start: 200_000_000, count: 10 });
    expect(() => poolFor('/d', { CORRAL_USERNS_POOL: 'lots' })).toThrow(/expected START\[:COUNT\]/);
  });
});
