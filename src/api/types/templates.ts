import type { ApiErrorBody } from './system.js';

/** Where a template came from (docs/templates.md). */
export type TemplateOrigin =
  | { kind: 'recipe'; recipe: string; args: Record<string, string> }
  | { kind: 'archive'; format: 'rootfs-tar' | 'docker-archive' | 'oci-layout' | 'corral-backup'; file: string; digest: string; tag?: string }
  | { kind: 'commit'; container: string; containerName: string; parent: string; flattened: boolean };

/** What a container of the template gets unless its request says otherwise. */
export interface TemplateDefaults {
  command: string[];
  entrypoint: string[];
  env: string[];
  /** '' means `/`. */
  workdir: string;
  /** '' means root. */
  user: string;
  /** '' means SIGTERM. */
  stopSignal: string;
}

export interface TemplateLayerInfo {
  path: string;
  digest: string;
  sizeBytes: number;
  /** The template whose directory holds the layer. */
  owner: string;
}

export interface TemplateInfo {
  name: string;
  /**
   * ready: usable; recipe: a build recipe of the package, not built yet (`corral template build`);
   * invalid: a directory in the data root that is not a usable template (`problem` says why).
   */
  status: 'ready' | 'recipe' | 'invalid';
  problem: string | null;
  /** The top layer (the only one for a template that has one). */
  path: string;
  builtAt: string | null;
  /** All its layers, own and shared. */
  sizeBytes: number | null;
  /** Whether it is ready; recipes marked autoBuild (busybox) build on first use. */
  built: boolean;
  autoBuild: boolean;
  description: string;
  source: TemplateOrigin | null;
  digest: string | null;
  parent: string | null;
  /** Top first, as overlayfs stacks them. */
  layers: TemplateLayerInfo[];
  /** Its own layers; `sharedSizeBytes`: the layers it shares with (uses from) its parent. */
  ownSizeBytes: number | null;
  sharedSizeBytes: number | null;
  defaults: TemplateDefaults | null;
  /** Containers made from it; templates that stack on its layers. */
  containers: { id: string; name: string }[];
  children: string[];
}

export interface TemplateBuildRequest {
  recipe: string;
  /** Default: the recipe's name. */
  name?: string;
  /** Recipe options (debian: suite, include). */
  args?: Record<string, string>;
}

export interface TemplateCommitRequest {
  container: string;
  name: string;
  description?: string;
}

export interface TemplateCommitResponse {
  template: TemplateInfo;
  warnings: string[];
}

/** One line of a streamed template operation (build, prepare): progress lines, then a result or an error. */
export type TemplateProgressLine = { progress: string } | { template: TemplateInfo } | ApiErrorBody;

/** Answer of POST /v1/templates/import and /v1/templates/load. */
export interface ImportResult {
  name: string;
  /** Layers in the image (1 for a rootfs tarball). */
  layers: number;
  entries: number;
  bytes: number;
  /** Neutralised entries (device nodes) and dropped attributes. */
  warnings: string[];
  tags: string[];
  /** The image id (config digest), for images. */
  id?: string;
}
