import { describe, expect, it } from 'vitest';
import { checkManifest, formatIssue } from '../../../src/manifest/index.js';

const MiB = 2 ** 20;
const valid = 'containers:\n  web:\n    template: busybox\n';

/** The result and the heap it grew by (time is not asserted: tests must pass on a loaded machine). */
function measure<T>(fn: () => T): { result: T; heapMiB: number } {
  const heap0 = process.memoryUsage().heapUsed;
  const result = fn();
  return { result, heapMiB: (process.memoryUsage().heapUsed - heap0) / MiB };
}

/** The classic "billion laughs": 9 levels of 9 aliases each, 9^9 = 387 million strings if expanded. */
function billionLaughs(): string {
  const names = 'abcdefghi';
  let text = 'x-a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
  for (let i = 1; i < names.length; i++) text += `x-${names[i]}: &${names[i]} [${Array(9).fill(`*${names[i - 1]}`).join(',')}]\n`;
  return `${text}containers:\n  web:\n    template: busybox\n    labels: {lol: *i}\n`;
}

describe('hostile input is refused quickly, in bounded memory', { timeout: 120_000 }, () => {
  it('an alias bomb, in well under a second', () => {
    const { result, heapMiB } = measure(() => checkManifest(billionLaughs(), 'bomb.yaml'));
    expect(result.errors.map(formatIssue)).toEqual([
      'bomb.yaml:5:10: aliases expand to more than 10000 values: refusing what looks like an alias bomb ("billion laughs"); write the values out, or use fewer aliases of aliases',
    ]);
    expect(heapMiB).toBeLessThan(64);
  });

  it('an alias bomb in a single key: the outermost alias is named', () => {
    const text = 'x-a: &a [1,1,1,1,1,1,1,1,1,1]\nx-b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nx-c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nx-d: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n' + valid;
    const [issue] = checkManifest(text, 'm.yaml').errors;
    expect(issue).toMatchObject({ code: 'alias-bomb', line: 4 });
  });

  it('50 MB of input, before parsing', () => {
    const big = 'a'.repeat(50 * MiB);
    const { result } = measure(() => checkManifest(big, 'big.yaml'));
    expect(result.errors.map(formatIssue)).toEqual(['big.yaml:1:1: the manifest is 50 MiB, more than the 256 KiB allowed; split it into several files']);
    const bytes = measure(() => checkManifest(new Uint8Array(50 * MiB), 'big.yaml'));
    expect(bytes.result.errors[0]).toMatchObject({ code: 'too-large', line: 1, col: 1 });
  });

  it('counts bytes, not characters', () => {
    const limits = { maxBytes: 100 };
    const text = `${valid}# ${'é'.repeat(40)}\n`; // 41 + 2 + 80 + 1 bytes, 84 characters
    expect(text.length).toBeLessThan(100);
    expect(checkManifest(text, 'm.yaml', { limits }).errors[0]).toMatchObject({ code: 'too-large' });
    expect(checkManifest(`${valid}# ${'e'.repeat(40)}\n`, 'm.yaml', { limits }).errors).toEqual([]);
  });

  it('deep nesting, while parsing and before composing', () => {
    const flow = measure(() => checkManifest(`x-deep: ${'['.repeat(200_000)}`, 'deep.yaml'));
    expect(flow.result.errors.map(formatIssue)).toEqual(['deep.yaml:1:73: values are nested more than 64 levels deep']);

    const block = `x-deep:\n  ${'- '.repeat(100)}x\n`;
    expect(checkManifest(block, 'm.yaml').errors.map(formatIssue)).toEqual(['m.yaml:2:131: values are nested more than 64 levels deep']);
    const indented = `x-deep:\n${Array.from({ length: 100 }, (_, i) => `${' '.repeat(i + 1)}a:`).join('\n')} 1\n`;
    expect(checkManifest(indented, 'm.yaml').errors.map(formatIssue)).toEqual(['m.yaml:66:66: values are nested more than 64 levels deep']);

    const nest = (n: number) => `${valid}    labels: {a: 1}\nx-deep: ${'['.repeat(n)}${']'.repeat(n)}\n`;
    expect(checkManifest(nest(60), 'm.yaml').errors).toEqual([]);
    expect(checkManifest(nest(70), 'm.yaml').errors[0]).toMatchObject({ code: 'too-deep' });
  });

  it('deep nesting built from aliases', () => {
    const deep = `${'['.repeat(40)}1${']'.repeat(40)}`;
    const text = `x-a: &a ${deep}\nx-b: &b [${'['.repeat(30)}*a${']'.repeat(30)}]\n${valid}`;
    const [issue] = checkManifest(text, 'm.yaml').errors;
    expect(issue).toMatchObject({ code: 'too-deep', line: 2 });
    expect(issue!.message).toBe('values are nested more than 64 levels deep (after expanding aliases)');
  });

  it('too many values', () => {
    const text = `x-many: [${'1,'.repeat(110_000)}]\n${valid}`;
    const { result } = measure(() => checkManifest(text, 'm.yaml'));
    expect(result.errors.map((e) => e.code)).toEqual(['too-many-nodes']);
  });

  it('bytes that are not UTF-8', () => {
    expect(checkManifest(new Uint8Array([0x63, 0xff, 0xfe]), 'm.yaml').errors.map(formatIssue)).toEqual(['m.yaml:1:1: the manifest is not UTF-8 text']);
    expect(checkManifest(new TextEncoder().encode(valid), 'm.yaml').errors).toEqual([]);
  });

  it('a flat map of thousands of keys is linear (yaml\'s own duplicate check is quadratic)', () => {
    let text = 'x-keys:\n';
    for (let i = 0; text.length < 200 * 1024; i++) text += `  k${i}: 1\n`;
    const { result } = measure(() => checkManifest(`${text}  k1: 2\n${valid}`, 'm.yaml'));
    expect(result.errors.map((e) => [e.code, e.path])).toEqual([['duplicate-key', 'x-keys.k1']]);
  });
});
