/**
 * The row-version blob the storage engine carries with every row. Storage treats it as
 * opaque and only ever merges two blobs with `mergeRowVersions`, which is the version-vector
 * join: commutative, associative and idempotent, so flush and compaction order cannot matter.
 */
import { decode, encode, join } from './version-vector.js';

export function mergeRowVersions(a: Buffer | undefined, b: Buffer | undefined): Buffer | undefined {
  if (a === undefined) return b;
  if (b === undefined || a.equals(b)) return a;
  return encode(join(decode(a), decode(b)));
}
