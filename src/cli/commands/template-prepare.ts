import type { CorralClient } from '../../client/client.js';
import type { Context } from '../context.js';
import { progressPrinter } from './template-progress.js';

/**
 * Before `run`/`create`: make sure the template is there. A recipe that builds on first use
 * (busybox) is built now, its progress shown, instead of a create that is silent for seconds.
 */
export async function prepareTemplate(ctx: Context, client: CorralClient, name: string): Promise<void> {
  const p = progressPrinter(ctx.io);
  try {
    await client.templatePrepare(name, (l) => p.line(l));
  } finally {
    p.done();
  }
}
