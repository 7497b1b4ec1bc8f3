import type { Command } from 'commander';
import { LIMIT_KEYS, LIST_LIMIT_KEYS, SCALAR_LIMIT_KEYS, type LimitRequestKey } from '../api/limit-keys.js';
import type { LimitRequest } from '../api/types.js';
import { collect } from './options.js';

/**
 * Docker's resource flags, shared by `run`, `create` and `update`; values go to corrald as written.
 * commander names each flag's value as the LimitRequest field it fills (`--cpu-shares` → cpuShares).
 */
export type LimitFlags = { [K in LimitRequestKey]?: LimitRequest[K] extends string[] | undefined ? string[] : string } & {
  ignoreMissingLimits?: boolean;
};

/** The flags of LIMIT_KEYS in table order; create-only ones (`--oom-score-adj`) only when `create`. */
export function addLimitFlags(cmd: Command, opts: { create: boolean } = { create: true }): Command {
  const option = (e: (typeof LIMIT_KEYS)[number]): void => {
    const short: string | undefined = 'short' in e ? e.short : undefined;
    const flags = `${short ? `${short}, ` : ''}${e.flag} ${e.arg}`;
    if (e.kind === 'list') cmd.option(flags, e.help, collect);
    else cmd.option(flags, e.help);
  };
  for (const e of LIMIT_KEYS) if (!('createOnly' in e)) option(e);
  cmd.option('--ignore-missing-limits', 'run even where this host cannot enforce a requested limit');
  if (opts.create) for (const e of LIMIT_KEYS) if ('createOnly' in e) option(e);
  return cmd;
}

/** Only the flags that were given. */
export function toLimitRequest(f: LimitFlags): LimitRequest | undefined {
  const out: Record<string, string | string[]> = {};
  for (const k of SCALAR_LIMIT_KEYS) if (f[k] !== undefined) out[k] = f[k];
  for (const k of LIST_LIMIT_KEYS) if (f[k]?.length) out[k] = f[k];
  return Object.keys(out).length > 0 ? (out as LimitRequest) : undefined;
}
