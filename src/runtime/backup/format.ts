import { BACKUP_FORMAT, BACKUP_VERSION, type BackupHeader, type BackupManifest, type BackupMember, type BackupMemberType, type CreateRequest } from '../../api/types.js';
import { archiveError, type ArchiveError } from '../../rootfs/archive/errors.js';
import { NAME_PATTERN } from '../../util/names.js';

/**
 * Parse and check the two JSON members of a backup archive. They are untrusted input: every field
 * is checked for type and range here, and the create request inside is validated again by create
 * itself at restore. A record written by a newer Corral is refused, never guessed at.
 */

/** The most members (and state entries) a manifest may list: the extraction's own entry budget. */
export const MAX_MANIFEST_ENTRIES = 10_000_000;
/** The largest JSON member read into memory. */
export const MAX_HEADER_BYTES = 16 * 1024 * 1024;
export const MAX_MANIFEST_BYTES = 1024 * 1024 * 1024;
const BACKUP_ID = /^[0-9a-f]{32}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const DIGEST = /^(sha256:[0-9a-f]{64}|unknown)$/;
const TYPES: readonly BackupMemberType[] = ['file', 'directory', 'symlink', 'hardlink', 'whiteout', 'fifo'];
const MAX_ID = 0xfffffffe;

type Raw = Record<string, unknown>;

function bad(what: string, why: string): ArchiveError {
  return archiveError(`backup ${what}: ${why}`);
}

function obj(v: unknown, what: string): Raw {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(what, 'expected a JSON object');
  return v as Raw;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw bad(what, 'expected a string');
  return v;
}

function int(v: unknown, what: string, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw bad(what, `expected a whole number from 0 to ${max}`);
  return v;
}

function parseJson(text: Buffer, what: string): unknown {
  try {
    return JSON.parse(text.toString('utf8'));
  } catch (err) {
    throw bad(what, `not valid JSON (${(err as Error).message})`);
  }
}

function formatAndVersion(r: Raw, what: string): void {
  if (r.format !== BACKUP_FORMAT) throw bad(what, `not a Corral backup (format ${JSON.stringify(r.format)}, want ${JSON.stringify(BACKUP_FORMAT)})`);
  const v = int(r.version, `${what} version`, Number.MAX_SAFE_INTEGER);
  if (v > BACKUP_VERSION) throw bad(what, `written by a newer Corral (format version ${v}; this one reads up to ${BACKUP_VERSION})`);
  if (v < 1) throw bad(what, `invalid format version ${v}`);
}

export function parseHeader(text: Buffer): BackupHeader {
  const r = obj(parseJson(text, 'header'), 'header');
  formatAndVersion(r, 'header');
  const backupId = str(r.backupId, 'header backupId');
  if (!BACKUP_ID.test(backupId)) throw bad('header backupId', `${JSON.stringify(backupId)} is not 32 hex digits`);
  const kind = r.kind;
  if (kind !== 'full' && kind !== 'incremental') throw bad('header kind', `expected "full" or "incremental", got ${JSON.stringify(kind)}`);
  const base = r.base === null ? null : str(r.base, 'header base');
  if (kind === 'incremental' && (base === null || !BACKUP_ID.test(base))) throw bad('header base', 'an incremental backup names the backup it applies on (32 hex digits)');
  if (kind === 'full' && base !== null) throw bad('header base', 'a full backup has no base');
  const createdAt = str(r.createdAt, 'header createdAt');
  const c = obj(r.container, 'header container');
  const name = str(c.name, 'header container name');
  if (!NAME_PATTERN.test(name)) throw bad('header container name', `invalid name ${JSON.stringify(name)}`);
  const userns = c.userns;
  if (userns !== 'private' && userns !== 'host') throw bad('header container userns', `expected "private" or "host", got ${JSON.stringify(userns)}`);
  const request = obj(c.request, 'header container request') as unknown as CreateRequest;
  const t = obj(r.template, 'header template');
  const tname = str(t.name, 'header template name');
  if (!NAME_PATTERN.test(tname)) throw bad('header template name', `invalid name ${JSON.stringify(tname)}`);
  const digest = str(t.digest, 'header template digest');
  if (!DIGEST.test(digest)) throw bad('header template digest', `${JSON.stringify(digest)} is not sha256:<64 hex digits>`);
  if (typeof t.included !== 'boolean') throw bad('header template included', 'expected true or false');
  const layers = int(t.layers, 'header template layers', 128);
  if (t.included && layers === 0) throw bad('header template', 'included, with no layers');
  if (request.template !== tname) throw bad('header container request', `names template ${JSON.stringify(request.template)}, the header ${JSON.stringify(tname)}`);
  return {
    format: BACKUP_FORMAT,
    version: r.version as number,
    backupId,
    kind,
    base,
    createdAt,
    container: { id: str(c.id, 'header container id'), name, request, userns },
    template: { name: tname, digest, included: t.included, layers },
  };
}

export function parseManifest(text: Buffer): BackupManifest {
  const r = obj(parseJson(text, 'manifest'), 'manifest');
  formatAndVersion(r, 'manifest');
  const backupId = str(r.backupId, 'manifest backupId');
  if (!BACKUP_ID.test(backupId)) throw bad('manifest backupId', `${JSON.stringify(backupId)} is not 32 hex digits`);
  if (!Array.isArray(r.members)) throw bad('manifest members', 'expected a list');
  if (r.members.length > MAX_MANIFEST_ENTRIES) throw bad('manifest members', `more than ${MAX_MANIFEST_ENTRIES}`);
  const members = r.members.map((m, i) => parseMember(m, i));
  if (!Array.isArray(r.deletions) || !r.deletions.every((d) => typeof d === 'string')) throw bad('manifest deletions', 'expected a list of paths');
  const state = obj(r.state, 'manifest state');
  const keys = Object.keys(state);
  if (keys.length > MAX_MANIFEST_ENTRIES) throw bad('manifest state', `more than ${MAX_MANIFEST_ENTRIES} entries`);
  for (const k of keys) if (typeof state[k] !== 'string') throw bad('manifest state', `${JSON.stringify(k)}: expected a string`);
  const warnings = r.warnings === undefined ? [] : r.warnings;
  if (!Array.isArray(warnings) || !warnings.every((w) => typeof w === 'string')) throw bad('manifest warnings', 'expected a list of strings');
  return { format: BACKUP_FORMAT, version: r.version as number, backupId, members, deletions: r.deletions as string[], state: state as Record<string, string>, warnings };
}

function parseMember(raw: unknown, i: number): BackupMember {
  const what = `manifest member ${i}`;
  const m = obj(raw, what);
  const name = str(m.name, `${what} name`);
  const type = m.type as BackupMemberType;
  if (!TYPES.includes(type)) throw bad(`${what} type`, `${JSON.stringify(m.type)} is not one of ${TYPES.join(', ')}`);
  const out: BackupMember = {
    name,
    type,
    size: int(m.size, `${what} size`, Number.MAX_SAFE_INTEGER),
    mode: int(m.mode, `${what} mode`, 0o7777),
    uid: int(m.uid, `${what} uid`, MAX_ID),
    gid: int(m.gid, `${what} gid`, MAX_ID),
  };
  if (type === 'file') {
    const h = str(m.sha256, `${what} sha256`);
    if (!SHA256_HEX.test(h)) throw bad(`${what} sha256`, 'expected 64 hex digits');
    out.sha256 = h;
  } else if (m.sha256 !== undefined) throw bad(`${what} sha256`, `a ${type} has no content`);
  if (type === 'symlink' || type === 'hardlink') out.link = str(m.link, `${what} link`);
  else if (m.link !== undefined) throw bad(`${what} link`, `a ${type} has no link`);
  if (m.xattrs !== undefined) {
    const x = obj(m.xattrs, `${what} xattrs`);
    for (const [k, v] of Object.entries(x)) if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) throw bad(`${what} xattrs`, `${JSON.stringify(k)}: expected base64`);
    out.xattrs = x as Record<string, string>;
  }
  return out;
}

/** Two records of one member agree (what was read against what the manifest says); null or why not. */
export function memberMismatch(want: BackupMember, got: BackupMember): string | null {
  for (const k of ['name', 'type', 'size', 'mode', 'uid', 'gid', 'sha256', 'link'] as const) {
    if (want[k] !== got[k]) return `${k} is ${JSON.stringify(got[k])}, the manifest says ${JSON.stringify(want[k])}`;
  }
  const a = JSON.stringify(Object.entries(want.xattrs ?? {}).sort());
  const b = JSON.stringify(Object.entries(got.xattrs ?? {}).sort());
  if (a !== b) return 'extended attributes differ from the manifest';
  return null;
}

/** A fresh backup id. */
export function isBackupId(s: string): boolean {
  return BACKUP_ID.test(s);
}
