// Adds up vitest JSON reports of every tier into one closing line.
import { readFileSync } from 'node:fs';

let passed = 0, failed = 0, skipped = 0, suitesFailed = 0;
for (const file of process.argv.slice(2)) {
  let r;
  try {
    r = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    console.error(`!! no report in ${file}: that tier did not finish`);
    failed += 1;
    continue;
  }
  passed += r.numPassedTests ?? 0;
  failed += r.numFailedTests ?? 0;
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  suitesFailed += r.numFailedTestSuites ?? 0;
}
if (suitesFailed > 0 && failed === 0) failed = suitesFailed; // a file that failed to load counts
if (process.argv.length <= 2) failed += 1;
console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
