import { resolvePaths, type CorralPaths } from '../config.js';
import { CorralClient } from '../client/client.js';
import { connect } from '../client/connect.js';
import { askedRoots } from '../client/roots.js';
import { formatError } from './errors.js';

/** What every command's effect function gets: the paths, a lazily connected client, stdio. */
export interface GlobalOptions {
  dataRoot?: string;
  runRoot?: string;
  cgroupParent?: string;
}

export interface Io {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

export interface Context {
  paths: CorralPaths;
  io: Io;
  /** Connects (starting corrald if needed) on first use. */
  client(): Promise<CorralClient>;
  out(text: string): void;
  /** One `corral: <message>` line on stderr. */
  warn(err: unknown): void;
}

export function createContext(globals: GlobalOptions, io: Io = processIo()): Context {
  const paths = resolvePaths(globals, io.env);
  let client: Promise<CorralClient> | undefined;
  return {
    paths,
    io,
    client: () => (client ??= connect(paths, { asked: askedRoots(paths, globals, io.env) })),
    out: (text) => void io.stdout.write(text),
    warn: (err) => void io.stderr.write(formatError(err) + '\n'),
  };
}

export function processIo(): Io {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/**
 * Docker's way with several containers: act on each, print each ref that succeeded, report each
 * failure; 1 if any failed.
 */
export async function eachRef(ctx: Context, refs: readonly string[], act: (client: CorralClient, ref: string) => Promise<void>): Promise<number> {
  const client = await ctx.client();
  let failed = false;
  for (const ref of refs) {
    try {
      await act(client, ref);
      ctx.out(`${ref}\n`);
    } catch (err) {
      failed = true;
      ctx.warn(err);
    }
  }
  return failed ? 1 : 0;
}
