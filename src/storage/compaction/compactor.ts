/**
 * Merges SSTables into one, in a worker thread: a k-way merge in (pkey, ck) order that
 * reconciles every version of each row, drops what tombstones shadow, and purges tombstones
 * and expired cells once they are past gc_grace and cannot shadow anything outside the
 * compaction (`PurgeRule`). Throttled to `throughputBytesPerS` of input.
 *
 * Invariants: output keys strictly increase; a partition header is written before its rows;
 * the output is complete and fsynced before the caller may publish it; inputs are untouched.
 */
import { HEADER_CK } from '../data/keys.js';
import { headerTimestamps, rowTimestamps, type PurgeRule } from '../data/reconcile.js';
import type { SstableMeta } from '../sstable/format.js';
import { mergedEntries } from '../sstable/merged-entries.js';
import { SstableReader } from '../sstable/sstable-reader.js';
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

export function runCompaction(job: CompactionJob): CompactionResult {
  const readers = job.inputs.map((p) => new SstableReader(p));
  const expectedPartitions = readers.reduce((n, r) => n + r.meta.partitions, 0);
  const writer = new SstableWriter({ path: job.output, generation: job.generation, expectedPartitions, createdAtMs: job.createdAtMs });
  const throttle = new Throttle(job.throughputBytesPerS);
  const ts = { min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY };
  let bytesRead = 0;
  try {
    const onRead = (bytes: number): void => {
      bytesRead += bytes;
      throttle.consume(bytesRead);
    };
    for (const entry of mergedEntries(readers, { purge: job.purge, onRead })) {
      if (entry.kind === 'header') {
        headerTimestamps(entry.header, ts);
        writer.add(entry.pkey, HEADER_CK, entry.bytes);
      } else {
        rowTimestamps(entry.row(), ts);
        writer.add(entry.pkey, entry.ck, entry.bytes);
      }
    }
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
    for (const r of readers) r.close();
  }
}
