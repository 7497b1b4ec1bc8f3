import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extractTar } from '../../../../src/rootfs/archive/extract.js';
import { fsNodes } from '../../../../src/rootfs/archive/fsnodes.js';
import { chunks, file, pax, scratch, tar } from './tar-fixture.js';

let s: Awaited<ReturnType<typeof scratch>>;
beforeEach(async () => {
  s = await scratch();
});
afterEach(async () => {
  await s.cleanup();
});

// security.capability v2 for cap_setuid (bit 7) + cap_net_raw (bit 13): bytes >= 0x80, which a
// UTF-8 decoding of the PAX record would corrupt.
const CAP = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);

describe.skipIf(process.getuid?.() !== 0)('extended attributes (root)', () => {
  it('keeps security.capability byte for byte, after owner and mode', async () => {
    await extractTar(chunks(tar(pax({ 'SCHILY.xattr.security.capability': CAP }), file('ping', 'elf', { mode: 0o755, uid: 0, gid: 0 }))), s.dest);
    expect(fsNodes().lgetxattr(join(s.dest, 'ping'), 'security.capability')).toEqual(CAP);
  });

  it('drops overlay attributes an archive carries, and says so', async () => {
    const warnings: string[] = [];
    await extractTar(chunks(tar(pax({ 'SCHILY.xattr.trusted.overlay.redirect': '/etc', 'SCHILY.xattr.user.note': 'x' }), file('f'))), s.dest, { warn: (m) => warnings.push(m) });
    expect(fsNodes().lgetxattr(join(s.dest, 'f'), 'trusted.overlay.redirect')).toBeNull();
    expect(warnings).toEqual(['dropped extended attributes not kept by Corral: trusted.overlay.redirect (1), user.note (1)']);
  });
});
