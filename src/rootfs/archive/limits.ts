/**
 * Budgets of one extraction. An archive over either is refused as a whole (an endless stream, a
 * gzip bomb, millions of empty entries); both are counted on the decompressed tar stream.
 */
export interface ExtractLimits {
  /** Decompressed tar bytes, headers included. Default 64 GiB. */
  maxBytes: number;
  /** Tar members, metadata headers (PAX, GNU long names) included. Default 10 million. */
  maxEntries: number;
}

export const DEFAULT_LIMITS: ExtractLimits = { maxBytes: 64 * 1024 ** 3, maxEntries: 10_000_000 };

/** Longest member name or link target (Linux PATH_MAX without the NUL) and path component. */
export const MAX_PATH_BYTES = 4095;
export const MAX_COMPONENT_BYTES = 255;
/** A PAX or GNU long-name record larger than this is refused (node-tar's own default is 1 MiB). */
export const MAX_META_BYTES = 1024 * 1024;

export function withDefaults(l: Partial<ExtractLimits> = {}): ExtractLimits {
  return { maxBytes: l.maxBytes ?? DEFAULT_LIMITS.maxBytes, maxEntries: l.maxEntries ?? DEFAULT_LIMITS.maxEntries };
}
