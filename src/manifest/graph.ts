/**
 * The dependsOn graph: `edges.get(a)` lists what `a` depends on (must start first). Names are
 * visited in the order given, so results are stable.
 */

/**
 * Every elementary cycle found by a depth-first search, each once, as a path that ends where it
 * starts: `['web', 'api', 'db', 'web']`. Each cycle starts at its first name in `order`.
 */
export function findCycles(order: readonly string[], edges: ReadonlyMap<string, readonly string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const seen = new Set<string>();
  const cycles: string[][] = [];
  const rank = new Map(order.map((n, i) => [n, i]));

  // Iterative DFS (a manifest can hold many containers; no recursion limit to hit).
  for (const start of order) {
    if (state.has(start)) continue;
    const frames: { name: string; next: number }[] = [{ name: start, next: 0 }];
    state.set(start, 'open');
    stack.push(start);
    while (frames.length > 0) {
      const top = frames[frames.length - 1]!;
      const deps = edges.get(top.name) ?? [];
      if (top.next < deps.length) {
        const dep = deps[top.next++]!;
        if (!rank.has(dep)) continue;
        const s = state.get(dep);
        if (s === 'open') {
          const cycle = stack.slice(stack.indexOf(dep));
          const first = cycle.reduce((a, b) => (rank.get(a)! <= rank.get(b)! ? a : b));
          const rotated = [...cycle.slice(cycle.indexOf(first)), ...cycle.slice(0, cycle.indexOf(first))];
          const key = rotated.join('\0');
          if (!seen.has(key)) {
            seen.add(key);
            cycles.push([...rotated, first]);
          }
        } else if (s === undefined) {
          state.set(dep, 'open');
          stack.push(dep);
          frames.push({ name: dep, next: 0 });
        }
      } else {
        state.set(top.name, 'done');
        stack.pop();
        frames.pop();
      }
    }
  }
  return cycles;
}

/**
 * Start levels: level 0 depends on nothing, level n only on lower levels; within a level, names
 * keep `order`. Names on a cycle (and what depends on them) are left out: validate first.
 */
export function startLevels(order: readonly string[], edges: ReadonlyMap<string, readonly string[]>): string[][] {
  const known = new Set(order);
  const rank = new Map(order.map((n, i) => [n, i]));
  const waiting = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const name of order) {
    const deps = [...new Set((edges.get(name) ?? []).filter((d) => known.has(d)))];
    waiting.set(name, deps.length);
    for (const d of deps) (dependents.get(d) ?? dependents.set(d, []).get(d)!).push(name);
  }
  // Kahn's algorithm, a level at a time.
  const levels: string[][] = [];
  let current = order.filter((n) => waiting.get(n) === 0);
  while (current.length > 0) {
    levels.push(current);
    const next = new Set<string>();
    for (const done of current) {
      for (const d of dependents.get(done) ?? []) {
        const left = waiting.get(d)! - 1;
        waiting.set(d, left);
        if (left === 0) next.add(d);
      }
    }
    current = [...next].sort((a, b) => rank.get(a)! - rank.get(b)!);
  }
  return levels;
}
