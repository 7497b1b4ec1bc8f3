import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { archiveError } from './errors.js';

const DIGEST = /^(sha256|sha512):([a-f0-9]+)$/;
const HEX_LEN: Record<string, number> = { sha256: 64, sha512: 128 };

/** `sha256:<hex>` split and checked; anything else is refused. */
export function parseDigest(digest: unknown, what: string): { algorithm: string; hex: string } {
  const m = typeof digest === 'string' ? DIGEST.exec(digest) : null;
  if (!m || m[2]!.length !== HEX_LEN[m[1]!]) throw archiveError(`${what}: invalid digest ${JSON.stringify(digest)} (want sha256:<64 hex digits>)`);
  return { algorithm: m[1]!, hex: m[2]! };
}

/** The digest of a stream of bytes, as `alg:hex`. */
export async function digestOf(chunks: AsyncIterable<Buffer>, algorithm = 'sha256'): Promise<{ digest: string; size: number }> {
  const h = createHash(algorithm);
  let size = 0;
  for await (const c of chunks) {
    h.update(c);
    size += c.length;
  }
  return { digest: `${algorithm}:${h.digest('hex')}`, size };
}

/** A blob must have exactly the size and digest its descriptor says. */
export async function verifyFile(path: string, digest: string, size: number | undefined, what: string): Promise<void> {
  const { algorithm } = parseDigest(digest, what);
  const got = await digestOf(createReadStream(path), algorithm);
  if (size !== undefined && got.size !== size) throw archiveError(`${what}: size ${got.size} does not match the descriptor's ${size} (${digest})`, { digest });
  if (got.digest !== digest) throw archiveError(`${what}: digest mismatch: the descriptor says ${digest}, the content is ${got.digest}`, { digest, actual: got.digest });
}
