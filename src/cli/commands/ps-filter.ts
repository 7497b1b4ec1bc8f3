import { InvalidArgumentError } from 'commander';
import { STATUSES, type ContainerSummary } from '../../api/types.js';

/**
 * `ps --filter KEY=VALUE` as Docker reads it: filters with the same key OR, different keys AND,
 * except labels, which must all match (Docker's rule too).
 * id: a prefix of the id; name: a regular expression found in the name (Docker's); label: K or K=V;
 * status; ancestor or template: the template's name; exited: the exit code; network: a network joined.
 */
export const PS_FILTER_KEYS = ['id', 'name', 'label', 'status', 'ancestor', 'template', 'exited', 'network'] as const;
export type PsFilterKey = (typeof PS_FILTER_KEYS)[number];
export type PsFilters = Partial<Record<PsFilterKey, string[]>>;

/** commander parser for a repeatable `--filter`: checks each as it comes (a bad one is a usage error). */
export function collectFilter(value: string, previous: PsFilters = {}): PsFilters {
  const eq = value.indexOf('=');
  const key = (eq < 0 ? value : value.slice(0, eq)) as PsFilterKey;
  const v = eq < 0 ? '' : value.slice(eq + 1);
  if (!PS_FILTER_KEYS.includes(key)) throw new InvalidArgumentError(`"${value}": expected KEY=VALUE with KEY one of ${PS_FILTER_KEYS.join(', ')}.`);
  if (v === '') throw new InvalidArgumentError(`"${value}": ${key} needs a value (${key}=…).`);
  if (key === 'status' && !(STATUSES as readonly string[]).includes(v)) throw new InvalidArgumentError(`"${value}": status is one of ${STATUSES.join(', ')}.`);
  if (key === 'exited' && !/^\d+$/.test(v)) throw new InvalidArgumentError(`"${value}": exited takes an exit code.`);
  if (key === 'name') {
    try {
      new RegExp(v);
    } catch {
      throw new InvalidArgumentError(`"${value}": not a regular expression.`);
    }
  }
  return { ...previous, [key]: [...(previous[key] ?? []), v] };
}

function one(key: PsFilterKey, v: string, c: ContainerSummary): boolean {
  switch (key) {
    case 'id':
      return c.id.startsWith(v);
    case 'name':
      return new RegExp(v).test(c.name);
    case 'label': {
      const eq = v.indexOf('=');
      const labels = c.labels ?? {};
      return eq < 0 ? Object.prototype.hasOwnProperty.call(labels, v) : labels[v.slice(0, eq)] === v.slice(eq + 1);
    }
    case 'status':
      return c.status === v;
    case 'ancestor':
    case 'template':
      return c.template === v;
    case 'exited':
      return c.status === 'exited' && c.exitCode === Number(v);
    case 'network':
      return c.networks.some((n) => n.name === v) || c.networkMode === v;
  }
}

export function matchesFilters(c: ContainerSummary, filters: PsFilters): boolean {
  return (Object.entries(filters) as [PsFilterKey, string[]][]).every(([key, values]) =>
    key === 'label' ? values.every((v) => one(key, v, c)) : values.some((v) => one(key, v, c)),
  );
}
