/**
 * Reading one partition across a table's sources (memtables and SSTables): a lazy k-way merge
 * by clustering that reconciles row versions, applies the partition's tombstones and stops
 * after `limit` live rows. The result is "unfiltered": tombstones that still matter are kept
 * so a coordinator can merge it with other replicas' answers.
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

function* memRows(rows: ReadonlyArray<MemRow>, start: ClusteringBound | null, end: ClusteringBound | null, reversed: boolean): Generator<Row> {
  const from = start === null ? 0 : lowerBound(rows, start.prefix);
  if (!reversed) {
    for (let i = from; i < rows.length; i++) {
      const row = rows[i]!;
      if (!beforeEnd(row.clustering, end)) return;
      if (afterStart(row.clustering, start)) yield decodeMemRow(row);
    }
    return;
  }
  for (let i = rows.length - 1; i >= from; i--) {
    const row = rows[i]!;
    if (!afterStart(row.clustering, start)) return;
    if (beforeEnd(row.clustering, end)) yield decodeMemRow(row);
  }
}

export function memtableSource(p: MemPartition, query: SliceQuery): PartitionSource {
  return { header: p.header, rows: memRows(p.rows, query.start ?? null, query.end ?? null, query.reversed === true), close: NOOP };
}

function* decodeEntries(entries: ReadonlyArray<[Buffer, Buffer]>, reversed: boolean): Generator<Row> {
  if (!reversed) {
    for (const [ck, v] of entries) if (!isHeaderCk(ck)) yield decodeRow(v, clusteringOfCk(ck));
    return;
  }
  for (let i = entries.length - 1; i >= 0; i--) {
    const [ck, v] = entries[i]!;
    if (!isHeaderCk(ck)) yield decodeRow(v, clusteringOfCk(ck));
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
    return { header, rows: decodeEntries(entries, reversed), close: NOOP };
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
  try {
    const cursors = sources.map((s) => mergeCursor(s.rows));
    while (live < limit) {
      const versions = popSmallest(cursors, compare);
      if (versions.length === 0) break;
      const merged = versions.reduce((a, b) => mergeRows(a, b));
      const visible = removeShadowed(merged, coveringDeletion(header, merged.clustering));
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
