/**
 * CQL literal constants ⇄ values: what `INSERT … VALUES (42, 'ada', 0xcafe)` means for each
 * column type, and how DESCRIBE and the shell print a value back as a literal.
 *
 * Cassandra concept: `Constants.Literal` (`testAssignment`, then the type's `fromString`) and
 * `AbstractType.toCQLLiteral`.
 *
 * Which constants a type accepts (Cassandra's table, plus uuid/timeuuid from strings):
 *   STRING  → ascii (7-bit only), text, inet, date, time, timestamp, uuid, timeuuid
 *   INTEGER → tinyint, smallint, int, bigint, counter, varint, decimal, float, double,
 *             timestamp (ms), date (raw unsigned days, epoch at 2^31), time (ns)
 *   FLOAT   → float, double, decimal          UUID → uuid, timeuuid (version 1 only)
 *   BOOLEAN → boolean                         HEX  → blob
 *   null    → null for every type (the planner refuses it where Cassandra does, e.g. counters)
 * Deviation: Cassandra refuses a STRING constant for uuid/timeuuid; ringtail accepts it.
 *
 * Errors (`InvalidRequest`), with Cassandra's wording:
 *   not assignable:  Invalid INTEGER constant (1) for "name" of type text
 *   unreadable:      the type's own message, e.g. Unable to make int from '3000000000',
 *                    Unable to coerce '2024-13-01' to a formatted date (long),
 *                    TimeUUID supports only version 1 UUIDs
 * Quoted input in messages is cut to `MAX_ERROR_TEXT_CHARS` characters.
 */
import type { Constant } from '../cql/ast.js';
import { InvalidRequest } from '../errors.js';
import type { CqlDecimal, CqlType, CqlValue, NativeTypeName } from './cql-type.js';
import { parseUuid } from './timeuuid.js';
import { formatType } from './type-names.js';
import {
  formatDate,
  formatDecimal,
  formatTime,
  formatTimestampLiteral,
  isAscii,
  isWellFormedText,
  parseDateText,
  parseDecimalText,
  parseFloatText,
  parseHexDigits,
  parseInetText,
  parseIntegerText,
  parseTimestampText,
  parseTimeText,
  shortestFloat32,
  varintFits,
} from './value-formats.js';

export const MAX_ERROR_TEXT_CHARS = 200;

type ConstantKind = Exclude<Constant['kind'], 'null'>;

const KIND_NAMES: Readonly<Record<ConstantKind, string>> = {
  string: 'STRING',
  integer: 'INTEGER',
  float: 'FLOAT',
  boolean: 'BOOLEAN',
  uuid: 'UUID',
  hex: 'HEX',
};

const ASSIGNABLE: Readonly<Record<ConstantKind, ReadonlySet<NativeTypeName>>> = {
  string: new Set(['ascii', 'text', 'inet', 'date', 'time', 'timestamp', 'uuid', 'timeuuid']),
  integer: new Set(['tinyint', 'smallint', 'int', 'bigint', 'counter', 'varint', 'decimal', 'float', 'double', 'timestamp', 'date', 'time']),
  float: new Set(['float', 'double', 'decimal']),
  boolean: new Set(['boolean']),
  uuid: new Set(['uuid', 'timeuuid']),
  hex: new Set(['blob']),
};

function clip(s: string): string {
  return s.length > MAX_ERROR_TEXT_CHARS ? s.slice(0, MAX_ERROR_TEXT_CHARS) + '…' : s;
}

function constantText(c: Exclude<Constant, { kind: 'null' }>): string {
  switch (c.kind) {
    case 'string':
      return c.value;
    case 'boolean':
      return String(c.value);
    default:
      return c.text;
  }
}

const INTEGER_BITS: Partial<Record<NativeTypeName, { bits: number; java: string }>> = {
  tinyint: { bits: 8, java: 'byte' },
  smallint: { bits: 16, java: 'short' },
  int: { bits: 32, java: 'int' },
  bigint: { bits: 64, java: 'long' },
  counter: { bits: 64, java: 'long' },
};

/** The value of CQL constant `c` for a column `column` of type `t`. */
export function valueFromConstant(t: CqlType, c: Constant, column: string): CqlValue {
  if (c.kind === 'null') return null;
  const text = constantText(c);
  if (t.kind !== 'native' || !ASSIGNABLE[c.kind].has(t.name)) {
    throw new InvalidRequest(`Invalid ${KIND_NAMES[c.kind]} constant (${clip(text)}) for "${column}" of type ${formatType(t)}`);
  }
  if (c.kind === 'boolean') return c.value;
  return nativeFromText(t.name, text);
}

/** `text` read by the type's `fromString`, with its Cassandra error message. */
function nativeFromText(name: NativeTypeName, text: string): CqlValue {
  const quoted = `'${clip(text)}'`;
  const fail = (message: string): never => {
    throw new InvalidRequest(message);
  };
  const integer = INTEGER_BITS[name];
  if (integer !== undefined) {
    const n = parseIntegerText(text);
    const limit = 1n << BigInt(integer.bits - 1);
    if (n === null || n < -limit || n >= limit) return fail(`Unable to make ${integer.java} from ${quoted}`);
    return integer.bits === 64 ? n : Number(n);
  }
  switch (name) {
    case 'varint': {
      const n = parseIntegerText(text);
      return n !== null && varintFits(n) ? n : fail(`unable to make int from ${quoted}`);
    }
    case 'float':
    case 'double': {
      const n = parseFloatText(text);
      if (n === null) return fail(`Unable to make ${name} from ${quoted}`);
      return name === 'float' ? Math.fround(n) : n;
    }
    case 'decimal':
      return parseDecimalText(text) ?? fail(`unable to make BigDecimal from ${quoted}`);
    case 'text':
      return isWellFormedText(text) ? text : fail('String contains an unpaired UTF-16 surrogate');
    case 'ascii':
      return isAscii(text) ? text : fail(`Invalid ASCII character in string literal: ${quoted}`);
    case 'inet':
      return parseInetText(text) ?? fail(`Unable to make inet address from ${quoted}`);
    case 'uuid':
      return parseUuid(text) ?? fail(`Unable to make UUID from ${quoted}`);
    case 'timeuuid': {
      const u = parseUuid(text) ?? fail(`Unknown timeuuid representation: ${clip(text)}`);
      return u.charAt(14) === '1' ? u : fail('TimeUUID supports only version 1 UUIDs');
    }
    case 'timestamp': {
      const r = parseTimestampText(text);
      if ('ms' in r) return r.ms;
      return r.error === 'raw' ? fail(`Unable to make long (for date) from: ${quoted}`) : fail(`Unable to coerce ${quoted} to a formatted date (long)`);
    }
    case 'date': {
      const r = parseDateText(text);
      if ('days' in r) return r.days;
      return r.error === 'raw' ? fail(`Unable to make unsigned int (for date) from: ${quoted}`) : fail(`Unable to coerce ${quoted} to a formatted date (long)`);
    }
    case 'time': {
      const r = parseTimeText(text);
      if ('nanos' in r) return r.nanos;
      return r.error === 'raw' ? fail(`Unable to make long (for time) from: ${quoted}`) : fail(`(TimeType) Unable to coerce ${quoted} to a formatted time (long)`);
    }
    case 'blob': {
      const digits = text.slice(2);
      return parseHexDigits(digits) ?? fail(`cannot parse '${clip(digits)}' as hex bytes`);
    }
    default:
      return fail(`Cannot read a ${name} constant`);
  }
}

// ---- Values as literals ---------------------------------------------------------------------

function quote(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

function floatLiteral(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (Object.is(v, -0)) return '-0.0';
  return String(v);
}

/** A value as a CQL literal that reads back as the same value: `'it''s'`, `42`, `0xcafe`, `[1, 2]`. */
export function formatCqlLiteral(t: CqlType, v: CqlValue): string {
  if (v === null) return 'null';
  switch (t.kind) {
    case 'list':
      return `[${(v as CqlValue[]).map((e) => formatCqlLiteral(t.element, e)).join(', ')}]`;
    case 'set':
      return `{${(v as CqlValue[]).map((e) => formatCqlLiteral(t.element, e)).join(', ')}}`;
    case 'map':
      return `{${(v as Array<[CqlValue, CqlValue]>).map(([k, x]) => `${formatCqlLiteral(t.key, k)}: ${formatCqlLiteral(t.value, x)}`).join(', ')}}`;
    case 'native':
      break;
  }
  switch (t.name) {
    case 'text':
    case 'ascii':
    case 'inet':
      return quote(v as string);
    case 'int':
    case 'smallint':
    case 'tinyint':
      return String(v === 0 ? 0 : v);
    case 'bigint':
    case 'counter':
    case 'varint':
    case 'boolean':
    case 'uuid':
    case 'timeuuid':
      return String(v);
    case 'float':
      return floatLiteral(shortestFloat32(v as number));
    case 'double':
      return floatLiteral(v as number);
    case 'decimal':
      return formatDecimal(v as CqlDecimal);
    case 'timestamp':
      return quote(formatTimestampLiteral(v as number));
    case 'date':
      return quote(formatDate(v as number));
    case 'time':
      return quote(formatTime(v as bigint));
    case 'blob':
      return '0x' + (v as Buffer).toString('hex');
  }
}
