/**
 * The order of CQL values, as Cassandra's comparators define it, and the normal form of sets
 * and maps built on it.
 *
 * Cassandra concept: `AbstractType.compare` of each type. It orders clustering rows, set
 * elements and map keys, so a set or map here must hold its elements in exactly this order.
 *
 * Per type
 * - Integer types, varint, counter, timestamp, date, time: by signed value.
 * - float, double: Java's `Float.compare`/`Double.compare`: −0.0 < 0.0, NaN above +Infinity
 *   and equal to itself (a total order, unlike `<`).
 * - decimal: by numeric value (`1.0` equals `1.00`, like `BigDecimal.compareTo`).
 * - text, ascii: by UTF-8 bytes, i.e. by code point (not by UTF-16 code unit).
 * - blob, inet: unsigned bytes, shorter prefix first (so every IPv4 sorts by its 4 bytes).
 * - boolean: false < true.
 * - uuid (UUIDType): by version; then version-1 UUIDs by timestamp, others by the first eight
 *   bytes unsigned; then the last eight bytes unsigned.
 * - timeuuid (TimeUUIDType): by timestamp, then the last eight bytes as *signed* bytes.
 * - list, set, map: element by element (a map entry by key, then value), shorter prefix first.
 *
 * Invariant: `compareValues` is a total order on the in-memory values of one type; values it
 * calls equal serialize to the same bytes, except decimals of equal value and different scale.
 */
import { assert } from '../util/assert.js';
import type { CqlDecimal, CqlType, CqlValue } from './cql-type.js';
import { inetTextToBytes } from './value-formats.js';

function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

function compareNumbers(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareBigints(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Java's `Double.compare`. */
export function compareFloats(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  const aNaN = Number.isNaN(a);
  const bNaN = Number.isNaN(b);
  if (aNaN || bNaN) return aNaN === bNaN ? 0 : aNaN ? 1 : -1;
  if (a === 0 && b === 0) return compareNumbers(Object.is(a, -0) ? 0 : 1, Object.is(b, -0) ? 0 : 1);
  return 0;
}

/**
 * By value without scaling to a common exponent blindly: a malicious scale of 2^31 must not
 * build a 10^(2^31) bigint. Values of different magnitude are ordered by their decimal
 * exponent; equal exponents bound the scale difference by the digit counts.
 */
export function compareDecimals(a: CqlDecimal, b: CqlDecimal): number {
  const signA = a.unscaled < 0n ? -1 : a.unscaled > 0n ? 1 : 0;
  const signB = b.unscaled < 0n ? -1 : b.unscaled > 0n ? 1 : 0;
  if (signA !== signB) return signA < signB ? -1 : 1;
  if (signA === 0) return 0;
  let magnitudeA = signA < 0 ? -a.unscaled : a.unscaled;
  let magnitudeB = signB < 0 ? -b.unscaled : b.unscaled;
  const digitsA = magnitudeA.toString().length;
  const digitsB = magnitudeB.toString().length;
  // |x| lies in [10^(e-1), 10^e) with e = digits − scale.
  const exponentA = digitsA - a.scale;
  const exponentB = digitsB - b.scale;
  let byMagnitude: number;
  if (exponentA !== exponentB) byMagnitude = exponentA < exponentB ? -1 : 1;
  else {
    if (a.scale < b.scale) magnitudeA *= 10n ** BigInt(b.scale - a.scale);
    else magnitudeB *= 10n ** BigInt(a.scale - b.scale);
    byMagnitude = compareBigints(magnitudeA, magnitudeB);
  }
  return signA < 0 ? 0 - byMagnitude : byMagnitude;
}

/** UTF-8 byte order of well-formed strings, without encoding them. */
export function compareText(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (supplementary code points) sort above U+E000..U+FFFF in UTF-8: lift them.
    if (x >= 0xd800) x += x >= 0xe000 ? -0x800 : 0x2000;
    if (y >= 0xd800) y += y >= 0xe000 ? -0x800 : 0x2000;
    return x < y ? -1 : 1;
  }
  return compareNumbers(a.length, b.length);
}

function compareHex(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function uuidTimeHex(u: string): string {
  return u.slice(15, 18) + u.slice(9, 13) + u.slice(0, 8);
}

/** Cassandra's UUIDType order, on canonical lower-case text (hex text order = unsigned byte order). */
export function compareUuids(a: string, b: string): number {
  const versionA = parseInt(a.charAt(14), 16);
  const versionB = parseInt(b.charAt(14), 16);
  if (versionA !== versionB) return compareNumbers(versionA, versionB);
  const high = versionA === 1 ? compareHex(uuidTimeHex(a), uuidTimeHex(b)) : compareHex(a.slice(0, 18), b.slice(0, 18));
  return high !== 0 ? high : compareHex(a.slice(19), b.slice(19));
}

/** Cassandra's TimeUUIDType order: timestamp, then each of the last eight bytes signed. */
export function compareTimeUuids(a: string, b: string): number {
  const c = compareHex(uuidTimeHex(a), uuidTimeHex(b));
  if (c !== 0) return c;
  const lowA = a.slice(19).replace('-', '');
  const lowB = b.slice(19).replace('-', '');
  for (let i = 0; i < 16; i += 2) {
    const x = parseInt(lowA.slice(i, i + 2), 16) ^ 0x80;
    const y = parseInt(lowB.slice(i, i + 2), 16) ^ 0x80;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function compareInets(a: string, b: string): number {
  const x = inetTextToBytes(a, false);
  const y = inetTextToBytes(b, false);
  assert(x !== null && y !== null, `not inet addresses: ${a}, ${b}`);
  return Buffer.compare(x, y);
}

function compareSequences<T>(a: readonly T[], b: readonly T[], compare: (x: T, y: T) => number): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compare(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return compareNumbers(a.length, b.length);
}

/** Cassandra's order of two non-null values of type `t`: negative, 0 or positive. */
export function compareValues(t: CqlType, a: CqlValue, b: CqlValue): number {
  assert(a !== null && b !== null, 'compareValues does not order nulls');
  switch (t.kind) {
    case 'list':
    case 'set':
      return compareSequences(a as CqlValue[], b as CqlValue[], (x, y) => compareValues(t.element, x, y));
    case 'map':
      return compareSequences(a as Array<[CqlValue, CqlValue]>, b as Array<[CqlValue, CqlValue]>, (x, y) => {
        const c = compareValues(t.key, x[0], y[0]);
        return c !== 0 ? c : compareValues(t.value, x[1], y[1]);
      });
    case 'native':
      break;
  }
  switch (t.name) {
    case 'int':
    case 'smallint':
    case 'tinyint':
    case 'timestamp':
    case 'date':
      return compareNumbers(a as number, b as number);
    case 'bigint':
    case 'counter':
    case 'varint':
    case 'time':
      return compareBigints(a as bigint, b as bigint);
    case 'float':
    case 'double':
      return compareFloats(a as number, b as number);
    case 'decimal':
      return compareDecimals(a as CqlDecimal, b as CqlDecimal);
    case 'text':
    case 'ascii':
      return sign(compareText(a as string, b as string));
    case 'boolean':
      return compareNumbers(a ? 1 : 0, b ? 1 : 0);
    case 'uuid':
      return compareUuids(a as string, b as string);
    case 'timeuuid':
      return compareTimeUuids(a as string, b as string);
    case 'blob':
      return Buffer.compare(a as Buffer, b as Buffer);
    case 'inet':
      return compareInets(a as string, b as string);
  }
}

/** A set's normal form: sorted in the element type's order, duplicates dropped. */
export function normalizeSet(element: CqlType, values: readonly CqlValue[]): CqlValue[] {
  const sorted = [...values].sort((x, y) => compareValues(element, x, y));
  return sorted.filter((v, i) => i === 0 || compareValues(element, sorted[i - 1]!, v) !== 0);
}

/** A map's normal form: sorted by key; of entries with equal keys the last one given wins. */
export function normalizeMap(key: CqlType, entries: ReadonlyArray<readonly [CqlValue, CqlValue]>): Array<[CqlValue, CqlValue]> {
  const sorted = entries.map(([k, v]) => [k, v] as [CqlValue, CqlValue]).sort((x, y) => compareValues(key, x[0], y[0]));
  const out: Array<[CqlValue, CqlValue]> = [];
  for (const entry of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && compareValues(key, last[0], entry[0]) === 0) out[out.length - 1] = entry;
    else out.push(entry);
  }
  return out;
}

/** Sets and maps in normal form (recursively harmless: collections do not nest); other values as given. */
export function normalizeCollection(t: CqlType, v: CqlValue): CqlValue {
  if (v === null) return null;
  if (t.kind === 'set') return normalizeSet(t.element, v as CqlValue[]);
  if (t.kind === 'map') return normalizeMap(t.key, v as Array<[CqlValue, CqlValue]>);
  return v;
}
