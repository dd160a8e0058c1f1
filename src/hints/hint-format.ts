/**
 * On-disk format of hint segments, format version 1. Pure functions: no I/O.
 *
 * Layout (Cassandra: `HintsDescriptor` + `HintsWriter`, one directory per target host id):
 *
 *   <data_dir>/hints/<target host id>/Hints-<formatVersion>-<segmentId>.log
 *
 * Segment header (16 bytes, written once, before the first record):
 *
 *   offset  size  field
 *   0       4     magic "RTHN" (ASCII)
 *   4       2     format version, u16 LE (= 1)
 *   6       2     reserved, u16 LE (= 0)
 *   8       8     segment id, u64 LE (equals the id in the file name; at most 2^53 - 1)
 *
 * Records use the commit log's framing (src/storage/commitlog/segment-format.ts: u32 length,
 * crc32 of the length, payload, crc32 of the payload), so a torn tail or a flipped bit is found
 * before anything is allocated from it. A hint's payload:
 *
 *   createdAtMs:uvarint  tableId:string  mutation:lbytes
 *
 * `mutation` is the replica MUTATION request exactly as `encodeMutation` builds it (its own
 * version byte, table id and update); it is sent as the HINT payload unchanged, so delivery is
 * one read and no re-encoding. `tableId` is repeated outside it so the dispatcher can decide
 * expiry (the table's gc_grace_seconds) without decoding the update. `createdAtMs` is the
 * coordinator's clock when the hint was stored.
 *
 * Bounds: a payload is at most half a segment (so any record fits a fresh segment); a table id
 * at most MAX_TABLE_ID_BYTES; decoding never reads past the record and rejects trailing bytes.
 */
import { MAX_TABLE_ID_BYTES } from '../coordinator/replica-verbs.js';
import { RECORD_OVERHEAD_BYTES } from '../storage/commitlog/segment-format.js';
import { ByteReader, ByteWriter, CorruptDataError } from '../util/bytes.js';

export { encodeRecord, readRecord, recordSizeBytes, type RecordReadResult } from '../storage/commitlog/segment-format.js';

export const HINT_FORMAT_VERSION = 1;
export const HINT_SEGMENT_MAGIC = 'RTHN';
export const HINT_SEGMENT_HEADER_BYTES = 16;
export const HINT_RECORD_OVERHEAD_BYTES = RECORD_OVERHEAD_BYTES;

const MAGIC_BYTES = Buffer.from(HINT_SEGMENT_MAGIC, 'ascii');
const FILE_NAME_PATTERN = /^Hints-(\d+)-(\d+)\.log$/;

export interface HintPayload {
  readonly createdAtMs: number;
  readonly tableId: string;
  /** The MUTATION request bytes (replica-verbs `encodeMutation`). */
  readonly mutation: Buffer;
}

export function hintSegmentFileName(segmentId: number): string {
  return `Hints-${HINT_FORMAT_VERSION}-${segmentId}.log`;
}

export function parseHintSegmentFileName(name: string): { formatVersion: number; segmentId: number } | null {
  const match = FILE_NAME_PATTERN.exec(name);
  if (match === null) return null;
  const formatVersion = Number(match[1]);
  const segmentId = Number(match[2]);
  if (!Number.isSafeInteger(formatVersion) || !Number.isSafeInteger(segmentId)) return null;
  return { formatVersion, segmentId };
}

export function encodeHintSegmentHeader(segmentId: number): Buffer {
  if (!Number.isSafeInteger(segmentId) || segmentId < 0) throw new RangeError(`bad hint segment id ${segmentId}`);
  const header = Buffer.alloc(HINT_SEGMENT_HEADER_BYTES);
  MAGIC_BYTES.copy(header, 0);
  header.writeUInt16LE(HINT_FORMAT_VERSION, 4);
  header.writeUInt16LE(0, 6);
  header.writeBigUInt64LE(BigInt(segmentId), 8);
  return header;
}

export type HintSegmentHeaderResult = { readonly ok: true; readonly segmentId: number } | { readonly ok: false; readonly reason: string };

export function decodeHintSegmentHeader(bytes: Buffer): HintSegmentHeaderResult {
  if (bytes.length < HINT_SEGMENT_HEADER_BYTES) return { ok: false, reason: `header truncated at ${bytes.length} bytes` };
  if (!bytes.subarray(0, 4).equals(MAGIC_BYTES)) return { ok: false, reason: 'bad magic' };
  const formatVersion = bytes.readUInt16LE(4);
  if (formatVersion !== HINT_FORMAT_VERSION) return { ok: false, reason: `unknown format version ${formatVersion}` };
  const segmentId = bytes.readBigUInt64LE(8);
  if (segmentId > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, reason: 'segment id out of range' };
  return { ok: true, segmentId: Number(segmentId) };
}

export function encodeHintPayload(hint: HintPayload): Buffer {
  if (hint.tableId.length === 0 || Buffer.byteLength(hint.tableId) > MAX_TABLE_ID_BYTES) throw new RangeError(`bad table id ${hint.tableId}`);
  if (hint.mutation.length === 0) throw new RangeError('a hint carries a mutation');
  const w = new ByteWriter(hint.mutation.length + 64);
  w.uvarint(Math.max(0, Math.floor(hint.createdAtMs))).string(hint.tableId).lbytes(hint.mutation);
  return w.toBuffer();
}

/** Decodes a record payload; the mutation is a view into `payload`. Throws `CorruptDataError`. */
export function decodeHintPayload(payload: Buffer): HintPayload {
  const r = new ByteReader(payload);
  const createdAtMs = r.uvarint();
  const tableId = r.string();
  if (tableId.length === 0 || Buffer.byteLength(tableId) > MAX_TABLE_ID_BYTES) throw new CorruptDataError('bad table id in hint');
  const mutation = r.lbytes();
  if (mutation.length === 0) throw new CorruptDataError('empty mutation in hint');
  if (r.remaining !== 0) throw new CorruptDataError('trailing bytes after hint');
  return { createdAtMs, tableId, mutation };
}

/** Framed size on disk of a hint with this payload size. */
export function hintRecordBytes(payloadBytes: number): number {
  return HINT_RECORD_OVERHEAD_BYTES + payloadBytes;
}
