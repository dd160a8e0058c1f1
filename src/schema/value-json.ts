/**
 * CQL values ⇄ JSON: the encoding of SPEC 3.1 for result rows, and what a bound parameter or
 * `INSERT … JSON` accepts.
 *
 * Cassandra concept: `AbstractType.toJSONString` / `fromJSONObject`.
 *
 * Output (`valueToJson`)
 *   text, ascii, inet, uuid, timeuuid → string        boolean → true / false
 *   int, smallint, tinyint, double → number          float → the shortest number that rounds to
 *   bigint, varint, counter, decimal → decimal string   the same float32 (0.1, not 0.10000000149…)
 *   NaN, Infinity, -Infinity (float, double) → the strings "NaN", "Infinity", "-Infinity"
 *   −0.0 → the number -0 (which JSON.stringify writes as 0)
 *   timestamp → "2024-05-01T12:00:00.000Z"   date → "2024-05-01"   time → "12:00:00.000000000"
 *   blob → "0xcafe"   list, set → array   map → object (a null-prototype object, so a key
 *   "__proto__" is an ordinary key); a non-text key is its own JSON encoding as a string
 *   (`{"1": "a"}` for map<int, text>, `{"true": 1}`, `{"2024-05-01": 1}`). Note that JS objects
 *   enumerate integer-like keys first, so such a map's keys may print out of CQL order.
 *
 * Input (`valueFromJson`) accepts all of the above, and also
 *   int, smallint, tinyint, bigint, varint, counter: a number without fraction, or an integer
 *     string; bigint, varint and counter numbers must be safe integers (|n| < 2^53): larger
 *     values lose precision in JSON, so they must come as strings
 *   float, double: a number or a numeric string; decimal: a number or a decimal string
 *   boolean: also the strings "true" / "false" (any case)
 *   timestamp: a number of milliseconds, or a string in the CQL literal formats
 *   date: a string `YYYY-MM-DD` (or raw unsigned digits, as in CQL); time: a string `HH:MM:SS[.f…]`
 *     (or digits = nanoseconds)
 *   set: an array, sorted and deduplicated here; map: an object whose keys are read with the
 *     key type's string rules, or an array of [key, value] pairs (later duplicates win)
 *   null (or undefined) → null; a null inside a collection is an error.
 *
 * Error message (`InvalidRequest`), one format everywhere:
 *   Invalid value for column "<column>" of type <type>: <value as JSON>[ (<reason>)]
 * where <type> and <value> are those of the innermost element that failed (the element type
 * inside a collection) and <value> is cut to `MAX_ERROR_VALUE_CHARS`. A reason is added only
 * when the value has the right form but is unacceptable: `out of range`, `not an integer`,
 * `not a version 1 UUID`, `null inside a collection`, `not a 7-bit ASCII string`,
 * `beyond 2^53, pass it as a string` (an integral JSON number too large to be exact),
 * `unpaired surrogate`.
 */
import { InvalidRequest } from '../errors.js';
import type { CqlDecimal, CqlType, CqlValue, NativeTypeName } from './cql-type.js';
import { formatType } from './type-names.js';
import { normalizeMap, normalizeSet } from './value-compare.js';
import {
  formatDate,
  formatDecimal,
  formatTime,
  formatTimestampIso,
  isAscii,
  isWellFormedText,
  MAX_TIMESTAMP_MS,
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
import { parseUuid } from './timeuuid.js';

export const MAX_ERROR_VALUE_CHARS = 100;

// ---- To JSON --------------------------------------------------------------------------------

function floatToJson(v: number): number | string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

/** The SPEC 3.1 JSON encoding of a value (null for an absent cell). */
export function valueToJson(t: CqlType, v: CqlValue): unknown {
  if (v === null) return null;
  switch (t.kind) {
    case 'list':
    case 'set':
      return (v as CqlValue[]).map((e) => valueToJson(t.element, e));
    case 'map': {
      const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      for (const [k, value] of v as Array<[CqlValue, CqlValue]>) out[mapKeyToJson(t.key, k)] = valueToJson(t.value, value);
      return out;
    }
    case 'native':
      return nativeToJson(t.name, v);
  }
}

function mapKeyToJson(keyType: CqlType, k: CqlValue): string {
  const json = valueToJson(keyType, k);
  return typeof json === 'string' ? json : JSON.stringify(json);
}

function nativeToJson(name: NativeTypeName, v: CqlValue): unknown {
  switch (name) {
    case 'text':
    case 'ascii':
    case 'inet':
    case 'uuid':
    case 'timeuuid':
    case 'boolean':
    case 'int':
    case 'smallint':
    case 'tinyint':
      return v;
    case 'float':
      return floatToJson(shortestFloat32(v as number));
    case 'double':
      return floatToJson(v as number);
    case 'bigint':
    case 'varint':
    case 'counter':
      return (v as bigint).toString();
    case 'decimal':
      return formatDecimal(v as CqlDecimal);
    case 'timestamp':
      return formatTimestampIso(v as number);
    case 'date':
      return formatDate(v as number);
    case 'time':
      return formatTime(v as bigint);
    case 'blob':
      return '0x' + (v as Buffer).toString('hex');
  }
}

// ---- From JSON ------------------------------------------------------------------------------

function preview(json: unknown): string {
  let text: string;
  try {
    text = typeof json === 'bigint' ? json.toString() : (JSON.stringify(json) ?? String(json));
  } catch {
    text = String(json);
  }
  return text.length > MAX_ERROR_VALUE_CHARS ? text.slice(0, MAX_ERROR_VALUE_CHARS) + '…' : text;
}

function invalid(t: CqlType, json: unknown, column: string, reason?: string): InvalidRequest {
  const suffix = reason === undefined ? '' : ` (${reason})`;
  return new InvalidRequest(`Invalid value for column "${column}" of type ${formatType(t)}: ${preview(json)}${suffix}`);
}

/** A JSON value as a value of `t`; `column` names the column in error messages. */
export function valueFromJson(t: CqlType, json: unknown, column: string): CqlValue {
  if (json === null || json === undefined) return null;
  return fromJson(t, json, column);
}

function element(t: CqlType, json: unknown, column: string): CqlValue {
  if (json === null || json === undefined) throw invalid(t, null, column, 'null inside a collection');
  return fromJson(t, json, column);
}

function fromJson(t: CqlType, json: unknown, column: string): CqlValue {
  switch (t.kind) {
    case 'list':
    case 'set': {
      if (!Array.isArray(json)) throw invalid(t, json, column);
      const values = json.map((e) => element(t.element, e, column));
      return t.kind === 'set' ? normalizeSet(t.element, values) : values;
    }
    case 'map':
      return normalizeMap(t.key, mapEntriesFromJson(t, json, column));
    case 'native':
      return nativeFromJson(t, t.name, json, column);
  }
}

function mapEntriesFromJson(t: Extract<CqlType, { kind: 'map' }>, json: unknown, column: string): Array<[CqlValue, CqlValue]> {
  if (Array.isArray(json)) {
    return json.map((pair: unknown) => {
      if (!Array.isArray(pair) || pair.length !== 2) throw invalid(t, pair, column);
      return [element(t.key, pair[0], column), element(t.value, pair[1], column)];
    });
  }
  if (typeof json !== 'object' || json === null || Buffer.isBuffer(json)) throw invalid(t, json, column);
  // Every key type accepts its own JSON encoding given as a string (see the header).
  return Object.entries(json).map(([k, v]) => [element(t.key, k, column), element(t.value, v, column)]);
}

type Native = Extract<CqlType, { kind: 'native' }>;

/** An integral JSON number or bigint, or an integer string, as a bigint; otherwise why not. */
function integerOf(json: unknown): bigint | 'fraction' | 'unsafe' | null {
  if (typeof json === 'bigint') return json;
  if (typeof json === 'number') {
    if (!Number.isFinite(json)) return null;
    if (!Number.isInteger(json)) return 'fraction';
    return Number.isSafeInteger(json) ? BigInt(json) : 'unsafe';
  }
  if (typeof json === 'string') return parseIntegerText(json);
  return null;
}

const UNSAFE = 'beyond 2^53, pass it as a string';

/** An integer of `bits` bits (or, with `bits` null, a varint within MAX_VARINT_BYTES). */
function boundedInteger(t: Native, json: unknown, column: string, bits: number | null): bigint {
  const n = integerOf(json);
  if (n === null) throw invalid(t, json, column);
  if (n === 'fraction') throw invalid(t, json, column, 'not an integer');
  const limit = bits === null ? null : 1n << BigInt(bits - 1);
  if (n === 'unsafe') {
    // A float beyond 2^53 is exact as a float, so it can still be checked against the range.
    const x = json as number;
    const outside = limit !== null && (x < -Number(limit) || x >= Number(limit));
    throw invalid(t, json, column, outside ? 'out of range' : UNSAFE);
  }
  if (limit === null ? !varintFits(n) : n < -limit || n >= limit) throw invalid(t, json, column, 'out of range');
  return n;
}

function nativeFromJson(t: Native, name: NativeTypeName, json: unknown, column: string): CqlValue {
  const bad = (reason?: string): InvalidRequest => invalid(t, json, column, reason);
  const str = (): string => {
    if (typeof json !== 'string') throw bad();
    return json;
  };
  switch (name) {
    case 'text': {
      const s = str();
      if (!isWellFormedText(s)) throw bad('unpaired surrogate');
      return s;
    }
    case 'ascii': {
      const s = str();
      if (!isAscii(s)) throw bad('not a 7-bit ASCII string');
      return s;
    }
    case 'int':
      return Number(boundedInteger(t, json, column, 32));
    case 'smallint':
      return Number(boundedInteger(t, json, column, 16));
    case 'tinyint':
      return Number(boundedInteger(t, json, column, 8));
    case 'bigint':
    case 'counter':
      return boundedInteger(t, json, column, 64);
    case 'varint':
      return boundedInteger(t, json, column, null);
    case 'float':
    case 'double': {
      const n = typeof json === 'number' ? json : typeof json === 'string' ? parseFloatText(json) : null;
      if (n === null) throw bad();
      return name === 'float' ? Math.fround(n) : n;
    }
    case 'decimal': {
      if (typeof json === 'number' && !Number.isFinite(json)) throw bad();
      const d = typeof json === 'number' ? parseDecimalText(String(json)) : typeof json === 'string' ? parseDecimalText(json) : null;
      if (d === null) throw bad();
      return d;
    }
    case 'boolean':
      if (typeof json === 'boolean') return json;
      if (typeof json === 'string' && /^(true|false)$/i.test(json)) return json.toLowerCase() === 'true';
      throw bad();
    case 'uuid':
    case 'timeuuid': {
      const u = parseUuid(str());
      if (u === null) throw bad();
      if (name === 'timeuuid' && u.charAt(14) !== '1') throw bad('not a version 1 UUID');
      return u;
    }
    case 'timestamp': {
      if (typeof json === 'number') {
        if (!Number.isInteger(json)) throw bad('not an integer');
        if (Math.abs(json) > MAX_TIMESTAMP_MS) throw bad('out of range');
        return json === 0 ? 0 : json;
      }
      const r = parseTimestampText(str());
      if ('error' in r) throw bad(r.error === 'raw' ? 'out of range' : undefined);
      return r.ms;
    }
    case 'date': {
      const r = parseDateText(str());
      if ('error' in r) throw bad(r.error === 'raw' ? 'out of range' : undefined);
      return r.days;
    }
    case 'time': {
      const r = parseTimeText(str());
      if ('error' in r) throw bad(r.error === 'raw' ? 'out of range' : undefined);
      return r.nanos;
    }
    case 'blob': {
      const s = str();
      const b = s.startsWith('0x') || s.startsWith('0X') ? parseHexDigits(s.slice(2)) : null;
      if (b === null) throw bad();
      return b;
    }
    case 'inet': {
      const a = parseInetText(str());
      if (a === null) throw bad();
      return a;
    }
  }
}
