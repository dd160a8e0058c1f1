/**
 * UUIDs: the canonical text form, its bytes, and version-1 (time-based) UUIDs as Cassandra's
 * `timeuuid` type, `now()`, `minTimeuuid()` and `maxTimeuuid()` use them.
 *
 * Cassandra concept: `TimeUUID` / `UUIDGen`. A version-1 UUID carries a 60-bit timestamp in
 * 100 ns units since the Gregorian reform (1582-10-15T00:00:00Z), split across the first eight
 * bytes as time_low (32 bits), time_mid (16), version (4) + time_hi (12); the last eight bytes
 * are the clock sequence and node (`clockSeqAndNode`, 64 bits, taken as is: the caller owns
 * the variant bits, see `clockSeqAndNode()`).
 *
 * Nothing here reads the clock or a random source: callers pass the time and the random bytes
 * in (ARCHITECTURE rule 1), so `now()` and `uuid()` stay reproducible in simulation.
 *
 * Invariants and bounds
 * - Every UUID string returned is canonical: lower-case 8-4-4-4-12 hex.
 * - A timeuuid's timestamp is 0 ..= 2^60 − 1 ticks, i.e. unix milliseconds from
 *   `UUID_EPOCH_UNIX_MS` (1582-10-15) to `MAX_TIMEUUID_UNIX_MS` (year 5236); outside that
 *   range the helpers throw `InvalidRequest` (the time comes from a user's `minTimeuuid(…)`).
 * - `minTimeUuid(ms)` ≤ every timeuuid of that millisecond ≤ `maxTimeUuid(ms)` in Cassandra's
 *   timeuuid order (timestamp, then the last eight bytes as *signed* bytes): that is why the
 *   min and max clock-seq-and-node are 0x80… and 0x7f… rather than 0x00… and 0xff….
 */
import { InvalidRequest } from '../errors.js';
import { assert } from '../util/assert.js';

/** Unix milliseconds of 1582-10-15T00:00:00Z, the epoch of version-1 UUID timestamps. */
export const UUID_EPOCH_UNIX_MS = -12_219_292_800_000;
const TICKS_PER_MS = 10_000n;
const MAX_TICKS = (1n << 60n) - 1n;
/** The last unix millisecond whose every 100 ns tick fits a 60-bit timeuuid timestamp. */
export const MAX_TIMEUUID_UNIX_MS = Number(MAX_TICKS / TICKS_PER_MS - 1n) + UUID_EPOCH_UNIX_MS;

/** Smallest clock-seq-and-node in timeuuid order (each byte compares as a signed byte). */
export const MIN_CLOCK_SEQ_AND_NODE = 0x8080808080808080n;
/** Largest clock-seq-and-node in timeuuid order. */
export const MAX_CLOCK_SEQ_AND_NODE = 0x7f7f7f7f7f7f7f7fn;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UUID_RE_ANY_CASE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

// ---- Text ⇄ bytes ---------------------------------------------------------------------------

/** The canonical form of a UUID written in either case, or null if `s` is not 8-4-4-4-12 hex. */
export function parseUuid(s: string): string | null {
  return UUID_RE_ANY_CASE.test(s) ? s.toLowerCase() : null;
}

export function isCanonicalUuid(s: string): boolean {
  return UUID_RE.test(s);
}

export function uuidToBytes(uuid: string): Buffer {
  assert(isCanonicalUuid(uuid), `not a canonical UUID: ${uuid}`);
  return Buffer.from(uuid.replaceAll('-', ''), 'hex');
}

export function uuidFromBytes(b: Buffer): string {
  assert(b.length === 16, `a UUID has 16 bytes, got ${b.length}`);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The version nibble (the high four bits of byte 6). */
export function uuidVersion(uuid: string): number {
  assert(isCanonicalUuid(uuid), `not a canonical UUID: ${uuid}`);
  return parseInt(uuid.charAt(14), 16);
}

function fromHalves(msb: bigint, lsb: bigint): string {
  const h = msb.toString(16).padStart(16, '0') + lsb.toString(16).padStart(16, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// ---- Version 1 ------------------------------------------------------------------------------

/** Clock sequence (14 bits) and node (48 bits) as the low half of a UUID, with the RFC 4122 variant. */
export function clockSeqAndNode(clockSeq: number, node: bigint): bigint {
  assert(Number.isInteger(clockSeq) && clockSeq >= 0 && clockSeq < 1 << 14, `clock sequence out of range: ${clockSeq}`);
  assert(node >= 0n && node < 1n << 48n, `node out of range: ${node}`);
  return (0x8000n | BigInt(clockSeq)) << 48n | node;
}

function ticksOf(unixMs: number, sub100ns: number): bigint {
  if (!Number.isSafeInteger(unixMs) || unixMs < UUID_EPOCH_UNIX_MS || unixMs > MAX_TIMEUUID_UNIX_MS) {
    throw new InvalidRequest(`Timestamp ${unixMs} is outside the range of a timeuuid`);
  }
  assert(Number.isInteger(sub100ns) && sub100ns >= 0 && sub100ns < 10_000, `sub-millisecond ticks out of range: ${sub100ns}`);
  return BigInt(unixMs - UUID_EPOCH_UNIX_MS) * TICKS_PER_MS + BigInt(sub100ns);
}

function timeUuidFromTicks(ticks: bigint, lsb: bigint): string {
  assert(ticks >= 0n && ticks <= MAX_TICKS, `timeuuid timestamp out of range: ${ticks}`);
  assert(lsb >= 0n && lsb < 1n << 64n, `clock-seq-and-node out of range: ${lsb}`);
  const timeLow = ticks & 0xffff_ffffn;
  const timeMid = (ticks >> 32n) & 0xffffn;
  const timeHi = (ticks >> 48n) & 0x0fffn;
  const msb = (timeLow << 32n) | (timeMid << 16n) | 0x1000n | timeHi;
  return fromHalves(msb, lsb);
}

/**
 * The version-1 UUID of `unixMs` plus `sub100ns` ticks of 100 ns (0 ..= 9999), with
 * `clockSeqAndNode` as its last eight bytes (see `clockSeqAndNode()` for the usual layout).
 */
export function makeTimeUuid(unixMs: number, sub100ns: number, clockSeqAndNodeBits: bigint): string {
  return timeUuidFromTicks(ticksOf(unixMs, sub100ns), clockSeqAndNodeBits);
}

/** The 60-bit timestamp of a version-1 UUID, in 100 ns ticks since 1582-10-15. */
export function timeUuidTicks(uuid: string): bigint {
  if (!isCanonicalUuid(uuid) || uuidVersion(uuid) !== 1) throw new InvalidRequest(`${uuid} is not a version 1 UUID`);
  const timeLow = BigInt('0x' + uuid.slice(0, 8));
  const timeMid = BigInt('0x' + uuid.slice(9, 13));
  const timeHi = BigInt('0x' + uuid.slice(15, 18));
  return (timeHi << 48n) | (timeMid << 32n) | timeLow;
}

/** The unix millisecond a version-1 UUID was made in (sub-millisecond ticks dropped). */
export function timeUuidUnixMs(uuid: string): number {
  return Number(timeUuidTicks(uuid) / TICKS_PER_MS) + UUID_EPOCH_UNIX_MS;
}

/** Cassandra's `minTimeuuid(ms)`: the smallest timeuuid of that millisecond. */
export function minTimeUuid(unixMs: number): string {
  return timeUuidFromTicks(ticksOf(unixMs, 0), MIN_CLOCK_SEQ_AND_NODE);
}

/** Cassandra's `maxTimeuuid(ms)`: the largest timeuuid of that millisecond. */
export function maxTimeUuid(unixMs: number): string {
  return timeUuidFromTicks(ticksOf(unixMs, 9_999), MAX_CLOCK_SEQ_AND_NODE);
}

// ---- Version 4 ------------------------------------------------------------------------------

/** A version-4 (random) UUID from 16 caller-supplied random bytes; version and variant bits are set here. */
export function makeRandomUuid(bytes16: Buffer): string {
  assert(bytes16.length === 16, `makeRandomUuid needs 16 bytes, got ${bytes16.length}`);
  const b = Buffer.from(bytes16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return uuidFromBytes(b);
}
