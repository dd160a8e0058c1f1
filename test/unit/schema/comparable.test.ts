/**
 * Byte-comparable encodings: for every native type, byte order must be Cassandra's order for
 * that type, encodings must be prefix-free, and decoding must give the value back. Each type
 * has a reference comparison written here from Cassandra's `AbstractType.compare` semantics,
 * independently of the module under test.
 */
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { InvalidRequest } from '../../../src/errors.js';
import type { CqlDecimal, CqlType, CqlValue, NativeTypeName } from '../../../src/schema/cql-type.js';
import {
  decodeCellPath,
  decodeClustering,
  decodeClusteringPrefix,
  decodeComparable,
  encodeCellPath,
  encodeClustering,
  encodeComparable,
  MAX_COMPARABLE_VALUE_BYTES,
  type ClusteringColumnSpec,
} from '../../../src/schema/comparable.js';
import { afterStart, beforeEnd } from '../../../src/storage/data/keys.js';
import { CorruptDataError } from '../../../src/util/bytes.js';

const native = (name: NativeTypeName): CqlType => ({ kind: 'native', name });
const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);
const cmpNumber = (a: number | bigint, b: number | bigint): number => (a < b ? -1 : a > b ? 1 : 0);

// ---------------------------------------------------------------------------------------------
// Reference comparisons (what Cassandra's types do)

/** Java's Float.compare / Double.compare: numeric, then -0.0 < 0.0, NaN above everything. */
function javaFloatCompare(width: 4 | 8, a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  const bits = (x: number): bigint => {
    const buf = Buffer.alloc(8);
    if (width === 4) {
      if (Number.isNaN(x)) buf.writeInt32BE(0x7fc00000);
      else buf.writeFloatBE(x);
      return BigInt(buf.readInt32BE(0));
    }
    if (Number.isNaN(x)) buf.writeBigUInt64BE(0x7ff8000000000000n);
    else buf.writeDoubleBE(x);
    return buf.readBigInt64BE(0);
  };
  return cmpNumber(bits(a), bits(b));
}

const utf8Compare = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

const uuidBytes = (s: string): Buffer => Buffer.from(s.replaceAll('-', ''), 'hex');
const MASK64 = 2n ** 64n - 1n;
/** TimeUUIDType.reorderTimestampBytes: time_hi_and_version, time_mid, time_low. */
const reorder = (msb: bigint): bigint => ((msb << 48n) | ((msb << 16n) & 0xffff00000000n) | (msb >> 32n)) & MASK64;

/** UUIDType.compareCustom (Cassandra 4/5). */
function uuidTypeCompare(a: string, b: string): number {
  const x = uuidBytes(a);
  const y = uuidBytes(b);
  const msbX = x.readBigUInt64BE(0);
  const msbY = y.readBigUInt64BE(0);
  const versionX = Number((msbX >> 12n) & 0xfn);
  const versionY = Number((msbY >> 12n) & 0xfn);
  if (versionX !== versionY) return versionX - versionY;
  const c = versionX === 1 ? cmpNumber(reorder(msbX), reorder(msbY)) : cmpNumber(msbX, msbY);
  if (c !== 0) return c;
  return cmpNumber(x.readBigUInt64BE(8), y.readBigUInt64BE(8));
}

/** TimeUUIDType.compareCustom: timestamp, then the low long compared as signed bytes. */
function timeUuidTypeCompare(a: string, b: string): number {
  const x = uuidBytes(a);
  const y = uuidBytes(b);
  const c = cmpNumber(BigInt.asIntN(64, reorder(x.readBigUInt64BE(0))), BigInt.asIntN(64, reorder(y.readBigUInt64BE(0))));
  if (c !== 0) return c;
  const signedBytes = (lsb: bigint): bigint => BigInt.asIntN(64, lsb ^ 0x0080808080808080n);
  return cmpNumber(signedBytes(x.readBigUInt64BE(8)), signedBytes(y.readBigUInt64BE(8)));
}

/** BigDecimal.compareTo: by numeric value, whatever the scale. */
function decimalCompare(a: CqlDecimal, b: CqlDecimal): number {
  const scale = Math.max(a.scale, b.scale);
  return cmpNumber(a.unscaled * 10n ** BigInt(scale - a.scale), b.unscaled * 10n ** BigInt(scale - b.scale));
}

/** The address bytes of the uncompressed forms the inet arbitrary generates. */
function inetBytes(s: string): Buffer {
  if (s.includes('.')) return Buffer.from(s.split('.').map(Number));
  return Buffer.concat(s.split(':').map((g) => Buffer.from(g.padStart(4, '0'), 'hex')));
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

const hex16 = (b: Uint8Array): string => Buffer.from(b).toString('hex');
function uuidString(msb: Uint8Array, lsb: Uint8Array, version: number, upper: boolean): string {
  const bytes = Buffer.concat([Buffer.from(msb), Buffer.from(lsb)]);
  bytes[6] = (version << 4) | (bytes[6]! & 0x0f);
  const h = hex16(bytes);
  const s = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  return upper ? s.toUpperCase() : s;
}
const eightBytes = fc.uint8Array({ minLength: 8, maxLength: 8 });
// Small pools make equal timestamps (or equal high longs) common, so the low long decides.
const msbPool = fc.oneof(eightBytes, fc.constantFrom(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), Uint8Array.from([0xff, 0, 0xff, 0, 0x80, 0x7f, 0x10, 0])));
const lsbPool = fc.oneof(eightBytes, fc.constantFrom(Uint8Array.from([0x80, 0, 0, 0, 0, 0, 0, 0]), Uint8Array.from([0x7f, 0xff, 0, 0, 0, 0, 0, 1]), Uint8Array.from([0, 0x80, 0, 0, 0, 0, 0, 0])));
const arbUuid = fc
  .tuple(msbPool, lsbPool, fc.oneof(fc.constant(1), fc.integer({ min: 0, max: 15 })), fc.boolean())
  .map(([msb, lsb, version, upper]) => uuidString(msb, lsb, version, upper));
const arbTimeUuid = fc.tuple(msbPool, lsbPool).map(([msb, lsb]) => uuidString(msb, lsb, 1, false));

const arbText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.string({ unit: fc.constantFrom('\0', '\u0001', 'a', '\u007f', '\u0080', '\u00ff', '\u0800', '\uffff', '\u{1f600}', '\u{10ffff}'), maxLength: 6 }),
);
const arbBlob = fc
  .oneof(fc.uint8Array({ maxLength: 10 }), fc.array(fc.constantFrom(0x00, 0x01, 0xfe, 0xff), { maxLength: 8 }).map((a) => Uint8Array.from(a)))
  .map((u) => Buffer.from(u));
const arbInet = fc.oneof(
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => Array.from(b).join('.')),
  fc
    .oneof(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.array(fc.constantFrom(0, 0, 0, 1, 0xff), { minLength: 16, maxLength: 16 }).map((a) => Uint8Array.from(a)))
    .map((b) => Array.from({ length: 8 }, (_, i) => Buffer.from(b).readUInt16BE(2 * i).toString(16).toUpperCase()).join(':')),
);
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const LONG_VARINT = 2n ** (8n * 126n); // the first magnitude that needs the long length form
const arbVarint = fc.oneof(
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.bigInt({ min: -(2n ** 1100n), max: 2n ** 1100n }),
  fc.integer({ min: -300, max: 300 }).map(BigInt),
  fc.constantFrom(0n, 255n, 256n, -255n, -256n, LONG_VARINT - 1n, LONG_VARINT, -LONG_VARINT, 1n - LONG_VARINT),
);
const arbDecimal = fc.oneof(
  fc.record({ unscaled: fc.bigInt({ min: -(10n ** 25n), max: 10n ** 25n }), scale: fc.integer({ min: -12, max: 12 }) }),
  fc.record({ unscaled: fc.integer({ min: -2000, max: 2000 }).map(BigInt), scale: fc.integer({ min: -3, max: 3 }) }),
  // Trailing zeros: numerically equal values of different scales.
  fc
    .record({ unscaled: fc.integer({ min: -99, max: 99 }).map(BigInt), scale: fc.integer({ min: -3, max: 3 }), zeros: fc.integer({ min: 0, max: 4 }) })
    .map(({ unscaled, scale, zeros }) => ({ unscaled: unscaled * 10n ** BigInt(zeros), scale: scale + zeros })),
);

interface TypeCase {
  readonly name: NativeTypeName;
  readonly arb: fc.Arbitrary<CqlValue>;
  readonly compare: (a: never, b: never) => number;
  /** Whether the decoded value stands for the original (default: deep equality). */
  readonly same?: (original: never, decoded: CqlValue) => boolean;
}

const floatSame = (width: 4 | 8) => (a: number, d: CqlValue): boolean =>
  typeof d === 'number' && (Number.isNaN(a) ? Number.isNaN(d) : Object.is(width === 4 ? Math.fround(a) : a, d));

const CASES: readonly TypeCase[] = [
  { name: 'boolean', arb: fc.boolean(), compare: (a: boolean, b: boolean) => Number(a) - Number(b) },
  { name: 'tinyint', arb: fc.integer({ min: -128, max: 127 }), compare: cmpNumber },
  { name: 'smallint', arb: fc.integer({ min: -32768, max: 32767 }), compare: cmpNumber },
  { name: 'int', arb: fc.oneof(fc.integer(), fc.constantFrom(-(2 ** 31), 2 ** 31 - 1, -1, 0)), compare: cmpNumber },
  { name: 'date', arb: fc.integer(), compare: cmpNumber },
  { name: 'bigint', arb: fc.oneof(fc.bigInt({ min: INT64_MIN, max: INT64_MAX }), fc.constantFrom(INT64_MIN, INT64_MAX, -1n, 0n)), compare: cmpNumber },
  { name: 'time', arb: fc.bigInt({ min: 0n, max: 86_400_000_000_000n - 1n }), compare: cmpNumber },
  { name: 'timestamp', arb: fc.oneof(fc.maxSafeInteger(), fc.integer({ min: -5000, max: 5000 })), compare: cmpNumber },
  { name: 'float', arb: fc.float(), compare: (a: number, b: number) => javaFloatCompare(4, a, b), same: floatSame(4) },
  { name: 'double', arb: fc.double(), compare: (a: number, b: number) => javaFloatCompare(8, a, b), same: floatSame(8) },
  { name: 'ascii', arb: fc.string({ unit: 'binary-ascii', maxLength: 8 }), compare: utf8Compare },
  { name: 'text', arb: arbText, compare: utf8Compare },
  { name: 'blob', arb: arbBlob, compare: Buffer.compare },
  {
    name: 'inet',
    arb: arbInet,
    compare: (a: string, b: string) => Buffer.compare(inetBytes(a), inetBytes(b)),
    same: (a: string, d: CqlValue) => typeof d === 'string' && encodeComparable(native('inet'), d).equals(encodeComparable(native('inet'), a)),
  },
  { name: 'uuid', arb: arbUuid, compare: uuidTypeCompare, same: (a: string, d: CqlValue) => d === a.toLowerCase() },
  { name: 'timeuuid', arb: arbTimeUuid, compare: timeUuidTypeCompare },
  { name: 'varint', arb: arbVarint, compare: cmpNumber },
  { name: 'decimal', arb: arbDecimal, compare: decimalCompare, same: (a: CqlDecimal, d: CqlValue) => decimalCompare(a, d as CqlDecimal) === 0 },
];

function isPrefix(prefix: Buffer, of: Buffer): boolean {
  return prefix.length <= of.length && of.subarray(0, prefix.length).equals(prefix);
}

// ---------------------------------------------------------------------------------------------

describe.each(CASES)('comparable $name', (c) => {
  const t = native(c.name);
  const compare = c.compare as (a: CqlValue, b: CqlValue) => number;
  const same = (c.same ?? isDeepStrictEqual) as (a: CqlValue, d: CqlValue) => boolean;

  it('orders bytes as Cassandra orders the values, and DESC reverses it', () => {
    const asc: ClusteringColumnSpec[] = [{ type: t, descending: false }];
    const desc: ClusteringColumnSpec[] = [{ type: t, descending: true }];
    fc.assert(
      fc.property(c.arb, c.arb, (a, b) => {
        const expected = sign(compare(a, b));
        expect(sign(Buffer.compare(encodeComparable(t, a), encodeComparable(t, b)))).toBe(expected);
        expect(sign(Buffer.compare(encodeClustering(asc, [a]), encodeClustering(asc, [b])))).toBe(expected);
        expect(sign(Buffer.compare(encodeClustering(desc, [a]), encodeClustering(desc, [b])))).toBe(expected === 0 ? 0 : -expected);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips through decode, ascending and descending, at any offset', () => {
    fc.assert(
      fc.property(c.arb, fc.uint8Array({ maxLength: 3 }), fc.uint8Array({ maxLength: 3 }), (a, before, after) => {
        const encoded = encodeComparable(t, a);
        const framed = Buffer.concat([before, encoded, after]);
        const { value, next } = decodeComparable(t, framed, before.length);
        expect(next).toBe(before.length + encoded.length);
        expect(same(a, value)).toBe(true);
        expect(same(a, decodeCellPath(t, encodeCellPath(t, a)))).toBe(true);
        const desc: ClusteringColumnSpec[] = [{ type: t, descending: true }];
        expect(same(a, decodeClustering(desc, encodeClustering(desc, [a]))[0]!)).toBe(true);
        // Decoding is canonical: the decoded value encodes to the same bytes.
        expect(encodeComparable(t, value)).toEqual(encoded);
      }),
      { numRuns: 200 },
    );
  });

  it('is prefix-free: no encoding is a proper prefix of another, no proper prefix decodes', () => {
    fc.assert(
      fc.property(c.arb, c.arb, (a, b) => {
        const x = encodeComparable(t, a);
        const y = encodeComparable(t, b);
        if (!x.equals(y)) {
          expect(isPrefix(x, y)).toBe(false);
          expect(isPrefix(y, x)).toBe(false);
        }
        for (let k = 0; k < x.length; k++) {
          expect(() => decodeCellPath(t, x.subarray(0, k))).toThrow(CorruptDataError);
        }
      }),
      { numRuns: 150 },
    );
  });
});

// ---------------------------------------------------------------------------------------------

/** Values listed in strictly ascending Cassandra order must encode strictly ascending. */
const ASCENDING_EDGES: ReadonlyArray<[NativeTypeName, CqlValue[]]> = [
  ['boolean', [false, true]],
  ['tinyint', [-128, -1, 0, 1, 127]],
  ['smallint', [-32768, -256, -1, 0, 255, 32767]],
  ['int', [-(2 ** 31), -65536, -1, 0, 1, 65536, 2 ** 31 - 1]],
  ['bigint', [INT64_MIN, -(2n ** 32n), -1n, 0n, 1n, 2n ** 32n, INT64_MAX]],
  ['timestamp', [Number.MIN_SAFE_INTEGER, -(2 ** 32) - 1, -(2 ** 32), -1, 0, 1, 2 ** 32, 1_700_000_000_000, Number.MAX_SAFE_INTEGER]],
  ['date', [-(2 ** 31), -1, 0, 19000, 2 ** 31 - 1]],
  ['time', [0n, 1n, 43_200_000_000_000n, 86_399_999_999_999n]],
  ['float', [-Infinity, -3.4028234663852886e38, -1, -1.401298464324817e-45, -0, 0, 1.401298464324817e-45, 1, 3.4028234663852886e38, Infinity, NaN]],
  ['double', [-Infinity, -Number.MAX_VALUE, -1, -Number.MIN_VALUE, -0, 0, Number.MIN_VALUE, 1, Number.MAX_VALUE, Infinity, NaN]],
  // UTF-8 order, not UTF-16: U+FFFF sorts before U+1F600 although its UTF-16 unit is larger.
  ['text', ['', '\0', '\0\0', '\0\u0001', '\u0001', 'a', 'a\0', 'ab', 'b', '\u00ff', '\uffff', '\u{1f600}']],
  ['ascii', ['', '\0', '\0\0', 'A', 'a', 'a\0', 'aa', '\u007f']],
  ['blob', [Buffer.alloc(0), Buffer.from([0]), Buffer.from([0, 0]), Buffer.from([0, 0xff]), Buffer.from([1]), Buffer.from([0xff]), Buffer.from([0xff, 0])]],
  // Raw address bytes: an IPv4 address sorts before the IPv6 addresses it is a byte prefix of.
  ['inet', ['0.0.0.0', '::', '::1', '1.2.3.4', '102:304::', '10.0.0.1', '127.0.0.1', 'ffff::', '255.255.255.255', 'ffff:ffff::']],
  [
    'varint',
    [-(2n ** 1100n), -LONG_VARINT, 1n - LONG_VARINT, -65536n, -256n, -255n, -1n, 0n, 1n, 255n, 256n, 65536n, LONG_VARINT - 1n, LONG_VARINT, 2n ** 1100n],
  ],
  [
    'decimal',
    [
      { unscaled: -(10n ** 40n), scale: 0 },
      { unscaled: -15n, scale: 1 },
      { unscaled: -105n, scale: 2 },
      { unscaled: -1n, scale: 0 },
      { unscaled: -1n, scale: 3 },
      { unscaled: 0n, scale: 5 },
      { unscaled: 1n, scale: 3 },
      { unscaled: 5n, scale: 1 },
      { unscaled: 1n, scale: 0 },
      { unscaled: 101n, scale: 2 },
      { unscaled: 105n, scale: 2 },
      { unscaled: 15n, scale: 1 },
      { unscaled: 999n, scale: 2 },
      { unscaled: 1n, scale: -1 },
      { unscaled: 1n, scale: -2147483648 },
    ],
  ],
  [
    'uuid',
    // Version first (0 < 1 < 4), then time for version 1, then the rest unsigned.
    [
      '00000000-0000-0000-0000-000000000000',
      'ffffffff-ffff-0fff-ffff-ffffffffffff',
      // version 1: time_low ff.. but time_hi 000: earlier than time_hi 001 with time_low 00..
      'ffffffff-ffff-1000-0000-000000000000',
      '00000000-0000-1001-0000-000000000000',
      '00000000-0000-1001-7fff-ffffffffffff',
      '00000000-0000-1001-8000-000000000000',
      '00000000-0000-4000-0000-000000000000',
      'ffffffff-ffff-4fff-ffff-ffffffffffff',
      'ffffffff-ffff-ffff-ffff-ffffffffffff',
    ],
  ],
  [
    'timeuuid',
    // By timestamp, then the low long as signed bytes: 0x80.. < 0xff.. < 0x00.. < 0x7f..
    [
      'ffffffff-ffff-1000-8000-000000000000',
      '00000000-0000-1001-8000-000000000000',
      '00000000-0000-1001-ff00-000000000000',
      '00000000-0000-1001-0080-000000000000',
      '00000000-0000-1001-0000-000000000000',
      '00000000-0000-1001-7fff-ffffffffffff',
      '00000001-0000-1001-8000-000000000000',
    ],
  ],
];

describe('comparable edge values', () => {
  it.each(ASCENDING_EDGES)('%s encodings ascend with the values', (name, values) => {
    const t = native(name);
    const encoded = values.map((v) => encodeComparable(t, v));
    for (let i = 1; i < encoded.length; i++) {
      expect(Buffer.compare(encoded[i - 1]!, encoded[i]!), `${String(values[i - 1])} < ${String(values[i])}`).toBe(-1);
    }
  });

  it('gives numerically equal decimals one encoding and decodes them normalized', () => {
    const t = native('decimal');
    const enc = (unscaled: bigint, scale: number): Buffer => encodeComparable(t, { unscaled, scale });
    expect(enc(15n, 1)).toEqual(enc(150n, 2));
    expect(enc(100n, 0)).toEqual(enc(1n, -2));
    expect(enc(0n, 7)).toEqual(enc(0n, -3));
    expect(decodeCellPath(t, enc(150n, 2))).toEqual({ unscaled: 15n, scale: 1 });
    expect(decodeCellPath(t, enc(1n, -2))).toEqual({ unscaled: 100n, scale: 0 });
    expect(decodeCellPath(t, enc(-12300n, 2))).toEqual({ unscaled: -123n, scale: 0 });
    expect(decodeCellPath(t, enc(0n, 7))).toEqual({ unscaled: 0n, scale: 0 });
    expect(decodeCellPath(t, enc(1n, -5000))).toEqual({ unscaled: 1n, scale: -5000 });
    expect(decodeCellPath(t, enc(10n, -2147483648))).toEqual({ unscaled: 10n, scale: -2147483648 });
  });

  it('formats inet canonically (RFC 5952) whatever the input form', () => {
    const t = native('inet');
    const canonical = (s: string): CqlValue => decodeCellPath(t, encodeCellPath(t, s));
    expect(canonical('192.168.0.1')).toBe('192.168.0.1');
    expect(canonical('2001:0DB8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(canonical('2001:db8:0:1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1');
    expect(canonical('2001:0:0:1:0:0:0:1')).toBe('2001:0:0:1::1');
    expect(canonical('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(canonical('0:0:0:0:0:0:0:0')).toBe('::');
    expect(canonical('::1')).toBe('::1');
    expect(canonical('1::')).toBe('1::');
    expect(canonical('::ffff:10.1.2.3')).toBe('::ffff:10.1.2.3');
    expect(canonical('::FFFF:a01:203')).toBe('::ffff:10.1.2.3');
    expect(canonical('64:ff9b::1.2.3.4')).toBe('64:ff9b::102:304');
    for (const bad of ['', '1.2.3', '1.2.3.256', '01.2.3.4', '1::2::3', '1:2:3:4:5:6:7:8:9', '::g', 'fe80::1%eth0', '1:2:3:4:5:6:7::8', ':1::', '1.2.3.4::']) {
      expect(() => encodeCellPath(t, bad), bad).toThrow(InvalidRequest);
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('clustering keys', () => {
  const columns: ClusteringColumnSpec[] = [
    { type: native('int'), descending: false },
    { type: native('text'), descending: true },
    { type: native('timeuuid'), descending: true },
    { type: native('varint'), descending: false },
  ];
  const compares: Array<(a: never, b: never) => number> = [cmpNumber, utf8Compare, timeUuidTypeCompare, cmpNumber];
  const arbRow = fc.tuple(
    fc.integer({ min: -2, max: 2 }),
    fc.constantFrom('', '\0', 'a', 'a\0', 'ab', 'b'),
    fc.constantFrom('00000000-0000-1001-8000-000000000000', '00000000-0000-1001-0000-000000000000', 'ffffffff-ffff-1000-8000-000000000000'),
    fc.constantFrom(-300n, -1n, 0n, 5n, LONG_VARINT),
  );

  /** Cassandra's clustering comparator on the first `length` components, DESC columns reversed. */
  function compareRows(a: readonly CqlValue[], b: readonly CqlValue[], length: number): number {
    for (let i = 0; i < length; i++) {
      const c = sign((compares[i] as (x: CqlValue, y: CqlValue) => number)(a[i]!, b[i]!));
      if (c !== 0) return columns[i]!.descending ? -c : c;
    }
    return 0;
  }

  it('orders full keys column by column, with ASC and DESC columns mixed', () => {
    fc.assert(
      fc.property(arbRow, arbRow, (a, b) => {
        expect(sign(Buffer.compare(encodeClustering(columns, a), encodeClustering(columns, b)))).toBe(compareRows(a, b, 4));
      }),
      { numRuns: 500 },
    );
  });

  it('decodes full keys and prefixes', () => {
    fc.assert(
      fc.property(arbRow, fc.integer({ min: 0, max: 4 }), (row, length) => {
        const full = encodeClustering(columns, row);
        expect(decodeClustering(columns, full)).toEqual(row);
        const prefix = encodeClustering(columns, row.slice(0, length));
        expect(isPrefix(prefix, full)).toBe(true);
        expect(decodeClusteringPrefix(columns, prefix)).toEqual(row.slice(0, length));
        if (length < 4) expect(() => decodeClustering(columns, prefix)).toThrow(CorruptDataError);
      }),
    );
  });

  it('makes storage prefix bounds select exactly the rows a CQL slice selects', () => {
    fc.assert(
      fc.property(arbRow, arbRow, fc.integer({ min: 0, max: 4 }), fc.boolean(), (row, boundRow, length, inclusive) => {
        const key = encodeClustering(columns, row);
        const bound = { prefix: encodeClustering(columns, boundRow.slice(0, length)), inclusive };
        const c = compareRows(row, boundRow, length);
        expect(afterStart(key, bound)).toBe(inclusive ? c >= 0 : c > 0);
        expect(beforeEnd(key, bound)).toBe(inclusive ? c <= 0 : c < 0);
      }),
      { numRuns: 500 },
    );
  });

  it('uses the empty buffer for tables without clustering columns', () => {
    expect(encodeClustering([], [])).toEqual(Buffer.alloc(0));
    expect(decodeClustering([], Buffer.alloc(0))).toEqual([]);
    expect(encodeClustering(columns, [])).toEqual(Buffer.alloc(0));
  });

  it('rejects bytes that are not a clustering key', () => {
    const full = encodeClustering(columns, [1, 'a', '00000000-0000-1001-8000-000000000000', 5n]);
    expect(() => decodeClustering(columns, Buffer.concat([full, Buffer.from([1])]))).toThrow(CorruptDataError);
    expect(() => decodeClustering(columns, full.subarray(0, full.length - 1))).toThrow(CorruptDataError);
    expect(() => decodeClustering([{ type: native('boolean'), descending: false }], Buffer.from([2]))).toThrow(CorruptDataError);
  });
});

describe('invalid values', () => {
  const rejects = (name: NativeTypeName, v: CqlValue): void => {
    expect(() => encodeComparable(native(name), v), `${name} ${String(v)}`).toThrow(InvalidRequest);
  };

  it('rejects null, collections and counters', () => {
    rejects('int', null);
    expect(() => encodeComparable({ kind: 'list', element: native('int') }, [1])).toThrow(InvalidRequest);
    expect(() => encodeComparable({ kind: 'map', key: native('int'), value: native('int') }, [])).toThrow(InvalidRequest);
    rejects('counter', 1n);
    expect(() => encodeClustering([{ type: native('text'), descending: true }], [null])).toThrow(InvalidRequest);
  });

  it('rejects values of the wrong shape or out of range', () => {
    rejects('int', 2 ** 31);
    rejects('int', 1.5);
    rejects('int', '1');
    rejects('tinyint', 128);
    rejects('smallint', -32769);
    rejects('date', -(2 ** 31) - 1);
    rejects('bigint', 2n ** 63n);
    rejects('bigint', 1);
    rejects('time', -1n);
    rejects('time', 86_400_000_000_000n);
    rejects('timestamp', 2 ** 53);
    rejects('float', 'NaN');
    rejects('boolean', 0);
    rejects('ascii', 'é');
    rejects('text', 'a\ud800b');
    rejects('blob', 'abc');
    rejects('uuid', 'not-a-uuid');
    rejects('uuid', '00000000-0000-0000-0000-0000000000000');
    rejects('timeuuid', '00000000-0000-4000-8000-000000000000');
    rejects('varint', 1);
    rejects('decimal', 1.5);
    rejects('decimal', { unscaled: 1n, scale: 2 ** 31 } as CqlDecimal);
  });

  it('bounds text, blob and varint lengths at 65535 bytes', () => {
    expect(encodeComparable(native('blob'), Buffer.alloc(MAX_COMPARABLE_VALUE_BYTES, 1)).length).toBe(MAX_COMPARABLE_VALUE_BYTES + 2);
    rejects('blob', Buffer.alloc(MAX_COMPARABLE_VALUE_BYTES + 1));
    rejects('text', 'é'.repeat(Math.ceil((MAX_COMPARABLE_VALUE_BYTES + 1) / 2)));
    rejects('varint', 2n ** BigInt(8 * MAX_COMPARABLE_VALUE_BYTES));
    const largest = 2n ** BigInt(8 * MAX_COMPARABLE_VALUE_BYTES) - 1n;
    expect(decodeCellPath(native('varint'), encodeCellPath(native('varint'), -largest))).toBe(-largest);
  });
});
