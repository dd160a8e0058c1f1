/**
 * Order-preserving key encodings shared by the memtable, SSTables and scans.
 *
 * - A token (signed 64-bit, Murmur3) is stored as 8 big-endian bytes with the sign bit
 *   flipped, so unsigned byte order equals numeric order.
 * - A partition's storage key (`pkey`) is token bytes + partition key bytes: byte order of
 *   pkeys is the ring order Cassandra uses (token, then key bytes for token collisions).
 * - In an SSTable, the clustering column (`ck`) is 0x00 for the partition header and
 *   0x01 + clustering bytes for a row, so a partition's header sorts before its rows.
 */
import type { ClusteringBound } from './types.js';

export const MIN_TOKEN = -(2n ** 63n);
export const MAX_TOKEN = 2n ** 63n - 1n;
const SIGN_FLIP = 2n ** 63n;

// Two's complement big-endian with the top bit flipped is the offset (sign-flipped) encoding.
export function encodeToken(token: bigint): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigInt64BE(token);
  b[0]! ^= 0x80;
  return b;
}

export function decodeToken(bytes: Buffer, offset = 0): bigint {
  return bytes.readBigUInt64BE(offset) - SIGN_FLIP;
}

export function partitionStorageKey(token: bigint, key: Buffer): Buffer {
  const out = Buffer.allocUnsafe(8 + key.length);
  out.writeBigInt64BE(token);
  out[0]! ^= 0x80;
  out.set(key, 8);
  return out;
}

export function splitStorageKey(pkey: Buffer): { token: bigint; key: Buffer } {
  return { token: decodeToken(pkey), key: pkey.subarray(8) };
}

export const HEADER_CK = Buffer.from([0x00]);
const ROW_CK_TAG = 0x01;

export function rowStorageCk(clustering: Buffer): Buffer {
  const out = Buffer.allocUnsafe(clustering.length + 1);
  out[0] = ROW_CK_TAG;
  clustering.copy(out, 1);
  return out;
}

export function isHeaderCk(ck: Buffer): boolean {
  return ck.length === 1 && ck[0] === 0x00;
}

export function clusteringOfCk(ck: Buffer): Buffer {
  return ck.subarray(1);
}

/** The smallest byte string greater than every string starting with `prefix`, or null if none. */
export function prefixSuccessor(prefix: Buffer): Buffer | null {
  let end = prefix.length;
  while (end > 0 && prefix[end - 1] === 0xff) end--;
  if (end === 0) return null;
  const out = Buffer.from(prefix.subarray(0, end));
  out[end - 1]! += 1;
  return out;
}

function startsWith(value: Buffer, prefix: Buffer): boolean {
  return value.length >= prefix.length && value.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}

/** True when `clustering` lies at or after a start bound (null: unbounded). */
export function afterStart(clustering: Buffer, start: ClusteringBound | null): boolean {
  if (start === null) return true;
  const c = Buffer.compare(clustering, start.prefix);
  if (start.inclusive) return c >= 0;
  return c > 0 && !startsWith(clustering, start.prefix);
}

/** True when `clustering` lies at or before an end bound (null: unbounded). */
export function beforeEnd(clustering: Buffer, end: ClusteringBound | null): boolean {
  if (end === null) return true;
  if (end.inclusive) return Buffer.compare(clustering, end.prefix) <= 0 || startsWith(clustering, end.prefix);
  return Buffer.compare(clustering, end.prefix) < 0;
}

export function inRange(clustering: Buffer, start: ClusteringBound | null, end: ClusteringBound | null): boolean {
  return afterStart(clustering, start) && beforeEnd(clustering, end);
}

/** Lower byte limit (inclusive) on the SSTable `ck` column for rows inside a start bound. */
export function ckLowerLimit(start: ClusteringBound | null): Buffer {
  if (start === null) return Buffer.from([ROW_CK_TAG]);
  if (start.inclusive) return rowStorageCk(start.prefix);
  const succ = prefixSuccessor(start.prefix);
  // No successor: nothing sorts after every extension of an all-0xff prefix.
  return succ === null ? Buffer.from([ROW_CK_TAG + 1]) : rowStorageCk(succ);
}

/** Upper byte limit (exclusive) on the SSTable `ck` column for rows inside an end bound. */
export function ckUpperLimit(end: ClusteringBound | null): Buffer {
  if (end === null) return Buffer.from([ROW_CK_TAG + 1]);
  if (!end.inclusive) return rowStorageCk(end.prefix);
  const succ = prefixSuccessor(end.prefix);
  return succ === null ? Buffer.from([ROW_CK_TAG + 1]) : rowStorageCk(succ);
}
