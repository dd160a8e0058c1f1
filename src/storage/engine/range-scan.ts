/**
 * Scanning a token range of a table, page by page, across memtables and SSTables: a k-way
 * merge in (pkey, ck) order, the same reconciliation as a point read, and a resumable
 * position so a caller (a range query, repair, streaming) can walk any amount of data with
 * bounded work per page.
 *
 * A partition split across pages comes back on each of them with its header, so every page
 * can be merged with other replicas' answers on its own.
 *
 * Bounds: a page holds at most `pageRows` live rows and looks at most
 * `pageRows * 10 + 1000` entries, so a run of tombstones cannot make one page unbounded.
 */
import { decodeHeader, decodeRow } from '../data/codec.js';
import { clusteringOfCk, decodeToken, encodeToken, HEADER_CK, isHeaderCk, MAX_TOKEN, rowStorageCk } from '../data/keys.js';
import { coveringDeletion, isRowLive, mergeHeaders, mergeRows, removeShadowed } from '../data/reconcile.js';
import { EMPTY_HEADER, headerIsEmpty, type Partition, type PartitionHeader, type Row } from '../data/types.js';
import { mergeCursor, popSmallest, type MergeCursor } from '../data/merge-cursors.js';
import { memRowBytes, type Memtable } from '../memtable/memtable.js';
import type { SstableReader } from '../sstable/sstable-reader.js';
import type { RangeScanPage, RangeScanQuery, ScanPosition } from './api.js';

interface Fragment {
  readonly pkey: Buffer;
  readonly ck: Buffer;
  /** Decoded on demand: SSTable entries carry raw bytes. */
  readonly header?: PartitionHeader;
  readonly row?: Row;
  readonly raw?: Buffer;
}

function compareFragments(a: Fragment, b: Fragment): number {
  return Buffer.compare(a.pkey, b.pkey) || Buffer.compare(a.ck, b.ck);
}

function afterPosition(f: Fragment, pos: ScanPosition): boolean {
  return (Buffer.compare(f.pkey, pos.pkey) || Buffer.compare(f.ck, pos.ck)) > 0;
}

function* memtableFragments(m: Memtable, from: ScanPosition, endPkey: Buffer | null): Generator<Fragment> {
  for (const p of m.partitionsFrom(from.pkey)) {
    if (endPkey !== null && Buffer.compare(p.pkey, endPkey) >= 0) return;
    if (!headerIsEmpty(p.header)) {
      const f: Fragment = { pkey: p.pkey, ck: HEADER_CK, header: p.header };
      if (afterPosition(f, from)) yield f;
    }
    for (const row of p.rows) {
      const f: Fragment = { pkey: p.pkey, ck: rowStorageCk(row.clustering), raw: memRowBytes(row) };
      if (afterPosition(f, from)) yield f;
    }
  }
}

function* sstableFragments(it: Iterator<[Buffer, Buffer, Buffer]>): Generator<Fragment> {
  for (let r = it.next(); !r.done; r = it.next()) yield { pkey: r.value[0], ck: r.value[1], raw: r.value[2] };
}

function headerOf(f: Fragment): PartitionHeader {
  return f.header ?? decodeHeader(f.raw!);
}

function rowOf(f: Fragment): Row {
  return f.row ?? decodeRow(f.raw!, clusteringOfCk(f.ck));
}

/** Where a scan of (startToken, …] begins: before every key of the first token in range. */
function startPosition(query: RangeScanQuery): ScanPosition | null {
  if (query.resume) return query.resume;
  if (query.startToken === null) return { pkey: Buffer.alloc(0), ck: Buffer.alloc(0) };
  if (query.startToken >= MAX_TOKEN) return null;
  return { pkey: encodeToken(query.startToken + 1n), ck: Buffer.alloc(0) };
}

/** The merged header of one partition across every source. */
function headerAt(memtables: ReadonlyArray<Memtable>, sstables: ReadonlyArray<SstableReader>, pkey: Buffer): PartitionHeader {
  let header: PartitionHeader = EMPTY_HEADER;
  for (const m of memtables) {
    const p = m.get(pkey);
    if (p !== undefined && !headerIsEmpty(p.header)) header = mergeHeaders(header, p.header);
  }
  for (const s of sstables) {
    const bytes = s.readHeader(pkey);
    if (bytes !== undefined) header = mergeHeaders(header, decodeHeader(bytes));
  }
  return header;
}

export function scanRange(
  memtables: ReadonlyArray<Memtable>,
  sstables: ReadonlyArray<SstableReader>,
  query: RangeScanQuery,
  nowSec: number,
): RangeScanPage {
  const from = startPosition(query);
  if (from === null || query.pageRows <= 0) return { partitions: [], next: null };
  const endPkey = query.endToken === null || query.endToken >= MAX_TOKEN ? null : encodeToken(query.endToken + 1n);
  const sqlIterators: Iterator<unknown>[] = [];
  const cursors: MergeCursor<Fragment>[] = [];
  const maxEntries = query.pageRows * 10 + 1000;
  const partitions: Partition[] = [];
  let current: { pkey: Buffer; header: PartitionHeader; rows: Row[] } | null = null;
  // Resuming inside a partition: its header (partition and range tombstones) sorts before the
  // resume position, so fetch it, or the rows on this page would escape its tombstones.
  if (query.resume && !isHeaderCk(query.resume.ck) && query.resume.ck.length > 0) {
    current = { pkey: Buffer.from(query.resume.pkey), header: headerAt(memtables, sstables, query.resume.pkey), rows: [] };
  }
  const emit = (): void => {
    if (current === null) return;
    if (current.rows.length > 0 || !headerIsEmpty(current.header)) {
      partitions.push({
        token: decodeToken(current.pkey),
        key: current.pkey.subarray(8),
        deletion: current.header.deletion,
        rangeTombstones: current.header.rangeTombstones,
        rows: current.rows,
      });
    }
    current = null;
  };
  let live = 0;
  let entries = 0;
  let last: Fragment | null = null;
  try {
    for (const m of memtables) cursors.push(mergeCursor(memtableFragments(m, from, endPkey)));
    for (const s of sstables) {
      if (Buffer.compare(s.meta.maxPkey, from.pkey) < 0) continue;
      if (endPkey !== null && Buffer.compare(s.meta.minPkey, endPkey) >= 0) continue;
      const it = s.iterateFrom(from.pkey, from.ck, endPkey);
      sqlIterators.push(it);
      cursors.push(mergeCursor(sstableFragments(it)));
    }
    while (live < query.pageRows && entries < maxEntries) {
      const group = popSmallest(cursors, compareFragments);
      const min = group[0];
      if (min === undefined) {
        last = null;
        break;
      }
      entries += group.length;
      last = min;
      if (current === null || !current.pkey.equals(min.pkey)) {
        emit();
        current = { pkey: Buffer.from(min.pkey), header: EMPTY_HEADER, rows: [] };
      }
      if (isHeaderCk(min.ck)) {
        for (const f of group) current.header = mergeHeaders(current.header, headerOf(f));
        continue;
      }
      let row = rowOf(group[0]!);
      for (let i = 1; i < group.length; i++) row = mergeRows(row, rowOf(group[i]!));
      const visible = removeShadowed(row, coveringDeletion(current.header, row.clustering));
      if (visible === null) continue;
      current.rows.push(visible);
      if (isRowLive(visible, nowSec)) live++;
    }
    // Exhausted only if no source has anything left after the last entry taken.
    const more = cursors.some((c) => c.head !== undefined);
    emit();
    return { partitions, next: more && last !== null ? { pkey: Buffer.from(last.pkey), ck: Buffer.from(last.ck) } : null };
  } finally {
    for (const it of sqlIterators) it.return?.();
  }
}
