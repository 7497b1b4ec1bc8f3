import { performance } from 'node:perf_hooks';

/** Durations of the phases of one operation, in ms, for the debug log and benchmarks. */
export class PhaseTimer {
  readonly phases: Record<string, number> = {};
  private last = performance.now();

  mark(name: string): void {
    const now = performance.now();
    this.phases[name] = Math.round((now - this.last) * 100) / 100;
    this.last = now;
  }
}
