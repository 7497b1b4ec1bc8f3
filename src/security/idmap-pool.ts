import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CorralError, fsError, isErrno, ValidationError } from '../errors.js';
import { atomicWriteJson } from '../util/atomic-write.js';

/** Host ids a container's user namespace maps its ids 0..size-1 onto. */
export interface IdRange {
  uidBase: number;
  gidBase: number;
  size: number;
}

export interface IdmapPoolOptions {
  /** The record of who holds which range (in the data root). */
  file: string;
  /** First host id of the pool. */
  start: number;
  /** Ids per container (65,536: every 16-bit id a distribution uses). */
  size: number;
  /** How many ranges the pool holds. */
  count: number;
}

/** The highest host id a map may reach: (uid_t)-1 means "no id" to the kernel. */
const ID_LIMIT = 0xffffffff;
export const DEFAULT_POOL_START = 1_000_000;
export const RANGE_SIZE = 65_536;

interface PoolFile {
  version: 1;
  /** Container id → the first host uid (and gid) of its range. */
  ranges: Record<string, number>;
}

/** Every range of the pool is held by a container. */
export class IdPoolExhaustedError extends CorralError {
  constructor(o: IdmapPoolOptions, held: number) {
    super(
      'unavailable',
      `allocate a user namespace range from ${o.file}: all ${o.count} ranges of ${o.size} ids from host id ${o.start} are held (${held} containers); remove containers, widen the pool (CORRAL_USERNS_POOL=START:COUNT) or create with --userns host`,
      { file: o.file, start: o.start, count: o.count, held },
    );
  }
}

/**
 * The pool of host id ranges Corral gives containers' user namespaces (like /etc/subuid, but
 * owned by Corral: root writes the maps itself). A range is held by one container from create to
 * rm and is never given to another meanwhile; the record is rewritten atomically after each change,
 * so it survives corrald restarts. Changes are serialized in this process; one corrald owns a data
 * root (its pid file), so no other writer exists.
 */
export class IdmapPool {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(readonly o: IdmapPoolOptions) {
    if (!Number.isInteger(o.start) || o.start < 1 || !Number.isInteger(o.size) || o.size < 1 || !Number.isInteger(o.count) || o.count < 1) {
      throw new ValidationError(`user namespace pool: start, size and count must be positive whole numbers (start ${o.start}, size ${o.size}, count ${o.count})`);
    }
    if (o.start + o.size * o.count - 1 > ID_LIMIT - 1) {
      throw new ValidationError(`user namespace pool: ${o.count} ranges of ${o.size} from ${o.start} pass the highest host id ${ID_LIMIT - 1}`);
    }
  }

  /** The range held by `id`, allocating the lowest free one if it holds none. */
  allocate(id: string): Promise<IdRange> {
    return this.locked(async () => {
      const f = await this.read();
      const have = f.ranges[id];
      if (have !== undefined) return this.range(have);
      const taken = Object.values(f.ranges);
      for (let k = 0; k < this.o.count; k++) {
        const base = this.o.start + k * this.o.size;
        // Ranges recorded under another pool layout still count: no overlap, ever.
        if (taken.some((b) => b < base + this.o.size && base < b + this.o.size)) continue;
        f.ranges[id] = base;
        await this.write(f);
        return this.range(base);
      }
      throw new IdPoolExhaustedError(this.o, taken.length);
    });
  }

  /** Give `id`'s range back (nothing if it holds none). */
  release(id: string): Promise<void> {
    return this.locked(async () => {
      const f = await this.read();
      if (f.ranges[id] === undefined) return;
      delete f.ranges[id];
      await this.write(f);
    });
  }

  /**
   * Bring the record in line with the containers that exist (corrald's start): ranges of
   * containers that are gone (a create cut short, a record written before a crash) are freed, and
   * a container's range the record lacks (a restored data root) is recorded again, so it is never
   * given to another. `live` maps each container id to the base its config names (undefined: none
   * known, keep what the record says). Returns the ids whose ranges were freed.
   */
  reconcile(live: ReadonlyMap<string, number | undefined>): Promise<string[]> {
    return this.locked(async () => {
      const f = await this.read();
      const gone = Object.keys(f.ranges).filter((id) => !live.has(id));
      for (const id of gone) delete f.ranges[id];
      let changed = gone.length > 0;
      for (const [id, base] of live) {
        if (base === undefined || f.ranges[id] === base) continue;
        f.ranges[id] = base;
        changed = true;
      }
      if (changed) await this.write(f);
      return gone;
    });
  }

  /** Who holds what. */
  held(): Promise<Record<string, IdRange>> {
    return this.locked(async () => Object.fromEntries(Object.entries((await this.read()).ranges).map(([id, b]) => [id, this.range(b)])));
  }

  private range(base: number): IdRange {
    return { uidBase: base, gidBase: base, size: this.o.size };
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => {});
    return next;
  }

  private async read(): Promise<PoolFile> {
    let text: string;
    try {
      text = await readFile(this.o.file, 'utf8');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return { version: 1, ranges: {} };
      throw fsError('read', this.o.file, err);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw fsError('parse', this.o.file, err);
    }
    const ranges = (raw as Partial<PoolFile> | null)?.ranges;
    if (typeof ranges !== 'object' || ranges === null || Object.values(ranges).some((b) => !Number.isInteger(b))) {
      // Never guess: a pool we cannot read could hand out a range that is in use.
      throw new CorralError('internal', `read ${this.o.file}: not a user namespace pool record (expected {"version":1,"ranges":{ID:BASE}})`, { file: this.o.file });
    }
    return { version: 1, ranges: { ...ranges } };
  }

  private async write(f: PoolFile): Promise<void> {
    await mkdir(dirname(this.o.file), { recursive: true, mode: 0o700 }).catch((err: unknown) => {
      throw fsError('create', dirname(this.o.file), err);
    });
    await atomicWriteJson(this.o.file, f);
  }
}

/**
 * The pool of an installation: `<dataRoot>/userns-pool.json`, from host id 1,000,000 on, as many
 * ranges of 65,536 as fit below 2^32-1, unless CORRAL_USERNS_POOL=START[:COUNT] says otherwise
 * (installations side by side on one host should be given disjoint pools).
 */
export function poolFor(dataRoot: string, env: NodeJS.ProcessEnv = process.env): IdmapPool {
  const spec = env.CORRAL_USERNS_POOL;
  let start = DEFAULT_POOL_START;
  let count: number | undefined;
  if (spec !== undefined && spec !== '') {
    const m = /^(\d+)(?::(\d+))?$/.exec(spec.trim());
    if (!m) throw new ValidationError(`CORRAL_USERNS_POOL=${spec}: expected START[:COUNT] (host id of the first range, number of ${RANGE_SIZE}-id ranges)`);
    start = Number(m[1]);
    if (m[2] !== undefined) count = Number(m[2]);
  }
  count ??= Math.floor((ID_LIMIT - 1 - start) / RANGE_SIZE);
  return new IdmapPool({ file: join(dataRoot, 'userns-pool.json'), start, size: RANGE_SIZE, count });
}
