import { NAME_PATTERN } from '../../util/names.js';

/**
 * A template name from an image reference, e.g.
 *   docker.io/library/alpine:3.19 → alpine-3.19      localhost/web:latest → web
 *   ghcr.io/acme/tools/cli:v2     → acme-tools-cli-v2  alpine@sha256:…    → alpine
 * The registry host (a first component with a dot or colon, or "localhost") and Docker Hub's
 * "library/" are dropped, "/" and ":" become "-", ":latest" is dropped, the rest is lowercased
 * and reduced to [a-z0-9_.-], at most 63 characters starting with a letter or digit.
 */
export function nameFromReference(ref: string): string | undefined {
  let r = ref.trim().replace(/@.*$/, '');
  let tag: string | undefined;
  const colon = r.lastIndexOf(':');
  if (colon > r.lastIndexOf('/')) {
    tag = r.slice(colon + 1);
    r = r.slice(0, colon);
  }
  const parts = r.split('/').filter(Boolean);
  if (parts.length > 1 && /[.:]|^localhost$/.test(parts[0]!)) parts.shift();
  if (parts.length > 1 && parts[0] === 'library') parts.shift();
  const words = [...parts, ...(tag && tag !== 'latest' ? [tag] : [])];
  const name = words
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 63)
    .replace(/[-.]+$/, '');
  return NAME_PATTERN.test(name) ? name : undefined;
}
