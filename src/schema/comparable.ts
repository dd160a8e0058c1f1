/**
 * Byte-comparable encodings of CQL values: clustering keys and collection cell paths.
 *
 * Cassandra concept: a partition's rows are sorted by their clustering columns, each in its
 * type's order (`AbstractType.compare`), ascending or `WITH CLUSTERING ORDER BY (c DESC)`; set
 * elements and map keys are sorted the same way. The storage engine knows no types: it orders
 * rows by `Row.clustering` and collection cells by `Cell.path` with `Buffer.compare`, and
 * slices by clustering *prefix* (src/storage/data/keys.ts). This module turns values into
 * bytes whose unsigned lexicographic order is the CQL order, like Cassandra 5's
 * `ByteComparable` (CASSANDRA-6936), in a format of our own.
 *
 * Invariants, for values a, b of one native type T (checked by test/unit/schema/comparable.test.ts):
 * - order: sign(Buffer.compare(E(a), E(b))) = sign(Cassandra's T.compare(a, b));
 * - prefix-free: E(a) is never a proper prefix of E(b). So a concatenation of components
 *   compares component by component, a clustering prefix is a byte prefix of exactly the keys
 *   that start with those values, and the bitwise complement of E reverses the order (two
 *   different encodings differ at a byte inside both), which is how DESC columns are stored;
 * - decode(E(v)) = v, except that values Cassandra compares as equal get one encoding:
 *   decimals come back normalized (1.50 → 1.5, scale ≥ 0 where reasonable), NaN is one NaN,
 *   floats are rounded to float32 first (as serialization does).
 *
 * Bounds: a text, ascii or blob value, a varint's magnitude and a decimal's unscaled magnitude
 * are at most MAX_COMPARABLE_VALUE_BYTES (65535, Cassandra's limit on a key component), else
 * `InvalidRequest`. Decoding reads only inside the buffer and throws `CorruptDataError` on
 * anything that is not an encoding this module writes.
 *
 * Format version 1 (COMPARABLE_FORMAT_VERSION). "flip" = two's complement big-endian with the
 * sign bit inverted; "escaped" = the bytes with every 0x00 written as 0x00 0xFF, then the
 * terminator 0x00 0x00.
 *
 *   boolean            1 byte: 0x00 false, 0x01 true
 *   tinyint/smallint   1/2 bytes flip
 *   int                4 bytes flip
 *   date               4 bytes flip of the signed day number (= Cassandra's unsigned days + 2^31)
 *   bigint             8 bytes flip
 *   timestamp          8 bytes flip of the signed milliseconds
 *   time               8 bytes flip of the nanoseconds (0 ≤ ns < 86400·10^9)
 *   float/double       4/8 bytes IEEE 754 big-endian; sign bit clear: sign bit set; sign bit
 *                      set: every bit inverted. NaN is written as the canonical quiet NaN.
 *                      Order = Java's Float.compare: -Inf < … < -0.0 < 0.0 < … < +Inf < NaN.
 *   ascii/text         escaped UTF-8 (UTF-8 byte order is code point order = Cassandra's)
 *   blob               escaped bytes
 *   inet               escaped address bytes (4 for IPv4, 16 for IPv6): Cassandra compares
 *                      the raw bytes, so every IPv4 address sorts with IPv6 ones by bytes
 *   uuid               16 bytes, Cassandra's UUIDType order: version nibble first, then
 *                      - version 1: time_hi (12 bits), time_mid, time_low, i.e. the timestamp;
 *                      - other versions: the other 60 bits of the high long in order;
 *                      then the low long unsigned (bytes 8..15 as is).
 *   timeuuid           16 bytes, TimeUUIDType order: the high long reordered as for a version 1
 *                      uuid, then bytes 8..15 each XOR 0x80 (Cassandra compares them signed).
 *                      Only version 1 values are accepted.
 *   varint             zero: 0x80. Positive n with minimal big-endian magnitude of L bytes:
 *                      L ≤ 126: (0x80 + L) magnitude; else 0xFF, L as u16 BE, magnitude.
 *                      Negative n: the bitwise complement of the encoding of -n (first byte
 *                      ≤ 0x7E). Longer magnitudes sort further from zero.
 *   decimal            zero (any scale): 0x80. Positive v = 0.d1 d2 … dn × 10^X with d1 ≠ 0
 *                      and dn ≠ 0 (trailing zeros dropped): 0x81, varint(X), the digits in
 *                      pairs (an odd count padded with a 0), each pair p as the byte p + 1
 *                      (1..100), then 0x00. Negative: the complement of the encoding of -v.
 *                      Larger X is larger; at equal X the digit bytes compare like the
 *                      mantissas, a shorter mantissa ending first (0x00 < any pair).
 *   list/set/map/counter  not comparable: `InvalidRequest` (Cassandra forbids them in keys).
 *
 *   clustering key     the component encodings concatenated, each DESC component
 *                      complemented; a prefix encodes only its leading columns; no columns:
 *                      the empty buffer.
 *   cell path          the element's (set) or key's (map) ascending encoding.
 */
import { InvalidRequest } from '../errors.js';
import { AssertionError, assert } from '../util/assert.js';
import { ByteWriter, CorruptDataError } from '../util/bytes.js';
import type { CqlDecimal, CqlType, CqlValue, NativeTypeName } from './cql-type.js';

export const COMPARABLE_FORMAT_VERSION = 1;

/** Longest text/ascii/blob value, varint magnitude or decimal unscaled magnitude, in bytes. */
export const MAX_COMPARABLE_VALUE_BYTES = 65535;

/**
 * A decoded decimal with an integral value gets scale 0 (100, not 1E+2) when that takes at
 * most this many appended zeros; beyond, it keeps its negative scale rather than materialize
 * a huge integer.
 */
export const MAX_DECODED_DECIMAL_ZEROS = 1000;

/** One clustering column as this module needs it. */
export interface ClusteringColumnSpec {
  readonly type: CqlType;
  readonly descending: boolean;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const NANOS_PER_DAY = 86_400_000_000_000n;
const TWO_POW_32 = 2 ** 32;
const EMPTY = Buffer.alloc(0);
const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
// Lone UTF-16 surrogates: a u-mode regex matches a surrogate *pair* as one code point, so this
// finds only halves, which UTF-8 cannot encode (Buffer.from would silently write U+FFFD).
const LONE_SURROGATE = /\p{Cs}/u;
const NON_ASCII = /[^\u0000-\u007f]/;
// Varint header bytes: zero, the largest one-byte length, the extended-length marker.
const VARINT_ZERO = 0x80;
const VARINT_MAX_SHORT_LENGTH = 126;
const VARINT_LONG_LENGTH = 0xff;
// Decimal sign bytes; a negative decimal is the complement of a positive one (~0x81).
const DECIMAL_ZERO = 0x80;
const DECIMAL_POSITIVE = 0x81;
const DECIMAL_NEGATIVE = 0x7e;

// ---------------------------------------------------------------------------------------------
// Public API

/** The byte-comparable encoding of `v`, a value of native type `t` (ascending order). */
export function encodeComparable(t: CqlType, v: CqlValue): Buffer {
  const w = new ByteWriter(32);
  writeComparable(w, t, v);
  return w.toBuffer();
}

/**
 * Decodes one ascending encoding of type `t` starting at `offset`; `next` is the offset just
 * after it. Throws `CorruptDataError` when the bytes there are not such an encoding.
 */
export function decodeComparable(t: CqlType, buf: Buffer, offset: number): { value: CqlValue; next: number } {
  assert(Number.isInteger(offset) && offset >= 0 && offset <= buf.length, `offset ${offset} outside the buffer`);
  const r = new ComparableReader(buf, offset, 0);
  const value = readComparable(r, t);
  return { value, next: r.pos };
}

/**
 * The clustering key (or key prefix, when `values` is shorter than `columns`) of a row: what
 * `Row.clustering` and `ClusteringBound.prefix` hold. Empty when `values` is empty.
 */
export function encodeClustering(columns: readonly ClusteringColumnSpec[], values: readonly CqlValue[]): Buffer {
  assert(values.length <= columns.length, `${values.length} clustering values for ${columns.length} clustering columns`);
  if (values.length === 0) return EMPTY;
  const w = new ByteWriter(64);
  for (let i = 0; i < values.length; i++) {
    const column = columns[i]!;
    const start = w.length;
    writeComparable(w, column.type, values[i]!);
    if (column.descending) complementFrom(w, start);
  }
  return w.toBuffer();
}

/** The values of a full clustering key made by `encodeClustering`. */
export function decodeClustering(columns: readonly ClusteringColumnSpec[], buf: Buffer): CqlValue[] {
  const values = decodeClusteringPrefix(columns, buf);
  if (values.length !== columns.length) {
    throw new CorruptDataError(`clustering key has ${values.length} of ${columns.length} components`);
  }
  return values;
}

/** The values of a clustering key or prefix (as many as it encodes, possibly none). */
export function decodeClusteringPrefix(columns: readonly ClusteringColumnSpec[], buf: Buffer): CqlValue[] {
  const r = new ComparableReader(buf, 0, 0);
  const values: CqlValue[] = [];
  for (let i = 0; i < columns.length && r.pos < buf.length; i++) {
    const column = columns[i]!;
    r.mask = column.descending ? 0xff : 0x00;
    values.push(readComparable(r, column.type));
  }
  if (r.pos !== buf.length) throw new CorruptDataError(`${buf.length - r.pos} bytes after the last clustering component`);
  return values;
}

/** The `Cell.path` of a set element or map key of type `t`. */
export function encodeCellPath(t: CqlType, v: CqlValue): Buffer {
  return encodeComparable(t, v);
}

export function decodeCellPath(t: CqlType, buf: Buffer): CqlValue {
  const { value, next } = decodeComparable(t, buf, 0);
  if (next !== buf.length) throw new CorruptDataError(`${buf.length - next} bytes after a cell path`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Encoding

// Big-endian staging for fixed-width values; copied out at once, so one buffer serves all.
const scratch = Buffer.alloc(16);

function writeComparable(w: ByteWriter, t: CqlType, v: CqlValue): void {
  if (t.kind !== 'native') {
    throw new InvalidRequest(`${t.kind} values cannot be clustering columns or collection elements`);
  }
  if (v === null) throw new InvalidRequest('Invalid null value: clustering columns and collection elements cannot be null');
  const name = t.name;
  switch (name) {
    case 'boolean':
      if (typeof v !== 'boolean') throw invalidValue(name, v);
      w.u8(v ? 1 : 0);
      return;
    case 'tinyint':
      w.u8((integer(name, v, -128, 127) & 0xff) ^ 0x80);
      return;
    case 'smallint': {
      const flipped = (integer(name, v, -32768, 32767) & 0xffff) ^ 0x8000;
      w.u8(flipped >>> 8).u8(flipped & 0xff);
      return;
    }
    case 'int':
    case 'date':
      writeFlipped32(w, integer(name, v, INT32_MIN, INT32_MAX));
      return;
    case 'bigint':
      writeFlipped64(w, bigintIn(name, v, INT64_MIN, INT64_MAX));
      return;
    case 'time':
      writeFlipped64(w, bigintIn(name, v, 0n, NANOS_PER_DAY - 1n));
      return;
    case 'timestamp':
      writeFlippedSafeInteger(w, integer(name, v, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER));
      return;
    case 'float':
      if (typeof v !== 'number') throw invalidValue(name, v);
      if (Number.isNaN(v)) scratch.writeUInt32BE(0x7fc00000);
      else scratch.writeFloatBE(v);
      writeOrderedFloatBits(w, 4);
      return;
    case 'double':
      if (typeof v !== 'number') throw invalidValue(name, v);
      if (Number.isNaN(v)) scratch.writeBigUInt64BE(0x7ff8000000000000n);
      else scratch.writeDoubleBE(v);
      writeOrderedFloatBits(w, 8);
      return;
    case 'ascii':
      if (typeof v !== 'string') throw invalidValue(name, v);
      if (NON_ASCII.test(v)) throw new InvalidRequest(`Invalid ASCII character in ${show(v)}`);
      writeEscaped(w, boundedBytes(Buffer.from(v, 'latin1')));
      return;
    case 'text':
      if (typeof v !== 'string') throw invalidValue(name, v);
      if (LONE_SURROGATE.test(v)) throw new InvalidRequest(`Invalid UTF-8: ${show(v)} contains an unpaired surrogate`);
      writeEscaped(w, boundedBytes(Buffer.from(v, 'utf8')));
      return;
    case 'blob':
      if (!Buffer.isBuffer(v)) throw invalidValue(name, v);
      writeEscaped(w, boundedBytes(v));
      return;
    case 'inet': {
      const address = typeof v === 'string' ? parseInet(v) : null;
      if (address === null) throw invalidValue(name, v);
      writeEscaped(w, address);
      return;
    }
    case 'uuid':
      writeUuid(w, uuidBytes(name, v));
      return;
    case 'timeuuid': {
      const u = uuidBytes(name, v);
      if (u[6]! >> 4 !== 1) throw new InvalidRequest(`Invalid version ${u[6]! >> 4} for timeuuid ${show(v)}: only version 1 UUIDs are time UUIDs`);
      writeTimeUuid(w, u);
      return;
    }
    case 'varint':
      if (typeof v !== 'bigint') throw invalidValue(name, v);
      writeVarint(w, v);
      return;
    case 'decimal':
      writeDecimal(w, decimalValue(v));
      return;
    case 'counter':
      throw new InvalidRequest('counter values cannot be clustering columns or collection elements');
    default:
      return assertNever(name);
  }
}

function writeFlipped32(w: ByteWriter, v: number): void {
  scratch.writeUInt32BE((v ^ 0x80000000) >>> 0);
  w.bytesOf(scratch, 0, 4);
}

function writeFlipped64(w: ByteWriter, v: bigint): void {
  scratch.writeBigInt64BE(v);
  scratch[0]! ^= 0x80;
  w.bytesOf(scratch, 0, 8);
}

// A safe integer as a signed 64-bit value without BigInt: floor division gives the two's
// complement halves for negatives too (|hi| < 2^21, so `^` sees it exactly).
function writeFlippedSafeInteger(w: ByteWriter, v: number): void {
  const hi = Math.floor(v / TWO_POW_32);
  scratch.writeUInt32BE((hi ^ 0x80000000) >>> 0, 0);
  scratch.writeUInt32BE(v - hi * TWO_POW_32, 4);
  w.bytesOf(scratch, 0, 8);
}

// IEEE 754 bit patterns order like sign-magnitude integers: positives by their bits,
// negatives reversed. Setting the sign bit of positives and inverting negatives makes that
// unsigned order, with -0.0 just below 0.0 and NaN (positive, maximal exponent) above +Inf.
function writeOrderedFloatBits(w: ByteWriter, width: 4 | 8): void {
  if (scratch[0]! & 0x80) {
    for (let i = 0; i < width; i++) scratch[i]! ^= 0xff;
  } else {
    scratch[0]! ^= 0x80;
  }
  w.bytesOf(scratch, 0, width);
}

function writeEscaped(w: ByteWriter, bytes: Buffer): void {
  let start = 0;
  for (let zero = bytes.indexOf(0); zero !== -1; zero = bytes.indexOf(0, start)) {
    w.bytesOf(bytes, start, zero + 1).u8(0xff);
    start = zero + 1;
  }
  w.bytesOf(bytes, start, bytes.length).u8(0x00).u8(0x00);
}

// UUIDs: Cassandra's UUIDType / TimeUUIDType order (see the format above).
function writeUuid(w: ByteWriter, u: Buffer): void {
  const version = u[6]! >> 4;
  if (version === 1) {
    writeTimeOrderedHigh(u);
  } else {
    // The version nibble moves to the front; the other 60 bits keep their order.
    scratch[0] = (version << 4) | (u[0]! >> 4);
    for (let i = 1; i <= 5; i++) scratch[i] = ((u[i - 1]! & 0x0f) << 4) | (u[i]! >> 4);
    scratch[6] = ((u[5]! & 0x0f) << 4) | (u[6]! & 0x0f);
    scratch[7] = u[7]!;
  }
  u.copy(scratch, 8, 8, 16);
  w.bytesOf(scratch, 0, 16);
}

function writeTimeUuid(w: ByteWriter, u: Buffer): void {
  writeTimeOrderedHigh(u);
  for (let i = 8; i < 16; i++) scratch[i] = u[i]! ^ 0x80;
  w.bytesOf(scratch, 0, 16);
}

// time_hi_and_version (bytes 6-7), time_mid (4-5), time_low (0-3): the 60-bit timestamp
// most significant first, behind the version nibble (1).
function writeTimeOrderedHigh(u: Buffer): void {
  scratch[0] = u[6]!;
  scratch[1] = u[7]!;
  scratch[2] = u[4]!;
  scratch[3] = u[5]!;
  scratch[4] = u[0]!;
  scratch[5] = u[1]!;
  scratch[6] = u[2]!;
  scratch[7] = u[3]!;
}

function writeVarint(w: ByteWriter, v: bigint): void {
  if (v === 0n) {
    w.u8(VARINT_ZERO);
    return;
  }
  const start = w.length;
  const magnitude = magnitudeBytes(v < 0n ? -v : v);
  if (magnitude.length > MAX_COMPARABLE_VALUE_BYTES) throw tooLong(magnitude.length);
  if (magnitude.length <= VARINT_MAX_SHORT_LENGTH) {
    w.u8(VARINT_ZERO + magnitude.length);
  } else {
    w.u8(VARINT_LONG_LENGTH).u8(magnitude.length >>> 8).u8(magnitude.length & 0xff);
  }
  w.bytes(magnitude);
  if (v < 0n) complementFrom(w, start);
}

function writeDecimal(w: ByteWriter, d: CqlDecimal): void {
  if (d.unscaled === 0n) {
    w.u8(DECIMAL_ZERO);
    return;
  }
  const negative = d.unscaled < 0n;
  const magnitude = negative ? -d.unscaled : d.unscaled;
  if (magnitudeByteLength(magnitude) > MAX_COMPARABLE_VALUE_BYTES) throw tooLong(magnitudeByteLength(magnitude));
  const allDigits = magnitude.toString();
  // value = 0.d1…dn × 10^exponent, whatever trailing zeros are dropped below.
  const exponent = allDigits.length - d.scale;
  let end = allDigits.length;
  while (allDigits.charCodeAt(end - 1) === 0x30) end--;
  const start = w.length;
  w.u8(DECIMAL_POSITIVE);
  writeVarint(w, BigInt(exponent));
  for (let i = 0; i < end; i += 2) {
    const high = allDigits.charCodeAt(i) - 0x30;
    const low = i + 1 < end ? allDigits.charCodeAt(i + 1) - 0x30 : 0;
    w.u8(high * 10 + low + 1);
  }
  w.u8(0x00);
  if (negative) complementFrom(w, start);
}

/** Inverts every byte written since `start`: a DESC component, or a negative number. */
function complementFrom(w: ByteWriter, start: number): void {
  const written = w.view(); // shares memory with the writer until its next write
  for (let i = start; i < written.length; i++) written[i]! ^= 0xff;
}

function magnitudeBytes(magnitude: bigint): Buffer {
  const hex = magnitude.toString(16);
  return Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
}

function magnitudeByteLength(magnitude: bigint): number {
  return Math.ceil(magnitude.toString(16).length / 2);
}

// ---------------------------------------------------------------------------------------------
// Value checks (the CQL layer validates first; these keep bad values out of stored keys)

function integer(name: NativeTypeName, v: CqlValue, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalidValue(name, v);
  return v;
}

function bigintIn(name: NativeTypeName, v: CqlValue, min: bigint, max: bigint): bigint {
  if (typeof v !== 'bigint' || v < min || v > max) throw invalidValue(name, v);
  return v;
}

function decimalValue(v: CqlValue): CqlDecimal {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Buffer.isBuffer(v)) throw invalidValue('decimal', v);
  const d = v as CqlDecimal;
  if (typeof d.unscaled !== 'bigint' || !Number.isInteger(d.scale) || d.scale < INT32_MIN || d.scale > INT32_MAX) {
    throw invalidValue('decimal', v);
  }
  return d;
}

function uuidBytes(name: NativeTypeName, v: CqlValue): Buffer {
  if (typeof v !== 'string' || !UUID_PATTERN.test(v)) throw invalidValue(name, v);
  return Buffer.from(v.replaceAll('-', ''), 'hex');
}

function boundedBytes(bytes: Buffer): Buffer {
  if (bytes.length > MAX_COMPARABLE_VALUE_BYTES) throw tooLong(bytes.length);
  return bytes;
}

function tooLong(length: number): InvalidRequest {
  return new InvalidRequest(`Key length of ${length} is longer than maximum of ${MAX_COMPARABLE_VALUE_BYTES}`);
}

function invalidValue(name: NativeTypeName, v: CqlValue): InvalidRequest {
  return new InvalidRequest(`Invalid ${name} value ${show(v)}`);
}

/** A short, safe rendering of a value for an error message. */
function show(v: CqlValue): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (Buffer.isBuffer(v)) return `0x${v.subarray(0, 20).toString('hex')}${v.length > 20 ? '…' : ''}`;
  if (Array.isArray(v)) return 'of a collection';
  if (typeof v === 'object') return 'of a decimal';
  return String(v).slice(0, 40);
}

function assertNever(name: never): never {
  throw new AssertionError(`unknown native type ${String(name)}`);
}

// ---------------------------------------------------------------------------------------------
// inet: parse any textual form, format canonically (RFC 5952, the CqlValue contract)

function parseInet(s: string): Buffer | null {
  return s.includes(':') ? parseIpv6(s) : parseIpv4(s);
}

const IPV4_PART = /^(0|[1-9][0-9]{0,2})$/;
const IPV6_GROUP = /^[0-9a-fA-F]{1,4}$/;
// "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" is the longest textual IPv6 address.
const MAX_IPV6_TEXT_LENGTH = 45;

function parseIpv4(s: string): Buffer | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out = Buffer.alloc(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!IPV4_PART.test(part) || Number(part) > 255) return null;
    out[i] = Number(part);
  }
  return out;
}

function parseIpv6(text: string): Buffer | null {
  if (text.length > MAX_IPV6_TEXT_LENGTH) return null;
  let s = text;
  // A dotted IPv4 tail (::ffff:1.2.3.4) stands for the last two groups.
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) !== -1) {
    const v4 = parseIpv4(s.slice(lastColon + 1));
    if (v4 === null) return null;
    s = `${s.slice(0, lastColon + 1)}${v4.readUInt16BE(0).toString(16)}:${v4.readUInt16BE(2).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const head = ipv6Groups(halves[0]!);
  const tail = halves.length === 2 ? ipv6Groups(halves[1]!) : [];
  if (head === null || tail === null) return null;
  if (halves.length === 2 ? head.length + tail.length > 7 : head.length !== 8) return null;
  const out = Buffer.alloc(16);
  head.forEach((g, i) => out.writeUInt16BE(g, 2 * i));
  tail.forEach((g, i) => out.writeUInt16BE(g, 2 * (8 - tail.length + i)));
  return out;
}

function ipv6Groups(part: string): number[] | null {
  if (part === '') return [];
  const groups: number[] = [];
  for (const g of part.split(':')) {
    if (!IPV6_GROUP.test(g)) return null;
    groups.push(parseInt(g, 16));
  }
  return groups;
}

/** RFC 5952: lower-case hex, no leading zeros, the first longest run (≥ 2) of zero groups as
 * `::`, and dotted IPv4 for IPv4-mapped addresses (::ffff:a.b.c.d, its section 5). */
function formatInet(b: Buffer): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) {
    return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  let bestStart = -1;
  let bestLength = 1; // a single zero group is never shortened
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart === -1) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}

function formatUuid(u: Buffer): string {
  const hex = u.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** Reads bytes XOR `mask`: 0x00 for ascending components, 0xFF inside complemented ones. */
class ComparableReader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    public mask: number,
  ) {}

  private need(n: number): void {
    if (n > this.buf.length - this.pos) {
      throw new CorruptDataError(`truncated comparable value: need ${n} bytes at ${this.pos}, have ${this.buf.length - this.pos}`);
    }
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]! ^ this.mask;
  }

  /** `n` bytes, unmasked, in a buffer of their own. */
  bytes(n: number): Buffer {
    this.need(n);
    const out = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    if (this.mask !== 0) for (let i = 0; i < n; i++) out[i]! ^= this.mask;
    this.pos += n;
    return out;
  }
}

function readComparable(r: ComparableReader, t: CqlType): CqlValue {
  if (t.kind !== 'native') throw new InvalidRequest(`${t.kind} values are not comparable`);
  const name = t.name;
  switch (name) {
    case 'boolean': {
      const b = r.u8();
      if (b > 1) throw new CorruptDataError(`bad boolean byte ${b}`);
      return b === 1;
    }
    case 'tinyint':
      return ((r.u8() ^ 0x80) << 24) >> 24;
    case 'smallint': {
      const b = r.bytes(2);
      b[0]! ^= 0x80;
      return b.readInt16BE(0);
    }
    case 'int':
    case 'date': {
      const b = r.bytes(4);
      b[0]! ^= 0x80;
      return b.readInt32BE(0);
    }
    case 'bigint':
      return readFlipped64(r);
    case 'time': {
      const ns = readFlipped64(r);
      if (ns < 0n || ns >= NANOS_PER_DAY) throw new CorruptDataError(`time out of range: ${ns}`);
      return ns;
    }
    case 'timestamp': {
      const b = r.bytes(8);
      const ms = ((b.readUInt32BE(0) ^ 0x80000000) | 0) * TWO_POW_32 + b.readUInt32BE(4);
      if (!Number.isSafeInteger(ms)) throw new CorruptDataError('timestamp outside the safe integer range');
      return ms;
    }
    case 'float':
      return readOrderedFloatBits(r.bytes(4)).readFloatBE(0);
    case 'double':
      return readOrderedFloatBits(r.bytes(8)).readDoubleBE(0);
    case 'ascii':
      return readEscaped(r).toString('latin1');
    case 'text':
      return readEscaped(r).toString('utf8');
    case 'blob':
      return readEscaped(r);
    case 'inet': {
      const address = readEscaped(r);
      if (address.length !== 4 && address.length !== 16) throw new CorruptDataError(`inet of ${address.length} bytes`);
      return formatInet(address);
    }
    case 'uuid':
      return formatUuid(readUuid(r.bytes(16)));
    case 'timeuuid':
      return formatUuid(readTimeUuid(r.bytes(16)));
    case 'varint':
      return readVarint(r);
    case 'decimal':
      return readDecimal(r);
    case 'counter':
      throw new InvalidRequest('counter values are not comparable');
    default:
      return assertNever(name);
  }
}

function readFlipped64(r: ComparableReader): bigint {
  const b = r.bytes(8);
  b[0]! ^= 0x80;
  return b.readBigInt64BE(0);
}

function readOrderedFloatBits(b: Buffer): Buffer {
  if (b[0]! & 0x80) {
    b[0]! ^= 0x80;
  } else {
    for (let i = 0; i < b.length; i++) b[i]! ^= 0xff;
  }
  return b;
}

function readEscaped(r: ComparableReader): Buffer {
  // A logical 0x00 is stored as `r.mask`; pieces stay masked until the end.
  const zero = r.mask;
  const pieces: Buffer[] = [];
  for (;;) {
    const at = r.buf.indexOf(zero, r.pos);
    if (at === -1 || at + 1 >= r.buf.length) throw new CorruptDataError(`unterminated escaped value at ${r.pos}`);
    pieces.push(r.buf.subarray(r.pos, at));
    const marker = r.buf[at + 1]! ^ r.mask;
    r.pos = at + 2;
    if (marker === 0x00) break;
    if (marker !== 0xff) throw new CorruptDataError(`bad escape byte ${marker} at ${at + 1}`);
    pieces.push(r.buf.subarray(at, at + 1));
  }
  const out = Buffer.concat(pieces);
  if (r.mask !== 0) for (let i = 0; i < out.length; i++) out[i]! ^= r.mask;
  return out;
}

function readUuid(e: Buffer): Buffer {
  const version = e[0]! >> 4;
  if (version === 1) return readTimeOrderedHigh(e);
  const u = Buffer.allocUnsafe(16);
  for (let i = 0; i <= 5; i++) u[i] = ((e[i]! & 0x0f) << 4) | (e[i + 1]! >> 4);
  u[6] = (version << 4) | (e[6]! & 0x0f);
  u[7] = e[7]!;
  e.copy(u, 8, 8, 16);
  return u;
}

function readTimeUuid(e: Buffer): Buffer {
  if (e[0]! >> 4 !== 1) throw new CorruptDataError(`timeuuid of version ${e[0]! >> 4}`);
  const u = readTimeOrderedHigh(e);
  for (let i = 8; i < 16; i++) u[i] = e[i]! ^ 0x80;
  return u;
}

function readTimeOrderedHigh(e: Buffer): Buffer {
  const u = Buffer.allocUnsafe(16);
  u[6] = e[0]!;
  u[7] = e[1]!;
  u[4] = e[2]!;
  u[5] = e[3]!;
  e.copy(u, 0, 4, 8);
  e.copy(u, 8, 8, 16);
  return u;
}

function readVarint(r: ComparableReader): bigint {
  const head = r.u8();
  if (head === VARINT_ZERO) return 0n;
  if (head > VARINT_ZERO) return readPositiveVarint(r, head);
  // A negative number is a complemented positive one: read on with the mask inverted.
  r.mask ^= 0xff;
  const magnitude = readPositiveVarint(r, head ^ 0xff);
  r.mask ^= 0xff;
  return -magnitude;
}

function readPositiveVarint(r: ComparableReader, head: number): bigint {
  let length = head - VARINT_ZERO;
  if (head === VARINT_LONG_LENGTH) {
    length = (r.u8() << 8) | r.u8();
    if (length <= VARINT_MAX_SHORT_LENGTH) throw new CorruptDataError(`varint length ${length} in the long form`);
  }
  if (length === 0) throw new CorruptDataError('varint of zero length');
  const magnitude = r.bytes(length);
  if (magnitude[0] === 0) throw new CorruptDataError('varint magnitude with a leading zero byte');
  return BigInt(`0x${magnitude.toString('hex')}`);
}

function readDecimal(r: ComparableReader): CqlDecimal {
  const head = r.u8();
  if (head === DECIMAL_ZERO) return { unscaled: 0n, scale: 0 };
  if (head === DECIMAL_POSITIVE) return readPositiveDecimal(r);
  if (head !== DECIMAL_NEGATIVE) throw new CorruptDataError(`bad decimal sign byte ${head}`);
  r.mask ^= 0xff;
  const d = readPositiveDecimal(r);
  r.mask ^= 0xff;
  return { unscaled: -d.unscaled, scale: d.scale };
}

function readPositiveDecimal(r: ComparableReader): CqlDecimal {
  const exponentBig = readVarint(r);
  // |exponent| ≤ digits + 2^31 for anything writeDecimal accepts.
  if (exponentBig > 2n ** 33n || exponentBig < -(2n ** 33n)) throw new CorruptDataError(`decimal exponent ${exponentBig} out of range`);
  const exponent = Number(exponentBig);
  const pairs: string[] = [];
  for (let b = r.u8(); b !== 0x00; b = r.u8()) {
    if (b > 100) throw new CorruptDataError(`bad decimal digit pair byte ${b}`);
    pairs.push(b <= 10 ? `0${b - 1}` : String(b - 1));
  }
  let digits = pairs.join('');
  if (digits.endsWith('0')) digits = digits.slice(0, -1); // the pad of an odd digit count
  if (digits === '' || digits.startsWith('0') || digits.endsWith('0')) throw new CorruptDataError(`non-normalized decimal digits ${digits.slice(0, 20)}`);
  let unscaled = BigInt(digits);
  let scale = digits.length - exponent;
  if (scale < 0 && -scale <= MAX_DECODED_DECIMAL_ZEROS) {
    unscaled *= 10n ** BigInt(-scale);
    scale = 0;
  }
  if (scale < INT32_MIN) {
    // Dropping trailing zeros pushed the scale below Cassandra's int32: put enough back.
    const zeros = INT32_MIN - scale;
    if (zeros > 2 * MAX_COMPARABLE_VALUE_BYTES * 8) throw new CorruptDataError(`decimal scale ${scale} out of range`);
    unscaled *= 10n ** BigInt(zeros);
    scale = INT32_MIN;
  }
  if (scale > INT32_MAX) throw new CorruptDataError(`decimal scale ${scale} out of range`);
  return { unscaled, scale };
}
