/**
 * The storage engine's public contract: what the coordinator (and tests, and the benchmark)
 * use. One `StorageEngine` per node owns the commit log and the background workers; one
 * `TableStore` per table owns its memtables and SSTables.
 */
import type { Clock, Scheduler } from '../../runtime/clock.js';
import type { Logger } from '../../util/logger.js';
import type { ClusteringBound, Partition, PartitionUpdate } from '../data/types.js';

export type CommitLogSync = 'periodic' | 'group' | 'batch';

export interface StorageEngineOptions {
  /** Holds `commitlog/` and `data/<keyspace>/<table>-<id>/`. */
  readonly dataDir: string;
  readonly commitlogSync: CommitLogSync;
  readonly commitlogSyncPeriodMs: number;
  readonly commitlogSyncGroupWindowMs: number;
  readonly commitlogSegmentSizeMb: number;
  readonly memtableFlushThresholdMb: number;
  /** Bound on all memtables together: above it the largest is flushed early. Default: no bound. */
  readonly memtableTotalSpaceMb?: number;
  /** 0 disables throttling. */
  readonly compactionThroughputMbPerS: number;
  readonly clock?: Clock;
  readonly scheduler?: Scheduler;
  readonly logger?: Logger;
}

export interface CompactionOptions {
  readonly enabled: boolean;
  readonly minThreshold: number;
  readonly maxThreshold: number;
}

export interface TableOptions {
  /** Stable table id (a UUID); names the table's directory. */
  readonly id: string;
  readonly keyspace: string;
  readonly name: string;
  readonly gcGraceSeconds: number;
  readonly compaction?: Partial<CompactionOptions>;
}

export interface SliceQuery {
  readonly start?: ClusteringBound | null;
  readonly end?: ClusteringBound | null;
  readonly reversed?: boolean;
  /** Stop after this many live rows (tombstones do not count). */
  readonly limit?: number;
}

export interface ScanPosition {
  /** Storage key of the last partition returned (token bytes + key). */
  readonly pkey: Buffer;
  /** Storage clustering of the last row returned (0x00 header or 0x01 + clustering). */
  readonly ck: Buffer;
}

export interface RangeScanQuery {
  /** Exclusive lower token bound; null for the start of the ring. */
  readonly startToken: bigint | null;
  /** Inclusive upper token bound; null for the end of the ring. */
  readonly endToken: bigint | null;
  /** Continue strictly after this position (from a previous page's `next`). */
  readonly resume?: ScanPosition | null;
  /** Stop after this many live rows. */
  readonly pageRows: number;
}

export interface RangeScanPage {
  /** Partitions in ring order; a partition split across pages appears in each, with its header. */
  readonly partitions: Partition[];
  /** Where the next page starts, or null when the range is exhausted. */
  readonly next: ScanPosition | null;
}

export interface TableStats {
  readonly sstableCount: number;
  readonly sstableBytes: number;
  readonly memtableBytes: number;
  readonly memtablePartitions: number;
  readonly flushingMemtables: number;
  readonly flushes: number;
  readonly compactions: number;
  readonly bloomFilterFalsePositives: number;
  readonly bloomFilterChecks: number;
}
