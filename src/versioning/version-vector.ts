/**
 * Version Vector (Joshi, *Patterns of Distributed Systems*; Dynamo's vector clocks): one
 * counter per node that coordinated updates to a row. A vector dominates another when it is
 * at least as large in every entry; when neither dominates, the versions are concurrent.
 *
 * Invariants: entries are sorted by node id with no duplicates and counters ≥ 1; `join` is
 * commutative, associative and idempotent (a semilattice), so replicas can merge versions
 * in any order, any number of times, and agree.
 * Bounds: at most `MAX_ENTRIES` entries, one per node that ever coordinated a write to the row.
 *
 * Encoding (format version 1): uvarint entry count, then per entry: uvarint id length, id
 * bytes (UTF-8 node id), uvarint counter.
 */
import { ByteReader, ByteWriter, CorruptDataError } from '../util/bytes.js';

export const MAX_ENTRIES = 1024;

export type VersionVector = ReadonlyMap<string, number>;

export type Ordering = 'equal' | 'before' | 'after' | 'concurrent';

export function emptyVector(): VersionVector {
  return new Map();
}

// #region pattern:Version Vector
/** This node coordinated one more update: advance its own entry past what it has seen. */
export function increment(v: VersionVector, nodeId: string): VersionVector {
  const out = new Map(v);
  out.set(nodeId, (v.get(nodeId) ?? 0) + 1);
  return out;
}

export function join(a: VersionVector, b: VersionVector): VersionVector {
  const out = new Map(a);
  for (const [id, n] of b) {
    if (n > (out.get(id) ?? 0)) out.set(id, n);
  }
  return out;
}

export function compare(a: VersionVector, b: VersionVector): Ordering {
  let aBigger = false;
  let bBigger = false;
  for (const [id, n] of a) {
    const m = b.get(id) ?? 0;
    if (n > m) aBigger = true;
    else if (n < m) bBigger = true;
  }
  for (const [id, m] of b) {
    if (!a.has(id) && m > 0) bBigger = true;
  }
  if (aBigger && bBigger) return 'concurrent';
  if (aBigger) return 'after';
  if (bBigger) return 'before';
  return 'equal';
}
// #endregion

export function encode(v: VersionVector): Buffer {
  const ids = [...v.keys()].sort();
  const w = new ByteWriter(8 + ids.length * 24);
  w.uvarint(ids.length);
  for (const id of ids) w.string(id).uvarint(v.get(id)!);
  return w.toBuffer();
}

export function decode(bytes: Buffer): VersionVector {
  const r = new ByteReader(bytes);
  const count = r.uvarint();
  if (count > MAX_ENTRIES) throw new CorruptDataError(`version vector with ${count} entries`);
  const out = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const id = r.string();
    const n = r.uvarint();
    if (n < 1 || out.has(id)) throw new CorruptDataError('malformed version vector');
    out.set(id, n);
  }
  if (r.remaining !== 0) throw new CorruptDataError('trailing bytes after version vector');
  return out;
}
