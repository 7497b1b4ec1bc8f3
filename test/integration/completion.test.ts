import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, corral, envOf, installation, uniqueName } from '../support/corral.js';

/** Runs bash with the script of `corral completion bash` loaded and `corral` on PATH as this installation's CLI. */
function bashComplete(words: string[]): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'corral-compl-'));
  writeFileSync(join(dir, 'corral'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(join(dir, 'corral'), 0o755);
  const line = ['corral', ...words].map((w) => `'${w}'`).join(' ');
  const script = `source <(corral completion bash); COMP_WORDS=(${line}); COMP_CWORD=${words.length}; _corral; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return new Promise((resolve, reject) => {
    execFile('bash', ['-c', script], { env: { ...process.env, ...envOf(installation()), PATH: `${dir}:${process.env.PATH}` }, timeout: 60_000 }, (err, stdout, stderr) => {
      rmSync(dir, { recursive: true, force: true });
      if (err) reject(new Error(`${err.message}: ${stderr}`));
      else resolve(stdout.split('\n').filter(Boolean));
    });
  });
}

describe('shell completion', () => {
  it('bash completes verbs, flags, and the names of containers, templates and networks from corrald', async () => {
    const name = uniqueName('compl');
    await corral(['create', '--name', name, 'busybox', 'true']);
    try {
      expect(await bashComplete(['sta'])).toEqual(['start', 'stats']);
      expect(await bashComplete(['ps', '--fi'])).toEqual(['--filter']);
      expect(await bashComplete(['rm', name.slice(0, -2)])).toContain(name);
      expect(await bashComplete(['run', 'busy'])).toEqual(['busybox']);
      expect(await bashComplete(['run', '--network', 'bri'])).toEqual(['bridge']);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('prints scripts for bash, zsh and fish and refuses other shells', async () => {
    expect((await corral(['completion', 'bash'])).stdout).toContain('complete -F _corral corral');
    expect((await corral(['completion', 'zsh'])).stdout).toContain('#compdef corral');
    expect((await corral(['completion', 'fish'])).stdout).toContain('complete -c corral');
    expect((await corral(['completion', 'tcsh'])).exitCode).toBe(2);
  });
});
