import type { Socket } from 'node:net';
import type {
  ContainerInspect,
  ContainerSummary,
  CreateRequest,
  ExecRequest,
  NetworkCreateRequest,
  NetworkInspect,
  NetworkSummary,
  StatsSample,
  UpdateRequest,
  UpdateResponse,
  TemplateBuildRequest,
  TemplateCommitRequest,
  TemplateCommitResponse,
  TemplateInfo,
  TemplateProgressLine,
  VersionInfo,
} from '../api/types.js';
import type { IncomingMessage } from 'node:http';
import { CorralError, type ErrorCode } from '../errors.js';
import { HttpTransport } from './http.js';
import { uploadArchive } from './template-import.js';
import type { Readable } from 'node:stream';
import type { ContainerChange, ContainerTop, CopyInResult, PathStat, VolumeCreateRequest, VolumeInfo, VolumePruneReport, CorralEvent, DiskUsage, PruneReport } from '../api/types.js';
import type { BackupRequest, CloneRequest, RestoreResult, SnapshotCreateResult, SnapshotInfo } from '../api/types.js';

/** Answer of POST /v1/containers. */
export interface CreateResponse {
  id: string;
  name: string;
  warnings: string[];
}

/** Answer of POST /v1/containers/{ref}/wait. */
export interface WaitResponse {
  exitCode: number | null;
  signal: number | null;
  error: string | null;
}

/** One line of GET /v1/containers/{ref}/logs; `log` keeps its trailing newline. */
export interface LogRecord {
  time: string;
  stream: 'stdout' | 'stderr';
  log: string;
}

export interface LogsOptions {
  follow?: boolean;
  /** Only the last N records. */
  tail?: number;
  timestamps?: boolean;
  /** Docker's --since/--until: a duration back from now, an RFC 3339 time or Unix seconds. */
  since?: string;
  until?: string;
  signal?: AbortSignal;
}

/** A typed client for corrald's API (docs/api.md), one method per route. */
export class CorralClient {
  readonly http: HttpTransport;

  constructor(readonly socketPath: string) {
    this.http = new HttpTransport(socketPath);
  }

  version(signal?: AbortSignal): Promise<VersionInfo> {
    return this.http.json('GET', '/v1/version', signal ? { signal } : {});
  }

  templates(): Promise<TemplateInfo[]> {
    return this.http.json('GET', '/v1/templates');
  }

  template(name: string): Promise<TemplateInfo> {
    return this.http.json('GET', template(name));
  }

  /** Build a template from a recipe; progress lines as they come; aborting the signal stops the build. */
  async templateBuild(req: TemplateBuildRequest, onProgress: (line: string) => void = () => {}, signal?: AbortSignal): Promise<TemplateInfo> {
    return progressResult(await this.http.stream('POST', '/v1/templates/build', { body: req, ...(signal ? { signal } : {}) }), onProgress);
  }

  /** The template, built first when it is a recipe that builds on first use (busybox). */
  async templatePrepare(name: string, onProgress: (line: string) => void = () => {}): Promise<TemplateInfo> {
    return progressResult(await this.http.stream('POST', `${template(name)}/prepare`), onProgress);
  }

  async templateRemove(name: string): Promise<void> {
    await this.http.json('DELETE', template(name));
  }

  /** Unused templates: removed, or only listed with `dryRun`. */
  async templatePrune(opts: { dryRun?: boolean } = {}): Promise<string[]> {
    return (await this.http.json<{ removed: string[] }>('POST', `/v1/templates/prune${query({ dryRun: opts.dryRun || undefined })}`)).removed;
  }

  commit(req: TemplateCommitRequest): Promise<TemplateCommitResponse> {
    return this.http.json('POST', '/v1/templates/commit', { body: req });
  }

  /** The container's flattened filesystem as a tar stream. */
  snapshots(ref: string): Promise<SnapshotInfo[]> {
    return this.http.json('GET', `${container(ref)}/snapshots`);
  }
  snapshotCreate(ref: string, name?: string): Promise<SnapshotCreateResult> {
    return this.http.json('POST', `${container(ref)}/snapshots`, { body: name === undefined ? {} : { name } });
  }
  snapshotRestore(ref: string, name: string): Promise<{ restarted: boolean }> {
    return this.http.json('POST', `${container(ref)}/snapshots/${encodeURIComponent(name)}/restore`);
  }
  async snapshotRemove(ref: string, name: string): Promise<void> {
    await this.http.json('DELETE', `${container(ref)}/snapshots/${encodeURIComponent(name)}`);
  }
  clone(ref: string, req: CloneRequest): Promise<RestoreResult & { frozenMs: number }> {
    return this.http.json('POST', `${container(ref)}/clone`, { body: req });
  }

  /** The backup archive as corrald writes it (headers x-corral-backup-id, x-corral-compression). */
  backup(ref: string, req: BackupRequest): Promise<IncomingMessage> {
    return this.http.stream('POST', `${container(ref)}/backup`, { body: req });
  }

  export(ref: string): Promise<IncomingMessage> {
    return this.http.stream('GET', `${container(ref)}/export`);
  }

  create(req: CreateRequest): Promise<CreateResponse> {
    return this.http.json('POST', '/v1/containers', { body: req });
  }

  list(opts: { all?: boolean } = {}): Promise<ContainerSummary[]> {
    return this.http.json('GET', `/v1/containers${query({ all: opts.all || undefined })}`);
  }

  inspect(ref: string): Promise<ContainerInspect> {
    return this.http.json('GET', container(ref));
  }

  async start(ref: string): Promise<void> {
    await this.http.json('POST', `${container(ref)}/start`);
  }

  /** Start with an attach stream; the container starts once the stream is attached. */
  startAttached(ref: string): Promise<Socket> {
    return this.http.upgrade('POST', `${container(ref)}/start?attach=true`);
  }

  attach(ref: string): Promise<Socket> {
    return this.http.upgrade('POST', `${container(ref)}/attach`);
  }

  async stop(ref: string, opts: { timeout?: number } = {}): Promise<void> {
    await this.http.json('POST', `${container(ref)}/stop${query({ timeout: opts.timeout })}`);
  }

  async restart(ref: string, opts: { timeout?: number } = {}): Promise<void> {
    await this.http.json('POST', `${container(ref)}/restart${query({ timeout: opts.timeout })}`);
  }

  /** `signal` is a name (`SIGTERM`, `TERM`) or a number; corrald's default is SIGKILL. */
  async kill(ref: string, opts: { signal?: string | number } = {}): Promise<void> {
    await this.http.json('POST', `${container(ref)}/kill${query({ signal: opts.signal })}`);
  }

  async pause(ref: string): Promise<void> {
    await this.http.json('POST', `${container(ref)}/pause`);
  }

  async unpause(ref: string): Promise<void> {
    await this.http.json('POST', `${container(ref)}/unpause`);
  }

  top(ref: string, psArgs: readonly string[] = []): Promise<ContainerTop> {
    return this.http.json('GET', `${container(ref)}/top${query({ ps_args: psArgs.length > 0 ? psArgs.join(' ') : undefined })}`);
  }

  volumes(): Promise<VolumeInfo[]> {
    return this.http.json('GET', '/v1/volumes');
  }
  volumeCreate(req: VolumeCreateRequest): Promise<VolumeInfo> {
    return this.http.json('POST', '/v1/volumes', { body: req });
  }
  volumeInspect(name: string): Promise<VolumeInfo> {
    return this.http.json('GET', `/v1/volumes/${encodeURIComponent(name)}`);
  }
  async volumeRemove(name: string): Promise<void> {
    await this.http.json('DELETE', `/v1/volumes/${encodeURIComponent(name)}`);
  }
  volumePrune(): Promise<VolumePruneReport> {
    return this.http.json('POST', '/v1/volumes/prune');
  }

  /** A path in the container (`corral cp`), its last component not followed. */
  pathStat(ref: string, path: string): Promise<PathStat> {
    return this.http.json('GET', `${container(ref)}/archive/stat${query({ path })}`);
  }

  /** A path in the container as a tar stream, and its stat. */
  async copyOut(ref: string, path: string): Promise<{ stat: PathStat; body: IncomingMessage }> {
    const body = await this.http.stream('GET', `${container(ref)}/archive${query({ path })}`);
    const raw = body.headers['x-corral-path-stat'];
    const stat = JSON.parse(Buffer.from(typeof raw === 'string' ? raw : '', 'base64').toString('utf8') || '{}') as PathStat;
    return { stat, body };
  }

  /** A tar stream written into the directory `path` of the container. */
  copyIn(ref: string, path: string, body: Readable, opts: { archive?: boolean } = {}): Promise<CopyInResult> {
    return uploadArchive<CopyInResult>(this.http.socketPath, `${container(ref)}/archive${query({ path, archive: opts.archive || undefined })}`, body, 'PUT');
  }

  changes(ref: string): Promise<ContainerChange[]> {
    return this.http.json('GET', `${container(ref)}/changes`);
  }

  prune(): Promise<PruneReport> {
    return this.http.json('POST', '/v1/containers/prune');
  }

  diskUsage(): Promise<DiskUsage> {
    return this.http.json('GET', '/v1/system/df');
  }

  rename(ref: string, name: string): Promise<{ id: string; name: string }> {
    return this.http.json('POST', `${container(ref)}/rename${query({ name })}`);
  }

  update(ref: string, limits: UpdateRequest): Promise<UpdateResponse> {
    return this.http.json('POST', `${container(ref)}/update`, { body: limits });
  }

  stats(ref: string): Promise<StatsSample> {
    return this.http.json('GET', `${container(ref)}/stats`);
  }

  wait(ref: string): Promise<WaitResponse> {
    return this.http.json('POST', `${container(ref)}/wait`);
  }

  async remove(ref: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.http.json('DELETE', `${container(ref)}${query({ force: opts.force || undefined })}`);
  }

  /** Log records as they are read; with `follow`, until the container stops or `signal` aborts. */
  /** Recorded events, then (with `follow`) live ones until `until` or `signal` aborts. */
  async *events(opts: { since?: string; until?: string; container?: string[]; type?: string[]; follow?: boolean; signal?: AbortSignal } = {}): AsyncGenerator<CorralEvent> {
    const params = new URLSearchParams();
    if (opts.since) params.set('since', opts.since);
    if (opts.until) params.set('until', opts.until);
    for (const c of opts.container ?? []) params.append('container', c);
    for (const t of opts.type ?? []) params.append('type', t);
    if (opts.follow) params.set('follow', 'true');
    const qs = params.toString();
    const res = await this.http.stream('GET', `/v1/events${qs ? `?${qs}` : ''}`, opts.signal ? { signal: opts.signal } : {});
    for await (const line of ndjsonLines(res)) yield JSON.parse(line) as CorralEvent;
  }

  async *logs(ref: string, opts: LogsOptions = {}): AsyncGenerator<LogRecord> {
    const q = query({ follow: opts.follow || undefined, tail: opts.tail, timestamps: opts.timestamps || undefined, since: opts.since, until: opts.until });
    const res = await this.http.stream('GET', `${container(ref)}/logs${q}`, opts.signal ? { signal: opts.signal } : {});
    for await (const line of ndjsonLines(res)) yield parseRecord(line);
  }

  networks(): Promise<NetworkSummary[]> {
    return this.http.json('GET', '/v1/networks');
  }

  networkCreate(req: NetworkCreateRequest): Promise<NetworkSummary> {
    return this.http.json('POST', '/v1/networks', { body: req });
  }

  networkInspect(name: string): Promise<NetworkInspect> {
    return this.http.json('GET', `/v1/networks/${encodeURIComponent(name)}`);
  }

  async networkRemove(name: string): Promise<void> {
    await this.http.json('DELETE', `/v1/networks/${encodeURIComponent(name)}`);
  }

  execCreate(ref: string, req: ExecRequest): Promise<{ id: string }> {
    return this.http.json('POST', `${container(ref)}/exec`, { body: req });
  }

  execStart(id: string): Promise<Socket> {
    return this.http.upgrade('POST', `/v1/exec/${encodeURIComponent(id)}/start`);
  }
}

function template(name: string): string {
  return `/v1/templates/${encodeURIComponent(name)}`;
}

/** Progress lines to `onProgress`, then the template, or the error the stream ends with. */
async function progressResult(res: IncomingMessage, onProgress: (line: string) => void): Promise<TemplateInfo> {
  for await (const line of ndjsonLines(res)) {
    let msg: TemplateProgressLine;
    try {
      msg = JSON.parse(line) as TemplateProgressLine;
    } catch {
      throw new CorralError('internal', `corrald sent a line that is not JSON: ${line.slice(0, 80)}`);
    }
    if ('progress' in msg) onProgress(msg.progress);
    else if ('template' in msg) return msg.template;
    else if ('error' in msg) throw new CorralError(msg.error.code as ErrorCode, msg.error.message, msg.error.details);
  }
  throw new CorralError('unavailable', 'corrald closed the stream before the template was ready');
}

function container(ref: string): string {
  return `/v1/containers/${encodeURIComponent(ref)}`;
}

/** `?a=1&b=x` from the defined values, or ''. */
export function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

function parseRecord(line: string): LogRecord {
  try {
    return JSON.parse(line) as LogRecord;
  } catch {
    throw new CorralError('internal', `logs: corrald sent a line that is not JSON: ${line.slice(0, 80)}`);
  }
}

/** The non-empty lines of a streamed NDJSON response, as they arrive (a last line without \n too). */
async function* ndjsonLines(res: NodeJS.ReadableStream): AsyncGenerator<string> {
  res.setEncoding('utf8');
  let buf = '';
  for await (const chunk of res as AsyncIterable<string>) {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim() !== '') yield line;
    }
  }
  if (buf.trim() !== '') yield buf;
}
