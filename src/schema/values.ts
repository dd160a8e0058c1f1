/**
 * CQL value codecs: the one import for everything that reads, writes, orders or prints a
 * value of a `CqlType` (in-memory representation: cql-type.ts).
 *
 * - value-codec.ts    Cassandra's native binary serialization (what tokens are hashed from)
 * - value-json.ts     the SPEC 3.1 JSON encoding, and JSON parameters / INSERT … JSON
 * - value-literal.ts  CQL literal constants in, CQL literals out (DESCRIBE, the shell)
 * - value-compare.ts  Cassandra's order of each type; sets and maps in normal form
 * - value-formats.ts  the text forms they share (timestamps, dates, times, inet, decimals)
 * - timeuuid.ts       version-1 and version-4 UUIDs
 */
export { deserializeValue, isValueOfType, serializeValue } from './value-codec.js';
export { compareValues, normalizeCollection, normalizeMap, normalizeSet } from './value-compare.js';
export { valueFromJson, valueToJson } from './value-json.js';
export { formatCqlLiteral, valueFromConstant } from './value-literal.js';
