import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArchiveError } from '../../../../src/rootfs/archive/errors.js';
import { extractTar } from '../../../../src/rootfs/archive/extract.js';
import { chunks, dir, file, hardlink, member, pax, scratch, symlink, tar } from './tar-fixture.js';

/**
 * The hostile-archive corpus: each archive is refused with an ArchiveError naming the entry (or
 * neutralised as docs/templates.md says), and afterwards nothing outside the destination has
 * changed, the destination does not exist and no temporary directory is left.
 */
let s: Awaited<ReturnType<typeof scratch>>;
let before: string[];
beforeEach(async () => {
  s = await scratch();
  before = await s.snapshot();
});
afterEach(async () => {
  await s.cleanup();
});

async function refused(archive: Buffer | AsyncIterable<Buffer>, message: RegExp, limits?: { maxBytes?: number; maxEntries?: number }): Promise<ArchiveError> {
  const source = Buffer.isBuffer(archive) ? chunks(archive) : archive;
  const err = await extractTar(source, s.dest, limits ? { limits } : {}).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ArchiveError);
  expect((err as Error).message).toMatch(message);
  expect(await readdir(s.sandbox)).toEqual([]); // no destination, no .tmp-*
  expect(await s.snapshot()).toEqual(before); // nothing outside changed
  return err as ArchiveError;
}

describe('hostile archives', () => {
  it('refuses names that climb out with ..', async () => {
    await refused(tar(file('../../sentinel/file', 'pwned')), /refused entry "\.\.\/\.\.\/sentinel\/file": path climbs out of the layer/);
    await refused(tar(dir('a/'), file('a/../../x')), /refused entry "a\/\.\.\/\.\.\/x": path climbs out/);
  });

  it('refuses absolute names', async () => {
    await refused(tar(file(`${'/tmp'}/corral-evil`)), /refused entry "\/tmp\/corral-evil": path is absolute/);
  });

  it('never writes through a symlink an earlier entry made', async () => {
    await refused(tar(symlink('l', '../../sentinel'), file('l/file', 'pwned')), /refused entry "l\/file": its parent "l" is a symlink/);
    await refused(tar(symlink('abs', `${s.base}/sentinel`), file('abs/new', 'pwned')), /refused entry "abs\/new": its parent "abs" is a symlink/);
  });

  it('never writes through a directory replaced by a symlink (duplicate entries)', async () => {
    await refused(tar(dir('d/'), file('d/ok'), symlink('d', '../../sentinel'), file('d/file', 'pwned')), /refused entry "d\/file": its parent "d" is a symlink/);
  });

  it('refuses hardlinks that point outside or through a symlink', async () => {
    await refused(tar(hardlink('h', '../../sentinel/file')), /refused entry "h": hardlink target climbs out of the layer/);
    await refused(tar(hardlink('h', '/etc/passwd')), /refused entry "h": hardlink target is absolute/);
    await refused(tar(symlink('l', '../../sentinel'), hardlink('h', 'l/file')), /refused entry "h": its parent "l" is a symlink/);
    await refused(tar(hardlink('h', 'missing')), /refused entry "h": hardlink target "missing" is not in the layer/);
    await refused(tar(dir('d/'), hardlink('h', 'd')), /refused entry "h": hardlink target "d" is a directory/);
  });

  it('a file replacing a symlink replaces the link, never its target (later entry wins)', async () => {
    await extractTar(chunks(tar(symlink('f', `${s.base}/sentinel/file`), file('f', 'new'))), s.dest);
    expect((await lstat(join(s.dest, 'f'))).isFile()).toBe(true);
    expect(await readFile(join(s.base, 'sentinel', 'file'), 'utf8')).toBe('sentinel\n');
  });

  it('a file replacing a hardlinked name does not write into the shared inode', async () => {
    await extractTar(chunks(tar(file('a', 'original'), hardlink('b', 'a'), file('b', 'changed'))), s.dest);
    expect(await readFile(join(s.dest, 'a'), 'utf8')).toBe('original');
    expect(await readFile(join(s.dest, 'b'), 'utf8')).toBe('changed');
  });

  it('keeps symlink values pointing anywhere, as values', async () => {
    await extractTar(chunks(tar(symlink('etc-passwd', '/etc/passwd'), symlink('up', '../../../..'))), s.dest);
    expect(await readlink(join(s.dest, 'etc-passwd'))).toBe('/etc/passwd');
    expect(await readlink(join(s.dest, 'up'))).toBe('../../../..');
  });

  it('neutralises device nodes (skipped with a warning); keeps FIFOs', async () => {
    const warnings: string[] = [];
    await extractTar(
      chunks(tar(dir('dev/'), member({ name: 'dev/null', type: '3', devmajor: 1, devminor: 3 }), member({ name: 'dev/sda', type: '4', devmajor: 8, devminor: 0 }), member({ name: 'fifo', type: '6', mode: 0o640 }))),
      s.dest,
      { warn: (m) => warnings.push(m) },
    );
    expect(await readdir(join(s.dest, 'dev'))).toEqual([]);
    expect(warnings).toEqual(['skipped device node "dev/null" (c 1:3)', 'skipped device node "dev/sda" (b 8:0)']);
    const fifo = await lstat(join(s.dest, 'fifo'));
    expect(fifo.isFIFO()).toBe(true);
    expect(fifo.mode & 0o777).toBe(0o640);
  });

  it('keeps setuid and setgid bits', async () => {
    await extractTar(chunks(tar(file('su', '#!', { mode: 0o4755 }), file('sg', '#!', { mode: 0o2711 }))), s.dest);
    expect((await lstat(join(s.dest, 'su'))).mode & 0o7777).toBe(0o4755);
    expect((await lstat(join(s.dest, 'sg'))).mode & 0o7777).toBe(0o2711);
  });

  it('refuses an archive over the byte budget, even an endless one', async () => {
    async function* endless(): AsyncGenerator<Buffer> {
      yield member({ name: 'big', size: 1 << 30 }).subarray(0, 512);
      const zeros = Buffer.alloc(1 << 16);
      for (;;) yield zeros;
    }
    await refused(endless(), /archive is larger than the budget of 1048576 bytes \(at "big"\)/, { maxBytes: 1 << 20 });
  });

  it('refuses an archive over the entry budget', async () => {
    const many = Array.from({ length: 20 }, (_, i) => file(`f${i}`));
    await refused(tar(...many), /archive has more than 10 entries \(the budget; at "f9"\)/, { maxEntries: 10 });
  });

  it('refuses names with NUL bytes, overlong names and components', async () => {
    await refused(tar(pax({ path: 'evil\0/../../x' }), file('placeholder')), /refused entry "evil\\u0000\/\.\.\/\.\.\/x": path contains a NUL byte/);
    await refused(tar(pax({ path: 'a/'.repeat(2100) + 'f' }), file('placeholder')), /path is longer than 4095 bytes/);
    await refused(tar(pax({ path: 'x'.repeat(256) }), file('placeholder')), /path has a component longer than 255 bytes/);
    await refused(tar(member({ name: 'L', type: 'L', body: 'a'.repeat(1024 * 1024 + 1) }), file('placeholder')), /GNU long name of 1048577 bytes/);
  });

  it('refuses headers tar readers disagree on', async () => {
    await refused(tar(file('ok'), file('bad', 'x', { badChecksum: true })), /bad header checksum at byte 1024 \(after "ok"\)/);
    await refused(tar(member({ name: 'sparse', type: 'S', size: 0 })), /refused entry "sparse": unsupported tar entry type "S" \(GNU sparse file\)/);
    await refused(tar(member({ name: 'd/', type: '5', body: 'smuggled' })), /refused entry "d\/": a directory entry carries 8 bytes of data/);
    await refused(tar(member({ name: 'l', type: '2', linkname: 't', body: 'smuggled' })), /refused entry "l": a symlink entry carries 8 bytes/);
  });

  it('refuses a truncated archive and leaves nothing of what came before', async () => {
    const whole = tar(file('one', 'a'.repeat(100)), file('two', 'b'.repeat(2000)));
    await refused(whole.subarray(0, 512 * 3), /archive is truncated \(at "two"\)/);
  });

  it('a refusal after good entries removes what was written', async () => {
    await refused(tar(dir('etc/'), file('etc/hostname', 'h'), file('../escape')), /refused entry "\.\.\/escape"/);
  });

  it('refuses to extract over an existing destination', async () => {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(s.dest);
    await expect(extractTar(chunks(tar(file('a'))), s.dest)).rejects.toThrow(/already exists/);
  });

  it('refuses a root entry that is not a directory', async () => {
    await refused(tar(symlink('./', '/')), /refused entry "\.\/": the layer root must be a directory/);
  });
});
