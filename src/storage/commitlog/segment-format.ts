/**
 * On-disk format of commit-log segments, format version 1. Pure functions: no I/O.
 *
 * Segment file name: `CommitLog-<formatVersion>-<segmentId>.log`, e.g. `CommitLog-1-1700000000000.log`.
 *
 * Segment header (16 bytes, written once, before the first record):
 *
 *   offset  size  field
 *   0       4     magic "RTCL" (ASCII)
 *   4       2     format version, u16 LE (= 1)
 *   6       2     reserved, u16 LE (= 0)
 *   8       8     segment id, u64 LE (must equal the id in the file name; at most 2^53 - 1)
 *
 * Record (12 bytes of framing around the payload), repeated until the end of the file:
 *
 *   offset   size  field
 *   0        4     payloadLength, u32 LE (1 ..= MAX_RECORD_PAYLOAD_BYTES)
 *   4        4     crc32 of the 4 payloadLength bytes, u32 LE
 *   8        n     payload (opaque to the commit log)
 *   8 + n    4     crc32 of the payload, u32 LE
 *
 * CRC-32 is zlib's (IEEE 802.3 polynomial), `zlib.crc32`. The length has its own checksum so a
 * corrupt length is detected before anything is read or allocated from it; a length of zero
 * (zeroed or preallocated tail) is never a valid record. A position in the log is the byte
 * offset just past the end of a record, so positions of records within a segment increase.
 *
 * Same idea as leveldb's `db/log_format.h` (checksummed, length-prefixed records), without its
 * 32 KiB block structure: a reader stops at the first bad record of a segment instead of
 * resynchronising, since the bytes after a torn write are not trusted.
 */
import { crc32 } from 'node:zlib';

export const SEGMENT_FORMAT_VERSION = 1;
export const SEGMENT_MAGIC = 'RTCL';
export const SEGMENT_HEADER_BYTES = 16;
/** payloadLength + its crc32. */
export const RECORD_HEADER_BYTES = 8;
/** Framing per record: header + trailing payload crc32. */
export const RECORD_OVERHEAD_BYTES = RECORD_HEADER_BYTES + 4;
/** Hard format limit on one payload; the commit log's own limit (half a segment) is lower. */
export const MAX_RECORD_PAYLOAD_BYTES = 2 ** 30;

const MAGIC_BYTES = Buffer.from(SEGMENT_MAGIC, 'ascii');
const FILE_NAME_PATTERN = /^CommitLog-(\d+)-(\d+)\.log$/;

export function segmentFileName(segmentId: number): string {
  return `CommitLog-${SEGMENT_FORMAT_VERSION}-${segmentId}.log`;
}

/** Parses `CommitLog-<version>-<id>.log`; null for any other name. */
export function parseSegmentFileName(name: string): { formatVersion: number; segmentId: number } | null {
  const match = FILE_NAME_PATTERN.exec(name);
  if (match === null) return null;
  const formatVersion = Number(match[1]);
  const segmentId = Number(match[2]);
  if (!Number.isSafeInteger(formatVersion) || !Number.isSafeInteger(segmentId)) return null;
  return { formatVersion, segmentId };
}

export function encodeSegmentHeader(segmentId: number): Buffer {
  if (!Number.isSafeInteger(segmentId) || segmentId < 0) throw new RangeError(`bad segment id ${segmentId}`);
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  MAGIC_BYTES.copy(header, 0);
  header.writeUInt16LE(SEGMENT_FORMAT_VERSION, 4);
  header.writeUInt16LE(0, 6);
  header.writeBigUInt64LE(BigInt(segmentId), 8);
  return header;
}

export type SegmentHeaderResult =
  | { readonly ok: true; readonly segmentId: number }
  | { readonly ok: false; readonly reason: string };

export function decodeSegmentHeader(bytes: Buffer): SegmentHeaderResult {
  if (bytes.length < SEGMENT_HEADER_BYTES) return { ok: false, reason: `header truncated at ${bytes.length} bytes` };
  if (!bytes.subarray(0, 4).equals(MAGIC_BYTES)) return { ok: false, reason: 'bad magic' };
  const formatVersion = bytes.readUInt16LE(4);
  if (formatVersion !== SEGMENT_FORMAT_VERSION) return { ok: false, reason: `unknown format version ${formatVersion}` };
  const segmentId = bytes.readBigUInt64LE(8);
  if (segmentId > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, reason: 'segment id out of range' };
  return { ok: true, segmentId: Number(segmentId) };
}

/** Frames one payload as a record (one copy of the payload). */
export function encodeRecord(payload: Buffer): Buffer {
  const record = Buffer.allocUnsafe(RECORD_OVERHEAD_BYTES + payload.length);
  writeRecord(record, 0, payload);
  return record;
}

/** CRC-32 (IEEE, reflected, as zlib computes it) by bytes, for the 4-byte length field. */
const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/**
 * `crc32` of `value` written as a u32 LE, without a buffer to hash: every record pays it, and
 * hashing a 4-byte view costs an allocation and a native call. Equal to zlib's (tested).
 */
export function crc32OfU32LE(value: number): number {
  let c = -1;
  for (let i = 0; i < 4; i++) c = CRC_TABLE[(c ^ (value >>> (8 * i))) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/**
 * Frames `payload` as a record at `offset` of `out`, which must have `recordSizeBytes` of room
 * there; returns the offset just past it. The commit log frames straight into its write buffer.
 */
export function writeRecord(out: Buffer, offset: number, payload: Buffer): number {
  const length = payload.length;
  if (length === 0 || length > MAX_RECORD_PAYLOAD_BYTES) throw new RangeError(`bad record payload length ${length}`);
  if (offset + RECORD_OVERHEAD_BYTES + length > out.length) throw new RangeError('no room for the record');
  out.writeUInt32LE(length, offset);
  out.writeUInt32LE(crc32OfU32LE(length), offset + 4);
  // TypedArray#set is a plain memcpy; Buffer#copy adds argument checks.
  out.set(payload, offset + RECORD_HEADER_BYTES);
  out.writeUInt32LE(crc32(payload), offset + RECORD_HEADER_BYTES + length);
  return offset + RECORD_OVERHEAD_BYTES + length;
}

export function recordSizeBytes(payloadBytes: number): number {
  return RECORD_OVERHEAD_BYTES + payloadBytes;
}

export type RecordReadResult =
  /** `payload` is a view into the given buffer; `nextOffset` is just past the record. */
  | { readonly kind: 'record'; readonly payload: Buffer; readonly nextOffset: number }
  /** The record may be valid but needs `bytesNeeded` bytes from `offset`, more than the buffer has. */
  | { readonly kind: 'incomplete'; readonly bytesNeeded: number }
  /** The bytes at `offset` are not a valid record. */
  | { readonly kind: 'corrupt'; readonly reason: string };

/**
 * Decodes the record starting at `offset` of `bytes`. Never throws on bad bytes and never
 * allocates: a length is trusted only after its checksum matches, and even then the caller
 * decides whether `bytesNeeded` is plausible (it must fit in the file).
 */
export function readRecord(bytes: Buffer, offset: number): RecordReadResult {
  const available = bytes.length - offset;
  if (available < RECORD_HEADER_BYTES) return { kind: 'incomplete', bytesNeeded: RECORD_HEADER_BYTES };
  const length = bytes.readUInt32LE(offset);
  if (length === 0) return { kind: 'corrupt', reason: 'zero length' };
  if (crc32(bytes.subarray(offset, offset + 4)) !== bytes.readUInt32LE(offset + 4)) {
    return { kind: 'corrupt', reason: 'length checksum mismatch' };
  }
  if (length > MAX_RECORD_PAYLOAD_BYTES) return { kind: 'corrupt', reason: `length ${length} over format limit` };
  const totalBytes = recordSizeBytes(length);
  if (available < totalBytes) return { kind: 'incomplete', bytesNeeded: totalBytes };
  const payloadStart = offset + RECORD_HEADER_BYTES;
  const payload = bytes.subarray(payloadStart, payloadStart + length);
  if (crc32(payload) !== bytes.readUInt32LE(payloadStart + length)) {
    return { kind: 'corrupt', reason: 'payload checksum mismatch' };
  }
  return { kind: 'record', payload, nextOffset: offset + totalBytes };
}
