import type { Command } from 'commander';
import { registerTemplateBuild, type TemplateBuildCommandRequest } from './template-build.js';
import { registerTemplateInspect, type TemplateInspectRequest } from './template-inspect.js';
import { registerTemplateLs, type TemplateLsRequest } from './template-ls.js';
import { registerTemplatePrune, type TemplatePruneRequest } from './template-prune.js';
import { registerTemplateRm, type TemplateRmRequest } from './template-rm.js';

export { templateLs, type TemplateLsRequest } from './template-ls.js';
export { templateInspect, type TemplateInspectRequest } from './template-inspect.js';
export { templateRm, type TemplateRmRequest } from './template-rm.js';
export { templatePrune, type TemplatePruneRequest } from './template-prune.js';
export { templateBuild, type TemplateBuildCommandRequest } from './template-build.js';

export interface TemplateDispatch {
  ls: (req: TemplateLsRequest) => Promise<void>;
  inspect: (req: TemplateInspectRequest) => Promise<void>;
  rm: (req: TemplateRmRequest) => Promise<void>;
  prune: (req: TemplatePruneRequest) => Promise<void>;
  build: (req: TemplateBuildCommandRequest) => Promise<void>;
}

/** `corral template ls|inspect|rm|prune|build` (docs/templates.md). */
export function registerTemplate(program: Command, dispatch: TemplateDispatch): void {
  const template = program.command('template').description('manage templates: the read-only layers containers are made of');
  registerTemplateLs(template, dispatch.ls);
  registerTemplateInspect(template, dispatch.inspect);
  registerTemplateRm(template, dispatch.rm);
  registerTemplatePrune(template, dispatch.prune);
  registerTemplateBuild(template, dispatch.build);
}
