/**
 * A Bloom filter on partition keys, one per SSTable: a point read skips every SSTable whose
 * filter says the partition is absent. False positives cost one wasted SQLite lookup; false
 * negatives cannot happen.
 *
 * Hashing: MurmurHash3 x86_32 with two seeds gives h1, h2; probe i is (h1 + i·h2) mod m
 * (Kirsch–Mitzenmacher double hashing). A key's hashes are computed once per read and reused
 * for every SSTable's filter.
 * Sizing: m = −n·ln p / ln²2 bits and k = (m/n)·ln 2 probes for n keys at false-positive rate p
 * (about 9.6 bits and 7 probes per key at 1%). Bounds: at most 2^31 bits.
 *
 * Serialized form (version 1): u8 version | u8 k | u32 LE m | ceil(m/8) bytes of bits.
 */
import { ByteReader, CorruptDataError } from '../../util/bytes.js';

const FORMAT_VERSION = 1;
const MAX_BITS = 2 ** 31;

export interface KeyHash {
  readonly h1: number;
  readonly h2: number;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** MurmurHash3 x86_32 (reference algorithm; unsigned result). */
export function murmur3x86_32(data: Uint8Array, seed: number): number {
  const len = data.length;
  const blocks = len >>> 2;
  let h = seed >>> 0;
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  for (let i = 0; i < blocks; i++) {
    const o = i << 2;
    let k = data[o]! | (data[o + 1]! << 8) | (data[o + 2]! << 16) | (data[o + 3]! << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = blocks << 2;
  const rest = len & 3;
  if (rest > 0) {
    let k1 = data[tail]!;
    if (rest > 1) k1 ^= data[tail + 1]! << 8;
    if (rest > 2) k1 ^= data[tail + 2]! << 16;
    k1 = Math.imul(k1, c1);
      k1 = (k1 << 15) | (k1 >>> 17);
      k1 = Math.imul(k1, c2);
      h ^= k1;
  }
  h ^= len;
  return fmix32(h);
}

export function hashKey(key: Uint8Array): KeyHash {
  return { h1: murmur3x86_32(key, 0), h2: (murmur3x86_32(key, 0x9747b28c) | 1) >>> 0 };
}

export class BloomFilter {
  private constructor(
    private readonly bits: Uint8Array,
    readonly numBits: number,
    readonly numProbes: number,
  ) {}

  static forKeys(expectedKeys: number, falsePositiveRate = 0.01): BloomFilter {
    const n = Math.max(1, expectedKeys);
    const m = Math.min(MAX_BITS, Math.max(64, Math.ceil((-n * Math.log(falsePositiveRate)) / (Math.LN2 * Math.LN2))));
    const k = Math.max(1, Math.min(20, Math.round((m / n) * Math.LN2)));
    return new BloomFilter(new Uint8Array(Math.ceil(m / 8)), m, k);
  }

  add(hash: KeyHash): void {
    const m = this.numBits;
    let x = hash.h1 % m;
    const step = hash.h2 % m;
    for (let i = 0; i < this.numProbes; i++) {
      this.bits[x >>> 3]! |= 1 << (x & 7);
      x += step;
      if (x >= m) x -= m;
    }
  }

  mightContain(hash: KeyHash): boolean {
    const m = this.numBits;
    let x = hash.h1 % m;
    const step = hash.h2 % m;
    for (let i = 0; i < this.numProbes; i++) {
      if ((this.bits[x >>> 3]! & (1 << (x & 7))) === 0) return false;
      x += step;
      if (x >= m) x -= m;
    }
    return true;
  }

  serialize(): Buffer {
    const out = Buffer.allocUnsafe(6 + this.bits.length);
    out[0] = FORMAT_VERSION;
    out[1] = this.numProbes;
    out.writeUInt32LE(this.numBits, 2);
    out.set(this.bits, 6);
    return out;
  }

  static deserialize(bytes: Buffer): BloomFilter {
    const r = new ByteReader(bytes);
    const version = r.u8();
    if (version !== FORMAT_VERSION) throw new CorruptDataError(`unknown bloom filter version ${version}`);
    const k = r.u8();
    const m = r.u32();
    if (k < 1 || m < 1 || m > MAX_BITS || r.remaining !== Math.ceil(m / 8)) throw new CorruptDataError('malformed bloom filter');
    return new BloomFilter(new Uint8Array(r.bytes(r.remaining)), m, k);
  }
}
