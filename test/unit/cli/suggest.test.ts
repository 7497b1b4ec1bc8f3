import { describe, expect, it } from 'vitest';
import { editDistance, NEVER_SUGGESTED, suggestCommand } from '../../../src/cli/suggest.js';

describe('suggestCommand', () => {
  const verbs = ['run', 'create', 'start', 'stop', 'restart', 'kill', 'rm', 'ps', 'logs', 'delete', 'drift', 'apply', 'plan', 'inspect'];

  it('suggests the nearest harmless command', () => {
    expect(suggestCommand('strat', verbs)).toBe('\n(Did you mean start?)');
    expect(suggestCommand('insepct', verbs)).toBe('\n(Did you mean inspect?)');
    expect(suggestCommand('lgs', verbs)).toBe('\n(Did you mean logs?)');
  });

  it('never suggests a destructive verb, however close', () => {
    expect(suggestCommand('top', verbs)).toBe('');
    expect(suggestCommand('pull', verbs)).toBe('');
    expect(suggestCommand('stp', verbs)).toBe('');
    expect(suggestCommand('rn', verbs)).toBe('\n(Did you mean run?)'); // not rm
    expect(suggestCommand('delet', verbs)).toBe('');
    expect(suggestCommand('restat', verbs)).toBe('\n(Did you mean start?)');
    for (const v of NEVER_SUGGESTED) expect(suggestCommand(v, [v])).toBe('');
  });

  it('lists ties', () => {
    expect(suggestCommand('pla', ['plan', 'play'])).toBe('\n(Did you mean one of plan, play?)');
  });
});

describe('editDistance', () => {
  it('counts a transposition as one edit', () => {
    expect(editDistance('strat', 'start')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });
});
