/**
 * Merges SSTables into one, in a worker thread: a k-way merge in (pkey, ck) order that
 * reconciles every version of each row, drops what tombstones shadow, and purges tombstones
 * and expired cells once they are past gc_grace and cannot shadow anything outside the
 * compaction (`PurgeRule`). Throttled to `throughputBytesPerS` of input.
 *
 * Invariants: output keys strictly increase; a partition header is written before its rows;
 * the output is complete and fsynced before the caller may publish it; inputs are untouched.
 */
import { decodeHeader, decodeRow, encodeHeader, encodeRow } from '../data/codec.js';
import { clusteringOfCk, HEADER_CK, isHeaderCk, rowStorageCk } from '../data/keys.js';
import { mergeCursor, popSmallest } from '../data/merge-cursors.js';
import {
  coveringDeletion,
  headerTimestamps,
  mergeHeaders,
  mergeRows,
  purgeHeader,
  purgeRow,
  removeShadowed,
  rowTimestamps,
  type PurgeRule,
} from '../data/reconcile.js';
import { EMPTY_HEADER, headerIsEmpty, type PartitionHeader, type Row } from '../data/types.js';
import type { SstableMeta } from '../sstable/format.js';
import { SstableReader, type RawEntry } from '../sstable/sstable-reader.js';
import { SstableWriter } from '../sstable/sstable-writer.js';
import { Throttle } from './throttle.js';

export interface CompactionJob {
  readonly inputs: ReadonlyArray<string>;
  readonly output: string;
  readonly generation: number;
  readonly purge: PurgeRule;
  readonly throughputBytesPerS: number;
  readonly createdAtMs: number;
}

export interface CompactionResult {
  /** Null when everything was purged and no output file was kept. */
  readonly meta: SstableMeta | null;
  readonly bytesRead: number;
  readonly bytesWritten: number;
}

function compareEntries(a: RawEntry, b: RawEntry): number {
  return Buffer.compare(a[0], b[0]) || Buffer.compare(a[1], b[1]);
}

export function runCompaction(job: CompactionJob): CompactionResult {
  const readers = job.inputs.map((p) => new SstableReader(p));
  const expectedPartitions = readers.reduce((n, r) => n + r.meta.partitions, 0);
  const writer = new SstableWriter({ path: job.output, generation: job.generation, expectedPartitions, createdAtMs: job.createdAtMs });
  const throttle = new Throttle(job.throughputBytesPerS);
  const iterators = readers.map((r) => r.iterateAll());
  const ts = { min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY };
  let bytesRead = 0;
  try {
    const cursors = iterators.map((it) => mergeCursor(it));
    let pkey: Buffer | null = null;
    let header: PartitionHeader = EMPTY_HEADER;
    let headerWritten = true;
    const flushHeader = (): void => {
      if (headerWritten || pkey === null) return;
      headerWritten = true;
      const purged = purgeHeader(header, job.purge);
      if (!headerIsEmpty(purged)) {
        headerTimestamps(purged, ts);
        writer.add(pkey, HEADER_CK, encodeHeader(purged));
      }
    };
    for (;;) {
      const group = popSmallest(cursors, compareEntries);
      if (group.length === 0) break;
      const [entryPkey, ck] = group[0]!;
      for (const e of group) bytesRead += e[0].length + e[1].length + e[2].length;
      throttle.consume(bytesRead);
      if (pkey === null || !pkey.equals(entryPkey)) {
        flushHeader();
        pkey = Buffer.from(entryPkey);
        header = EMPTY_HEADER;
        headerWritten = false;
      }
      if (isHeaderCk(ck)) {
        for (const e of group) header = mergeHeaders(header, decodeHeader(e[2]));
        continue;
      }
      flushHeader();
      const clustering = Buffer.from(clusteringOfCk(ck));
      let row: Row = decodeRow(group[0]![2], clustering);
      for (let i = 1; i < group.length; i++) row = mergeRows(row, decodeRow(group[i]![2], clustering));
      const visible = removeShadowed(row, coveringDeletion(header, clustering));
      const kept = visible === null ? null : purgeRow(visible, job.purge);
      if (kept !== null) {
        rowTimestamps(kept, ts);
        writer.add(pkey, rowStorageCk(clustering), encodeRow(kept));
      }
    }
    flushHeader();
    if (writer.isEmpty) {
      writer.abort();
      return { meta: null, bytesRead, bytesWritten: 0 };
    }
    writer.noteTimestamps(ts.min, ts.max);
    const meta = writer.finish();
    return { meta, bytesRead, bytesWritten: writer.bytesWritten };
  } catch (err) {
    writer.abort();
    throw err;
  } finally {
    for (const it of iterators) it.return?.();
    for (const r of readers) r.close();
  }
}
