/**
 * The textual and binary forms of CQL scalar values that more than one codec needs: integer,
 * decimal and float text; varint bytes; dates, times and timestamps; inet addresses; hex.
 *
 * Cassandra concept: the `fromString`/`toString` of each `AbstractType` and its serializer
 * (TimestampSerializer, SimpleDateSerializer, TimeSerializer, DecimalSerializer, …). Parsers
 * here return `null` for input they cannot read; the callers (constants, JSON) word the error,
 * because Cassandra words it differently in each place.
 *
 * Deviations from Cassandra, on purpose
 * - A timestamp written without a zone is read as UTC (Cassandra uses the server's zone), and
 *   zones are `Z`, `UTC`, `GMT` or numeric offsets (`+01`, `+0100`, `+01:00`), not zone names.
 *   Its fraction of a second is a decimal fraction of 1 to 3 digits (`.5` is 500 ms; Cassandra's
 *   SimpleDateFormat reads it as 5 ms). `'now'` is not a timestamp literal: use `now()`.
 * - Calendar arithmetic is proleptic Gregorian throughout (java.time's, not the Julian switch
 *   of SimpleDateFormat before 1582).
 * - An `inet` is an IP literal only (IPv4 dotted quad, or IPv6 text); host names are refused.
 *
 * Bounds
 * - Integer and decimal text: at most `MAX_NUMERIC_TEXT_CHARS` characters; a varint at most
 *   `MAX_VARINT_BYTES` bytes (so no input makes a quadratic bigint conversion long).
 * - Timestamps: |ms| ≤ `MAX_TIMESTAMP_MS` (the range of an ECMAScript Date, ±273,790 years).
 * - Dates: any int32 day count (the full range of the `date` type, ±5.8 million years).
 * - Decimal scale: int32, as in the serialized form.
 */
import type { CqlDecimal } from './cql-type.js';

export const MAX_NUMERIC_TEXT_CHARS = 4096;
/** Enough for every value of `MAX_NUMERIC_TEXT_CHARS` digits. */
export const MAX_VARINT_BYTES = 2048;
export const MAX_TIMESTAMP_MS = 8_640_000_000_000_000;
export const MIN_DATE_DAYS = -(2 ** 31);
export const MAX_DATE_DAYS = 2 ** 31 - 1;
export const NANOS_PER_DAY = 86_400_000_000_000n;
const MS_PER_DAY = 86_400_000;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
/** Cassandra prints a decimal plainly when |scale| ≤ this, else in scientific notation. */
const DECIMAL_PLAIN_MAX_SCALE = 100;

// ---- Integers and varint bytes --------------------------------------------------------------

const INTEGER_RE = /^[+-]?\d+$/;

/** An optionally signed decimal integer (Java's `Long.parseLong`/`BigInteger` syntax), or null. */
export function parseIntegerText(s: string): bigint | null {
  if (s.length > MAX_NUMERIC_TEXT_CHARS || !INTEGER_RE.test(s)) return null;
  return BigInt(s);
}

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/** Whether `v` serializes within `MAX_VARINT_BYTES`. */
export function varintFits(v: bigint): boolean {
  return bitLength(v < 0n ? -v - 1n : v) < MAX_VARINT_BYTES * 8;
}

/** Java's `BigInteger.toByteArray()`: minimal big-endian two's complement, at least one byte. */
export function varintToBytes(v: bigint): Buffer {
  const magnitude = v < 0n ? -v - 1n : v;
  const byteCount = Math.floor(bitLength(magnitude) / 8) + 1;
  const unsigned = v < 0n ? (1n << BigInt(byteCount * 8)) + v : v;
  return Buffer.from(unsigned.toString(16).padStart(byteCount * 2, '0'), 'hex');
}

/** The inverse of `varintToBytes`; also reads non-minimal encodings. `b` must not be empty. */
export function varintFromBytes(b: Buffer): bigint {
  const unsigned = BigInt('0x' + b.toString('hex'));
  return (b[0]! & 0x80) !== 0 ? unsigned - (1n << BigInt(b.length * 8)) : unsigned;
}

// ---- Decimal --------------------------------------------------------------------------------

const DECIMAL_RE = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,10}))?$/;

/** Java's `new BigDecimal(s)`: `-1.50`, `.5`, `2.`, `1e-3`, `12E+2`; the scale must fit an int32. */
export function parseDecimalText(s: string): CqlDecimal | null {
  if (s.length > MAX_NUMERIC_TEXT_CHARS) return null;
  const m = DECIMAL_RE.exec(s);
  if (m === null) return null;
  const [, sign = '', whole = '', fraction = '', exponent = '0'] = m;
  if (whole === '' && fraction === '') return null;
  const scale = fraction.length - Number(exponent);
  if (scale < INT32_MIN || scale > INT32_MAX) return null;
  const unscaled = BigInt(sign + (whole + fraction || '0'));
  return { unscaled, scale: scale === 0 ? 0 : scale };
}

/**
 * A decimal as Cassandra prints it (DecimalSerializer.toString): plain digits when
 * |scale| ≤ 100 (`123.40`, `1000` for 1E+3), else Java's `BigDecimal.toString()` (`1E-101`).
 */
export function formatDecimal(d: CqlDecimal): string {
  const negative = d.unscaled < 0n;
  const digits = (negative ? -d.unscaled : d.unscaled).toString();
  const sign = negative ? '-' : '';
  if (d.scale === 0) return sign + digits;
  if (Math.abs(d.scale) <= DECIMAL_PLAIN_MAX_SCALE) return sign + plainDecimal(digits, d.scale);
  const adjusted = digits.length - 1 - d.scale;
  if (d.scale > 0 && adjusted >= -6) return sign + plainDecimal(digits, d.scale);
  const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${mantissa}E${adjusted >= 0 ? '+' : '-'}${Math.abs(adjusted)}`;
}

function plainDecimal(digits: string, scale: number): string {
  if (scale < 0) return digits === '0' ? '0' : digits + '0'.repeat(-scale);
  if (digits.length > scale) return `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  return `0.${'0'.repeat(scale - digits.length)}${digits}`;
}

// ---- Floating point -------------------------------------------------------------------------

const FLOAT_RE = /^[+-]?(?:NaN|Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)$/;

/** Java's `Double.parseDouble` for decimal text, `NaN` and `[-]Infinity`; null otherwise. */
export function parseFloatText(s: string): number | null {
  if (s.length > MAX_NUMERIC_TEXT_CHARS || !FLOAT_RE.test(s)) return null;
  return Number(s);
}

/**
 * The number with the fewest significant digits that rounds to the same float32 as `v`
 * (what Java's `Float.toString` shows): 0.1 rather than 0.10000000149011612.
 */
export function shortestFloat32(v: number): number {
  if (!Number.isFinite(v) || v === 0) return v;
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(v.toPrecision(digits));
    if (Math.fround(candidate) === v) return candidate;
  }
  return v;
}

// ---- Calendar (proleptic Gregorian, UTC) ----------------------------------------------------

export interface CivilDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

/** Days since 1970-01-01 to a calendar date (H. Hinnant's `civil_from_days`). */
export function civilFromDays(days: number): CivilDate {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** A calendar date to days since 1970-01-01 (H. Hinnant's `days_from_civil`). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** ISO 8601 years: four digits for 0..9999, else signed (`+10000`, `-0001`), as java.time prints them. */
function formatYear(year: number): string {
  if (year >= 0 && year <= 9999) return pad(year, 4);
  return (year < 0 ? '-' : '+') + pad(Math.abs(year), 4);
}

const YEAR = '([+-]?\\d{4,7})';

function validCivil(year: number, month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

// ---- date: days since the epoch -------------------------------------------------------------

/** `YYYY-MM-DD` (java.time ISO_LOCAL_DATE). */
export function formatDate(days: number): string {
  const c = civilFromDays(days);
  return `${formatYear(c.year)}-${pad(c.month, 2)}-${pad(c.day, 2)}`;
}

const DATE_RE = new RegExp(`^${YEAR}-(\\d{2})-(\\d{2})$`);
const RAW_RE = /^-?\d+$/;

export type DateParse = { readonly days: number } | { readonly error: 'raw' | 'format' };

/**
 * Cassandra's `SimpleDateSerializer.dateStringToDays`: `YYYY-MM-DD`, or digits that are the raw
 * unsigned day number with the epoch at 2^31 (`2147483648` is 1970-01-01).
 */
export function parseDateText(s: string): DateParse {
  if (RAW_RE.test(s)) {
    if (s.length > 12) return { error: 'raw' };
    const raw = Number(s);
    if (raw < 0 || raw > 2 ** 32 - 1) return { error: 'raw' };
    return { days: raw - 2 ** 31 };
  }
  const m = DATE_RE.exec(s);
  if (m === null) return { error: 'format' };
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (!validCivil(year, month, day)) return { error: 'format' };
  const days = daysFromCivil(year, month, day);
  if (days < MIN_DATE_DAYS || days > MAX_DATE_DAYS) return { error: 'format' };
  return { days };
}

// ---- timestamp: milliseconds since the epoch ------------------------------------------------

function splitTimestamp(ms: number): { date: string; time: string } {
  const days = Math.floor(ms / MS_PER_DAY);
  let rest = ms - days * MS_PER_DAY;
  const millis = rest % 1000;
  rest = (rest - millis) / 1000;
  const time = `${pad(Math.floor(rest / 3600), 2)}:${pad(Math.floor(rest / 60) % 60, 2)}:${pad(rest % 60, 2)}.${pad(millis, 3)}`;
  return { date: formatDate(days), time };
}

/** `2024-05-01T12:00:00.000Z`: ISO 8601 UTC with milliseconds (SPEC 3.1). */
export function formatTimestampIso(ms: number): string {
  const { date, time } = splitTimestamp(ms);
  return `${date}T${time}Z`;
}

/** `2024-05-01 12:00:00.000+0000`: the form cqlsh prints and CQL reads back. */
export function formatTimestampLiteral(ms: number): string {
  const { date, time } = splitTimestamp(ms);
  return `${date} ${time}+0000`;
}

const TIMESTAMP_RE = new RegExp(
  `^${YEAR}-(\\d{1,2})-(\\d{1,2})` +
    '(?:[ T](\\d{1,2}):(\\d{1,2})(?::(\\d{1,2})(?:\\.(\\d{1,3}))?)?)?' +
    '(?:\\s*(Z|UTC|GMT|[+-]\\d{2}(?::?\\d{2})?))?$',
  'i',
);

export type TimestampParse = { readonly ms: number } | { readonly error: 'raw' | 'format' };

/**
 * Cassandra's `TimestampSerializer.dateStringToTimestamp`: digits are milliseconds since the
 * epoch; otherwise `yyyy-MM-dd[( |T)HH:mm[:ss[.SSS]]][zone]` (see the header for the zones).
 */
export function parseTimestampText(s: string): TimestampParse {
  if (RAW_RE.test(s)) {
    if (s.length > 20) return { error: 'raw' };
    const ms = Number(s);
    if (Math.abs(ms) > MAX_TIMESTAMP_MS) return { error: 'raw' };
    return { ms };
  }
  const m = TIMESTAMP_RE.exec(s);
  if (m === null) return { error: 'format' };
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  const millis = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0'));
  const offsetMinutes = parseZone(m[8]);
  if (!validCivil(year, month, day) || hour > 23 || minute > 59 || second > 59 || offsetMinutes === null) return { error: 'format' };
  const seconds = daysFromCivil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60;
  const ms = seconds * 1000 + millis;
  if (Math.abs(ms) > MAX_TIMESTAMP_MS) return { error: 'format' };
  return { ms };
}

function parseZone(zone: string | undefined): number | null {
  if (zone === undefined || /^(Z|UTC|GMT)$/i.test(zone)) return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  if (hours > 18 || minutes > 59) return null;
  return sign * (hours * 60 + minutes);
}

// ---- time: nanoseconds since midnight -------------------------------------------------------

/** `HH:MM:SS.nnnnnnnnn`, always nine fraction digits (TimeSerializer.toString). */
export function formatTime(nanos: bigint): string {
  const seconds = Number(nanos / 1_000_000_000n);
  const fraction = nanos % 1_000_000_000n;
  return `${pad(Math.floor(seconds / 3600), 2)}:${pad(Math.floor(seconds / 60) % 60, 2)}:${pad(seconds % 60, 2)}.${fraction.toString().padStart(9, '0')}`;
}

const TIME_RE = /^\s*(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,9}))?\s*$/;

export type TimeParse = { readonly nanos: bigint } | { readonly error: 'raw' | 'format' };

/** Cassandra's `TimeSerializer.timeStringToLong`: digits are nanoseconds, else `hh:mm:ss[.fffffffff]`. */
export function parseTimeText(s: string): TimeParse {
  if (RAW_RE.test(s)) {
    if (s.length > 20) return { error: 'raw' };
    const nanos = BigInt(s);
    if (nanos < 0n || nanos >= NANOS_PER_DAY) return { error: 'raw' };
    return { nanos };
  }
  const m = TIME_RE.exec(s);
  if (m === null) return { error: 'format' };
  const [hour, minute, second] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (hour > 23 || minute > 59 || second > 59) return { error: 'format' };
  const fraction = BigInt((m[4] ?? '').padEnd(9, '0'));
  return { nanos: BigInt(hour * 3600 + minute * 60 + second) * 1_000_000_000n + fraction };
}

// ---- inet -----------------------------------------------------------------------------------

const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEX_GROUP_RE = /^[0-9a-fA-F]{1,4}$/;
/** The longest IPv6 text: eight full groups, or six and a dotted quad. */
const MAX_INET_TEXT_CHARS = 45;

function parseIpv4(s: string): number[] | null {
  const m = IPV4_RE.exec(s);
  if (m === null) return null;
  const octets = m.slice(1).map(Number);
  return octets.every((o) => o <= 255) ? octets : null;
}

/** IPv6 groups → 16-bit numbers; a trailing dotted quad counts as two groups. */
function parseGroups(parts: string[], dottedQuadLast: boolean): number[] | null {
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (dottedQuadLast && i === parts.length - 1 && part.includes('.')) {
      const o = parseIpv4(part);
      if (o === null) return null;
      groups.push((o[0]! << 8) | o[1]!, (o[2]! << 8) | o[3]!);
    } else if (HEX_GROUP_RE.test(part)) {
      groups.push(parseInt(part, 16));
    } else {
      return null;
    }
  }
  return groups;
}

function parseIpv6(s: string): Buffer | null {
  const gap = s.indexOf('::');
  if (gap !== s.lastIndexOf('::')) return null;
  let groups: number[] | null;
  if (gap < 0) {
    groups = parseGroups(s.split(':'), true);
    if (groups === null || groups.length !== 8) return null;
  } else {
    const headText = s.slice(0, gap);
    const tailText = s.slice(gap + 2);
    const head = parseGroups(headText === '' ? [] : headText.split(':'), false);
    const tail = parseGroups(tailText === '' ? [] : tailText.split(':'), true);
    if (head === null || tail === null || head.length + tail.length > 7) return null;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(g, i * 2));
  return b;
}

function isV4Mapped(b: Buffer): boolean {
  return b.length === 16 && b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
}

/**
 * The bytes of an inet written as text: 4 for a dotted quad, 16 for IPv6. With
 * `collapseMapped`, an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) becomes its 4-byte IPv4
 * address, as Java's `InetAddress.getByName` (and so Cassandra) reads it.
 */
export function inetTextToBytes(s: string, collapseMapped: boolean): Buffer | null {
  if (s.length === 0 || s.length > MAX_INET_TEXT_CHARS) return null;
  if (!s.includes(':')) {
    const o = parseIpv4(s);
    return o === null ? null : Buffer.from(o);
  }
  const b = parseIpv6(s);
  if (b !== null && collapseMapped && isV4Mapped(b)) return Buffer.from(b.subarray(12));
  return b;
}

/** Canonical text of 4 or 16 bytes: dotted quad, or RFC 5952 IPv6 (`::ffff:1.2.3.4` for mapped). */
export function inetBytesToText(b: Buffer): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (isV4Mapped(b)) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const groups = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2));
  let bestStart = -1;
  let bestLength = 1; // RFC 5952 §4.2.2: a single zero group is not compressed
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** The canonical form of an inet literal (mapped IPv4 collapsed), or null. */
export function parseInetText(s: string): string | null {
  const b = inetTextToBytes(s, true);
  return b === null ? null : inetBytesToText(b);
}

// ---- hex ------------------------------------------------------------------------------------

const HEX_RE = /^[0-9a-fA-F]*$/;

/** Hex digits (no `0x`) to bytes; null for odd lengths or non-hex characters. */
export function parseHexDigits(digits: string): Buffer | null {
  if (digits.length % 2 !== 0 || !HEX_RE.test(digits)) return null;
  return Buffer.from(digits, 'hex');
}

// ---- strings --------------------------------------------------------------------------------

/** ES2024's `String.prototype.isWellFormed` (native in every Node ≥ 20; the ES2023 lib we compile against does not declare it). */
interface WellFormedCheck {
  isWellFormed(): boolean;
}

/**
 * True unless `s` holds an unpaired UTF-16 surrogate (which has no UTF-8 encoding). Runs on
 * every text value bound or read: the native check is ~10× faster than a `\p{Surrogate}`
 * regex on text outside Latin-1.
 */
export function isWellFormedText(s: string): boolean {
  return (s as unknown as WellFormedCheck).isWellFormed();
}

/** True when every character is 7-bit: exactly then is the UTF-8 length the string length (natively counted, ~5× faster than a regex scan). */
export function isAscii(s: string): boolean {
  return Buffer.byteLength(s, 'utf8') === s.length;
}
