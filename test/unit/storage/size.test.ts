import { describe, expect, it } from 'vitest';
import { parseStorageOpt, storageOptFromFlags } from '../../../src/storage/size.js';
import { checkManifest, formatIssue, parseManifest } from '../../../src/manifest/index.js';

describe('--storage-opt', () => {
  it('size in Docker units (binary, case-insensitive)', () => {
    expect(parseStorageOpt({ size: '10G' })).toEqual({ sizeBytes: 10 * 2 ** 30 });
    expect(parseStorageOpt({ size: '64m' })).toEqual({ sizeBytes: 64 * 2 ** 20 });
    expect(parseStorageOpt({ size: '16MiB' })).toEqual({ sizeBytes: 16 * 2 ** 20 });
    expect(parseStorageOpt({ size: 16 * 2 ** 20 })).toEqual({ sizeBytes: 16 * 2 ** 20 });
    expect(parseStorageOpt(undefined)).toBeUndefined();
    expect(parseStorageOpt({})).toBeUndefined();
  });

  it('refuses sizes below 16 MiB, bad numbers and unknown keys, naming the option', () => {
    expect(() => parseStorageOpt({ size: '0' })).toThrow(/size=0: the disk must be at least 16 MiB/);
    expect(() => parseStorageOpt({ size: '1k' })).toThrow(/at least 16 MiB/);
    expect(() => parseStorageOpt({ size: '15.9m' })).toThrow(/--storage-opt size/);
    expect(() => parseStorageOpt({ size: 'abc' })).toThrow(/invalid --storage-opt size "abc"/);
    expect(() => parseStorageOpt({ size: '-1g' })).toThrow(/--storage-opt size/);
    expect(() => parseStorageOpt({ quota: '1g' })).toThrow(/--storage-opt quota: unknown storage option \(known: size\)/);
    expect(() => parseStorageOpt(['size=1g'])).toThrow(/expected an object/);
  });

  it('the CLI turns KEY=VALUE flags into the API object', () => {
    expect(storageOptFromFlags(['size=10G'])).toEqual({ size: '10G' });
    expect(storageOptFromFlags(['size=1g', 'size=2g'])).toEqual({ size: '2g' });
    expect(() => storageOptFromFlags(['size'])).toThrow(/invalid --storage-opt "size": expected KEY=VALUE/);
    expect(() => storageOptFromFlags(['=1g'])).toThrow(/expected KEY=VALUE/);
  });
});

describe('disk: in manifests', () => {
  const m = (disk: string) => `containers:\n  web:\n    template: busybox\n    disk: ${disk}\n`;
  it('takes Kubernetes units and sends exact bytes as --storage-opt size', () => {
    expect(parseManifest(m('10Gi'), '/srv/m.yaml', { baseDir: '/srv' }).containers[0]!.request.storageOpt).toEqual({ size: String(10 * 2 ** 30) });
    expect(parseManifest(m('64Mi'), '/srv/m.yaml', { baseDir: '/srv' }).containers[0]!.request.storageOpt).toEqual({ size: String(64 * 2 ** 20) });
  });
  it('refuses less than 16Mi and Docker units', () => {
    expect(checkManifest(m('8Mi'), 'm.yaml').errors.map(formatIssue).join('\n')).toMatch(/disk.*at least 16Mi/);
    expect(checkManifest(m('10g'), 'm.yaml').errors.map(formatIssue).join('\n')).toMatch(/disk/);
  });
});
