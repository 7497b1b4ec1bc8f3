/**
 * "Did you mean …?" for a mistyped command, like commander's own, except that it never proposes a
 * verb that destroys or interrupts something: `corral top web` must not nudge anyone towards
 * `corral stop web`, nor `pull` towards `kill`. Those a user types on purpose, never by suggestion.
 */
export const NEVER_SUGGESTED: ReadonlySet<string> = new Set(['rm', 'remove', 'kill', 'stop', 'delete', 'restart', 'prune', 'destroy', 'down', 'purge']);

const MAX_DISTANCE = 3;
const MIN_SIMILARITY = 0.4;

/** `\n(Did you mean X?)`, `\n(Did you mean one of X, Y?)`, or '' (commander's wording). */
export function suggestCommand(word: string, candidates: readonly string[]): string {
  let best: string[] = [];
  let bestDistance = MAX_DISTANCE;
  for (const c of new Set(candidates)) {
    if (c.length <= 1 || NEVER_SUGGESTED.has(c)) continue;
    const d = editDistance(word, c);
    const length = Math.max(word.length, c.length);
    if ((length - d) / length <= MIN_SIMILARITY) continue;
    if (d < bestDistance) {
      bestDistance = d;
      best = [c];
    } else if (d === bestDistance) best.push(c);
  }
  best.sort((a, b) => a.localeCompare(b));
  if (best.length > 1) return `\n(Did you mean one of ${best.join(', ')}?)`;
  return best.length === 1 ? `\n(Did you mean ${best[0]}?)` : '';
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > MAX_DISTANCE) return Math.max(a.length, b.length);
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
