/**
 * Range reads across the ring (a query without a partition key, or with `token()` bounds).
 *
 * The coordinator asks every live node for one page of the token range from the same resume
 * position (RANGE_READ), then merges the pages: partitions held by several replicas are merged
 * with the storage merge rules, and the merged page is cut at the earliest position where any
 * node's page stopped short, because beyond it that node's rows are not known yet. The next
 * page resumes from the cut, so paging stays exact whichever node coordinates it.
 *
 * Simplification (documented in the coordinator's README): every live node is asked, not only
 * the replicas the consistency level needs per range; a node that is down is skipped, so with
 * RF 1 its rows are missing from the answer.
 *
 * Wire format 1 — command: u8 version, string table id, u8 flags (1 = start token, 2 = end
 * token, 4 = resume), [8-byte token], [8-byte token], [lbytes pkey, lbytes ck], u32 page rows.
 * Page: u8 version, u32 partition count, each in the storage update codec, u8 has-next,
 * [lbytes pkey, lbytes ck]. Bounded: at most MAX_RANGE_PAGE_ROWS rows per page.
 */
import { decodeToken, encodeToken, partitionStorageKey, rowStorageCk } from '../storage/data/keys.js';
import { readUpdate, writeUpdate } from '../storage/data/codec.js';
import type { Partition } from '../storage/data/types.js';
import type { RangeScanPage, RangeScanQuery, ScanPosition } from '../storage/engine/api.js';
import { mergePartition, type PartitionSource } from '../storage/engine/partition-read.js';
import { ByteReader, ByteWriter, CorruptDataError } from '../util/bytes.js';

const FORMAT = 1;
export const MAX_RANGE_PAGE_ROWS = 100_000;
const MAX_PAGE_PARTITIONS = MAX_RANGE_PAGE_ROWS;

export interface RangeCommand {
  readonly tableId: string;
  readonly query: RangeScanQuery;
}

export function encodeRangeCommand(c: RangeCommand): Buffer {
  const q = c.query;
  const w = new ByteWriter(128);
  w.u8(FORMAT).string(c.tableId);
  w.u8((q.startToken !== null ? 1 : 0) | (q.endToken !== null ? 2 : 0) | (q.resume ? 4 : 0));
  if (q.startToken !== null) w.bytes(encodeToken(q.startToken));
  if (q.endToken !== null) w.bytes(encodeToken(q.endToken));
  if (q.resume) w.lbytes(q.resume.pkey).lbytes(q.resume.ck);
  w.u32(q.pageRows);
  return w.toBuffer();
}

function checkFormat(r: ByteReader): void {
  const v = r.u8();
  if (v !== FORMAT) throw new CorruptDataError(`range read format ${v}, expected ${FORMAT}`);
}

export function decodeRangeCommand(bytes: Uint8Array): RangeCommand {
  const r = new ByteReader(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  checkFormat(r);
  const tableId = r.string();
  const flags = r.u8();
  if (flags > 7) throw new CorruptDataError(`range read flags ${flags}`);
  const startToken = flags & 1 ? decodeToken(r.bytes(8)) : null;
  const endToken = flags & 2 ? decodeToken(r.bytes(8)) : null;
  const resume = flags & 4 ? { pkey: Buffer.from(r.lbytes()), ck: Buffer.from(r.lbytes()) } : null;
  const pageRows = r.u32();
  if (pageRows < 1 || pageRows > MAX_RANGE_PAGE_ROWS) throw new CorruptDataError(`range read of ${pageRows} rows`);
  return { tableId, query: { startToken, endToken, resume, pageRows } };
}

export function encodeRangePage(page: RangeScanPage): Buffer {
  const w = new ByteWriter(1024);
  w.u8(FORMAT).u32(page.partitions.length);
  for (const p of page.partitions) writeUpdate(w, p);
  w.u8(page.next === null ? 0 : 1);
  if (page.next !== null) w.lbytes(page.next.pkey).lbytes(page.next.ck);
  return w.toBuffer();
}

export function decodeRangePage(bytes: Uint8Array): RangeScanPage {
  const r = new ByteReader(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  checkFormat(r);
  const n = r.u32();
  if (n > MAX_PAGE_PARTITIONS) throw new CorruptDataError(`range page of ${n} partitions`);
  const partitions: Partition[] = [];
  for (let i = 0; i < n; i++) partitions.push(readUpdate(r));
  const next = r.u8() === 1 ? { pkey: Buffer.from(r.lbytes()), ck: Buffer.from(r.lbytes()) } : null;
  return { partitions, next };
}

function comparePositions(a: ScanPosition, b: ScanPosition): number {
  return Buffer.compare(a.pkey, b.pkey) || Buffer.compare(a.ck, b.ck);
}

/**
 * Merges the pages several nodes returned for the same range query: the merged page stops at
 * the earliest `next` of any node's page (rows after it may be missing from that node's page).
 */
export function mergeRangePages(pages: readonly RangeScanPage[], nowSec: number): RangeScanPage {
  let cut: ScanPosition | null = null;
  for (const p of pages) if (p.next !== null && (cut === null || comparePositions(p.next, cut) < 0)) cut = p.next;
  const byKey = new Map<string, { token: bigint; key: Buffer; parts: Partition[] }>();
  for (const page of pages) {
    for (const p of page.partitions) {
      const storageKey = partitionStorageKey(p.token, p.key);
      if (cut !== null && Buffer.compare(storageKey, cut.pkey) > 0) continue;
      const k = storageKey.toString('latin1');
      let entry = byKey.get(k);
      if (entry === undefined) {
        entry = { token: p.token, key: p.key, parts: [] };
        byKey.set(k, entry);
      }
      // Rows past the cut inside the cut partition are left for the next page.
      entry.parts.push(cut !== null && Buffer.compare(storageKey, cut.pkey) === 0 ? { ...p, rows: p.rows.filter((r) => Buffer.compare(rowStorageCk(r.clustering), cut!.ck) <= 0) } : p);
    }
  }
  const keys = [...byKey.keys()].sort();
  const partitions: Partition[] = [];
  for (const k of keys) {
    const e = byKey.get(k)!;
    const sources: PartitionSource[] = e.parts.map((p) => ({ header: p, rows: p.rows[Symbol.iterator](), close: () => undefined }));
    const merged = mergePartition(e.token, e.key, sources, {}, nowSec);
    if (merged !== null) partitions.push(merged);
  }
  return { partitions, next: cut };
}

