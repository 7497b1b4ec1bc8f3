import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { exitCodeFor, formatError, invocationFailureFromMessage } from '../../../src/cli/errors.js';
import { CorralError, NotFoundError, ValidationError } from '../../../src/errors.js';

describe('exitCodeFor', () => {
  it('usage errors are 2, help and --version 0', () => {
    expect(exitCodeFor(new CommanderError(1, 'commander.unknownOption', "error: unknown option '-x'"), 'ps')).toBe(2);
    expect(exitCodeFor(new CommanderError(1, 'commander.missingArgument', 'x'), 'run')).toBe(125);
    expect(exitCodeFor(new CommanderError(1, 'commander.missingArgument', 'x'), 'rm')).toBe(2);
    expect(exitCodeFor(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'))).toBe(0);
    expect(exitCodeFor(new CommanderError(0, 'commander.version', '0.1.0'))).toBe(0);
    expect(exitCodeFor(new CommanderError(0, 'commander.help', '(outputHelp)'))).toBe(0);
    expect(exitCodeFor(new CommanderError(1, 'commander.help', '(outputHelp)'))).toBe(2);
  });

  it('run and exec failures are 125, other commands 1', () => {
    const err = new NotFoundError('no such template: nosuch');
    expect(exitCodeFor(err, 'run')).toBe(125);
    expect(exitCodeFor(err, 'exec')).toBe(125);
    expect(exitCodeFor(new ValidationError('invalid volume'), 'run')).toBe(125);
    expect(exitCodeFor(err, 'rm')).toBe(1);
    expect(exitCodeFor(err, 'create')).toBe(1);
    // A refused flag value is a usage error of create as of run (Docker's 125).
    expect(exitCodeFor(new ValidationError('invalid --storage-opt size=abc'), 'create')).toBe(125);
    expect(exitCodeFor(new ValidationError('invalid --storage-opt size=abc'), 'update')).toBe(1);
    expect(exitCodeFor(new Error('boom'))).toBe(1);
  });

  it('126/127 when the container command cannot be run or found', () => {
    expect(exitCodeFor(new CorralError('command_failed', 'exec "nosuch": executable file not found in $PATH'), 'run')).toBe(127);
    expect(exitCodeFor(new CorralError('command_failed', 'start abc: exec "/etc": permission denied'), 'run')).toBe(126);
    expect(exitCodeFor(new CorralError('command_failed', 'boom', { exitCode: 126 }), 'exec')).toBe(126);
    expect(exitCodeFor(new CorralError('command_failed', 'mount overlay on /x: No such file or directory'), 'run')).toBe(125);
    expect(invocationFailureFromMessage('exec: "ls": no such file or directory')).toBe(127);
    expect(invocationFailureFromMessage('exec "a.sh": exec format error')).toBe(126);
  });
});

describe('formatError', () => {
  it('prints one corral: line', () => {
    expect(formatError(new Error('no such container: x'))).toBe('corral: no such container: x');
    expect(formatError("error: unknown option '-x'\n")).toBe("corral: unknown option '-x'");
    expect(formatError(new Error('a\n  b\n'))).toBe('corral: a b');
  });
});
