/**
 * Reading one partition across a table's sources (memtables and SSTables): a lazy k-way merge
 * by clustering that reconciles row versions, applies the partition's tombstones and stops
 * after `limit` live rows. The result is "unfiltered": tombstones that still matter are kept
 * so a coordinator can merge it with other replicas' answers.
 *
 * Most point reads find the partition in one source (one memtable or one SSTable): that case
 * skips the merge cursors and, when no tombstone is in play, keeps each row as decoded instead
 * of rebuilding it. Sources iterate with plain iterators, not generators, for the same reason.
 */
import { decodeHeader, decodeRow } from '../data/codec.js';
import { afterStart, beforeEnd, clusteringOfCk, inRange, isHeaderCk } from '../data/keys.js';
import { coveringDeletion, isRowLive, mergeHeaders, mergeRows, removeShadowed } from '../data/reconcile.js';
import { EMPTY_HEADER, headerIsEmpty, type ClusteringBound, type Partition, type PartitionHeader, type Row } from '../data/types.js';
import { mergeCursor, popSmallest } from '../data/merge-cursors.js';
import { decodeMemRow, lowerBound, type MemPartition, type MemRow } from '../memtable/memtable.js';
import type { SstableReader } from '../sstable/sstable-reader.js';
import type { SliceQuery } from './api.js';

/** One source's view of the partition: its header and its rows in query order. */
export interface PartitionSource {
  readonly header: PartitionHeader;
  readonly rows: Iterator<Row>;
  /** Releases resources (an open SQLite statement); called once the merge is done. */
  close(): void;
}

const NOOP = (): void => undefined;

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * A memtable partition's rows within a slice, decoded one at a time. The rows are sorted and a
 * slice is contiguous in that order, so forwards it starts at a binary search and stops at the
 * first row past the end (backwards: the mirror image). A plain iterator rather than a
 * generator: this runs for every point read.
 */
class MemRowIterator implements Iterator<Row> {
  private i: number;
  private readonly from: number;

  constructor(
    private readonly rows: ReadonlyArray<MemRow>,
    private readonly start: ClusteringBound | null,
    private readonly end: ClusteringBound | null,
    private readonly reversed: boolean,
  ) {
    this.from = start === null ? 0 : lowerBound(rows, start.prefix);
    this.i = reversed ? rows.length - 1 : this.from;
  }

  next(): IteratorResult<Row> {
    const rows = this.rows;
    if (!this.reversed) {
      while (this.i < rows.length) {
        const row = rows[this.i++]!;
        if (!beforeEnd(row.clustering, this.end)) break;
        if (afterStart(row.clustering, this.start)) return { done: false, value: decodeMemRow(row) };
      }
      this.i = rows.length;
      return DONE;
    }
    while (this.i >= this.from) {
      const row = rows[this.i--]!;
      if (!afterStart(row.clustering, this.start)) break;
      if (beforeEnd(row.clustering, this.end)) return { done: false, value: decodeMemRow(row) };
    }
    this.i = this.from - 1;
    return DONE;
  }
}

export function memtableSource(p: MemPartition, query: SliceQuery): PartitionSource {
  return { header: p.header, rows: new MemRowIterator(p.rows, query.start ?? null, query.end ?? null, query.reversed === true), close: NOOP };
}

/** The rows (not the header) of a whole SSTable partition read in one statement, decoded one at a time. */
class EntryIterator implements Iterator<Row> {
  private i: number;

  constructor(
    private readonly entries: ReadonlyArray<[Buffer, Buffer]>,
    private readonly reversed: boolean,
  ) {
    this.i = reversed ? entries.length - 1 : 0;
  }

  next(): IteratorResult<Row> {
    const entries = this.entries;
    while (this.i >= 0 && this.i < entries.length) {
      const [ck, v] = entries[this.reversed ? this.i-- : this.i++]!;
      if (!isHeaderCk(ck)) return { done: false, value: decodeRow(v, clusteringOfCk(ck)) };
    }
    return DONE;
  }
}

function* decodeSlice(it: Iterator<[Buffer, Buffer]>, start: ClusteringBound | null, end: ClusteringBound | null): Generator<Row> {
  for (let r = it.next(); !r.done; r = it.next()) {
    const clustering = clusteringOfCk(r.value[0]);
    // The SQL range is a conservative superset of the bounds (prefix semantics); refine here.
    if (inRange(clustering, start, end)) yield decodeRow(r.value[1], clustering);
  }
}

/** Null when the SSTable holds nothing for the partition (a bloom filter false positive). */
export function sstableSource(sstable: SstableReader, pkey: Buffer, query: SliceQuery): PartitionSource | null {
  const start = query.start ?? null;
  const end = query.end ?? null;
  const reversed = query.reversed === true;
  if (start === null && end === null && query.limit === undefined) {
    const entries = sstable.readPartition(pkey);
    if (entries.length === 0) return null;
    const header = isHeaderCk(entries[0]![0]) ? decodeHeader(entries[0]![1]) : EMPTY_HEADER;
    return { header, rows: new EntryIterator(entries, reversed), close: NOOP };
  }
  const headerBytes = sstable.readHeader(pkey);
  const it = sstable.iterateSlice(pkey, start, end, reversed);
  return {
    header: headerBytes === undefined ? EMPTY_HEADER : decodeHeader(headerBytes),
    rows: decodeSlice(it, start, end),
    close: () => void it.return?.(),
  };
}

/** Merges the sources' views of one partition. Returns null when no source knows anything. */
export function mergePartition(
  token: bigint,
  key: Buffer,
  sources: ReadonlyArray<PartitionSource>,
  query: SliceQuery,
  nowSec: number,
): Partition | null {
  const direction = query.reversed === true ? -1 : 1;
  const compare = (a: Row, b: Row): number => direction * Buffer.compare(a.clustering, b.clustering);
  const limit = query.limit ?? Number.POSITIVE_INFINITY;
  let header: PartitionHeader = EMPTY_HEADER;
  for (const s of sources) if (!headerIsEmpty(s.header)) header = mergeHeaders(header, s.header);
  const rows: Row[] = [];
  let live = 0;
  if (sources.length === 1) {
    // One source holds at most one version of each row: nothing to merge, only to filter.
    const source = sources[0]!;
    try {
      for (let r = source.rows.next(); !r.done && live < limit; r = source.rows.next()) {
        const visible = visibleRow(header, r.value);
        if (visible === null) continue;
        rows.push(visible);
        if (isRowLive(visible, nowSec)) live++;
      }
    } finally {
      source.close();
    }
    if (rows.length === 0 && headerIsEmpty(header)) return null;
    return { token, key, deletion: header.deletion, rangeTombstones: header.rangeTombstones, rows };
  }
  try {
    const cursors = sources.map((s) => mergeCursor(s.rows));
    while (live < limit) {
      const versions = popSmallest(cursors, compare);
      if (versions.length === 0) break;
      const merged = versions.reduce((a, b) => mergeRows(a, b));
      const visible = visibleRow(header, merged);
      if (visible === null) continue;
      rows.push(visible);
      if (isRowLive(visible, nowSec)) live++;
    }
  } finally {
    for (const s of sources) s.close();
  }
  if (rows.length === 0 && headerIsEmpty(header)) return null;
  return { token, key, deletion: header.deletion, rangeTombstones: header.rangeTombstones, rows };
}

/**
 * What is left of `row` under the partition's tombstones and its own (`removeShadowed`); the
 * row itself when nothing can shadow any of it, which is the common case and allocates nothing.
 */
function visibleRow(header: PartitionHeader, row: Row): Row | null {
  if (header.deletion === undefined && header.rangeTombstones.length === 0 && row.deletion === undefined && row.complexDeletions === undefined) {
    return row.liveness === undefined && row.cells.length === 0 ? null : row;
  }
  return removeShadowed(row, coveringDeletion(header, row.clustering));
}
