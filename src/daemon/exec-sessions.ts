import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { Duplex } from 'node:stream';
import type { ExecRequest } from '../api/types.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { execArgv } from '../namespaces/argv.js';
import { seccompFilterFile } from '../security/seccomp.js';
import type { Containers } from '../runtime/containers.js';
import type { Logger } from '../util/logger.js';
import { mergeEnv, validateUser } from '../runtime/spec.js';
import { containerPath } from '../util/paths.js';
import { acceptUpgrade } from './http.js';

interface Session {
  id: string;
  containerId: string;
  request: Required<ExecRequest>;
  createdAt: number;
}

/** An exec session not started within this time is forgotten. */
const SESSION_TTL_MS = 60_000;

/**
 * `exec` in two steps, as Docker does: create a session (validated JSON), then start it on an
 * upgraded connection that carries attach frames to a foreground shim (`monitor --stdio-attach`).
 */
export class ExecSessions {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly containers: Containers, private readonly shim: string, private readonly log: Logger) {}

  async create(ref: string, body: unknown): Promise<string> {
    const req = validateExec(body);
    const { config } = await this.containers.runtimeOf(ref);
    this.gc();
    const id = randomBytes(16).toString('hex');
    this.sessions.set(id, {
      id,
      containerId: config.id,
      createdAt: Date.now(),
      request: {
        command: req.command,
        env: mergeEnv(config.env, req.env ?? []),
        user: req.user ?? config.user,
        workdir: req.workdir ?? config.workdir,
        tty: req.tty ?? false,
        interactive: req.interactive ?? false,
      },
    });
    return id;
  }

  /** Runs the session, piping frames between `socket` and the shim until the process exits. */
  async start(id: string, socket: Duplex, head: Buffer): Promise<void> {
    const s = this.sessions.get(id);
    if (!s) throw new NotFoundError(`no such exec session: ${id}`);
    this.sessions.delete(id);
    const { config, pid, pidStartTime } = await this.containers.runtimeOf(s.containerId);
    const argv = execArgv({
      shim: this.shim,
      pid,
      pidStartTime,
      cgroupProcs: this.containers.procsFiles(config.id),
      user: s.request.user,
      capabilities: config.capabilities,
      cwd: s.request.workdir,
      env: s.request.env,
      tty: s.request.tty,
      stdin: s.request.interactive,
      oomScoreAdj: config.oomScoreAdj ?? undefined,
      seccomp: seccompFilterFile(this.containers.store.dir(config.id), config),
      command: s.request.command,
    });
    const child = spawn(this.shim, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    acceptUpgrade(socket);
    if (head.length > 0) child.stdin.write(head);
    socket.pipe(child.stdin);
    child.stdout.pipe(socket, { end: false });
    createInterface({ input: child.stderr }).on('line', (line) => this.log.info('exec report', { container: config.name, line }));
    child.stdin.on('error', () => {});
    socket.on('error', () => child.stdin.destroy());
    // A detached client (exec -d) hangs up at once: keep draining so the process never blocks.
    socket.on('close', () => {
      child.stdout.unpipe(socket);
      child.stdout.resume();
    });
    await new Promise<void>((resolve) => child.on('close', () => resolve()));
    socket.end();
  }

  private gc(): void {
    const now = Date.now();
    for (const [id, s] of this.sessions) if (now - s.createdAt > SESSION_TTL_MS) this.sessions.delete(id);
  }
}

function validateExec(body: unknown): ExecRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ValidationError('exec request: expected an object');
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) {
    if (!['command', 'env', 'user', 'workdir', 'tty', 'interactive'].includes(k)) throw new ValidationError(`unknown field ${JSON.stringify(k)} in exec request`);
  }
  if (!Array.isArray(b.command) || b.command.length === 0 || !b.command.every((a) => typeof a === 'string')) {
    throw new ValidationError('exec request: command must be a non-empty list of strings');
  }
  if ((b.command as string[]).some((a) => a.includes('\0'))) throw new ValidationError('exec request: command must not contain NUL bytes');
  const out: ExecRequest = { command: b.command as string[] };
  if (b.env !== undefined) {
    if (!Array.isArray(b.env) || !b.env.every((e) => typeof e === 'string')) throw new ValidationError('exec request: env must be a list of KEY=VALUE strings');
    out.env = mergeEnv([], b.env as string[]);
  }
  if (b.user !== undefined && b.user !== '') out.user = validateUser(String(b.user));
  if (b.workdir !== undefined && b.workdir !== '') out.workdir = containerPath(String(b.workdir), 'workdir');
  for (const k of ['tty', 'interactive'] as const) {
    if (b[k] !== undefined && typeof b[k] !== 'boolean') throw new ValidationError(`exec request: ${k} must be true or false`);
    if (b[k] !== undefined) out[k] = b[k] as boolean;
  }
  return out;
}
