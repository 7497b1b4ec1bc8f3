import { ValidationError } from '../errors.js';

/**
 * runc's command line (urfave/cli): flags as `--name value`, `--name=value`, `-name value` or a
 * one-letter alias; boolean flags take no value (`--force=true` works too). Flags end at the first
 * positional argument or at `--`; everything after is positional (exec's command line).
 */
export interface FlagSpec {
  bool?: readonly string[];
  value?: readonly string[];
  /** Repeatable value flags (exec --env, --cap). */
  multi?: readonly string[];
  alias?: Readonly<Record<string, string>>;
}

export interface Parsed {
  flags: Map<string, string | boolean | string[]>;
  rest: string[];
}

export function parseFlags(argv: readonly string[], spec: FlagSpec, where: string): Parsed {
  const flags = new Map<string, string | boolean | string[]>();
  const bool = new Set(spec.bool ?? []);
  const value = new Set(spec.value ?? []);
  const multi = new Set(spec.multi ?? []);
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    let name = eq >= 0 ? body.slice(0, eq) : body;
    name = spec.alias?.[name] ?? name;
    if (bool.has(name)) {
      flags.set(name, eq >= 0 ? body.slice(eq + 1) !== 'false' : true);
      continue;
    }
    if (!value.has(name) && !multi.has(name)) throw new ValidationError(`${where}: unknown flag ${a}`);
    let v: string;
    if (eq >= 0) v = body.slice(eq + 1);
    else {
      if (i + 1 >= argv.length) throw new ValidationError(`${where}: flag ${a} needs a value`);
      v = argv[++i]!;
    }
    if (multi.has(name)) flags.set(name, [...((flags.get(name) as string[] | undefined) ?? []), v]);
    else flags.set(name, v);
  }
  return { flags, rest: argv.slice(i) };
}

export const str = (p: Parsed, name: string): string | undefined => {
  const v = p.flags.get(name);
  return typeof v === 'string' ? v : undefined;
};
export const bool = (p: Parsed, name: string): boolean => p.flags.get(name) === true;
export const list = (p: Parsed, name: string): string[] => {
  const v = p.flags.get(name);
  return Array.isArray(v) ? v : [];
};
