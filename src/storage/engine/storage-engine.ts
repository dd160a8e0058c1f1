/**
 * The node's storage engine: one commit log shared by every table, one store per table, and
 * two worker threads (flushes, compactions) so that no SQLite bulk work runs on the event loop.
 *
 * Start-up order: `open` → `openTable` for every known table → `replayCommitLog` → writes.
 * Replay re-applies every record newer than its table's low-water mark; a record for a table
 * nobody opened (a dropped table) is skipped.
 *
 * Low-Water Mark: after each flush the engine frees every commit-log segment older than the
 * oldest segment still holding unflushed data of any table.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Clock, Scheduler } from '../../runtime/clock.js';
import { systemClock, systemScheduler } from '../../runtime/system.js';
import { assert } from '../../util/assert.js';
import { ByteReader, ByteWriter } from '../../util/bytes.js';
import { silentLogger, type Logger } from '../../util/logger.js';
import { CommitLog, type CommitLogPosition } from '../commitlog/commit-log.js';
import { readUpdate, writeUpdate } from '../data/codec.js';
import type { PartitionUpdate } from '../data/types.js';
import { StorageWorkerClient } from '../worker/storage-worker-client.js';
import type { StorageEngineOptions, TableOptions, TableStats } from './api.js';
import { TableStore, type TableContext } from './table-store.js';

const MB = 1024 * 1024;
const MEMTABLE_SPACE_CHECK_WRITES = 64;

/**
 * Commit-log record payload: table id, then the partition update (codec.ts). Encoded into a
 * reused scratch buffer: the commit log copies the payload into its record as it appends.
 */
function encodeLogRecord(scratch: ByteWriter, tableId: string, update: PartitionUpdate): Buffer {
  scratch.reset();
  scratch.string(tableId);
  writeUpdate(scratch, update);
  return scratch.view();
}

function decodeLogRecord(payload: Buffer): { tableId: string; update: PartitionUpdate } {
  const r = new ByteReader(payload);
  const tableId = r.string();
  return { tableId, update: readUpdate(r) };
}

export interface ReplayStats {
  readonly records: number;
  readonly applied: number;
  readonly skippedFlushed: number;
  readonly skippedUnknownTable: number;
  readonly skippedCorrupt: number;
}

export class StorageEngine {
  private readonly tables = new Map<string, TableStore>();
  private readonly flushWorker: StorageWorkerClient;
  private readonly compactionWorker: StorageWorkerClient;
  private readonly ctx: TableContext;
  private compactionRunning = false;
  private compactionRequested = false;
  private compactionIdle: Promise<void> = Promise.resolve();
  /** Tables whose commit-log records have been replayed (each is replayed once). */
  private readonly replayed = new Set<string>();
  private replayPending = true;
  private writesSinceSpaceCheck = 0;
  /** Segment deletions after flushes, in order; `close` waits for them. */
  private segmentDiscard: Promise<void> = Promise.resolve();
  private readonly scratch = new ByteWriter(64 * 1024);
  private closed = false;
  readonly clock: Clock;
  readonly logger: Logger;

  private constructor(
    readonly options: StorageEngineOptions,
    private readonly commitLog: CommitLog,
  ) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.flushWorker = new StorageWorkerClient('flush', this.logger);
    this.compactionWorker = new StorageWorkerClient('compaction', this.logger);
    this.ctx = {
      clock: this.clock,
      scheduler: options.scheduler ?? systemScheduler,
      logger: this.logger,
      flushWorker: this.flushWorker,
      compactionWorker: this.compactionWorker,
      memtableFlushThresholdBytes: options.memtableFlushThresholdMb * MB,
      compactionThroughputBytesPerS: options.compactionThroughputMbPerS * MB,
      // A replica passes the received mutation bytes, which are already this record.
      log: (tableId, update, record) => this.commitLog.append(record ?? encodeLogRecord(this.scratch, tableId, update)),
      awaitDurable: (position) => this.commitLog.awaitDurable(position as CommitLogPosition),
      currentLogPosition: () => this.commitLog.currentPosition(),
      onFlushed: (table) => this.afterFlush(table),
      onMemtableGrowth: () => this.checkMemtableSpace(),
    };
  }

  static async open(options: StorageEngineOptions): Promise<StorageEngine> {
    const commitLog = await CommitLog.open({
      dir: path.join(options.dataDir, 'commitlog'),
      sync: options.commitlogSync,
      syncPeriodMs: options.commitlogSyncPeriodMs,
      groupWindowMs: options.commitlogSyncGroupWindowMs,
      segmentSizeBytes: options.commitlogSegmentSizeMb * MB,
      clock: options.clock ?? systemClock,
      scheduler: options.scheduler ?? systemScheduler,
      logger: options.logger ?? silentLogger,
    });
    return new StorageEngine(options, commitLog);
  }

  /** Opens (or creates) a table's store. Open every existing table before `replayCommitLog`. */
  openTable(options: TableOptions): TableStore {
    assert(!this.closed, 'storage engine is closed');
    const existing = this.tables.get(options.id);
    if (existing !== undefined) return existing;
    const table = TableStore.open(this.options.dataDir, options, this.ctx);
    if (table.flushedUpTo !== null) this.commitLog.ensureSegmentIdsAbove(table.flushedUpTo.segment);
    this.tables.set(options.id, table);
    return table;
  }

  /** Drops a table: its memtables, SSTables and directory. Its commit-log records become unknown. */
  async dropTable(id: string): Promise<void> {
    const table = this.tables.get(id);
    if (table === undefined) return;
    await table.truncate();
    this.tables.delete(id);
    await table.close({ flush: false });
    await fs.promises.rm(table.dir, { recursive: true, force: true });
  }

  table(id: string): TableStore | undefined {
    return this.tables.get(id);
  }

  /**
   * Re-applies the commit log to the open tables not replayed yet. Call it after opening the
   * tables; it may be called again for tables opened later (the node replays its schema tables
   * first, reads the schema, then opens and replays the user tables it describes).
   */
  async replayCommitLog(options: { moreTablesToCome?: boolean } = {}): Promise<ReplayStats> {
    // Until the last replay, segments must outlive flushes: they hold the records of tables
    // that are not open yet.
    this.replayPending = options.moreTablesToCome === true;
    const targets = new Map([...this.tables].filter(([id]) => !this.replayed.has(id)));
    for (const id of targets.keys()) this.replayed.add(id);
    const stats = { records: 0, applied: 0, skippedFlushed: 0, skippedUnknownTable: 0, skippedCorrupt: 0 };
    if (targets.size === 0) return stats;
    for await (const { position, payload } of this.commitLog.replay()) {
      stats.records++;
      let record: { tableId: string; update: PartitionUpdate };
      try {
        record = decodeLogRecord(payload);
      } catch (err) {
        // The record's CRC matched, so this is a bug or a format change, not a torn write.
        this.logger.error({ err, position }, 'undecodable commit-log record skipped');
        stats.skippedCorrupt++;
        continue;
      }
      const table = targets.get(record.tableId);
      if (table === undefined) stats.skippedUnknownTable++;
      else if (table.replay(record.update, position)) stats.applied++;
      else stats.skippedFlushed++;
    }
    this.logger.info(stats, 'commit log replayed');
    return stats;
  }

  /**
   * Every `MEMTABLE_SPACE_CHECK_WRITES` writes, sums the active memtables; above
   * `memtableTotalSpaceMb` the largest is flushed (Cassandra's memtable_cleanup_threshold).
   */
  private checkMemtableSpace(): void {
    const limitMb = this.options.memtableTotalSpaceMb;
    if (limitMb === undefined || ++this.writesSinceSpaceCheck < MEMTABLE_SPACE_CHECK_WRITES) return;
    this.writesSinceSpaceCheck = 0;
    let total = 0;
    let largest: TableStore | null = null;
    for (const t of this.tables.values()) {
      const bytes = t.activeMemtableBytes();
      total += bytes;
      if (largest === null || bytes > largest.activeMemtableBytes()) largest = t;
    }
    if (total > limitMb * MB && largest !== null) {
      this.logger.debug({ table: largest.options.name, totalBytes: total }, 'memtable space exhausted: flushing the largest');
      largest.flushEarly();
    }
  }

  // #region pattern:Low-Water Mark
  private afterFlush(table: TableStore): void {
    if (table.compaction.enabled) this.requestCompaction();
    if (this.replayPending) return;
    let lowWater = Number.POSITIVE_INFINITY;
    for (const t of this.tables.values()) lowWater = Math.min(lowWater, t.oldestUnflushedSegment());
    this.segmentDiscard = this.segmentDiscard
      .then(() => this.commitLog.discardSegmentsBefore(Number.isFinite(lowWater) ? lowWater : Number.MAX_SAFE_INTEGER))
      .then(
        () => undefined,
        (err: unknown) => this.logger.error({ err }, 'could not delete flushed commit-log segments'),
      );
  }
  // #endregion

  // #region background compaction
  private requestCompaction(): void {
    this.compactionRequested = true;
    if (this.compactionRunning || this.closed) return;
    this.compactionRunning = true;
    this.compactionIdle = this.compactWhileDue().finally(() => {
      this.compactionRunning = false;
    });
  }

  /** One compaction at a time across all tables, until no table has a candidate. */
  private async compactWhileDue(): Promise<void> {
    while (this.compactionRequested && !this.closed) {
      this.compactionRequested = false;
      for (const table of this.tables.values()) {
        for (let inputs = table.compactionCandidates(); inputs !== null && !this.closed; inputs = table.compactionCandidates()) {
          try {
            await table.compactSstables(inputs);
          } catch (err) {
            this.logger.error({ err, table: table.options.name }, 'compaction failed');
            break;
          }
        }
      }
    }
  }
  // #endregion

  /** Waits until no background compaction is running. */
  async compactionSettled(): Promise<void> {
    while (this.compactionRunning) await this.compactionIdle;
  }

  tableStats(): (TableStats & { keyspace: string; table: string })[] {
    return [...this.tables.values()].map((t) => ({ keyspace: t.options.keyspace, table: t.options.name, ...t.stats() }));
  }

  commitLogStats(): ReturnType<CommitLog['stats']> {
    return this.commitLog.stats();
  }

  /** Flushes every table (when `flush`), then stops the workers and closes the commit log. */
  async close(options: { flush?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    const flush = options.flush ?? true;
    for (const table of this.tables.values()) await table.close({ flush });
    this.closed = true;
    await this.compactionIdle;
    await this.segmentDiscard;
    await this.commitLog.close();
    await this.flushWorker.close();
    await this.compactionWorker.close();
  }
}
