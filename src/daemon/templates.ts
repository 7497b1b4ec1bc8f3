import type { CorralPaths } from '../config.js';
import { TemplateStore } from '../rootfs/templates.js';
import { ExecaRunner } from '../system/runner.js';

/** The daemon's template store: builds from rootfs-templates/ on first use. */
export function templateSource(paths: CorralPaths): TemplateStore {
  return new TemplateStore(paths, new ExecaRunner());
}
