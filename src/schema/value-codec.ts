/**
 * CQL values ⇄ Cassandra's native binary serialization (the bytes a driver sends for a bound
 * value, and the bytes the partitioner hashes: a partition key's token is Murmur3 of exactly
 * these bytes, so they must equal Cassandra's).
 *
 * Cassandra concept: `TypeSerializer` of each type; collections in the protocol v3+ layout.
 *
 * Layout per type (all integers big-endian)
 *   int 4 bytes · bigint, counter 8 · smallint 2 · tinyint 1 (two's complement)
 *   varint   minimal two's complement, at least one byte (Java `BigInteger.toByteArray`)
 *   float, double   IEEE 754 binary32 / binary64
 *   decimal  int32 scale, then the unscaled value as a varint
 *   boolean  1 byte, 0 = false (any other byte reads as true)
 *   uuid, timeuuid  16 bytes; timestamp int64 ms; date uint32 days + 2^31; time int64 ns
 *   text UTF-8 · ascii 7-bit bytes · blob as is · inet 4 (IPv4) or 16 (IPv6) bytes
 *   list, set  int32 count, then per element an int32 length and the element's bytes
 *   map        int32 count, then per entry the key and the value, each length-prefixed
 *
 * Invariants
 * - `deserializeValue(t, serializeValue(t, v))` equals `v` for every valid in-memory value.
 * - `deserializeValue` never reads out of bounds and never allocates from an untrusted count:
 *   a collection's count is checked against the bytes left (each element needs ≥ 4). Malformed
 *   bytes throw `InvalidRequest`, never a RangeError. Sets and maps come back normalized.
 * - `serializeValue` is given in-memory values of the right shape (cql-type.ts); anything else
 *   is a bug and fails an assertion.
 */
import { InvalidRequest } from '../errors.js';
import { assert } from '../util/assert.js';
import type { CqlDecimal, CqlType, CqlValue, NativeTypeName } from './cql-type.js';
import { isCanonicalUuid, uuidFromBytes, uuidToBytes } from './timeuuid.js';
import { formatType } from './type-names.js';
import { normalizeMap, normalizeSet } from './value-compare.js';
import {
  MAX_DATE_DAYS,
  MAX_TIMESTAMP_MS,
  MAX_VARINT_BYTES,
  MIN_DATE_DAYS,
  NANOS_PER_DAY,
  inetBytesToText,
  inetTextToBytes,
  isAscii,
  isWellFormedText,
  varintFits,
  varintFromBytes,
  varintToBytes,
} from './value-formats.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// ---- Serialize ------------------------------------------------------------------------------

export function serializeValue(t: CqlType, v: CqlValue): Buffer {
  assert(v !== null, `cannot serialize null as ${formatType(t)}`);
  switch (t.kind) {
    case 'native':
      return serializeNative(t.name, v);
    case 'list':
    case 'set':
      assert(Array.isArray(v), `${formatType(t)} value must be an array`);
      return serializeElements((v as CqlValue[]).map((e) => serializeValue(t.element, e)));
    case 'map': {
      assert(Array.isArray(v), `${formatType(t)} value must be an array of entries`);
      const parts: Buffer[] = [];
      for (const entry of v as Array<[CqlValue, CqlValue]>) {
        assert(Array.isArray(entry) && entry.length === 2, 'map entry must be a [key, value] pair');
        parts.push(serializeValue(t.key, entry[0]), serializeValue(t.value, entry[1]));
      }
      return serializeElements(parts, (v as unknown[]).length);
    }
  }
}

function serializeElements(parts: Buffer[], count = parts.length): Buffer {
  const total = 4 + parts.reduce((sum, p) => sum + 4 + p.length, 0);
  const out = Buffer.allocUnsafe(total);
  out.writeInt32BE(count, 0);
  let pos = 4;
  for (const p of parts) {
    out.writeInt32BE(p.length, pos);
    p.copy(out, pos + 4);
    pos += 4 + p.length;
  }
  return out;
}

function fixed(size: number, write: (b: Buffer) => void): Buffer {
  const b = Buffer.allocUnsafe(size);
  write(b);
  return b;
}

function intInRange(v: CqlValue, bits: number): number {
  const limit = 2 ** (bits - 1);
  assert(typeof v === 'number' && Number.isInteger(v) && v >= -limit && v < limit, `not a ${bits}-bit integer: ${String(v)}`);
  return v;
}

function int64(v: CqlValue): bigint {
  assert(typeof v === 'bigint' && v >= INT64_MIN && v <= INT64_MAX, `not a 64-bit integer: ${String(v)}`);
  return v;
}

function serializeNative(name: NativeTypeName, v: CqlValue): Buffer {
  switch (name) {
    case 'int':
      return fixed(4, (b) => b.writeInt32BE(intInRange(v, 32)));
    case 'smallint':
      return fixed(2, (b) => b.writeInt16BE(intInRange(v, 16)));
    case 'tinyint':
      return fixed(1, (b) => b.writeInt8(intInRange(v, 8)));
    case 'bigint':
    case 'counter':
      return fixed(8, (b) => b.writeBigInt64BE(int64(v)));
    case 'varint':
      assert(typeof v === 'bigint', 'varint value must be a bigint');
      return varintToBytes(v);
    case 'float':
      assert(typeof v === 'number', 'float value must be a number');
      return fixed(4, (b) => b.writeFloatBE(v));
    case 'double':
      assert(typeof v === 'number', 'double value must be a number');
      return fixed(8, (b) => b.writeDoubleBE(v));
    case 'decimal': {
      const d = v as CqlDecimal;
      assert(typeof d === 'object' && typeof d.unscaled === 'bigint' && Number.isInteger(d.scale), 'decimal value must be a CqlDecimal');
      const scale = fixed(4, (b) => b.writeInt32BE(d.scale));
      return Buffer.concat([scale, varintToBytes(d.unscaled)]);
    }
    case 'boolean':
      assert(typeof v === 'boolean', 'boolean value must be a boolean');
      return Buffer.from([v ? 1 : 0]);
    case 'uuid':
    case 'timeuuid':
      assert(typeof v === 'string' && isCanonicalUuid(v), `not a canonical uuid: ${String(v)}`);
      return uuidToBytes(v);
    case 'timestamp':
      assert(typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= MAX_TIMESTAMP_MS, `not a timestamp: ${String(v)}`);
      return fixed(8, (b) => b.writeBigInt64BE(BigInt(v)));
    case 'date':
      assert(typeof v === 'number' && Number.isInteger(v) && v >= MIN_DATE_DAYS && v <= MAX_DATE_DAYS, `not a date: ${String(v)}`);
      return fixed(4, (b) => b.writeUInt32BE(v + 2 ** 31));
    case 'time':
      assert(typeof v === 'bigint' && v >= 0n && v < NANOS_PER_DAY, `not a time: ${String(v)}`);
      return fixed(8, (b) => b.writeBigInt64BE(v));
    case 'text':
    case 'ascii':
      assert(typeof v === 'string', `${name} value must be a string`);
      return Buffer.from(v, 'utf8');
    case 'blob':
      assert(Buffer.isBuffer(v), 'blob value must be a Buffer');
      return Buffer.from(v);
    case 'inet': {
      assert(typeof v === 'string', 'inet value must be a string');
      const b = inetTextToBytes(v, false);
      assert(b !== null, `not an inet address: ${v}`);
      return b;
    }
  }
}

// ---- Deserialize ----------------------------------------------------------------------------

function malformed(t: CqlType, why: string): InvalidRequest {
  return new InvalidRequest(`Invalid ${formatType(t)} value: ${why}`);
}

export function deserializeValue(t: CqlType, b: Buffer): CqlValue {
  switch (t.kind) {
    case 'native':
      return deserializeNative(t, t.name, b);
    case 'list':
      return readElements(t, b, 1).map((e) => deserializeValue(t.element, e));
    case 'set':
      return normalizeSet(t.element, readElements(t, b, 1).map((e) => deserializeValue(t.element, e)));
    case 'map': {
      const items = readElements(t, b, 2);
      const entries: Array<[CqlValue, CqlValue]> = [];
      for (let i = 0; i < items.length; i += 2) entries.push([deserializeValue(t.key, items[i]!), deserializeValue(t.value, items[i + 1]!)]);
      return normalizeMap(t.key, entries);
    }
  }
}

/** Splits a collection into `count` × `width` length-prefixed items (flat), bounds-checked. */
function readElements(t: CqlType, b: Buffer, width: 1 | 2): Buffer[] {
  if (b.length < 4) throw malformed(t, `${b.length} bytes is too short for a count`);
  const count = b.readInt32BE(0);
  if (count < 0 || count * width * 4 > b.length - 4) throw malformed(t, `count ${count} does not fit in ${b.length} bytes`);
  const items: Buffer[] = [];
  let pos = 4;
  for (let i = 0; i < count * width; i++) {
    if (pos + 4 > b.length) throw malformed(t, 'truncated element length');
    const length = b.readInt32BE(pos);
    if (length < 0) throw malformed(t, 'null is not allowed inside a collection');
    if (pos + 4 + length > b.length) throw malformed(t, 'truncated element');
    items.push(b.subarray(pos + 4, pos + 4 + length));
    pos += 4 + length;
  }
  if (pos !== b.length) throw malformed(t, `${b.length - pos} trailing bytes`);
  return items;
}

function deserializeNative(t: CqlType, name: NativeTypeName, b: Buffer): CqlValue {
  const size = (n: number): void => {
    if (b.length !== n) throw malformed(t, `expected ${n} bytes, got ${b.length}`);
  };
  switch (name) {
    case 'int':
      size(4);
      return b.readInt32BE(0);
    case 'smallint':
      size(2);
      return b.readInt16BE(0);
    case 'tinyint':
      size(1);
      return b.readInt8(0);
    case 'bigint':
    case 'counter':
      size(8);
      return b.readBigInt64BE(0);
    case 'varint':
      if (b.length === 0 || b.length > MAX_VARINT_BYTES) throw malformed(t, `a varint has 1 to ${MAX_VARINT_BYTES} bytes, got ${b.length}`);
      return varintFromBytes(b);
    case 'float':
      size(4);
      return b.readFloatBE(0);
    case 'double':
      size(8);
      return b.readDoubleBE(0);
    case 'decimal': {
      if (b.length < 5 || b.length > 4 + MAX_VARINT_BYTES) throw malformed(t, `a decimal has 5 to ${4 + MAX_VARINT_BYTES} bytes, got ${b.length}`);
      const unscaled = varintFromBytes(b.subarray(4));
      const scale = b.readInt32BE(0);
      return { unscaled, scale: scale === 0 ? 0 : scale };
    }
    case 'boolean':
      size(1);
      return b[0] !== 0;
    case 'uuid':
      size(16);
      return uuidFromBytes(b);
    case 'timeuuid': {
      size(16);
      if (b[6]! >> 4 !== 1) throw malformed(t, `version ${b[6]! >> 4}, expected 1`);
      return uuidFromBytes(b);
    }
    case 'timestamp': {
      size(8);
      const ms = b.readBigInt64BE(0);
      if (ms > BigInt(MAX_TIMESTAMP_MS) || ms < -BigInt(MAX_TIMESTAMP_MS)) throw malformed(t, `${ms} ms is out of range`);
      return Number(ms);
    }
    case 'date':
      size(4);
      return b.readUInt32BE(0) - 2 ** 31;
    case 'time': {
      size(8);
      const nanos = b.readBigInt64BE(0);
      if (nanos < 0n || nanos >= NANOS_PER_DAY) throw malformed(t, `${nanos} ns is not a time of day`);
      return nanos;
    }
    case 'text': {
      let s: string;
      try {
        s = strictUtf8.decode(b);
      } catch {
        throw malformed(t, 'invalid UTF-8');
      }
      return s;
    }
    case 'ascii': {
      const s = b.toString('latin1');
      if (!isAscii(s)) throw malformed(t, 'a byte above 0x7f');
      return s;
    }
    case 'blob':
      return Buffer.from(b);
    case 'inet':
      if (b.length !== 4 && b.length !== 16) throw malformed(t, `expected 4 or 16 bytes, got ${b.length}`);
      return inetBytesToText(b);
  }
}

/** True when `v` has the in-memory shape of `t` (cql-type.ts); for assertions at boundaries. */
export function isValueOfType(t: CqlType, v: CqlValue): boolean {
  if (v === null) return true;
  if (t.kind === 'list' || t.kind === 'set') return Array.isArray(v) && (v as CqlValue[]).every((e) => e !== null && isValueOfType(t.element, e));
  if (t.kind === 'map') {
    return Array.isArray(v) && (v as unknown[]).every((e) => Array.isArray(e) && e.length === 2 && e[0] !== null && e[1] !== null && isValueOfType(t.key, e[0] as CqlValue) && isValueOfType(t.value, e[1] as CqlValue));
  }
  switch (t.name) {
    case 'int':
    case 'smallint':
    case 'tinyint': {
      const limit = 2 ** ({ int: 31, smallint: 15, tinyint: 7 } as const)[t.name];
      return typeof v === 'number' && Number.isInteger(v) && v >= -limit && v < limit;
    }
    case 'bigint':
    case 'counter':
      return typeof v === 'bigint' && v >= INT64_MIN && v <= INT64_MAX;
    case 'varint':
      return typeof v === 'bigint' && varintFits(v);
    case 'float':
      return typeof v === 'number' && (Number.isNaN(v) || Math.fround(v) === v);
    case 'double':
      return typeof v === 'number';
    case 'decimal':
      return typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v) && typeof (v as CqlDecimal).unscaled === 'bigint' && Number.isInteger((v as CqlDecimal).scale);
    case 'boolean':
      return typeof v === 'boolean';
    case 'uuid':
      return typeof v === 'string' && isCanonicalUuid(v);
    case 'timeuuid':
      return typeof v === 'string' && isCanonicalUuid(v) && v.charAt(14) === '1';
    case 'timestamp':
      return typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= MAX_TIMESTAMP_MS;
    case 'date':
      return typeof v === 'number' && Number.isInteger(v) && v >= MIN_DATE_DAYS && v <= MAX_DATE_DAYS;
    case 'time':
      return typeof v === 'bigint' && v >= 0n && v < NANOS_PER_DAY;
    case 'text':
      return typeof v === 'string' && isWellFormedText(v);
    case 'ascii':
      return typeof v === 'string' && isAscii(v);
    case 'blob':
      return Buffer.isBuffer(v);
    case 'inet':
      return typeof v === 'string' && inetTextToBytes(v, false) !== null;
  }
}
