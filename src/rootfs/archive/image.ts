import { createReadStream } from 'node:fs';
import { lstat, readFile, realpath } from 'node:fs/promises';
import { arch } from 'node:os';
import { join, sep } from 'node:path';
import { isErrno } from '../../errors.js';
import { decompress } from './decompress.js';
import { digestOf, parseDigest, verifyFile } from './digest.js';
import { entryComponents } from './entry-path.js';
import { archiveError, ArchiveError } from './errors.js';
import type { LayerSource } from './layers.js';

/** The parts of an image config Corral keeps as a template's defaults (Docker's meanings). */
export interface ImageDefaults {
  entrypoint: string[] | null;
  cmd: string[] | null;
  env: string[];
  workingDir: string;
  user: string;
  stopSignal: string;
}

export interface ImageLayer extends LayerSource {
  path: string;
  digest: string;
}

export interface Image {
  format: 'oci' | 'docker-save';
  /** Bottom first. */
  layers: ImageLayer[];
  config: ImageDefaults;
  /** References from the archive (RepoTags, ref.name annotations), best first. */
  tags: string[];
  /** The config's digest: the image id. */
  id: string;
}

const MT = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
};
const MAX_JSON = 8 * 1024 * 1024;

interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string };
  urls?: string[];
}

/**
 * An image from a directory: an OCI image layout (oci-layout + index.json, from `skopeo copy
 * oci:`, `oci-archive:` unpacked, or a Docker ≥ 25 `docker save`) or a classic `docker save`
 * (manifest.json). Every blob reached through a descriptor is checked against its size and digest;
 * classic layers against the config's diff_ids. Nothing is extracted here.
 */
export async function readImage(dir: string): Promise<Image> {
  const root = await realpath(dir);
  if (await exists(root, 'oci-layout')) return readOci(root);
  if (await exists(root, 'manifest.json')) return readDockerSave(root);
  throw archiveError('not an image: no oci-layout or manifest.json at the top of the archive (a rootfs tarball? use `corral template import`)');
}

async function readOci(root: string): Promise<Image> {
  const layout = await readJson(root, 'oci-layout', 'oci-layout');
  if (typeof layout?.imageLayoutVersion !== 'string') throw archiveError('oci-layout: no imageLayoutVersion');
  const index = await readJson(root, 'index.json', 'index.json');
  const found: { desc: Descriptor; names: string[] }[] = [];
  await collectManifests(root, descriptors(index?.manifests, 'index.json'), found, 0);
  // docker save (Docker ≥ 25) writes manifest.json too: its RepoTags are the full references.
  const repoTags = (await exists(root, 'manifest.json')) ? await dockerRepoTags(root) : new Map<string, string[]>();
  if (found.length === 0) throw archiveError(`index.json: no image for linux/${goArch()}`);
  const distinct = [...new Map(found.map((f) => [f.desc.digest, f])).values()];
  if (distinct.length > 1) throw archiveError(`the archive holds ${distinct.length} images (${distinct.map((f) => f.names[0] ?? f.desc.digest).join(', ')}): load one at a time`);
  const { desc } = distinct[0]!;
  const names = found.filter((f) => f.desc.digest === desc.digest).flatMap((f) => f.names);
  const manifest = await readBlobJson(root, desc, 'image manifest');
  if (manifest?.mediaType !== undefined && manifest.mediaType !== MT.ociManifest && manifest.mediaType !== MT.dockerManifest) throw archiveError(`image manifest ${desc.digest}: unexpected media type ${JSON.stringify(manifest.mediaType)}`);
  const configDesc = descriptors([manifest?.config], 'manifest config')[0]!;
  const config = await readBlobJson(root, configDesc, 'image config');
  const layers: ImageLayer[] = [];
  for (const [i, l] of descriptors(manifest?.layers, 'manifest layers').entries()) {
    if (l.urls?.length) throw archiveError(`layer ${i + 1} (${l.digest}) is a foreign layer stored elsewhere (${l.urls[0]}): not in the archive`);
    const path = await blobPath(root, l.digest, `layer ${i + 1}`);
    await verifyFile(path, l.digest, l.size, `layer ${i + 1}`);
    layers.push(fileLayer(path, l.digest));
  }
  const fromTags = repoTags.get(configDesc.digest) ?? [];
  return { format: 'oci', layers, config: imageDefaults(config), tags: [...fromTags, ...names], id: configDesc.digest };
}

async function collectManifests(root: string, list: Descriptor[], out: { desc: Descriptor; names: string[] }[], depth: number): Promise<void> {
  if (depth > 4) throw archiveError('index.json: image indexes nested too deep');
  for (const d of list) {
    if (d.platform && !(d.platform.os === 'linux' && d.platform.architecture === goArch())) continue;
    const names = [d.annotations?.['io.containerd.image.name'], d.annotations?.['org.opencontainers.image.ref.name']].filter((n): n is string => typeof n === 'string' && n !== '');
    if (d.mediaType === MT.ociIndex || d.mediaType === MT.dockerList) {
      const nested = await readBlobJson(root, d, 'image index');
      const before = out.length;
      await collectManifests(root, descriptors(nested?.manifests, `image index ${d.digest}`), out, depth + 1);
      for (const f of out.slice(before)) f.names.push(...names);
    } else if (d.mediaType === undefined || d.mediaType === MT.ociManifest || d.mediaType === MT.dockerManifest) {
      out.push({ desc: d, names });
    }
    // other artifacts (attestations, signatures) are not images
  }
}

async function readDockerSave(root: string): Promise<Image> {
  const manifest = await readJson(root, 'manifest.json', 'manifest.json');
  if (!Array.isArray(manifest) || manifest.length === 0) throw archiveError('manifest.json: expected a list of images');
  if (manifest.length > 1) throw archiveError(`the archive holds ${manifest.length} images: load one at a time`);
  const m = manifest[0] as { Config?: unknown; RepoTags?: unknown; Layers?: unknown };
  if (typeof m.Config !== 'string') throw archiveError('manifest.json: no Config');
  // The config's file name is its digest (`<hex>.json`, or `blobs/sha256/<hex>`).
  const hex = /([a-f0-9]{64})(\.json)?$/.exec(m.Config)?.[1];
  if (!hex) throw archiveError(`manifest.json: config ${JSON.stringify(m.Config)} is not named by its digest`);
  const configPath = await inside(root, m.Config, 'config');
  await verifyFile(configPath, `sha256:${hex}`, undefined, `config ${m.Config}`);
  const config = parseJson(await readSmall(configPath, m.Config), m.Config);
  const files = Array.isArray(m.Layers) && m.Layers.every((l) => typeof l === 'string') ? (m.Layers as string[]) : undefined;
  if (!files) throw archiveError('manifest.json: Layers must be a list of file names');
  const diffIds = config?.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length !== files.length) throw archiveError(`config: rootfs.diff_ids lists ${Array.isArray(diffIds) ? diffIds.length : 'no'} layers, manifest.json ${files.length}`);
  const layers: ImageLayer[] = [];
  for (const [i, file] of files.entries()) {
    const path = await inside(root, file, `layer ${i + 1}`);
    const want = String(diffIds[i]);
    parseDigest(want, `config diff_id ${i + 1}`);
    // diff_ids are digests of the uncompressed tar, whatever the file's compression.
    const got = await digestOf((await decompress(createReadStream(path))).chunks);
    if (got.digest !== want) throw archiveError(`layer ${i + 1} (${file}): digest mismatch: the config says ${want}, the content is ${got.digest}`, { digest: want, actual: got.digest });
    layers.push(fileLayer(path, want));
  }
  const tags = Array.isArray(m.RepoTags) ? m.RepoTags.filter((t): t is string => typeof t === 'string') : [];
  return { format: 'docker-save', layers, config: imageDefaults(config), tags, id: `sha256:${hex}` };
}

/** RepoTags by config digest, from a manifest.json beside an OCI layout. */
async function dockerRepoTags(root: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const manifest = await readJson(root, 'manifest.json', 'manifest.json').catch(() => undefined);
  for (const m of Array.isArray(manifest) ? manifest : []) {
    const hex = typeof m?.Config === 'string' ? /([a-f0-9]{64})(\.json)?$/.exec(m.Config)?.[1] : undefined;
    if (hex && Array.isArray(m.RepoTags)) out.set(`sha256:${hex}`, m.RepoTags.filter((t: unknown): t is string => typeof t === 'string'));
  }
  return out;
}

function imageDefaults(config: any): ImageDefaults {
  const c = config?.config ?? {};
  const strings = (v: unknown, what: string): string[] | null => {
    if (v === undefined || v === null) return null;
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw archiveError(`image config: ${what} must be a list of strings`);
    return v as string[];
  };
  const str = (v: unknown, what: string): string => {
    if (v === undefined || v === null) return '';
    if (typeof v !== 'string') throw archiveError(`image config: ${what} must be a string`);
    return v;
  };
  return {
    entrypoint: strings(c.Entrypoint, 'Entrypoint'),
    cmd: strings(c.Cmd, 'Cmd'),
    env: strings(c.Env, 'Env') ?? [],
    workingDir: str(c.WorkingDir, 'WorkingDir'),
    user: str(c.User, 'User'),
    stopSignal: str(c.StopSignal, 'StopSignal'),
  };
}

function descriptors(v: unknown, what: string): Descriptor[] {
  if (!Array.isArray(v)) throw archiveError(`${what}: expected a list of descriptors`);
  return v.map((d, i) => {
    if (typeof d !== 'object' || d === null) throw archiveError(`${what}[${i}]: not a descriptor`);
    const x = d as Descriptor;
    parseDigest(x.digest, `${what}[${i}]`);
    if (!Number.isSafeInteger(x.size) || x.size < 0) throw archiveError(`${what}[${i}]: invalid size ${JSON.stringify(x.size)}`);
    return x;
  });
}

async function readBlobJson(root: string, d: Descriptor, what: string): Promise<any> {
  if (d.size > MAX_JSON) throw archiveError(`${what} ${d.digest}: ${d.size} bytes is too large for JSON`);
  const path = await blobPath(root, d.digest, what);
  await verifyFile(path, d.digest, d.size, `${what} ${d.digest}`);
  return parseJson(await readSmall(path, what), `${what} ${d.digest}`);
}

async function blobPath(root: string, digest: string, what: string): Promise<string> {
  const { algorithm, hex } = parseDigest(digest, what);
  return inside(root, `blobs/${algorithm}/${hex}`, `${what} ${digest}`);
}

/**
 * A file named by the archive's own JSON, resolved inside `root`: no `..`, no absolute name, and
 * symlinks (classic docker save links identical layers) must stay inside `root`.
 */
async function inside(root: string, rel: string, what: string): Promise<string> {
  let parts: string[];
  try {
    parts = entryComponents(rel, 'file name');
  } catch (err) {
    throw archiveError(`${what}: ${err instanceof ArchiveError ? err.message : String(err)}`);
  }
  let real: string;
  try {
    real = await realpath(join(root, ...parts));
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) throw archiveError(`${what}: ${rel} is missing from the archive`);
    throw err;
  }
  if (!real.startsWith(root + sep)) throw archiveError(`${what}: ${rel} points outside the archive`);
  if (!(await lstat(real)).isFile()) throw archiveError(`${what}: ${rel} is not a regular file`);
  return real;
}

function fileLayer(path: string, digest: string): ImageLayer {
  return { path, digest, label: digest, open: () => createReadStream(path) };
}

async function readJson(root: string, rel: string, what: string): Promise<any> {
  return parseJson(await readSmall(await inside(root, rel, what), what), what);
}

async function readSmall(path: string, what: string): Promise<string> {
  if ((await lstat(path)).size > MAX_JSON) throw archiveError(`${what}: larger than ${MAX_JSON} bytes`);
  return readFile(path, 'utf8');
}

function parseJson(text: string, what: string): any {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw archiveError(`${what}: invalid JSON: ${(err as Error).message}`);
  }
}

async function exists(root: string, name: string): Promise<boolean> {
  return lstat(join(root, name)).then(() => true, () => false);
}

/** Node's arch as OCI/Go names it. */
export function goArch(a: string = arch()): string {
  return ({ x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[a] ?? a;
}
