/**
 * The stream page: one table's merged SSTable entries (partition headers and rows, as
 * `mergedEntries` yields them) in (token, key, clustering) order, cut into pages of bounded
 * size. The sender's worker thread writes pages (`StreamPageWriter`); the receiver decodes one
 * into `PartitionUpdate`s (`decodeStreamPage`) and applies them like any write.
 *
 * Cassandra: the streaming of SSTable sections (`CassandraStreamWriter`), here as logical rows
 * rather than file sections, because our SSTables are SQLite files and the receiver must merge
 * what it gets with what it holds anyway.
 *
 * Format (version 1):
 *
 *   page      := format:u8(=1) partitionCount:u32 partition*
 *   partition := pkey:lbytes flags:u8 [header:lbytes] rowCount:u32 (clustering:lbytes row:lbytes)*
 *     flags: 0x01 header present
 *   pkey   = the storage key: 8 token bytes (keys.ts encoding) + partition key bytes
 *   header = codec.ts header encoding; row = codec.ts row encoding (exactly the merged bytes)
 *
 * Counts are u32 so the writer can patch them in place once a partition or page is complete;
 * `lbytes` is a uvarint length + bytes.
 *
 * Invariants
 * - Within a page pkeys strictly increase, and within a partition clusterings strictly
 *   increase; a partition carries a header, rows, or both. The decoder checks all of it.
 * - A partition may be split across pages: its header (if any) goes with its first rows, and
 *   the next page repeats the pkey with the rest of the rows. Applying the pieces one after the
 *   other is the same as applying the whole partition (merging is a join).
 * - A page holds at most `maxBytes` bytes, unless its only entry is larger (a huge row).
 *
 * Bounds: the decoder reads only within the page, refuses keys above 64 KiB and counts larger
 * than the bytes left, and throws `CorruptDataError` on anything malformed (never crashes).
 */
import { ByteReader, ByteWriter, CorruptDataError } from '../util/bytes.js';
import { assert } from '../util/assert.js';
import { decodeHeader, decodeRow } from '../storage/data/codec.js';
import { clusteringOfCk, splitStorageKey } from '../storage/data/keys.js';
import { EMPTY_HEADER, type PartitionHeader, type PartitionUpdate, type Row } from '../storage/data/types.js';

export const STREAM_PAGE_FORMAT = 1;
/** Cassandra refuses partition keys above 64 KiB. */
export const MAX_STREAM_KEY_BYTES = 0xffff;
const TOKEN_BYTES = 8;
const FLAG_HEADER = 0x01;
const ROW_CK_TAG = 0x01;
const PAGE_HEAD_BYTES = 1 + 4;

/** One merged entry, as `MergedEntry` (merged-entries.ts) carries it. */
export type StreamEntry =
  | { readonly kind: 'header'; readonly pkey: Buffer; readonly bytes: Buffer }
  | { readonly kind: 'row'; readonly pkey: Buffer; readonly ck: Buffer; readonly bytes: Buffer };

export interface StreamPage {
  readonly bytes: Buffer;
  /** Rows in the page. */
  readonly rows: number;
  /** Partitions that start in this page (one continued from the previous page is not counted again). */
  readonly partitions: number;
}

function uvarintBytes(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

const lbytesSize = (n: number): number => uvarintBytes(n) + n;

/**
 * Cuts a sequence of entries into pages. `add` returns false when the entry does not fit the
 * current (non-empty) page: the caller `finish`es the page and adds the entry again, which then
 * always succeeds.
 */
export class StreamPageWriter {
  private readonly w = new ByteWriter(64 * 1024);
  private partitionCount = 0;
  private rows = 0;
  private partitionsStarted = 0;
  /** The open partition of the page: its pkey and where its row count sits. */
  private pkey: Buffer | null = null;
  private rowCountAt = 0;
  private partitionRows = 0;
  /** The last pkey of the previous page: a partition continued from it is not a new one. */
  private previousPagePkey: Buffer | null = null;

  constructor(private readonly maxBytes: number) {
    assert(Number.isSafeInteger(maxBytes) && maxBytes > PAGE_HEAD_BYTES, `bad stream page size ${maxBytes}`);
  }

  get isEmpty(): boolean {
    return this.partitionCount === 0;
  }

  /** Bytes the page would take with `entry` added. */
  private sizeWith(entry: StreamEntry): number {
    const opens = this.pkey === null || !this.pkey.equals(entry.pkey);
    let size = this.isEmpty ? PAGE_HEAD_BYTES : this.w.length;
    if (opens) size += lbytesSize(entry.pkey.length) + 1 + 4;
    if (entry.kind === 'header') return size + lbytesSize(entry.bytes.length);
    return size + lbytesSize(entry.ck.length - 1) + lbytesSize(entry.bytes.length);
  }

  add(entry: StreamEntry): boolean {
    assert(entry.pkey.length >= TOKEN_BYTES, 'a storage key starts with its token');
    if (!this.isEmpty && this.sizeWith(entry) > this.maxBytes) return false;
    if (this.isEmpty) this.w.u8(STREAM_PAGE_FORMAT).u32(0);
    if (entry.kind === 'header') {
      assert(this.pkey === null || Buffer.compare(entry.pkey, this.pkey) > 0, 'a partition header comes before its rows');
      this.openPartition(entry.pkey, entry.bytes);
      return true;
    }
    assert(entry.ck.length >= 1 && entry.ck[0] === ROW_CK_TAG, 'a row entry carries a row clustering');
    if (this.pkey === null || !this.pkey.equals(entry.pkey)) this.openPartition(entry.pkey, null);
    this.w.lbytes(clusteringOfCk(entry.ck)).lbytes(entry.bytes);
    this.partitionRows++;
    this.rows++;
    return true;
  }

  private openPartition(pkey: Buffer, header: Buffer | null): void {
    this.closePartition();
    this.pkey = pkey;
    this.partitionCount++;
    const continued = this.partitionCount === 1 && this.previousPagePkey !== null && this.previousPagePkey.equals(pkey);
    if (!continued) this.partitionsStarted++;
    this.w.lbytes(pkey).u8(header === null ? 0 : FLAG_HEADER);
    if (header !== null) this.w.lbytes(header);
    this.rowCountAt = this.w.length;
    this.w.u32(0);
    this.partitionRows = 0;
  }

  private closePartition(): void {
    if (this.pkey !== null) this.w.patchU32(this.rowCountAt, this.partitionRows);
  }

  /** The page so far (a copy), and a fresh one begins. */
  finish(): StreamPage {
    assert(!this.isEmpty, 'an empty stream page is never sent');
    this.closePartition();
    this.w.patchU32(1, this.partitionCount);
    const page: StreamPage = { bytes: this.w.toBuffer(), rows: this.rows, partitions: this.partitionsStarted };
    this.previousPagePkey = this.pkey === null ? null : Buffer.from(this.pkey);
    this.w.reset();
    this.partitionCount = 0;
    this.rows = 0;
    this.partitionsStarted = 0;
    this.pkey = null;
    this.partitionRows = 0;
    return page;
  }
}

/** Pages of `entries`, each at most `maxBytes` (see the module header). */
export function encodeStreamPages(entries: Iterable<StreamEntry>, maxBytes: number): StreamPage[] {
  const writer = new StreamPageWriter(maxBytes);
  const pages: StreamPage[] = [];
  for (const entry of entries) {
    if (writer.add(entry)) continue;
    pages.push(writer.finish());
    assert(writer.add(entry), 'an entry always fits an empty page');
  }
  if (!writer.isEmpty) pages.push(writer.finish());
  return pages;
}

/** One page holding all of `entries`, whatever their size. */
export function encodeStreamPage(entries: Iterable<StreamEntry>): Buffer {
  const pages = encodeStreamPages(entries, Number.MAX_SAFE_INTEGER);
  assert(pages.length === 1, 'a stream page holds at least one entry');
  return pages[0]!.bytes;
}

function corrupt(message: string): CorruptDataError {
  return new CorruptDataError(`stream page: ${message}`);
}

function readPartition(r: ByteReader, previous: Buffer | null): { pkey: Buffer; update: PartitionUpdate } {
  const pkey = r.lbytes();
  if (pkey.length < TOKEN_BYTES || pkey.length > TOKEN_BYTES + MAX_STREAM_KEY_BYTES) throw corrupt(`bad partition key length ${pkey.length}`);
  if (previous !== null && Buffer.compare(pkey, previous) <= 0) throw corrupt('partition keys out of order');
  const flags = r.u8();
  if ((flags & ~FLAG_HEADER) !== 0) throw corrupt(`bad partition flags ${flags}`);
  const header: PartitionHeader = (flags & FLAG_HEADER) !== 0 ? decodeHeader(r.lbytes()) : EMPTY_HEADER;
  const rowCount = r.u32();
  if (rowCount > r.remaining) throw corrupt(`bad row count ${rowCount}`);
  if (rowCount === 0 && (flags & FLAG_HEADER) === 0) throw corrupt('a partition with neither header nor rows');
  const rows: Row[] = [];
  let last: Buffer | null = null;
  for (let i = 0; i < rowCount; i++) {
    const clustering = r.lbytes();
    if (last !== null && Buffer.compare(clustering, last) <= 0) throw corrupt('rows out of clustering order');
    rows.push(decodeRow(r.lbytes(), clustering));
    last = clustering;
  }
  const { token, key } = splitStorageKey(pkey);
  return { pkey, update: { token, key, deletion: header.deletion, rangeTombstones: header.rangeTombstones, rows } };
}

/**
 * The partition updates of a page, one per partition. Values are views into `bytes`: keep the
 * page alive (or copy) as long as the updates are used.
 */
export function decodeStreamPage(bytes: Uint8Array): PartitionUpdate[] {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new ByteReader(buffer);
  const format = r.u8();
  if (format !== STREAM_PAGE_FORMAT) throw corrupt(`unknown format ${format}`);
  const count = r.u32();
  if (count === 0 || count > r.remaining) throw corrupt(`bad partition count ${count}`);
  const updates: PartitionUpdate[] = [];
  let previous: Buffer | null = null;
  for (let i = 0; i < count; i++) {
    const { pkey, update } = readPartition(r, previous);
    updates.push(update);
    previous = pkey;
  }
  if (r.remaining !== 0) throw corrupt('trailing bytes');
  return updates;
}
