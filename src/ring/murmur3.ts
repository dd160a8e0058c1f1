/**
 * Cassandra's Murmur3Partitioner: the token of a partition key.
 *
 * Pattern: the hash function of Consistent Hashing (Joshi, *Patterns of Distributed Systems*,
 * "Fixed Partitions", which discusses hashing keys onto a ring; Dynamo §4.2): a key's place
 * on the ring is a hash of its bytes, so any node computes the owner of any key without
 * asking anyone. The ring itself (tokens → replicas) lives elsewhere in src/ring.
 *
 * Compatibility is the contract (SPEC 6.1): the token of a serialized partition key is the one
 * Apache Cassandra's `Murmur3Partitioner.getToken` computes, so `token(pk)` answers and replica
 * placement agree with a real cluster given the same tokens. That function is
 * - MurmurHash3 x64_128 (Austin Appleby) with seed 0, keeping the first 64-bit half `h1`
 *   read as a signed long;
 * - with Cassandra's quirk in the tail (the last `length % 16` bytes): each byte is read as a
 *   signed Java `byte` and sign-extended to 64 bits (`(long) key.get(i)`) before it is shifted
 *   and XORed in, so a tail byte ≥ 0x80 sets every higher bit of its lane. The reference C++
 *   code zero-extends; the two differ only on such tail bytes. Full 16-byte blocks are read
 *   as unsigned little-endian longs in both.
 * - The empty key is the ring's minimum token -2^63, which no other key gets: a hash equal to
 *   -2^63 is moved to 2^63 - 1 (Cassandra's `normalize`), because the range (MIN, x] must be
 *   able to select every key up to x.
 *
 * Arithmetic: every 64-bit lane is two unsigned 32-bit halves in plain numbers (multiplication
 * by 16-bit limbs, `Math.imul` for the cross terms), so the hot loop allocates nothing and
 * never touches BigInt; only the final token is made a bigint. Bounds: none beyond the key's
 * length (one pass over it); the input is never modified.
 *
 * See Cassandra `dht/Murmur3Partitioner.java` and `utils/MurmurHash.java` (hash3_x64_128).
 */
export { MAX_TOKEN, MIN_TOKEN } from '../storage/data/keys.js';
import { MAX_TOKEN, MIN_TOKEN } from '../storage/data/keys.js';

// The x64_128 constants, each split into 32-bit halves.
const C1_HI = 0x87c37b91;
const C1_LO = 0x114253d5;
const C2_HI = 0x4cf5ad43;
const C2_LO = 0x2745937f;
const FMIX1_HI = 0xff51afd7;
const FMIX1_LO = 0xed558ccd;
const FMIX2_HI = 0xc4ceb9fe;
const FMIX2_LO = 0x1a85ec53;
const H1_ADD = 0x52dce729;
const H2_ADD = 0x38495ab5;
const TWO_POW_32 = 4294967296;

// Results of the 64-bit helpers below: module state instead of returned pairs, so the hot
// path allocates nothing. Single-threaded, and every helper's result is read at once.
let outHi = 0;
let outLo = 0;

/** (aHi:aLo) × (bHi:bLo) mod 2^64 into outHi:outLo. */
function mul64(aHi: number, aLo: number, bHi: number, bLo: number): void {
  // The high half of aLo × bLo, from 16-bit limbs: every partial product is below 2^32, so
  // plain numbers hold it exactly and `>>>` reads it as unsigned.
  const a0 = aLo & 0xffff;
  const a1 = aLo >>> 16;
  const b0 = bLo & 0xffff;
  const b1 = bLo >>> 16;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const carry = ((a0 * b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  const highOfLow = a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (carry >>> 16);
  outLo = Math.imul(aLo, bLo) >>> 0;
  // The cross terms only reach the high half, so their low 32 bits (Math.imul) suffice.
  outHi = (highOfLow + Math.imul(aHi, bLo) + Math.imul(aLo, bHi)) >>> 0;
}

/** (hi:lo) × 5 mod 2^64 into outHi:outLo (both products stay below 2^35: exact). */
function times5(hi: number, lo: number): void {
  const low = lo * 5;
  outLo = low >>> 0;
  outHi = (hi * 5 + (low - outLo) / TWO_POW_32) >>> 0;
}

/** Rotates (hi:lo) left by 0 < n < 32 bits into outHi:outLo. */
function rotl64(hi: number, lo: number, n: number): void {
  outHi = ((hi << n) | (lo >>> (32 - n))) >>> 0;
  outLo = ((lo << n) | (hi >>> (32 - n))) >>> 0;
}

/** (aHi:aLo) + (bHi:bLo) mod 2^64 into outHi:outLo. */
function add64(aHi: number, aLo: number, bHi: number, bLo: number): void {
  const lo = aLo + bLo;
  outLo = lo >>> 0;
  outHi = (aHi + bHi + (lo >= TWO_POW_32 ? 1 : 0)) >>> 0;
}

/** The x64 finalization mix of (hi:lo) into outHi:outLo. */
function fmix64(hi: number, lo: number): void {
  // k ^= k >>> 33 only touches the low half: it receives hi >>> 1.
  lo = (lo ^ (hi >>> 1)) >>> 0;
  mul64(hi, lo, FMIX1_HI, FMIX1_LO);
  hi = outHi;
  lo = (outLo ^ (hi >>> 1)) >>> 0;
  mul64(hi, lo, FMIX2_HI, FMIX2_LO);
  hi = outHi;
  outLo = (outLo ^ (hi >>> 1)) >>> 0;
}

/** Little-endian unsigned 32-bit word at `i` (Cassandra's getBlock reads bytes unsigned). */
function word(key: Uint8Array, i: number): number {
  return (key[i]! | (key[i + 1]! << 8) | (key[i + 2]! << 16) | (key[i + 3]! << 24)) >>> 0;
}

/**
 * Tail lane of Cassandra's hash3_x64_128: bytes key[from, to) (at most 8) XORed together,
 * byte j sign-extended to 64 bits and shifted left by 8j, into outHi:outLo.
 */
function tailLane(key: Uint8Array, from: number, to: number): void {
  let hi = 0;
  let lo = 0;
  for (let i = from; i < to; i++) {
    const shift = (i - from) * 8;
    const signed = (key[i]! << 24) >> 24; // Java's (long) byteValue, low 32 bits
    const fill = signed >> 31; // the sign extension: all ones or zero
    // 64-bit (fill:signed) << shift
    let partHi: number;
    let partLo: number;
    if (shift === 0) {
      partHi = fill;
      partLo = signed;
    } else if (shift < 32) {
      partHi = (fill << shift) | (signed >>> (32 - shift));
      partLo = signed << shift;
    } else {
      partHi = signed << (shift - 32);
      partLo = 0;
    }
    hi ^= partHi;
    lo ^= partLo;
  }
  outHi = hi >>> 0;
  outLo = lo >>> 0;
}

// Turns the final h1 halves into a signed 64-bit bigint without per-call allocation.
const tokenScratch = new DataView(new ArrayBuffer(8));

/**
 * The token of a serialized partition key, identical to Cassandra's
 * `Murmur3Partitioner.getToken(key)`: in [MIN_TOKEN, MAX_TOKEN], MIN_TOKEN only for the empty key.
 */
export function murmur3Token(key: Uint8Array): bigint {
  const length = key.length;
  if (length === 0) return MIN_TOKEN;

  let h1Hi = 0;
  let h1Lo = 0;
  let h2Hi = 0;
  let h2Lo = 0;
  const blockBytes = length - (length % 16);

  for (let i = 0; i < blockBytes; i += 16) {
    // k1 = getblock(2i); k1 *= c1; k1 = rotl64(k1, 31); k1 *= c2; h1 ^= k1
    mul64(word(key, i + 4), word(key, i), C1_HI, C1_LO);
    rotl64(outHi, outLo, 31);
    mul64(outHi, outLo, C2_HI, C2_LO);
    h1Hi = (h1Hi ^ outHi) >>> 0;
    h1Lo = (h1Lo ^ outLo) >>> 0;
    // h1 = rotl64(h1, 27); h1 += h2; h1 = h1 * 5 + 0x52dce729
    rotl64(h1Hi, h1Lo, 27);
    add64(outHi, outLo, h2Hi, h2Lo);
    times5(outHi, outLo);
    add64(outHi, outLo, 0, H1_ADD);
    h1Hi = outHi;
    h1Lo = outLo;

    // k2 = getblock(2i + 1); k2 *= c2; k2 = rotl64(k2, 33); k2 *= c1; h2 ^= k2
    mul64(word(key, i + 12), word(key, i + 8), C2_HI, C2_LO);
    rotl64(outLo, outHi, 1); // rotl 33 = swap halves, then rotl 1
    mul64(outHi, outLo, C1_HI, C1_LO);
    h2Hi = (h2Hi ^ outHi) >>> 0;
    h2Lo = (h2Lo ^ outLo) >>> 0;
    // h2 = rotl64(h2, 31); h2 += h1; h2 = h2 * 5 + 0x38495ab5
    rotl64(h2Hi, h2Lo, 31);
    add64(outHi, outLo, h1Hi, h1Lo);
    times5(outHi, outLo);
    add64(outHi, outLo, 0, H2_ADD);
    h2Hi = outHi;
    h2Lo = outLo;
  }

  const tail = length - blockBytes;
  if (tail > 8) {
    tailLane(key, blockBytes + 8, length);
    mul64(outHi, outLo, C2_HI, C2_LO);
    rotl64(outLo, outHi, 1);
    mul64(outHi, outLo, C1_HI, C1_LO);
    h2Hi = (h2Hi ^ outHi) >>> 0;
    h2Lo = (h2Lo ^ outLo) >>> 0;
  }
  if (tail > 0) {
    tailLane(key, blockBytes, Math.min(length, blockBytes + 8));
    mul64(outHi, outLo, C1_HI, C1_LO);
    rotl64(outHi, outLo, 31);
    mul64(outHi, outLo, C2_HI, C2_LO);
    h1Hi = (h1Hi ^ outHi) >>> 0;
    h1Lo = (h1Lo ^ outLo) >>> 0;
  }

  // h1 ^= len; h2 ^= len (a JS length is < 2^53: split it into halves)
  const lengthHi = Math.floor(length / TWO_POW_32);
  const lengthLo = length >>> 0;
  h1Hi = (h1Hi ^ lengthHi) >>> 0;
  h1Lo = (h1Lo ^ lengthLo) >>> 0;
  h2Hi = (h2Hi ^ lengthHi) >>> 0;
  h2Lo = (h2Lo ^ lengthLo) >>> 0;
  // h1 += h2; h2 += h1; h1 = fmix(h1); h2 = fmix(h2); h1 += h2 (h2's last update is unused)
  add64(h1Hi, h1Lo, h2Hi, h2Lo);
  h1Hi = outHi;
  h1Lo = outLo;
  add64(h2Hi, h2Lo, h1Hi, h1Lo);
  h2Hi = outHi;
  h2Lo = outLo;
  fmix64(h1Hi, h1Lo);
  h1Hi = outHi;
  h1Lo = outLo;
  fmix64(h2Hi, h2Lo);
  add64(h1Hi, h1Lo, outHi, outLo);

  // normalize: the minimum token belongs to the empty key alone.
  if (outHi === 0x80000000 && outLo === 0) return MAX_TOKEN;
  tokenScratch.setUint32(0, outHi);
  tokenScratch.setUint32(4, outLo);
  return tokenScratch.getBigInt64(0);
}
