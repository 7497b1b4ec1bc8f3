import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CreateRequest } from '../api/types.js';
import { ValidationError } from '../errors.js';
import { parseSeccompProfile } from '../security/seccomp-profile.js';
import { parseSecurityOpts } from '../security/seccomp.js';
import { errnoText } from './options.js';

/**
 * `--security-opt` as Docker's CLI reads it: `seccomp=FILE` sends the file's text (checked here
 * first, so a bad profile is reported with its file name before anything is asked of corrald),
 * `seccomp=unconfined`, `no-new-privileges`.
 */
export function securityOptsToRequest(values: readonly string[], cwd: string = process.cwd()): Pick<CreateRequest, 'securityOpt' | 'seccompSource'> {
  const out: string[] = [];
  let source: string | undefined;
  for (const v of values) {
    const m = /^seccomp[=:](.+)$/s.exec(v);
    if (!m || m[1] === 'unconfined' || m[1] === 'builtin') {
      out.push(v);
      continue;
    }
    const file = resolve(cwd, m[1]!);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ValidationError(`--security-opt seccomp=${m[1]}: open ${file}: ${errnoText(err)}`);
    }
    parseSeccompProfile(text, file);
    out.push(`seccomp=${text}`);
    source = file;
  }
  parseSecurityOpts(out); // the same checks corrald makes (seccomp given twice, unknown options)
  return source === undefined ? { securityOpt: out } : { securityOpt: out, seccompSource: source };
}
