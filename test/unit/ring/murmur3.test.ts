/**
 * Murmur3 tokens must equal Apache Cassandra's Murmur3Partitioner, byte for byte (SPEC 6.1).
 * The vectors below were computed by Cassandra (or by the drivers' ports checked against it);
 * each group says where it was published.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidRequest } from '../../../src/errors.js';
import { MAX_TOKEN, MIN_TOKEN, murmur3Token } from '../../../src/ring/murmur3.js';
import { deserializePartitionKey, MAX_PARTITION_KEY_BYTES, serializePartitionKey } from '../../../src/ring/partition-key.js';
import { MAX_TOKEN as STORAGE_MAX_TOKEN, MIN_TOKEN as STORAGE_MIN_TOKEN } from '../../../src/storage/data/keys.js';
import { CorruptDataError } from '../../../src/util/bytes.js';

const bytes = (...b: number[]): Buffer => Buffer.from(b);
const repeat = (pattern: number[], times: number): Buffer => Buffer.from(Array.from({ length: times }, () => pattern).flat());

// datastax/nodejs-driver test/unit/tokenizer-tests.js (Murmur3Tokenizer #hash()) and
// datastax/csharp-driver src/Cassandra.Tests/TokenTests.cs (MurmurHashTest, "inputs and result
// values from Cassandra").
const DRIVER_VECTORS: ReadonlyArray<[Buffer, bigint]> = [
  [bytes(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16), -5563837382979743776n],
  [bytes(2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17), -1513403162740402161n],
  [bytes(3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18), -495360443712684655n],
  [bytes(4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19), 1734091135765407943n],
  [bytes(5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20), -3199412112042527988n],
  [bytes(6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21), -6316563938475080831n],
  [bytes(7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22), 8228893370679682632n],
  [repeat([0], 16), 5457549051747178710n],
  [repeat([255], 16), -2824192546314762522n],
  [repeat([254], 16), -833317529301936754n],
  [bytes(0, 1, 2, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255), 6463632673159404390n],
  // Tail bytes ≥ 0x80: these only match with Cassandra's sign extension.
  [repeat([254], 17), -1672437813826982685n],
  [bytes(254, 254, 254, 254), 4566408979886474012n],
  [bytes(0, 0, 0, 0), -3485513579396041028n],
  [bytes(0, 1, 127, 127), 6573459401642635627n],
  [bytes(0, 255, 255, 255), 123573637386978882n],
  [bytes(255, 1, 2, 3), -2839127690952877842n],
  [bytes(226, 231), -8582699461035929883n],
  [bytes(226, 231, 226, 231, 226, 231, 1), 2222373981930033306n],
  // nodejs-driver only: a single high byte in the last tail position of k1.
  [bytes(0, 0, 0, 0, 0, 0, 0, 0x80), 78142285821850151n],
];

// datastax/python-driver tests/unit/test_metadata.py (TestTokens._verify_hash, run against
// both the pure-Python and the C murmur3).
const PYTHON_DRIVER_VECTORS: ReadonlyArray<[Buffer, bigint]> = [
  [Buffer.from('123'), -7468325962851647638n],
  [repeat([0x00, 0xff, 0x10, 0xfa, 0x99], 10), 5837342703291459765n],
  [repeat([0xfe], 8), -8927430733708461935n],
  [repeat([0x10], 8), 1446172840243228796n],
  [Buffer.from('9223372036854775807'), 7162290910810015547n],
];

// pmcfadin/cqlite cqlite-core/src/util/cassandra_murmur3.rs ("verified against a running
// Cassandra 5.0 instance" with SELECT token(id)): single-byte and short blob keys, including
// tail lanes of k2, and composite partition keys.
const CASSANDRA_5_VECTORS: ReadonlyArray<[Buffer, bigint]> = [
  [Buffer.from('a'), -8839064797231613815n],
  [Buffer.from('hello'), -3758069500696749310n],
  [Buffer.from('0123456789abcde'), -6472281833689111727n],
  [Buffer.from('this is a longer test key for murmur3 hashing'), -7889617755374116647n],
  [bytes(0x00), 5048724184180415669n],
  [bytes(0x80), -5284281814142962636n],
  [bytes(0xff), -4442228696663692417n],
  [bytes(0xff, 0xfe), -2002833339314343643n],
  [bytes(0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89), -7623170703309721106n],
  [bytes(0x80, 0, 0, 0, 0, 0, 0, 0), 9204767954415360687n],
  [bytes(0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), -1722304415079482439n],
];

function int32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
}

/**
 * Cassandra's MurmurHash.hash3_x64_128 written the obvious way with BigInt, as an independent
 * reference for the property test (slow; the module under test never uses BigInt in its loop).
 */
function referenceToken(key: Uint8Array, tailBytes: 'sign-extended' | 'zero-extended' = 'sign-extended'): bigint {
  if (key.length === 0) return MIN_TOKEN;
  const M = (x: bigint): bigint => BigInt.asUintN(64, x);
  const rotl = (x: bigint, r: bigint): bigint => M((x << r) | (x >> (64n - r)));
  const fmix = (k: bigint): bigint => {
    k ^= k >> 33n;
    k = M(k * 0xff51afd7ed558ccdn);
    k ^= k >> 33n;
    k = M(k * 0xc4ceb9fe1a85ec53n);
    return k ^ (k >> 33n);
  };
  const c1 = 0x87c37b91114253d5n;
  const c2 = 0x4cf5ad432745937fn;
  const view = Buffer.from(key);
  let h1 = 0n;
  let h2 = 0n;
  const blocks = Math.floor(key.length / 16);
  for (let i = 0; i < blocks; i++) {
    let k1 = view.readBigUInt64LE(i * 16);
    let k2 = view.readBigUInt64LE(i * 16 + 8);
    k1 = M(rotl(M(k1 * c1), 31n) * c2);
    h1 = M(M(rotl(h1 ^ k1, 27n) + h2) * 5n + 0x52dce729n);
    k2 = M(rotl(M(k2 * c2), 33n) * c1);
    h2 = M(M(rotl(h2 ^ k2, 31n) + h1) * 5n + 0x38495ab5n);
  }
  let k1 = 0n;
  let k2 = 0n;
  const tail = key.length % 16;
  for (let j = 0; j < tail; j++) {
    const b = key[blocks * 16 + j]!;
    // Cassandra: Java's (long) of a signed byte; reference MurmurHash3: the unsigned byte.
    const lane = tailBytes === 'sign-extended' ? BigInt.asUintN(64, BigInt((b << 24) >> 24)) : BigInt(b);
    if (j < 8) k1 ^= M(lane << BigInt(8 * j));
    else k2 ^= M(lane << BigInt(8 * (j - 8)));
  }
  if (tail > 8) h2 ^= M(rotl(M(k2 * c2), 33n) * c1);
  if (tail > 0) h1 ^= M(rotl(M(k1 * c1), 31n) * c2);
  h1 ^= BigInt(key.length);
  h2 ^= BigInt(key.length);
  h1 = M(h1 + h2);
  h2 = M(h2 + h1);
  h1 = fmix(h1);
  h2 = fmix(h2);
  h1 = M(h1 + h2);
  const token = BigInt.asIntN(64, h1);
  return token === MIN_TOKEN ? MAX_TOKEN : token;
}

describe('murmur3Token', () => {
  it('matches the DataStax drivers’ Cassandra test vectors', () => {
    for (const [key, token] of [...DRIVER_VECTORS, ...PYTHON_DRIVER_VECTORS]) {
      expect(murmur3Token(key), key.toString('hex')).toBe(token);
    }
  });

  it('matches tokens Cassandra 5.0 returned for short, high-byte and multi-block keys', () => {
    for (const [key, token] of CASSANDRA_5_VECTORS) {
      expect(murmur3Token(key), key.toString('hex')).toBe(token);
    }
  });

  it('sign-extends tail bytes ≥ 0x80 as Cassandra does, unlike reference MurmurHash3', () => {
    expect(murmur3Token(bytes(0x80))).toBe(-5284281814142962636n);
    expect(referenceToken(bytes(0x80), 'zero-extended')).not.toBe(-5284281814142962636n);
    for (let len = 1; len <= 33; len++) {
      const key = Buffer.alloc(len, 0x80);
      expect(murmur3Token(key)).toBe(referenceToken(key));
      // Every byte is 0x80: the variants differ exactly when the key has a tail.
      const differs = len % 16 !== 0;
      expect(murmur3Token(key) !== referenceToken(key, 'zero-extended')).toBe(differs);
    }
  });

  it('maps the empty key to the minimum token and never gives it to another key', () => {
    expect(murmur3Token(Buffer.alloc(0))).toBe(MIN_TOKEN);
    expect(MIN_TOKEN).toBe(-(2n ** 63n));
    expect(MAX_TOKEN).toBe(2n ** 63n - 1n);
    expect(MIN_TOKEN).toBe(STORAGE_MIN_TOKEN);
    expect(MAX_TOKEN).toBe(STORAGE_MAX_TOKEN);
  });

  it('equals an independent BigInt implementation of Cassandra’s hash for every key', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70 }), (key) => {
        const token = murmur3Token(key);
        expect(token).toBe(referenceToken(key));
        expect(token >= MIN_TOKEN && token <= MAX_TOKEN).toBe(true);
        if (key.length > 0) expect(token).not.toBe(MIN_TOKEN);
      }),
      { numRuns: 500 },
    );
  });

  it('reads only the key bytes of a view into a larger buffer', () => {
    const big = Buffer.from([9, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 9]);
    expect(murmur3Token(big.subarray(2, 18))).toBe(-5563837382979743776n);
  });
});

describe('serializePartitionKey', () => {
  it('keeps a single-column key as its bytes', () => {
    const key = Buffer.from('123');
    expect(serializePartitionKey([key])).toBe(key);
    expect(murmur3Token(serializePartitionKey([key]))).toBe(-7468325962851647638n);
  });

  it('lays out a composite key as length, bytes and 0x00 per component', () => {
    const key = serializePartitionKey([Buffer.from('hello'), int32(42)]);
    expect(key.toString('hex')).toBe('0005' + Buffer.from('hello').toString('hex') + '00' + '0004' + '0000002a' + '00');
  });

  it('gives composite keys the tokens Cassandra 5.0 gave them', () => {
    // pmcfadin/cqlite cqlite-core/src/util/cassandra_murmur3.rs test_composite_key_tokens:
    // PRIMARY KEY ((text, int)) rows ('hello', 42) and ('world', 99).
    expect(murmur3Token(serializePartitionKey([Buffer.from('hello'), int32(42)]))).toBe(7666157718303755816n);
    expect(murmur3Token(serializePartitionKey([Buffer.from('world'), int32(99)]))).toBe(-4641306270390207264n);
  });

  it('round-trips composite keys, empty components included', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 20 }), { minLength: 2, maxLength: 5 }), (parts) => {
        const components = parts.map((p) => Buffer.from(p));
        const key = serializePartitionKey(components);
        expect(deserializePartitionKey(key, components.length)).toEqual(components);
      }),
    );
    expect(deserializePartitionKey(Buffer.from('abc'), 1)).toEqual([Buffer.from('abc')]);
  });

  it('rejects an empty single-column key and keys over 65535 bytes, as Cassandra does', () => {
    expect(() => serializePartitionKey([Buffer.alloc(0)])).toThrow(InvalidRequest);
    expect(() => serializePartitionKey([Buffer.alloc(MAX_PARTITION_KEY_BYTES + 1)])).toThrow(/Key length of 65536/);
    expect(serializePartitionKey([Buffer.alloc(MAX_PARTITION_KEY_BYTES)]).length).toBe(MAX_PARTITION_KEY_BYTES);
    expect(() => serializePartitionKey([Buffer.alloc(40000), Buffer.alloc(30000)])).toThrow(InvalidRequest);
    expect(serializePartitionKey([Buffer.alloc(0), Buffer.alloc(0)])).toEqual(bytes(0, 0, 0, 0, 0, 0));
  });

  it('refuses bytes that are not a composite key of that many columns', () => {
    const key = serializePartitionKey([Buffer.from('a'), Buffer.from('b')]);
    expect(() => deserializePartitionKey(key, 3)).toThrow(CorruptDataError);
    expect(() => deserializePartitionKey(Buffer.concat([key, bytes(0)]), 2)).toThrow(CorruptDataError);
    const badEnd = Buffer.from(key);
    badEnd[3] = 1;
    expect(() => deserializePartitionKey(badEnd, 2)).toThrow(CorruptDataError);
  });
});
