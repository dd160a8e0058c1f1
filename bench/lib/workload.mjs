/**
 * Deterministic key/value workloads, generated before any timing starts.
 *
 * Record i (0 ≤ i < n) has:
 *   - key:   8-byte big-endian i (a Buffer view into one shared buffer),
 *   - token: a signed 64-bit bigint from a 64-bit mix of i (spread over the whole ring),
 *   - value: `valueSize` pseudo-random bytes, a view into one shared random pool at an offset
 *            that depends on i (so neighbouring records differ and a wrong row is detected).
 * `order` is a seeded permutation of 0..n-1: the insertion order (random key order).
 */

/** mulberry32: a tiny seeded PRNG returning uint32s. */
export function prng32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Uniform integer in [0, bound) from a prng32 (bound ≤ 2^32). */
export function nextBelow(next, bound) {
  return Math.floor((next() / 4294967296) * bound);
}

/** Murmur3's 32-bit finalizer. */
export function fmix32(h) {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A well-spread signed 64-bit token for record i (deterministic). */
export function tokenOf(i, seed = 0) {
  const lo32 = i >>> 0;
  const hi32 = Math.floor(i / 4294967296) >>> 0;
  const hi = fmix32(fmix32(lo32 ^ 0x9e3779b9 ^ seed) ^ hi32);
  const lo = fmix32(fmix32(lo32 + 0x7f4a7c15 + Math.imul(seed, 31)) ^ Math.imul(hi32, 0x27d4eb2f) ^ hi);
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
}

const POOL_BYTES = 4 * 1024 * 1024;

export class Workload {
  /**
   * @param {{ records: number, valueSize?: number, seed?: number }} opts
   */
  constructor({ records, valueSize = 1000, seed = 42 }) {
    if (!Number.isInteger(records) || records <= 0) throw new Error(`records must be a positive integer, got ${records}`);
    this.records = records;
    this.valueSize = valueSize;
    this.seed = seed;

    // Keys live in one buffer and views are made on demand: a million long-lived Buffer
    // objects would add ~100 MB of heap to the measuring process, and its full GCs would show
    // up as event-loop delay charged to the store under test.
    this.keyBytes = Buffer.allocUnsafe(records * 8);
    this.tokens = new BigInt64Array(records);
    for (let i = 0; i < records; i++) {
      this.keyBytes.writeUInt32BE(Math.floor(i / 4294967296), i * 8);
      this.keyBytes.writeUInt32BE(i >>> 0, i * 8 + 4);
      this.tokens[i] = tokenOf(i, seed);
    }

    const next = prng32(seed);
    this.pool = Buffer.allocUnsafe(POOL_BYTES + valueSize);
    for (let off = 0; off + 4 <= this.pool.length; off += 4) this.pool.writeUInt32LE(next(), off);
    this.valueOffsets = new Uint32Array(records);
    for (let i = 0; i < records; i++) this.valueOffsets[i] = fmix32(i ^ Math.imul(seed, 0x9e3779b1)) % POOL_BYTES;

    this.order = new Uint32Array(records);
    for (let i = 0; i < records; i++) this.order[i] = i;
    for (let i = records - 1; i > 0; i--) {
      const j = nextBelow(next, i + 1);
      const t = this.order[i];
      this.order[i] = this.order[j];
      this.order[j] = t;
    }
  }

  key(i) {
    return this.keyBytes.subarray(i * 8, i * 8 + 8);
  }

  token(i) {
    return this.tokens[i];
  }

  /** The value of record i: a view into the shared pool (do not mutate). */
  value(i) {
    const off = this.valueOffsets[i];
    return this.pool.subarray(off, off + this.valueSize);
  }

  /** A function returning random record indexes (uniform over all records), seeded. */
  randomIndexes(seed) {
    const next = prng32(seed);
    const n = this.records;
    return () => nextBelow(next, n);
  }
}
