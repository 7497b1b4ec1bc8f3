import type { ContainerConfig, HealthState } from '../api/types.js';
import { nextHealth } from './healthcheck.js';
import { seccompFilterFile } from '../security/seccomp.js';
import { runProbe } from './probe.js';
import type { ContainerStore } from './store.js';
import type { Logger } from '../util/logger.js';

export interface HealthMonitorDeps {
  store: ContainerStore;
  shim: string;
  log: Pick<Logger, 'info' | 'warn'>;
  procsFiles(id: string): string[];
  /** PID 1 of the running container, or undefined when it no longer runs. */
  pidOf(id: string): Promise<{ pid: number; pidStartTime: number } | undefined>;
  onChange(c: ContainerConfig, h: HealthState): void;
  /** --health-on-failure: what to do once it is unhealthy. */
  act(c: ContainerConfig, action: 'kill' | 'restart' | 'stop'): Promise<void>;
}

/**
 * Runs each running container's health check every interval (the same exec path as `corral exec`),
 * keeps Docker's verdict (starting, healthy, unhealthy after `retries` failures outside the start
 * period) in health.json, and reports changes.
 */
export class HealthMonitor {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly d: HealthMonitorDeps) {}

  async watch(c: ContainerConfig, startedAtMs: number, fresh: boolean): Promise<void> {
    const h = c.healthcheck;
    if (!h) return;
    this.unwatch(c.id);
    if (fresh) await this.d.store.writeHealth(c.id, { status: 'starting', failingStreak: 0, log: [] });
    const tick = async (): Promise<void> => {
      if (!this.timers.has(c.id)) return;
      const rt = await this.d.pidOf(c.id);
      if (!rt) return this.unwatch(c.id);
      const start = new Date().toISOString();
      const r = await runProbe(
        { shim: this.d.shim, pid: rt.pid, pidStartTime: rt.pidStartTime, cgroupProcs: this.d.procsFiles(c.id), user: c.user, capabilities: c.capabilities, cwd: c.workdir, env: c.env, oomScoreAdj: c.oomScoreAdj ?? undefined, seccomp: seccompFilterFile(this.d.store.dir(c.id), c), command: h.test },
        h.timeoutMs,
      );
      if (!this.timers.has(c.id)) return; // stopped meanwhile
      const prev = (await this.d.store.readHealth(c.id)) ?? { status: 'starting', failingStreak: 0, log: [] };
      const next = nextHealth(prev, h, { ...r, start, end: new Date().toISOString() }, startedAtMs);
      await this.d.store.writeHealth(c.id, next);
      if (next.status !== prev.status) {
        this.d.log.info('health status', { id: c.id, name: c.name, status: next.status });
        this.d.onChange(c, next);
        if (next.status === 'unhealthy' && h.onFailure !== 'none') {
          this.unwatch(c.id);
          await this.d.act(c, h.onFailure).catch((err: unknown) => this.d.log.warn('health action failed', { id: c.id, action: h.onFailure, err: String(err) }));
          return;
        }
      }
      this.timers.set(c.id, setTimeout(() => void tick(), h.intervalMs));
    };
    this.timers.set(c.id, setTimeout(() => void tick(), h.intervalMs));
  }

  unwatch(id: string): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
  }

  close(): void {
    for (const id of [...this.timers.keys()]) this.unwatch(id);
  }
}
