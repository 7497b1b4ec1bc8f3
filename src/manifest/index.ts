/**
 * YAML manifests (docs/manifest.md): parse and validate against docs/manifest.schema.json, build
 * typed CreateRequests, explain limits in kernel terms. Pure; the CLI reads files and talks to
 * corrald.
 */
export { checkManifest, parseManifest, type ManifestCheck, type ManifestOptions } from './parse.js';
export { ManifestError, formatIssue, type IssueCode, type ManifestIssue, type Pos } from './issues.js';
export {
  canonicalJson,
  containerConfigHash,
  manifestHash,
  type Dependency,
  type DependencyCondition,
  type HealthConfig,
  type ManifestContainer,
  type ManifestSpec,
  type RestartPolicy,
  type Written,
} from './spec.js';
export { explainContainer, explainManifest, formatExplanation, type ContainerExplanation, type ExplainOptions, type Explained, type KernelWrite } from './explain.js';
export { manifestSchemaPath } from './schema.js';
export { DEFAULT_READ_LIMITS, type ReadLimits } from './yaml-tree.js';
