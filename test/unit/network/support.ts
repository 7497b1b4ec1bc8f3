import { RecordingRunner, type RunOptions, type RunResult } from '../../../src/system/runner.js';

/** RecordingRunner that also keeps each call's stdin (nft scripts, ip -batch input). */
export class ScriptRunner extends RecordingRunner {
  readonly inputs: (string | undefined)[] = [];
  override async run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    this.inputs.push(options.input);
    return super.run(file, args, options);
  }
  /** Calls as command lines, for exact sequence assertions. */
  lines(from = 0): string[] {
    return this.calls.slice(from).map((c) => [c.file, ...c.args].join(' '));
  }
}
