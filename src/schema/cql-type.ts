/**
 * CQL data types (SPEC 4) and how their values are held in memory.
 *
 * In-memory representation of a value of each type (`CqlValue`), used by every codec:
 * - `ascii`, `text` (`varchar` is an alias of `text`): string
 * - `int`, `smallint`, `tinyint`, `float`, `double`: number
 * - `bigint`, `counter`, `varint`: bigint
 * - `decimal`: `CqlDecimal` (unscaled bigint and a scale: value = unscaled × 10^-scale)
 * - `boolean`: boolean
 * - `uuid`, `timeuuid`: string, canonical lower-case 8-4-4-4-12
 * - `timestamp`: number, milliseconds since the epoch (may be negative)
 * - `date`: number, days since the epoch (may be negative)
 * - `time`: bigint, nanoseconds since midnight
 * - `blob`: Buffer
 * - `inet`: string, canonical (dotted IPv4, or RFC 5952 IPv6)
 * - `list<T>`: CqlValue[] in list order
 * - `set<T>`: CqlValue[] sorted in the element type's order, without duplicates
 * - `map<K, V>`: Array<[K, V]> sorted by key in the key type's order, keys unique
 * An absent value is `null`.
 */

export type NativeTypeName =
  | 'ascii'
  | 'text'
  | 'int'
  | 'bigint'
  | 'smallint'
  | 'tinyint'
  | 'varint'
  | 'float'
  | 'double'
  | 'decimal'
  | 'boolean'
  | 'uuid'
  | 'timeuuid'
  | 'timestamp'
  | 'date'
  | 'time'
  | 'blob'
  | 'inet'
  | 'counter';

export type CqlType =
  | { readonly kind: 'native'; readonly name: NativeTypeName }
  | { readonly kind: 'list'; readonly element: CqlType }
  | { readonly kind: 'set'; readonly element: CqlType }
  | { readonly kind: 'map'; readonly key: CqlType; readonly value: CqlType };

export interface CqlDecimal {
  readonly unscaled: bigint;
  readonly scale: number;
}

export type CqlValue =
  | string
  | number
  | bigint
  | boolean
  | Buffer
  | CqlDecimal
  | CqlValue[]
  | Array<[CqlValue, CqlValue]>
  | null;

export function isCollection(t: CqlType): t is Exclude<CqlType, { kind: 'native' }> {
  return t.kind !== 'native';
}
