#!/usr/bin/env node
import { endQuietlyOnClosedPipe } from './pipes.js';
import { runCli } from './program.js';

endQuietlyOnClosedPipe([process.stdout, process.stderr]);
const code = await runCli(process.argv.slice(2));
// Let stdout/stderr drain before exiting with the command's (or the container's) code.
await Promise.all([process.stdout, process.stderr].map((s) => new Promise<void>((resolve) => s.write('', () => resolve()))));
process.exit(code);
