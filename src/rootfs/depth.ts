import type { LayerRecord } from './record.js';

/**
 * How deep templates stack. Each commit adds one layer on top of its parent's; overlayfs looks a
 * path up in every lower layer until it finds it, so a deep stack costs every lookup. Past this
 * many lower layers a commit is flattened: one new layer holding the merged view, sharing nothing.
 */
export const MAX_TEMPLATE_LAYERS = 8;

export type CommitPlan =
  /** A new layer `layers/<ownDir>` on top of the parent's layers, which are shared, not copied. */
  | { kind: 'stack'; ownDir: string; shared: LayerRecord[] }
  /** One layer `layers/0` made from the merged view of the upper layer and all the parent's. */
  | { kind: 'flatten'; ownDir: '0' };

export function planCommit(parentLayers: readonly LayerRecord[], max: number = MAX_TEMPLATE_LAYERS): CommitPlan {
  if (parentLayers.length + 1 <= max) return { kind: 'stack', ownDir: String(parentLayers.length), shared: [...parentLayers] };
  return { kind: 'flatten', ownDir: '0' };
}
