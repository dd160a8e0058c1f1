/**
 * YCSB's number generators, in plain JavaScript: the seeded PRNG, YCSB's FNV-64 key hash and
 * key names, and the request-distribution choosers behind CoreWorkload's `requestdistribution`
 * (uniform, zipfian = scrambled Zipfian, latest = skewed-latest over an acknowledged counter).
 *
 * Semantics follow YCSB's core generators (com.yahoo.ycsb.generator / site.ycsb.generator):
 *   - ZipfianChooser: Gray et al.'s "Quickly generating billion-record synthetic databases"
 *     method with theta 0.99, zeta(n) summed once and extended incrementally when the item count
 *     grows (O(new items), never a full recomputation). Deviation: eta is recomputed with the
 *     current item count (YCSB recomputes it with the constructor's count, a known slip).
 *   - ScrambledZipfianChooser: a Zipfian over 10^10 items (zeta precomputed by YCSB: 26.469…),
 *     each value FNV-64-hashed modulo the key space, so the popular keys are spread over it.
 *   - SkewedLatestChooser: last acknowledged insert minus a Zipfian offset (favours the newest).
 *   - AcknowledgedCounter: hands out insert key numbers; `lastAcknowledged()` only advances over
 *     a contiguous run of acknowledged inserts, so readers never pick a key still being written.
 *
 * Invariants: everything is deterministic given the seed (no Math.random); every chooser returns
 * an integer in its stated range. Bounds: the acknowledgement window holds 2^20 in-flight
 * inserts (YCSB's window); more unacknowledged inserts than that throws.
 */

/** YCSB's precomputed zeta(10^10, 0.99), so ScrambledZipfian need not sum 10^10 terms. */
const SCRAMBLED_ITEM_COUNT = 10_000_000_000;
const SCRAMBLED_ZETAN = 26.46902820178302;
export const ZIPFIAN_CONSTANT = 0.99;

const FNV_OFFSET_BASIS_64 = 0xcbf29ce484222325n;
const FNV_PRIME_64 = 1099511628211n;
const MASK_64 = 0xffffffffffffffffn;

/** mulberry32, the harness's seeded PRNG returning uint32s (bench/lib/workload.mjs). */
export { prng32 as prng } from '../lib/workload.mjs';

/**
 * A double in [0, 1) with 53 random bits (two draws): the Zipfian over 10^10 items needs more
 * resolution than one uint32 gives.
 * @param {() => number} random
 */
export function randomDouble(random) {
  const hi = random() >>> 5; // 27 bits
  const lo = random() >>> 6; // 26 bits
  return (hi * 67108864 + lo) / 9007199254740992;
}

/**
 * A uniform integer in [0, bound), bound ≤ 2^53.
 * @param {() => number} random
 * @param {number} bound
 */
export function randomBelow(random, bound) {
  return Math.floor(randomDouble(random) * bound);
}

/**
 * YCSB's Utils.fnvhash64: FNV-1 over the 8 little-endian bytes of a signed 64-bit value, the
 * product wrapped to 64 bits, then Math.abs of the signed result (Long.MIN_VALUE stays negative,
 * as in Java).
 * @param {number | bigint} n an integer (a safe integer when a number)
 * @returns {bigint}
 */
export function fnvHash64(n) {
  let value = BigInt.asUintN(64, BigInt(n));
  let hash = FNV_OFFSET_BASIS_64;
  for (let i = 0; i < 8; i++) {
    hash ^= value & 0xffn;
    value >>= 8n;
    hash = (hash * FNV_PRIME_64) & MASK_64;
  }
  const signed = BigInt.asIntN(64, hash);
  return signed < 0n && signed !== -(1n << 63n) ? -signed : signed;
}

/**
 * The key of record number n in YCSB's default hashed insert order (`insertorder=hashed`,
 * `zeropadding=1`): "user" + fnvhash64(n) in decimal.
 * @param {number} n
 */
export function keyName(n) {
  return 'user' + fnvHash64(n).toString();
}

/** YCSB's zeta(st, n): initialSum + Σ_{i=st}^{n-1} 1/(i+1)^theta. */
function zetaFrom(start, end, theta, initialSum) {
  let sum = initialSum;
  for (let i = start; i < end; i++) sum += 1 / Math.pow(i + 1, theta);
  return sum;
}

/** Uniform integers in [min, max] (YCSB's UniformLongGenerator). */
export class UniformChooser {
  /**
   * @param {{ min: number, max: number, random: () => number }} opts
   */
  constructor({ min, max, random }) {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max < min) {
      throw new Error(`uniform range must be integers with min <= max, got [${min}, ${max}]`);
    }
    this.min = min;
    this.max = max;
    this.random = random;
  }

  next() {
    return this.min + randomBelow(this.random, this.max - this.min + 1);
  }
}

/**
 * Zipfian integers in [min, min + itemCount): min is the most popular, then min + 1, and so on
 * (YCSB's ZipfianGenerator). `next(itemCount)` may grow the item count; zeta is then extended
 * over the new items only. A smaller item count keeps the larger zeta (YCSB's default,
 * allowitemcountdecrease=false): values stay within the smaller range, slightly less skewed.
 */
export class ZipfianChooser {
  /**
   * @param {{ min?: number, itemCount: number, random: () => number, theta?: number, zetan?: number }} opts
   *   `zetan` precomputed zeta(itemCount, theta), to skip the O(itemCount) sum.
   */
  constructor({ min = 0, itemCount, random, theta = ZIPFIAN_CONSTANT, zetan }) {
    if (!Number.isSafeInteger(itemCount) || itemCount < 1) throw new Error(`zipfian item count must be a positive integer, got ${itemCount}`);
    if (!(theta > 0 && theta < 1)) throw new Error(`zipfian theta must be in (0, 1), got ${theta}`);
    this.base = min;
    this.theta = theta;
    this.random = random;
    this.alpha = 1 / (1 - theta);
    this.zeta2theta = zetaFrom(0, 2, theta, 0);
    this.countForZeta = itemCount;
    this.zetan = zetan ?? zetaFrom(0, itemCount, theta, 0);
    this.eta = this.#etaFor(itemCount);
  }

  #etaFor(itemCount) {
    return (1 - Math.pow(2 / itemCount, 1 - this.theta)) / (1 - this.zeta2theta / this.zetan);
  }

  /** The current item count (the range is [min, min + itemCount)). */
  get itemCount() {
    return this.countForZeta;
  }

  /**
   * @param {number} [itemCount] draw over this many items (grows the distribution if larger)
   */
  next(itemCount = this.countForZeta) {
    if (itemCount > this.countForZeta) {
      // #region pattern:incremental zeta (YCSB ZipfianGenerator)
      this.zetan = zetaFrom(this.countForZeta, itemCount, this.theta, this.zetan);
      this.countForZeta = itemCount;
      this.eta = this.#etaFor(itemCount);
      // #endregion
    }
    const u = randomDouble(this.random);
    const uz = u * this.zetan;
    if (uz < 1) return this.base;
    if (uz < 1 + Math.pow(0.5, this.theta)) return this.base + 1;
    const offset = Math.floor(itemCount * Math.pow(this.eta * u - this.eta + 1, this.alpha));
    // pow(…) < 1 in exact arithmetic; the clamp guards the last float ulp.
    return this.base + Math.min(offset, itemCount - 1);
  }
}

/**
 * Zipfian popularity with the popular items scattered over [min, max] (YCSB's
 * ScrambledZipfianGenerator): a Zipfian value over 10^10 items, FNV-64-hashed, modulo the range.
 */
export class ScrambledZipfianChooser {
  /**
   * @param {{ min: number, max: number, random: () => number }} opts
   */
  constructor({ min, max, random }) {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max < min) {
      throw new Error(`scrambled zipfian range must be integers with min <= max, got [${min}, ${max}]`);
    }
    this.min = min;
    this.itemCount = BigInt(max - min + 1);
    this.zipfian = new ZipfianChooser({ min: 0, itemCount: SCRAMBLED_ITEM_COUNT, random, zetan: SCRAMBLED_ZETAN });
  }

  next() {
    const hashed = fnvHash64(this.zipfian.next());
    // Java's % keeps the dividend's sign; only Long.MIN_VALUE is negative here, and YCSB lets
    // it through too. Clamp it to the range instead of returning a key below min.
    const r = hashed % this.itemCount;
    return this.min + Number(r < 0n ? -r : r);
  }
}

/**
 * Hands out insert key numbers and tracks which are durable (YCSB's
 * AcknowledgedCounterGenerator): `lastAcknowledged()` is the highest n such that every key
 * number in [start, n] was acknowledged, so concurrent inserts that finish out of order never
 * expose a gap to readers.
 */
export class AcknowledgedCounter {
  static WINDOW_SIZE = 1 << 20;

  /** @param {number} start the first key number handed out */
  constructor(start) {
    if (!Number.isSafeInteger(start) || start < 0) throw new Error(`counter start must be a non-negative integer, got ${start}`);
    this.counter = start;
    this.limit = start - 1;
    this.window = new Uint8Array(AcknowledgedCounter.WINDOW_SIZE);
  }

  /** The next key number to insert. */
  next() {
    return this.counter++;
  }

  /** The last key number handed out (YCSB's CounterGenerator.lastValue). */
  lastIssued() {
    return this.counter - 1;
  }

  /** The highest key number below which every insert is acknowledged. */
  lastAcknowledged() {
    return this.limit;
  }

  /** Marks key number n as inserted; advances the contiguous acknowledged prefix. */
  acknowledge(n) {
    if (!Number.isSafeInteger(n) || n <= this.limit || n >= this.counter) {
      throw new Error(`acknowledge(${n}): not an outstanding key number (acknowledged ≤ ${this.limit}, issued < ${this.counter})`);
    }
    const mask = AcknowledgedCounter.WINDOW_SIZE - 1;
    if (n - this.limit > AcknowledgedCounter.WINDOW_SIZE) {
      throw new Error(`too many unacknowledged inserts (more than ${AcknowledgedCounter.WINDOW_SIZE})`);
    }
    const slot = n & mask;
    if (this.window[slot]) throw new Error(`acknowledge(${n}): already acknowledged`);
    this.window[slot] = 1;
    let index = this.limit + 1;
    while (this.window[index & mask]) {
      this.window[index & mask] = 0;
      index++;
    }
    this.limit = index - 1;
  }
}

/**
 * The most recently acknowledged insert minus a Zipfian offset (YCSB's SkewedLatestGenerator):
 * the newest key is the most popular. Returns values in [1, lastAcknowledged] as YCSB does
 * (key 0 is only reachable when it is the only key).
 */
export class SkewedLatestChooser {
  /**
   * @param {AcknowledgedCounter} counter
   * @param {{ random: () => number }} opts
   */
  constructor(counter, { random }) {
    this.counter = counter;
    this.zipfian = new ZipfianChooser({ min: 0, itemCount: Math.max(1, counter.lastAcknowledged()), random });
  }

  next() {
    const max = this.counter.lastAcknowledged();
    if (max <= 0) return 0;
    return max - this.zipfian.next(max);
  }
}

/**
 * The key chooser for CoreWorkload's `requestdistribution`.
 *   uniform: [insertStart, insertStart + recordCount - 1]
 *   zipfian: scrambled Zipfian over [insertStart, insertStart + recordCount + expectedNewKeys]
 *            (YCSB sizes it for the run's inserts: operationCount × insertProportion × 2)
 *   latest:  skewed-latest over `counter`
 * Values above counter.lastAcknowledged() may come out (uniform/zipfian): the workload rejects
 * them, as YCSB's nextKeynum does.
 * @param {'uniform'|'zipfian'|'latest'} distribution
 * @param {{ recordCount: number, counter: AcknowledgedCounter, random: () => number, insertStart?: number, expectedNewKeys?: number }} opts
 * @returns {{ nextKeyNumber(): number }}
 */
export function createKeyChooser(distribution, { recordCount, counter, random, insertStart = 0, expectedNewKeys = 0 }) {
  if (!Number.isSafeInteger(recordCount) || recordCount < 1) throw new Error(`recordCount must be a positive integer, got ${recordCount}`);
  switch (distribution) {
    case 'uniform': {
      const chooser = new UniformChooser({ min: insertStart, max: insertStart + recordCount - 1, random });
      return { nextKeyNumber: () => chooser.next() };
    }
    case 'zipfian': {
      const chooser = new ScrambledZipfianChooser({ min: insertStart, max: insertStart + recordCount + expectedNewKeys, random });
      return { nextKeyNumber: () => chooser.next() };
    }
    case 'latest': {
      if (!counter) throw new Error('the latest distribution needs the insert counter');
      const chooser = new SkewedLatestChooser(counter, { random });
      return { nextKeyNumber: () => chooser.next() };
    }
    default:
      throw new Error(`unknown request distribution '${distribution}' (uniform, zipfian or latest)`);
  }
}
