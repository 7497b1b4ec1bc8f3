import type { ContainerConfig, ContainerState } from '../api/types.js';
import { decide, formatRestartPolicy, DEFAULT_BACKOFF, type Backoff } from './restart-policy.js';
import type { ContainerStore } from './store.js';
import type { Logger } from '../util/logger.js';

export interface SupervisorDeps {
  store: ContainerStore;
  backoff?: Backoff;
  log: Pick<Logger, 'info' | 'warn'>;
  /** Start the container again (under its lock); resolves when it runs, rejects if it cannot. */
  restart(id: string): Promise<void>;
  /** The container as it is now, or undefined once removed. */
  lookup(id: string): ContainerConfig | undefined;
  onRestart?(c: ContainerConfig, attempt: number): void;
  /** A system container came back from a reboot of its own. */
  onReboot?(c: ContainerConfig): void;
}

/**
 * Restart policies: decide once per exit, wait out the back-off, restart. The decision and the
 * due time are written to policy.json first, so a corrald that restarts (or a host that reboots)
 * picks up where this one stopped.
 */
export class Supervisor {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly backoff: Backoff;

  constructor(private readonly d: SupervisorDeps) {
    this.backoff = d.backoff ?? DEFAULT_BACKOFF;
  }

  /** Called for every exit corrald learns about (also those that happened while it was away). */
  async onExit(c: ContainerConfig, s: ContainerState): Promise<void> {
    if (c.restartPolicy.name === 'no' || c.autoRemove) return;
    const run = s.startedAt ?? 'unknown';
    const rs = await this.d.store.readPolicy(c.id);
    if (rs.decidedRun === run) {
      if (rs.nextRestartAt !== null) this.arm(c.id, rs.nextRestartAt - Date.now());
      return;
    }
    const ranMs = s.startedAt && s.finishedAt ? Date.parse(s.finishedAt) - Date.parse(s.startedAt) : null;
    const d = decide(c.restartPolicy, rs, { exitCode: s.exitCode, ranMs }, this.backoff);
    if (!d.restart) {
      await this.d.store.writePolicy(c.id, { ...rs, decidedRun: run, nextRestartAt: null });
      this.d.log.info('not restarting', { id: c.id, name: c.name, policy: formatRestartPolicy(c.restartPolicy), reason: d.reason });
      return;
    }
    const due = Date.now() + d.delayMs;
    await this.d.store.writePolicy(c.id, { ...rs, decidedRun: run, backoffLevel: d.backoffLevel, nextRestartAt: due });
    this.d.log.info('restart scheduled', { id: c.id, name: c.name, policy: formatRestartPolicy(c.restartPolicy), inMs: d.delayMs });
    this.arm(c.id, d.delayMs);
  }

  /** The user stopped or killed it: no restart now, and none later for unless-stopped. */
  async userStopped(id: string): Promise<void> {
    this.cancel(id);
    const rs = await this.d.store.readPolicy(id);
    await this.d.store.writePolicy(id, { ...rs, userStopped: true, nextRestartAt: null });
  }

  /** The user started it: forget the stop and the back-off. */
  async userStarted(id: string): Promise<void> {
    this.cancel(id);
    const rs = await this.d.store.readPolicy(id);
    if (rs.userStopped || rs.nextRestartAt !== null || rs.backoffLevel !== 0) {
      await this.d.store.writePolicy(id, { ...rs, userStopped: false, nextRestartAt: null, backoffLevel: 0 });
    }
  }

  /**
   * A system container rebooted itself (its init died of SIGHUP): start it again at once, not
   * counted as a restart of the policy and whatever the policy is.
   */
  reboot(id: string): void {
    this.cancel(id);
    this.timers.set(
      id,
      setTimeout(() => {
        this.timers.delete(id);
        const c = this.d.lookup(id);
        if (!c) return;
        this.d.restart(id).then(
          () => this.d.onReboot?.(c),
          (err: unknown) => this.d.log.warn('start after a reboot failed', { id, name: c.name, err: String(err) }),
        );
      }, 0),
    );
  }

  pending(id: string): boolean {
    return this.timers.has(id);
  }

  cancel(id: string): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
  }

  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private arm(id: string, delayMs: number): void {
    this.cancel(id);
    this.timers.set(id, setTimeout(() => void this.fire(id), Math.max(0, delayMs)));
  }

  private async fire(id: string): Promise<void> {
    this.timers.delete(id);
    const c = this.d.lookup(id);
    if (!c) return;
    const rs = await this.d.store.readPolicy(id);
    if (rs.userStopped && c.restartPolicy.name !== 'always') return;
    const attempt = rs.restartCount + 1;
    await this.d.store.writePolicy(id, { ...rs, restartCount: attempt, nextRestartAt: null });
    try {
      await this.d.restart(id);
      this.d.onRestart?.(c, attempt);
    } catch (err) {
      // A start that fails is an exit like any other: the monitor's record (if any) or this one.
      this.d.log.warn('restart failed', { id, name: c.name, attempt, err: String(err) });
    }
  }
}
