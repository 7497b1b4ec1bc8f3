import { describe, expect, it } from 'vitest';
import { EMPTY_DEFAULTS, legacyRecord, migrateRecord, storedRecord, TEMPLATE_RECORD_VERSION, type TemplateRecord } from '../../../src/rootfs/record.js';

const good: TemplateRecord = {
  name: 'web',
  description: 'd',
  source: { kind: 'commit', container: 'c'.repeat(64), containerName: 'web1', parent: 'debian', flattened: false },
  digest: 'sha256:ab',
  parent: 'debian',
  createdAt: '2026-01-01T00:00:00.000Z',
  layers: [
    { path: 'web/layers/1', digest: 'sha256:1', sizeBytes: 10 },
    { path: 'debian/layers/0', digest: 'sha256:0', sizeBytes: 100 },
  ],
  defaults: { ...EMPTY_DEFAULTS, command: ['bash'] },
};

describe('template.json records', () => {
  it('round-trips the current version, version first', () => {
    const stored = storedRecord(good);
    expect(Object.keys(stored)[0]).toBe('version');
    expect(stored.version).toBe(TEMPLATE_RECORD_VERSION);
    expect(migrateRecord(JSON.parse(JSON.stringify(stored)), 'web')).toEqual({ record: good });
  });

  it('migrates the old meta.json layout (version 0) to one layer <name>/rootfs with the recipe defaults', () => {
    const raw = legacyRecord({ name: 'busybox', builtAt: '2025-05-05T00:00:00.000Z', sizeBytes: 1234, buildScript: '/x' }, 'busybox', { description: 'bb', defaults: { ...EMPTY_DEFAULTS, command: ['sh'] } });
    const m = migrateRecord(raw, 'busybox');
    expect(m).toEqual({
      record: {
        name: 'busybox',
        description: 'bb',
        source: { kind: 'recipe', recipe: 'busybox', args: {} },
        digest: 'unknown',
        parent: null,
        createdAt: '2025-05-05T00:00:00.000Z',
        layers: [{ path: 'busybox/rootfs', digest: 'unknown', sizeBytes: 1234 }],
        defaults: { ...EMPTY_DEFAULTS, command: ['sh'] },
      },
    });
    expect(legacyRecord({ name: 'busybox' }, 'busybox', undefined)).toBeUndefined();
  });

  it('fills defaults a record leaves out', () => {
    const { defaults: _d, ...rest } = good;
    const m = migrateRecord({ version: 1, ...rest, defaults: { command: ['x'] } }, 'web');
    expect(m).toEqual({ record: { ...good, defaults: { ...EMPTY_DEFAULTS, command: ['x'] } } });
  });

  it('names what is wrong, and never reads a newer version', () => {
    const bad = (patch: Record<string, unknown>) => migrateRecord({ version: 1, ...good, ...patch }, 'web');
    expect(migrateRecord([], 'web')).toEqual({ problem: 'template.json is not a JSON object' });
    expect(bad({ version: 2 })).toEqual({ problem: 'template.json was written by a newer Corral (version 2; this one reads up to 1)' });
    expect(bad({ version: -1 })).toEqual({ problem: 'template.json has an invalid version -1' });
    expect(bad({ name: 'other' })).toEqual({ problem: 'template.json names "other", not its directory "web"' });
    expect(bad({ layers: [] })).toEqual({ problem: 'template.json lists no layers' });
    expect(bad({ digest: 1 })).toEqual({ problem: 'template.json lacks "digest"' });
    expect(bad({ defaults: { command: 'sh' } })).toEqual({ problem: 'template.json: defaults.command must be a list of strings' });
    expect(bad({ source: null })).toEqual({ problem: 'template.json lacks "source"' });
    // A record cannot point outside the templates directory.
    for (const p of ['/etc', '../x/layers/0', 'web/../../etc', 'web/./x', 'web', 'web//x', '']) {
      expect(bad({ layers: [{ path: p, digest: 'x', sizeBytes: 0 }] })).toEqual({ problem: `template.json: layer path ${JSON.stringify(p)} is not <template>/<dir> inside the templates directory` });
    }
  });
});
