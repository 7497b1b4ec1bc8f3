import type { TemplateDefaults, TemplateOrigin } from '../api/types.js';
import type { LayerRecord } from './record.js';

export type ProgressFn = (message: string) => void;

/** What a template source is given to make a template. */
export interface SourceContext {
  /** The template's final name (its own layers are recorded as `<name>/layers/<dir>`). */
  name: string;
  /**
   * A fresh directory (`<templates>/<name>.tmp-*`) renamed into place once the template is
   * complete: the source writes its own layers below `layers/` in it, and nothing anywhere else.
   */
  dir: string;
  /** `<data-root>/templates`, where shared layers are. */
  templatesDir: string;
  /** `<data-root>/cache`, for downloads kept across builds. */
  cacheDir: string;
  progress: ProgressFn;
  /** Aborted when the client that asked went away: stop, the store removes `dir`. */
  signal?: AbortSignal;
}

/** A layer of the result, top first: one the source made in `layers/<dir>`, or one it reuses. */
export type ProducedLayer = { own: string } | { shared: LayerRecord };

export interface Produced {
  layers: ProducedLayer[];
  defaults: TemplateDefaults;
  description: string;
  source: TemplateOrigin;
  parent: string | null;
}

/**
 * Where a template comes from: a build recipe, a rootfs tarball, a docker-archive, an OCI layout,
 * a container (commit). The store owns naming, the temporary directory, digests, the record and
 * the final rename; a source only fills `ctx.dir/layers/` and says what it made.
 */
export interface TemplateSource {
  /** For progress lines and errors: `recipe debian`, `docker-archive app.tar`. */
  readonly label: string;
  produce(ctx: SourceContext): Promise<Produced>;
}
