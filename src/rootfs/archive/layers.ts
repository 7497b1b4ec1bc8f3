import { lstat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { entryComponents } from './entry-path.js';
import { ArchiveError } from './errors.js';
import { forEachEntry, intoFresh, type ExtractOptions } from './extract.js';
import { fsNodes } from './fsnodes.js';
import type { TarEntry } from './tar-reader.js';
import { makeWhiteout, TreeWriter, type DirMeta } from './tree-writer.js';

/** One layer's bytes (tar, gzip, zstd…), opened afresh on each call: a layer is read twice. */
export interface LayerSource {
  /** For messages: the digest or file name. */
  label: string;
  open(): AsyncIterable<Buffer>;
}

export const OPAQUE_MARKER = '.wh..wh..opq';
export const OPAQUE_XATTR = 'trusted.overlay.opaque';
const WH = '.wh.';

/** What an OCI whiteout entry means: null for an ordinary entry. */
export type Whiteout = { kind: 'opaque'; dir: string[] } | { kind: 'remove'; path: string[] } | { kind: 'ignore' };

/**
 * `a/.wh.b` removes `a/b` from the layers below; `a/.wh..wh..opq` hides everything below `a` in
 * them. Other `.wh..wh.*` names (aufs bookkeeping, `.wh..wh.plnk`) are ignored, as Docker does.
 * The name is checked like any member name, and the whited-out name must be a plain component.
 */
export function parseWhiteout(entry: TarEntry): Whiteout | null {
  const parts = entryComponents(entry.name);
  const base = parts[parts.length - 1];
  if (base === undefined || !base.startsWith(WH)) return null;
  const dir = parts.slice(0, -1);
  if (base === OPAQUE_MARKER) return { kind: 'opaque', dir };
  if (base.startsWith(`${WH}${WH}`)) return { kind: 'ignore' };
  const target = base.slice(WH.length);
  if (target === '' || target === '.' || target === '..') throw new ArchiveError('whiteout names no entry in its own directory (climbs out of the layer)', entry.name);
  return { kind: 'remove', path: [...dir, target] };
}

export interface LayersResult {
  entries: number;
  bytes: number;
}

/**
 * Apply layers bottom first into one fresh directory `dest` (a flattened template). Per layer,
 * whiteouts first (they delete what the layers below put there, never the layer's own entries),
 * then every other entry, later ones replacing earlier ones. All or nothing, like extractTar.
 */
export async function flattenLayers(layers: LayerSource[], dest: string, opts: ExtractOptions = {}): Promise<LayersResult> {
  return intoFresh(dest, async (tmp) => {
    const writer = new TreeWriter(tmp, opts.warn ? { warn: opts.warn } : {});
    for (const layer of layers) {
      await forEachEntry(layer.open(), opts.limits, async (entry) => {
        const wh = parseWhiteout(entry);
        if (!wh || wh.kind === 'ignore') return;
        const parts = wh.kind === 'opaque' ? wh.dir : wh.path;
        if (!(await writer.parents(parts, entry.name, 'probe'))) return; // nothing below to hide
        const abs = join(tmp, ...parts);
        if (wh.kind === 'remove') return writer.remove(abs, parts.join('/'));
        if (parts.length === 0 || (await lstat(abs).catch(() => undefined))?.isDirectory()) await writer.clear(abs, parts.join('/'));
      });
      await writeEntries(layer, writer, opts);
    }
    await writer.finish();
    for (const w of writer.summary()) opts.warn?.(w);
    return { entries: writer.entries, bytes: writer.bytes };
  });
}

/**
 * Each layer as its own overlayfs lower directory, `dest/0` (bottom) … `dest/N-1`: whiteouts become
 * 0:0 character devices and opaque markers the `trusted.overlay.opaque=y` xattr, which is what
 * overlayfs reads. A directory a layer implies without listing it takes its mode and owner from
 * the nearest layer below (else it would reset them in the merged view).
 */
export async function layerDirs(layers: LayerSource[], dest: string, opts: ExtractOptions = {}): Promise<{ dirs: string[] } & LayersResult> {
  return intoFresh(dest, async (tmp) => {
    const dirs: string[] = [];
    const written: string[] = [];
    let entries = 0;
    let bytes = 0;
    for (const [i, layer] of layers.entries()) {
      const dir = join(tmp, String(i));
      await mkdir(dir, { mode: 0o755 });
      const below = [...written].reverse();
      const writer = new TreeWriter(dir, { implicitDir: (rel) => dirMetaBelow(below, rel), ...(opts.warn ? { warn: opts.warn } : {}) });
      await forEachEntry(layer.open(), opts.limits, async (entry) => {
        const wh = parseWhiteout(entry);
        if (!wh || wh.kind === 'ignore') return;
        const parts = wh.kind === 'opaque' ? wh.dir : wh.path;
        await writer.parents(parts, entry.name, 'create');
        const abs = parts.length === 0 ? dir : join(dir, ...parts);
        if (wh.kind === 'opaque') {
          if (parts.length > 0) await writer.ensureDir(abs, parts.join('/'));
          fsNodes().lsetxattr(abs, OPAQUE_XATTR, Buffer.from('y'));
        } else {
          await writer.remove(abs, parts.join('/'));
          makeWhiteout(abs);
        }
      });
      await writeEntries(layer, writer, opts);
      await writer.finish();
      for (const w of writer.summary()) opts.warn?.(w);
      entries += writer.entries;
      bytes += writer.bytes;
      written.push(dir);
      dirs.push(join(dest, String(i)));
    }
    return { dirs, entries, bytes };
  });
}

/** The second pass: everything but whiteouts. */
async function writeEntries(layer: LayerSource, writer: TreeWriter, opts: ExtractOptions): Promise<void> {
  await forEachEntry(layer.open(), opts.limits, async (entry, body) => {
    if (parseWhiteout(entry)) return;
    await writer.write(entry, body);
  });
}

/** Mode and owner of directory `rel` in the nearest lower layer that has it, never following a symlink. */
async function dirMetaBelow(lowers: string[], rel: string): Promise<DirMeta | undefined> {
  const parts = rel.split('/');
  for (const lower of lowers) {
    let p = lower;
    let ok = true;
    for (const part of parts) {
      p = join(p, part);
      const st = await lstat(p).catch(() => undefined);
      if (!st || !st.isDirectory()) {
        ok = false;
        break;
      }
    }
    if (ok) {
      const st = await lstat(p);
      return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
    }
  }
  return undefined;
}
