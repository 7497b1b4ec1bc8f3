import type { Command } from 'commander';
import { lstat, stat } from 'node:fs/promises';
import { basename, dirname, posix, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PathStat } from '../../api/types.js';
import { CorralError, fsError, isErrno, NotFoundError, ValidationError } from '../../errors.js';
import type { Context } from '../context.js';
import { withExamples } from '../examples.js';

export interface CpRequest {
  src: string;
  dest: string;
  /** Docker's `-a`: keep owners (mapped into the container's user namespace going in). */
  archive: boolean;
  quiet: boolean;
}

export function registerCp(program: Command, dispatch: (req: CpRequest) => Promise<void>): void {
  const cmd = program
    .command('cp')
    .description('copy files between a container (running or not) and the host; - is a tar archive on stdin or stdout')
    .argument('<src>', 'CONTAINER:PATH, a host path, or - (a tar archive on stdin)')
    .argument('<dest>', 'CONTAINER:PATH, a host path, or - (a tar archive on stdout)')
    .option('-a, --archive', "keep the files' owners (uid/gid), as in the container or as on the host")
    .option('-q, --quiet', 'print nothing on success')
    .action((src: string, dest: string, o: { archive?: boolean; quiet?: boolean }) => dispatch({ src, dest, archive: o.archive === true, quiet: o.quiet === true }));
  withExamples(cmd, [
    'corral cp web:/etc/nginx/nginx.conf .',
    'corral cp ./site web:/usr/share/html',
    'corral cp ./site/. web:/usr/share/html     (the contents of ./site)',
    'corral cp web:/var/log - | tar -t',
    'tar -c -C build . | corral cp - web:/app',
  ]);
}

/** Docker's split: `NAME:PATH` names a container unless the part before the colon holds a `/` (or the path is absolute, or `-`). */
export function splitCpArg(arg: string): { container?: string; path: string } {
  if (arg === '-' || arg.startsWith('/') || arg.startsWith('.')) return { path: arg };
  const i = arg.indexOf(':');
  if (i <= 0 || arg.slice(0, i).includes('/')) return { path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

export async function cp(ctx: Context, req: CpRequest): Promise<number> {
  const src = splitCpArg(req.src);
  const dest = splitCpArg(req.dest);
  if (src.container !== undefined && dest.container !== undefined) throw new ValidationError('cp: copying between containers is not supported; copy to the host first');
  if (src.container === undefined && dest.container === undefined) throw new ValidationError('cp: one of the paths must be CONTAINER:PATH');
  if ((src.container !== undefined && src.path === '') || (dest.container !== undefined && dest.path === '')) throw new ValidationError('cp: the path in the container is empty (CONTAINER:PATH)');
  if (src.container !== undefined) return copyOut(ctx, src.container, src.path, dest.path, req);
  return copyIn(ctx, src.path, dest.container!, dest.path, req);
}

/** The archive code, loaded only by `cp` (the CLI's start-up graph stays small). */
const archive = async () => {
  const [{ forEachEntry }, { entryComponents }, { ArchiveError }, { packTree }, { TreeWriter }] = await Promise.all([
    import('../../rootfs/archive/extract.js'),
    import('../../rootfs/archive/entry-path.js'),
    import('../../rootfs/archive/errors.js'),
    import('../../rootfs/archive/tar-writer.js'),
    import('../../rootfs/archive/tree-writer.js'),
  ]);
  return { forEachEntry, entryComponents, ArchiveError, packTree, TreeWriter };
};

async function copyOut(ctx: Context, ref: string, path: string, dest: string, req: CpRequest): Promise<number> {
  const client = await ctx.client();
  const { forEachEntry, entryComponents, ArchiveError, TreeWriter } = await archive();
  if (dest === '-') {
    if (ctx.io.stdout.isTTY) throw new ValidationError('cp: refusing to write a tar archive to a terminal; redirect stdout or name a host path');
    const { body } = await client.copyOut(ref, path);
    await pipeline(body, ctx.io.stdout, { end: false });
    return 0;
  }
  const target = resolve(dest);
  const hostDest = await stat(target).catch((err: unknown) => (isErrno(err, 'ENOENT') ? undefined : Promise.reject(fsError('stat', target, err))));
  const contents = /(^|\/)\.$/.test(path);
  const { stat: st, body } = await client.copyOut(ref, path);
  const isDir = st.type === 'directory';
  let into: string;
  let name: string;
  if (hostDest?.isDirectory()) {
    into = target;
    name = contents || st.name === '/' ? '' : st.name;
  } else {
    if (hostDest && isDir) throw new ValidationError(`cp: cannot copy directory ${ref}:${path} onto the file ${target}`);
    if (!hostDest && /\/$/.test(dest) && !isDir) throw new NotFoundError(`cp: destination directory ${target} does not exist`);
    into = dirname(target);
    name = basename(target);
    await stat(into).catch((err: unknown) => Promise.reject(fsError('cp: destination directory', into, err)));
  }
  // The daemon names members `NAME/…` (`./…` for the root, bare children for `dir/.`).
  const strip = contents || st.name === '/' ? 0 : 1;
  const me = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const writer = new TreeWriter(into, { keepDirectories: true, implicitDir: async () => ({ mode: 0o755, ...me }), warn: (w) => ctx.io.stderr.write(`warning: ${w}\n`) });
  try {
    await forEachEntry(body, undefined, async (entry, data) => {
      const parts = [...(name ? [name] : []), ...entryComponents(entry.name).slice(strip)];
      if (parts.length === 0) {
        for await (const _ of data) void _;
        return;
      }
      await writer.write({ ...entry, ...(req.archive ? {} : me) }, data, parts);
    });
    await writer.finish();
  } catch (err) {
    if (err instanceof ArchiveError) throw new CorralError('internal', `cp ${ref}:${path}: ${err.message}`);
    throw err;
  }
  if (!req.quiet) ctx.io.stderr.write(`Successfully copied ${writer.bytes} bytes to ${join(into, name)}\n`);
  return 0;
}

async function copyIn(ctx: Context, src: string, ref: string, path: string, req: CpRequest): Promise<number> {
  const client = await ctx.client();
  const { packTree } = await archive();
  if (src === '-') {
    if (ctx.io.stdin.isTTY) throw new ValidationError('cp: no tar archive on stdin (it is a terminal): pipe one in, or name a host path');
    const res = await client.copyIn(ref, path, ctx.io.stdin, { archive: req.archive });
    for (const w of res.warnings) ctx.io.stderr.write(`warning: ${w}\n`);
    if (!req.quiet) ctx.io.stderr.write(`Successfully copied ${res.bytes} bytes to ${ref}:${path}\n`);
    return 0;
  }
  const source = resolve(src);
  const local = await lstat(source).catch((err: unknown) => Promise.reject(fsError('cp: stat', source, err)));
  const contents = /(^|\/)\.$/.test(src);
  if (contents && !local.isDirectory()) throw new ValidationError(`cp: ${src}: not a directory`);
  let there = await pathStat(ctx, ref, path);
  if (there?.type === 'symlink') there = await pathStat(ctx, ref, path.replace(/\/*$/, '/'));
  let into: string;
  let name: string;
  if (there?.type === 'directory') {
    into = path;
    name = contents ? '' : basename(source);
  } else {
    if (there && local.isDirectory()) throw new ValidationError(`cp: cannot copy directory ${src} onto the file ${ref}:${path}`);
    if (!there && /\/$/.test(path) && !local.isDirectory()) throw new NotFoundError(`cp: destination directory ${ref}:${path} does not exist`);
    into = posix.dirname(path.replace(/\/+$/, '')) || '/';
    name = posix.basename(path.replace(/\/+$/, ''));
    if (name === '' || name === '.' || name === '..') throw new ValidationError(`cp: invalid destination ${ref}:${path}`);
  }
  const tar = Readable.from(packTree(source, name, { warn: (w) => ctx.io.stderr.write(`warning: ${w}\n`) }));
  const res = await client.copyIn(ref, into, tar, { archive: req.archive });
  for (const w of res.warnings) ctx.io.stderr.write(`warning: ${w}\n`);
  if (!req.quiet) ctx.io.stderr.write(`Successfully copied ${res.bytes} bytes to ${ref}:${name ? posix.join(into, name) : into}\n`);
  return 0;
}

async function pathStat(ctx: Context, ref: string, path: string): Promise<PathStat | undefined> {
  try {
    return await (await ctx.client()).pathStat(ref, path);
  } catch (err) {
    if (err instanceof CorralError && err.code === 'not_found' && /no such file or directory in container/.test(err.message)) return undefined;
    throw err;
  }
}

function join(dir: string, name: string): string {
  return name ? resolve(dir, name) : dir;
}
