/**
 * Randomness, injected.
 *
 * Core modules never call `Math.random()` (test/tidy.test.ts): they take a `Random`. Tests and
 * simulations use `SeededRandom`, so a run is replayed exactly from its seed (STYLE.md §4);
 * nodes use `systemRandom` from `src/runtime/system.ts`, the one place allowed ambient
 * randomness, backed by `node:crypto`.
 *
 * `SeededRandom` is xoshiro128** (Blackman and Vigna, 2018): 128 bits of state in four 32-bit
 * words, so it runs on plain 32-bit integer arithmetic (`Math.imul`, `>>>`) without BigInt.
 * The state is filled from the seed by splitmix32, which never yields the all-zero state
 * xoshiro cannot leave. It is fast and statistically sound for simulations; it is NOT a
 * cryptographic generator (tokens chosen from it are predictable from the seed, which is the
 * point in a test).
 *
 * Invariants: `nextFloat()` ∈ [0, 1) with 53 random bits; `nextInt(n)` ∈ [0, n) and unbiased
 * for every n ≤ 2^32 (rejection sampling), float-scaled above that; `pick` never reads outside
 * `items`. Bounds: `nextInt` takes 1 ≤ n ≤ 2^53; `nextBytes` at most `MAX_RANDOM_BYTES`.
 */
import { assert } from '../util/assert.js';

/** Largest single `nextBytes` request: randomness is for tokens, ids and nonces, not bulk data. */
export const MAX_RANDOM_BYTES = 1024 * 1024;

export interface Random {
  /** A float in [0, 1). */
  nextFloat(): number;
  /** An integer in [0, maxExclusive); 1 ≤ maxExclusive ≤ 2^53. */
  nextInt(maxExclusive: number): number;
  /** `n` random bytes (0 ≤ n ≤ MAX_RANDOM_BYTES). */
  nextBytes(n: number): Buffer;
  /** A uniformly chosen element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
}

const TWO_POW_32 = 2 ** 32;
const TWO_POW_53 = 2 ** 53;

/** Everything a `Random` needs, derived from one source of uniform 32-bit words. */
export abstract class Uint32Random implements Random {
  /** A uniform integer in [0, 2^32). */
  abstract nextUint32(): number;

  nextFloat(): number {
    // 27 + 26 bits: every float in [0, 1) on a 2^-53 grid, as Java's and V8's generators do.
    const high = this.nextUint32() >>> 5;
    const low = this.nextUint32() >>> 6;
    return (high * 67108864 + low) / TWO_POW_53;
  }

  nextInt(maxExclusive: number): number {
    assert(Number.isInteger(maxExclusive) && maxExclusive >= 1 && maxExclusive <= TWO_POW_53, `nextInt bound out of range: ${maxExclusive}`);
    if (maxExclusive > TWO_POW_32) return Math.floor(this.nextFloat() * maxExclusive);
    // Reject the top partial bucket so every result is equally likely.
    const limit = TWO_POW_32 - (TWO_POW_32 % maxExclusive);
    for (;;) {
      const word = this.nextUint32();
      if (word < limit) return word % maxExclusive;
    }
  }

  nextBytes(n: number): Buffer {
    assert(Number.isInteger(n) && n >= 0 && n <= MAX_RANDOM_BYTES, `nextBytes length out of range: ${n}`);
    const out = Buffer.allocUnsafe(n);
    let i = 0;
    while (i < n) {
      let word = this.nextUint32();
      for (let k = 0; k < 4 && i < n; k++, i++) {
        out[i] = word & 0xff;
        word >>>= 8;
      }
    }
    return out;
  }

  pick<T>(items: readonly T[]): T {
    assert(items.length > 0, 'pick from an empty list');
    return items[this.nextInt(items.length)] as T;
  }
}

/** Deterministic xoshiro128**, seeded through splitmix32. Same seed, same sequence. */
export class SeededRandom extends Uint32Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(readonly seed: number) {
    super();
    assert(Number.isSafeInteger(seed), `seed must be a safe integer: ${seed}`);
    // Fold both halves of the seed in, so seeds above 2^32 differ from their low word.
    let x = (seed >>> 0) ^ Math.imul(Math.floor(seed / TWO_POW_32) >>> 0, 0x9e3779b9);
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** An independent generator derived from this one (e.g. one per simulated node). */
  fork(): SeededRandom {
    return new SeededRandom(this.nextInt(TWO_POW_53));
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
