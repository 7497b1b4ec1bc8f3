import type { CorralClient } from '../../client/client.js';
import { CorralError } from '../../errors.js';
import type { ManifestContainer } from '../../manifest/index.js';
import type { Action, Plan } from './plan.js';

export interface ApplyOptions {
  /** How long to wait for a dependency's condition (started/healthy). */
  waitMs: number;
  progress(line: string): void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Carry out a plan in dependency order: each container's dependencies are created, started and
 * (for `condition: healthy`) healthy before it is touched; deletions go last, in reverse.
 */
export async function applyPlan(client: CorralClient, plan: Plan, opts: ApplyOptions): Promise<void> {
  const conflicts = plan.actions.filter((a) => a.kind === 'conflict');
  if (conflicts.length > 0) {
    throw new CorralError('conflict', `apply refused, nothing changed: ${conflicts.map((c) => `${c.name}: ${c.kind === 'conflict' ? c.reason : ''}`).join('; ')}`);
  }
  for (const name of plan.networks) {
    opts.progress(`network ${name}: creating`);
    await client.networkCreate({ name });
  }
  for (const a of plan.actions) {
    if (a.kind === 'delete' || a.kind === 'conflict') continue;
    for (const dep of a.container.dependsOn) await waitFor(client, dep.name, dep.condition, opts);
    await perform(client, a, opts);
  }
  for (const a of [...plan.actions].reverse()) {
    if (a.kind !== 'delete') continue;
    opts.progress(`${a.name}: deleting`);
    await client.remove(a.id, { force: true });
  }
}

async function perform(client: CorralClient, a: Exclude<Action, { kind: 'delete' } | { kind: 'conflict' }>, opts: ApplyOptions): Promise<void> {
  switch (a.kind) {
    case 'keep':
      return;
    case 'create':
      opts.progress(`${a.name}: creating`);
      await createAndStart(client, a.container);
      return;
    case 'recreate':
      opts.progress(`${a.name}: recreating (${a.changes.map((c) => c.field).join(', ')})`);
      await client.remove(a.name, { force: true });
      await createAndStart(client, a.container);
      return;
    case 'update': {
      opts.progress(`${a.name}: updating ${a.changes.map((c) => c.field).join(', ')} in place`);
      const { oomScoreAdj: _skip, ...limits } = a.container.request.limits ?? {};
      const changed = new Set(a.changes.map((c) => c.field));
      const body: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(limits)) if (changed.has(`limits.${k}`)) body[k] = v;
      if (changed.has('restart')) body.restart = a.container.request.restart ?? 'no';
      body.labels = a.container.request.labels ?? {};
      await client.update(a.name, body);
      return;
    }
    case 'start':
      opts.progress(`${a.name}: starting`);
      await client.start(a.name);
      return;
  }
}

async function createAndStart(client: CorralClient, c: ManifestContainer): Promise<void> {
  const { id } = await client.create(c.request);
  await client.start(id);
}

/** `started`: it has been started (a one-shot may have finished already); `healthy`: its check passed. */
async function waitFor(client: CorralClient, name: string, condition: 'started' | 'healthy', opts: ApplyOptions): Promise<void> {
  const deadline = Date.now() + opts.waitMs;
  let said = false;
  for (;;) {
    const info = await client.inspect(name);
    const s = info.state;
    if (condition === 'started' && s.startedAt) return;
    if (condition === 'healthy' && s.health?.status === 'healthy') return;
    if (condition === 'healthy' && !info.config.healthcheck) throw new CorralError('validation', `${name} has no healthcheck, so nothing can wait for it to be healthy`);
    if (Date.now() > deadline) throw new CorralError('invalid_state', `timed out after ${Math.round(opts.waitMs / 1000)} s waiting for ${name} to be ${condition} (status ${s.status}${s.health ? `, health ${s.health.status}` : ''})`);
    if (!said) {
      opts.progress(`waiting for ${name} to be ${condition}`);
      said = true;
    }
    await sleep(200);
  }
}
