/**
 * Payloads of the streaming verbs (version 1; every request and response starts with its
 * version byte, so a newer peer's format is refused as corrupt instead of being misread):
 *
 *   STREAM_APPLY request        := version:u8(=1) tableId:string page            (page: stream-page.ts, to the end)
 *   STREAM_APPLY response       := empty                                          (the ack: applied, durable per commitlog_sync)
 *   STREAM_PUSH_REQUEST request := version:u8(=1) tableId:string target:string rangeCount:uvarint (start:i64be end:i64be)*
 *   STREAM_PUSH_REQUEST response:= version:u8(=1) rows:uvarint partitions:uvarint bytes:uvarint pages:uvarint
 *
 * `string` is a uvarint byte length + UTF-8. Ranges are ring ranges `(start, end]`, wrapping
 * when start >= end.
 *
 * Bounds: a table id is at most MAX_TABLE_ID_BYTES, a target endpoint MAX_ENDPOINT_BYTES, at
 * most MAX_STREAM_RANGES ranges; decoding reads only within the frame and throws
 * `CorruptDataError` on anything malformed or trailing.
 */
import { MAX_TABLE_ID_BYTES } from '../coordinator/replica-verbs.js';
import type { Endpoint, TokenRange } from '../ring/token-metadata.js';
import { ByteReader, ByteWriter, CorruptDataError } from '../util/bytes.js';
import { MAX_ENDPOINT_BYTES, MAX_STREAM_RANGES } from './limits.js';

export const STREAM_MESSAGE_VERSION = 1;
const RANGE_BYTES = 16;

/** What a push moved (counted by the sender once the receiver acknowledged each page). */
export interface StreamResult {
  readonly rows: number;
  readonly partitions: number;
  readonly bytes: number;
  readonly pages: number;
}

export const EMPTY_STREAM_RESULT: StreamResult = Object.freeze({ rows: 0, partitions: 0, bytes: 0, pages: 0 });

export interface PushRequest {
  readonly tableId: string;
  readonly target: Endpoint;
  readonly ranges: readonly TokenRange[];
}

const asBuffer = (bytes: Uint8Array): Buffer => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));

function readVersion(r: ByteReader): void {
  const version = r.u8();
  if (version !== STREAM_MESSAGE_VERSION) throw new CorruptDataError(`unknown stream message version ${version}`);
}

function readBoundedString(r: ByteReader, maxBytes: number, what: string): string {
  const s = r.string();
  if (s.length === 0 || Buffer.byteLength(s) > maxBytes) throw new CorruptDataError(`bad ${what}`);
  return s;
}

function checkEnd(r: ByteReader): void {
  if (r.remaining !== 0) throw new CorruptDataError('trailing bytes after stream message');
}

export function encodeApplyRequest(tableId: string, page: Buffer): Buffer {
  const w = new ByteWriter(page.length + 64);
  w.u8(STREAM_MESSAGE_VERSION).string(tableId).bytes(page);
  return w.toBuffer();
}

/** The table id and the page (a view into `bytes`). */
export function decodeApplyRequest(bytes: Uint8Array): { tableId: string; page: Buffer } {
  const buffer = asBuffer(bytes);
  const r = new ByteReader(buffer);
  readVersion(r);
  const tableId = readBoundedString(r, MAX_TABLE_ID_BYTES, 'table id');
  return { tableId, page: r.bytes(r.remaining) };
}

export function encodePushRequest(request: PushRequest): Buffer {
  const w = new ByteWriter(64 + request.ranges.length * RANGE_BYTES);
  w.u8(STREAM_MESSAGE_VERSION).string(request.tableId).string(request.target).uvarint(request.ranges.length);
  const token = Buffer.allocUnsafe(8);
  for (const range of request.ranges) {
    token.writeBigInt64BE(range.start);
    w.bytes(token);
    token.writeBigInt64BE(range.end);
    w.bytes(token);
  }
  return w.toBuffer();
}

export function decodePushRequest(bytes: Uint8Array): PushRequest {
  const r = new ByteReader(asBuffer(bytes));
  readVersion(r);
  const tableId = readBoundedString(r, MAX_TABLE_ID_BYTES, 'table id');
  const target = readBoundedString(r, MAX_ENDPOINT_BYTES, 'target endpoint');
  const count = r.uvarint();
  if (count > MAX_STREAM_RANGES || count * RANGE_BYTES > r.remaining) throw new CorruptDataError(`bad range count ${count}`);
  const ranges: TokenRange[] = [];
  for (let i = 0; i < count; i++) {
    const start = r.bytes(8).readBigInt64BE(0);
    const end = r.bytes(8).readBigInt64BE(0);
    ranges.push({ start, end });
  }
  checkEnd(r);
  return { tableId, target, ranges };
}

export function encodeStreamResult(result: StreamResult): Buffer {
  return new ByteWriter(32).u8(STREAM_MESSAGE_VERSION).uvarint(result.rows).uvarint(result.partitions).uvarint(result.bytes).uvarint(result.pages).toBuffer();
}

export function decodeStreamResult(bytes: Uint8Array): StreamResult {
  const r = new ByteReader(asBuffer(bytes));
  readVersion(r);
  const result = { rows: r.uvarint(), partitions: r.uvarint(), bytes: r.uvarint(), pages: r.uvarint() };
  checkEnd(r);
  return result;
}
