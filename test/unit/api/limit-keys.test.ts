import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { LIMIT_KEYS, LIST_LIMIT_KEYS, SCALAR_LIMIT_KEYS } from '../../../src/api/limit-keys.js';
import { addLimitFlags, toLimitRequest } from '../../../src/cli/limit-flags.js';
import { parseManifest } from '../../../src/manifest/index.js';
import { validateLimitRequest } from '../../../src/runtime/spec.js';
import { ValidationError } from '../../../src/errors.js';

/** The one table against the places that cannot import it, and the derived lists against it. */

type SchemaNode = { properties?: Record<string, SchemaNode>; type?: string | string[]; items?: SchemaNode };

/** Leaf keys of the schema's limits, as the table writes them (`limits.io.devices[].readBps`). */
function schemaLeaves(node: SchemaNode, prefix: string): string[] {
  if (node.properties) return Object.entries(node.properties).flatMap(([k, v]) => schemaLeaves(v, `${prefix}.${k}`));
  if (node.type === 'array' && node.items?.properties) return Object.entries(node.items.properties).flatMap(([k, v]) => schemaLeaves(v, `${prefix}[].${k}`));
  return [prefix];
}

describe('LIMIT_KEYS', () => {
  it('names every limit key of docs/manifest.schema.json, and nothing the schema lacks', () => {
    const schema = JSON.parse(readFileSync(new URL('../../../docs/manifest.schema.json', import.meta.url), 'utf8'));
    const inSchema = [...schemaLeaves(schema.$defs.limits, 'limits').filter((p) => !p.endsWith('[].path')), 'oomScoreAdj'];
    expect(Object.keys(schema.$defs.container.properties)).toContain('oomScoreAdj');
    const inTable = LIMIT_KEYS.flatMap((e) => ('manifest' in e ? [e.manifest] : []));
    expect([...inTable].sort()).toEqual([...inSchema].sort());
  });

  it('gives each key one flag and one kind; lists are exactly the repeatable device flags', () => {
    expect(new Set(LIMIT_KEYS.map((e) => e.key)).size).toBe(LIMIT_KEYS.length);
    expect(new Set(LIMIT_KEYS.map((e) => e.flag)).size).toBe(LIMIT_KEYS.length);
    expect(LIST_LIMIT_KEYS).toEqual(['deviceReadBps', 'deviceWriteBps', 'deviceReadIops', 'deviceWriteIops']);
    expect([...SCALAR_LIMIT_KEYS, ...LIST_LIMIT_KEYS].sort()).toEqual(LIMIT_KEYS.map((e) => e.key).sort());
  });

  it('is what the CLI offers: every flag on create, all but the create-only ones on update', () => {
    const longs = (cmd: Command) => cmd.options.map((o) => o.long).filter((f) => f !== '--ignore-missing-limits');
    expect(longs(addLimitFlags(new Command('create')))).toEqual(LIMIT_KEYS.filter((e) => !('createOnly' in e)).map((e) => e.flag).concat(['--oom-score-adj']));
    expect(longs(addLimitFlags(new Command('update'), { create: false }))).toEqual(LIMIT_KEYS.filter((e) => !('createOnly' in e)).map((e) => e.flag));
    // commander stores each flag under the LimitRequest field of the same entry.
    for (const o of addLimitFlags(new Command('create')).options) {
      if (o.long !== '--ignore-missing-limits') expect(LIMIT_KEYS.find((e) => e.flag === o.long)?.key).toBe(o.attributeName());
    }
  });

  it('passes the given flags through toLimitRequest, lists only when non-empty', () => {
    const cmd = addLimitFlags(new Command('create')).exitOverride();
    cmd.parse(['--cpus', '0.5', '-m', '64m', '--device-read-bps', '/dev/vda:1mb', '--device-read-bps', '/dev/vdb:2mb', '--oom-score-adj', '5'], { from: 'user' });
    expect(toLimitRequest(cmd.opts())).toEqual({ cpus: '0.5', memory: '64m', oomScoreAdj: '5', deviceReadBps: ['/dev/vda:1mb', '/dev/vdb:2mb'] });
    expect(toLimitRequest({ deviceWriteIops: [] })).toBeUndefined();
  });

  it('is what corrald accepts in a request; update refuses the create-only keys', () => {
    const all = Object.fromEntries(LIMIT_KEYS.map((e) => [e.key, e.kind === 'list' ? ['/dev/vda:1'] : '1']));
    expect(validateLimitRequest(all)).toEqual(all);
    expect(() => validateLimitRequest({ memroy: '1g' })).toThrow(new ValidationError('unknown limit "memroy"'));
    expect(() => validateLimitRequest({ oomScoreAdj: 5 }, false)).toThrow('unknown limit "oomScoreAdj"');
    expect(() => validateLimitRequest({ deviceReadBps: '/dev/vda:1' })).toThrow('limits.deviceReadBps: expected a list');
    expect(() => validateLimitRequest({ memory: true })).toThrow('limits.memory: expected a string or a number');
  });

  it('reads every manifest key into its LimitRequest field', () => {
    const spec = parseManifest(
      [
        'containers:',
        '  a:',
        '    template: busybox',
        '    oomScoreAdj: -5',
        '    limits:',
        '      cpu: 500m',
        '      cpuWeight: 200',
        '      memory: 64Mi',
        '      memoryReservation: 32Mi',
        '      swap: unlimited',
        '      pids: 100',
        '      cpuset: { cpus: "0", mems: "0" }',
        '      io:',
        '        weight: 300',
        '        devices:',
        '          - { path: /dev/vda, readBps: 1Mi, writeBps: 2Mi, readIops: 10, writeIops: 20 }',
        '          - { path: /dev/vdb, readBps: 1Ki }',
      ].join('\n'),
      'm.yaml',
    );
    const limits = spec.containers[0]!.request.limits!;
    expect(limits).toEqual({
      cpus: '0.5',
      cpuWeight: 200,
      cpusetCpus: '0',
      cpusetMems: '0',
      memory: String(64 * 2 ** 20),
      memoryReservation: String(32 * 2 ** 20),
      memorySwap: '-1',
      oomScoreAdj: -5,
      pidsLimit: '100',
      blkioWeight: 300,
      deviceReadBps: [`/dev/vda:${2 ** 20}`, '/dev/vdb:1024'],
      deviceWriteBps: [`/dev/vda:${2 ** 21}`],
      deviceReadIops: ['/dev/vda:10'],
      deviceWriteIops: ['/dev/vda:20'],
    });
    expect(Object.keys(limits).filter((k) => !LIMIT_KEYS.some((e) => e.key === k && 'manifest' in e))).toEqual([]);
  });
});
