import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildEnv, parseEnvFile, parseEnvFlags, parseLabels, parseVolume, readEnvFiles, tailCount } from '../../../src/cli/options.js';

const tmp = mkdtempSync(join(tmpdir(), 'corral-cli-'));
mkdirSync(join(tmp, 'data'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('parseVolume', () => {
  it('parses HOST:CTR with rw by default and :ro/:rw', () => {
    expect(parseVolume(`${tmp}/data:/data`)).toEqual({ source: `${tmp}/data`, target: '/data', readOnly: false });
    expect(parseVolume(`${tmp}/data:/data:ro`)).toEqual({ source: `${tmp}/data`, target: '/data', readOnly: true });
    expect(parseVolume(`${tmp}/data:/data:rw`).readOnly).toBe(false);
  });

  it('makes a relative host path absolute against cwd', () => {
    expect(parseVolume('./data:/mnt', tmp).source).toBe(`${tmp}/data`);
    expect(parseVolume('./data/../data:/mnt', tmp).source).toBe(`${tmp}/data`);
  });

  it('names a missing host path', () => {
    expect(() => parseVolume('./nope:/mnt', tmp)).toThrow(`invalid volume "./nope:/mnt": host path ${tmp}/nope: no such file or directory`);
  });

  it('takes a source without a slash for a named volume, as Docker (issue 16)', () => {
    expect(parseVolume('data:/mnt:ro', tmp)).toEqual({ type: 'volume', source: 'data', target: '/mnt', readOnly: true });
    expect(() => parseVolume('data:/mnt:idmap', tmp)).toThrow(/idmap is for host paths/);
  });

  it('rejects malformed specs', () => {
    expect(() => parseVolume('/data')).toThrow(/expected HOST:CONTAINER/);
    expect(() => parseVolume(`${tmp}:/a:ro:x`)).toThrow(/expected HOST:CONTAINER/);
    expect(() => parseVolume(`${tmp}:rel`)).toThrow(/container path "rel" is not absolute/);
    expect(() => parseVolume(`${tmp}:/`)).toThrow(/cannot be \//);
    expect(() => parseVolume(`${tmp}:/a:rx`)).toThrow(/unknown mode "rx"/);
    expect(() => parseVolume(':/a')).toThrow(/empty host path/);
  });
});

describe('env flags', () => {
  const env = { HOME: '/root', EMPTY: '' };

  it('keeps K=V, takes K from the environment, drops unset K', () => {
    expect(parseEnvFlags(['A=1', 'B=x=y', 'C=', 'HOME', 'EMPTY', 'UNSET'], env)).toEqual(['A=1', 'B=x=y', 'C=', 'HOME=/root', 'EMPTY=']);
  });

  it('rejects an empty name', () => {
    expect(() => parseEnvFlags(['=1'], env)).toThrow('invalid environment variable: =1');
  });
});

describe('parseEnvFile (Docker format)', () => {
  it('skips comments and blank lines, keeps values literally, looks up bare names', () => {
    const text = '\uFEFF# comment\n\nA=1\n  B= spaced \nQ="quoted"\nHOME\nUNSET\n   # indented comment\nC=with#hash\r\n';
    expect(parseEnvFile(text, { HOME: '/root' })).toEqual(['A=1', 'B= spaced ', 'Q="quoted"', 'HOME=/root', 'C=with#hash']);
  });

  it('rejects lines without a name or with whitespace in it', () => {
    expect(() => parseEnvFile('=x\n', {}, 'f.env')).toThrow("f.env:1: no variable name on line '=x'");
    expect(() => parseEnvFile('A=1\nMY VAR=1\n', {}, 'f.env')).toThrow("f.env:2: variable 'MY VAR' contains whitespaces");
  });

  it('reads files and names a missing one; flags come after file entries', () => {
    const f = join(tmp, 'a.env');
    writeFileSync(f, 'A=file\nB=file\n');
    expect(readEnvFiles([f], {})).toEqual(['A=file', 'B=file']);
    expect(() => readEnvFiles([join(tmp, 'missing.env')], {})).toThrow(`open ${tmp}/missing.env: no such file or directory`);
    expect(buildEnv(['A=flag'], [f], {})).toEqual(['A=file', 'B=file', 'A=flag']);
  });
});

describe('parseLabels', () => {
  it('parses K=V and bare K', () => {
    expect(parseLabels(['a=1', 'b', 'c=x=y', 'a=2'])).toEqual({ a: '2', b: '', c: 'x=y' });
    expect(() => parseLabels(['=v'])).toThrow(/empty key/);
  });
});

describe('tailCount', () => {
  it('takes a count or "all"', () => {
    expect(tailCount('5')).toBe(5);
    expect(tailCount('all')).toBe('all');
    expect(() => tailCount('-1')).toThrow();
  });
});
