import { commandColumn, ellipsis, formatTable } from '../output.js';
import type { Action, Change, Plan } from './plan.js';

const show = (v: unknown): string => ellipsis(v === null || v === undefined ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v), 60);
const changes = (cs: readonly Change[]): string => cs.map((c) => `${c.field}: ${show(c.from)} -> ${show(c.to)}`).join('; ');

function detail(a: Action): string {
  switch (a.kind) {
    case 'create':
      return `${a.container.request.template}${a.container.request.command ? ` ${commandColumn(a.container.request.command, 60)}` : ''}`;
    case 'update':
      return `${changes(a.changes)}${a.outside ? ' (changed outside the manifest)' : ''}; applied live`;
    case 'recreate':
      return `${changes(a.changes)}${a.outside ? ' (changed outside the manifest)' : ''}`;
    case 'start':
      return 'stopped; will be started';
    case 'delete':
      return 'no longer in the manifest (--prune)';
    case 'conflict':
      return a.reason;
    case 'keep':
      return '';
  }
}

const VERB: Record<Action['kind'], string> = { create: '+ create', update: '~ update', recreate: '! recreate', start: '> start', delete: '- delete', conflict: 'x conflict', keep: '= unchanged' };

export function renderPlan(plan: Plan): string {
  const rows = [...plan.networks.map((n) => [n, '+ network', 'a bridge network the manifest names; created first']), ...plan.actions.map((a) => [a.name, VERB[a.kind], detail(a)])];
  const count = (k: Action['kind']): number => plan.actions.filter((a) => a.kind === k).length;
  const summary = plan.pending
    ? `Plan: ${plan.networks.length ? `${plan.networks.length} network${plan.networks.length === 1 ? '' : 's'} to create, ` : ''}${count('create')} to create, ${count('update')} to update in place, ${count('recreate')} to recreate, ${count('start')} to start, ${count('delete')} to delete${count('conflict') ? `, ${count('conflict')} in conflict` : ''}.`
    : 'No changes: the containers match the manifest.';
  return (rows.length ? formatTable(['CONTAINER', 'ACTION', 'DETAIL'], rows) : '') + summary + '\n';
}
