import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../../src/cli/program.js';
import { complete, type NameKind } from '../../../src/cli/completion/complete.js';

const sink = { write: () => true } as unknown as NodeJS.WriteStream;
const program = (): Command => buildProgram(async () => {}, { stdout: sink, stderr: sink });

function helpOf(cmd: Command): string {
  let text = '';
  cmd.configureOutput({ writeOut: (s) => void (text += s), writeErr: (s) => void (text += s) });
  cmd.outputHelp();
  return text;
}

function commands(cmd: Command, path: string[] = []): [string, Command][] {
  return (cmd.commands as Command[]).flatMap((c) => [[[...path, c.name()].join(' '), c] as [string, Command], ...commands(c, [...path, c.name()])]);
}

describe('--help', () => {
  it('every verb has examples that start with corral (or a pipe into it)', () => {
    const missing: string[] = [];
    for (const [path, cmd] of commands(program())) {
      const help = helpOf(cmd);
      const m = /\nExamples:\n((?: {2}.+\n)+)/.exec(help);
      if (!m) missing.push(path);
      else for (const line of m[1]!.trim().split('\n')) expect(line, path).toMatch(/corral /);
    }
    expect(missing, 'commands without an Examples: section in --help (add them in src/cli/examples.ts)').toEqual([]);
  });
});

describe('completion', () => {
  const names = async (kind: NameKind): Promise<string[]> => ({ container: ['web', 'db'], template: ['busybox', 'debian'], network: ['bridge', 'backend'] })[kind];
  it('completes verbs, subcommands and flags', async () => {
    const p = program();
    expect(await complete(p, [], 're', names)).toEqual(['rename', 'restart', 'restore']);
    expect(await complete(p, ['network'], '', names)).toEqual(['create', 'inspect', 'ls', 'rm']);
    expect(await complete(p, ['ps'], '--f', names)).toEqual(['--filter', '--format']);
  });
  it('completes names where the command takes them', async () => {
    const p = program();
    expect(await complete(p, ['rm', '-f'], '', names)).toEqual(['db', 'web']);
    expect(await complete(p, ['logs', '--tail', '5'], 'w', names)).toEqual(['web']);
    expect(await complete(p, ['run', '-d', '--name', 'x'], '', names)).toEqual(['busybox', 'debian']);
    expect(await complete(p, ['run', '--network'], 'b', names)).toEqual(['backend', 'bridge']);
    expect(await complete(p, ['run', 'busybox'], '', names)).toEqual([]);
    expect(await complete(p, ['network', 'rm'], '', names)).toEqual(['backend', 'bridge']);
    expect(await complete(p, ['template', 'rm'], 'd', names)).toEqual(['debian']);
    expect(await complete(p, ['--run-root', '/r', 'stop'], '', names)).toEqual(['db', 'web']);
  });
});
