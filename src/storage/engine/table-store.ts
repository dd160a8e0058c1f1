/**
 * One table's store: the active memtable, memtables being flushed, and the live SSTables.
 *
 * Write: append to the commit log, apply to the active memtable, wait until the commit log
 * says the write is durable (per `commitlog_sync`). Read: merge every memtable and every
 * SSTable that may hold the partition. Flush: seal the active memtable, start a fresh one,
 * stream the sealed one to a worker that writes an SSTable, publish it in the manifest with
 * the new commit-log low-water mark, then drop the memtable.
 *
 * A writer that already holds the update's commit-log record encoded (a replica receiving a
 * mutation, a coordinator that encoded it for its peers) passes it along so it is not encoded
 * twice (TableContext.log).
 *
 * Invariants: flushes of a table complete in the order they were started, so `flushedUpTo`
 * only moves forward; a file is live only once the manifest lists it; a sealed memtable stays
 * readable until its SSTable is published.
 * Bounds: at most `MAX_SEALED_MEMTABLES` memtables wait for flushing; writers wait beyond that.
 */
import fs from 'node:fs';
import path from 'node:path';
import { nowSeconds, type Clock, type Scheduler } from '../../runtime/clock.js';
import { assert } from '../../util/assert.js';
import { ByteReader, ByteWriter } from '../../util/bytes.js';
import { mergeRowVersions } from '../../versioning/row-version.js';
import type { Logger } from '../../util/logger.js';
import { encodeHeader, readRowVersionOnly } from '../data/codec.js';
import { partitionStorageKey, rowStorageCk } from '../data/keys.js';
import { headerIsEmpty, type Partition, type PartitionUpdate } from '../data/types.js';
import { comparePositions } from '../commitlog/commit-log.js';
import { lowerBound, Memtable, memRowVersion, type LogPosition } from '../memtable/memtable.js';
import { DEFAULT_SIZE_TIERED, pickSizeTieredCompaction } from '../compaction/size-tiered.js';
import { hashKey } from '../sstable/bloom-filter.js';
import { generationOf, sstableFileName, tempFileName } from '../sstable/format.js';
import { fsyncDir, readManifest, writeManifest, type Manifest } from '../sstable/manifest.js';
import { SstableReader } from '../sstable/sstable-reader.js';
import type { StorageWorkerClient } from '../worker/storage-worker-client.js';
import { CHUNK_TARGET_BYTES } from '../worker/protocol.js';
import type { CompactionOptions, RangeScanPage, RangeScanQuery, SliceQuery, TableOptions, TableStats } from './api.js';
import { memtableSource, mergePartition, sstableSource, type PartitionSource } from './partition-read.js';
import { scanRange } from './range-scan.js';

export const MAX_SEALED_MEMTABLES = 2;
const FLUSH_RETRY_DELAY_MS = 1000;

/** What a table needs from the engine that owns it. */
export interface TableContext {
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly flushWorker: StorageWorkerClient;
  readonly compactionWorker: StorageWorkerClient;
  readonly memtableFlushThresholdBytes: number;
  readonly compactionThroughputBytesPerS: number;
  /**
   * Appends a commit-log record for `update`; returns its position. `record`, when given, is
   * that record's payload already encoded (`string(tableId)` then the codec's update, e.g. the
   * bytes of a received mutation): it must decode to `tableId` and `update`, and may be appended
   * as it is instead of encoding `update` again. It is only read during the call.
   */
  log(tableId: string, update: PartitionUpdate, record?: Buffer): LogPosition;
  awaitDurable(position: LogPosition): Promise<void>;
  currentLogPosition(): LogPosition;
  /** A table's active memtable grew (the engine enforces the bound on all memtables). */
  onMemtableGrowth(): void;
  /** A flush finished: commit-log segments may be freed, compaction may be due. */
  onFlushed(table: TableStore): void;
}


interface SealedMemtable {
  readonly memtable: Memtable;
  failed: boolean;
}

export class TableStore {
  private active = new Memtable();
  private readonly sealed: SealedMemtable[] = [];
  private sstables: SstableReader[] = [];
  private readonly compacting = new Set<number>();
  /** SSTables a streaming or repair worker is reading, with how many readers each: not compacted. */
  private readonly retained = new Map<number, number>();
  /** Files of retained SSTables that a compaction (begun before the retain) replaced: removed on release. */
  private readonly removeOnRelease = new Map<number, string>();
  private flushChain: Promise<void> = Promise.resolve();
  /** Manifest writes, one at a time, in order. */
  private manifestQueue: Promise<unknown> = Promise.resolve();
  private nextGeneration: number;
  private slotWaiters: (() => void)[] = [];
  /** Bumped by truncate: work started before it must not publish. */
  private epoch = 0;
  private closed = false;
  private retryScheduled = false;
  private counters = { flushes: 0, compactions: 0, bloomChecks: 0, bloomFalsePositives: 0 };
  readonly compaction: CompactionOptions;

  private constructor(
    readonly options: TableOptions,
    readonly dir: string,
    private manifest: Manifest,
    private readonly ctx: TableContext,
  ) {
    this.nextGeneration = manifest.nextGeneration;
    this.compaction = {
      enabled: options.compaction?.enabled ?? true,
      minThreshold: options.compaction?.minThreshold ?? DEFAULT_SIZE_TIERED.minThreshold,
      maxThreshold: options.compaction?.maxThreshold ?? DEFAULT_SIZE_TIERED.maxThreshold,
    };
  }

  /** Opens the table directory: reads the manifest, deletes crash leftovers, opens SSTables. */
  static open(dataDir: string, options: TableOptions, ctx: TableContext): TableStore {
    const dir = path.join(dataDir, 'data', options.keyspace, `${options.name}-${options.id.replaceAll('-', '')}`);
    fs.mkdirSync(dir, { recursive: true });
    const manifest = readManifest(dir);
    const live = new Set(manifest.sstables);
    for (const name of fs.readdirSync(dir)) {
      const generation = generationOf(name);
      const leftover = name.endsWith('.tmp') || (generation !== null && !live.has(generation)) || /\.db(\.tmp)?-(journal|wal|shm)$/.test(name);
      if (leftover) {
        ctx.logger.info({ table: options.name, file: name }, 'removing leftover file from an unfinished flush or compaction');
        fs.rmSync(path.join(dir, name), { force: true });
      }
    }
    const table = new TableStore(options, dir, manifest, ctx);
    table.sstables = manifest.sstables.map((g) => new SstableReader(path.join(dir, sstableFileName(g))));
    return table;
  }

  get id(): string {
    return this.options.id;
  }

  /** Every commit-log record at or before this is already in an SSTable. */
  get flushedUpTo(): LogPosition | null {
    return this.manifest.flushedUpTo;
  }

  private nowSec(): number {
    return nowSeconds(this.ctx.clock);
  }

  // #region pattern:Write-Ahead Log (write path)
  /**
   * Applies a write; resolves once it is durable per the commit-log sync mode. `logRecord`: the
   * update's commit-log record when the caller holds it encoded already (TableContext.log).
   * Not an async function: without back-pressure the write costs one promise, the commit log's.
   */
  apply(update: PartitionUpdate, logRecord?: Buffer): Promise<void> {
    try {
      assert(!this.closed, `table ${this.options.name} is closed`);
      if (this.sealed.length >= MAX_SEALED_MEMTABLES) return this.applyAfterSlot(update, logRecord);
      return this.ctx.awaitDurable(this.applyNow(update, logRecord));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private async applyAfterSlot(update: PartitionUpdate, logRecord: Buffer | undefined): Promise<void> {
    await this.awaitMemtableSlot();
    await this.ctx.awaitDurable(this.applyNow(update, logRecord));
  }

  private async awaitMemtableSlot(): Promise<void> {
    while (this.sealed.length >= MAX_SEALED_MEMTABLES) await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
  }

  /**
   * A read-modify-write of this table: once the memtable has room, `build` makes the update
   * (it may read this table) and the update is applied in the same event-loop turn, so no other
   * write lands in between (the row-version write path relies on it). `onBuilt` sees the update
   * before it is applied (e.g. to send it to other replicas) and may return its commit-log
   * record if it encoded one (TableContext.log). Resolves once it is durable.
   */
  applyWith(build: () => PartitionUpdate, onBuilt: (update: PartitionUpdate) => Buffer | undefined): Promise<void> {
    try {
      assert(!this.closed, `table ${this.options.name} is closed`);
      if (this.sealed.length >= MAX_SEALED_MEMTABLES) return this.applyWithAfterSlot(build, onBuilt);
      return this.buildAndApply(build, onBuilt);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private async applyWithAfterSlot(build: () => PartitionUpdate, onBuilt: (update: PartitionUpdate) => Buffer | undefined): Promise<void> {
    await this.awaitMemtableSlot();
    await this.buildAndApply(build, onBuilt);
  }

  private buildAndApply(build: () => PartitionUpdate, onBuilt: (update: PartitionUpdate) => Buffer | undefined): Promise<void> {
    const update = build();
    const logRecord = onBuilt(update);
    return this.ctx.awaitDurable(this.applyNow(update, logRecord));
  }

  private applyNow(update: PartitionUpdate, logRecord: Buffer | undefined): LogPosition {
    const position = this.ctx.log(this.id, update, logRecord);
    this.active.apply(update, position);
    if (this.memtableFull()) this.requestFlush();
    else this.ctx.onMemtableGrowth();
    return position;
  }
  // #endregion

  /** Re-applies a commit-log record at start-up, unless it is already in an SSTable. */
  replay(update: PartitionUpdate, position: LogPosition): boolean {
    if (this.manifest.flushedUpTo !== null && comparePositions(position, this.manifest.flushedUpTo) <= 0) return false;
    this.active.apply(update, position);
    if (this.memtableFull()) this.requestFlush();
    return true;
  }

  /** Full by its content estimate, or by the slab memory it really holds (overwrites waste some). */
  private memtableFull(): boolean {
    const limit = this.ctx.memtableFlushThresholdBytes;
    return this.active.bytes >= limit || this.active.slabBytes >= limit;
  }

  /** Bytes held by the active memtable (what an early flush would free). */
  activeMemtableBytes(): number {
    return Math.max(this.active.bytes, this.active.slabBytes);
  }

  /** Flushes the active memtable now (not awaited): the engine's total memtable bound. */
  flushEarly(): void {
    this.requestFlush();
  }

  private memtables(): Memtable[] {
    const out = [this.active];
    for (const s of this.sealed) out.push(s.memtable);
    return out;
  }

  /**
   * The version of one row merged over every memtable and SSTable holding it, read without
   * decoding cells or applying deletions: the versioned write path reads it before each write,
   * and a row's history outlives deletions of its data (so this node's counter never goes back).
   */
  readRowVersion(token: bigint, key: Buffer, clustering: Buffer): Buffer | undefined {
    const pkey = partitionStorageKey(token, key);
    let version: Buffer | undefined;
    for (const m of this.memtables()) {
      const rows = m.get(pkey)?.rows;
      if (rows === undefined) continue;
      const row = rows[lowerBound(rows, clustering)];
      if (row !== undefined && row.clustering.equals(clustering)) version = mergeRowVersions(version, memRowVersion(row));
    }
    if (this.sstables.length > 0) {
      const hash = hashKey(pkey);
      const ck = rowStorageCk(clustering);
      for (const sstable of this.sstables) {
        if (!sstable.mayContain(token, pkey, hash)) continue;
        const bytes = sstable.readEntry(pkey, ck);
        if (bytes !== undefined) version = mergeRowVersions(version, readRowVersionOnly(new ByteReader(bytes)));
      }
    }
    return version;
  }

  readPartition(token: bigint, key: Buffer, query: SliceQuery = {}): Partition | null {
    const pkey = partitionStorageKey(token, key);
    const sources: PartitionSource[] = [];
    const recent = this.active.get(pkey);
    if (recent !== undefined) sources.push(memtableSource(recent, query));
    for (const s of this.sealed) {
      const p = s.memtable.get(pkey);
      if (p !== undefined) sources.push(memtableSource(p, query));
    }
    if (this.sstables.length > 0) {
      const hash = hashKey(pkey);
      for (const sstable of this.sstables) {
        if (!sstable.mayContain(token, pkey, hash)) continue;
        this.counters.bloomChecks++;
        const source = sstableSource(sstable, pkey, query);
        if (source === null) this.counters.bloomFalsePositives++;
        else sources.push(source);
      }
    }
    if (sources.length === 0) return null;
    return mergePartition(token, key, sources, query, this.nowSec());
  }

  scanRange(query: RangeScanQuery): RangeScanPage {
    return scanRange(this.memtables(), this.sstables, query, this.nowSec());
  }

  /**
   * Flushes, then hands out the SSTables that now hold everything written before the call, for
   * a worker thread to read (streaming, Merkle trees). Until `release()` they are kept out of
   * compaction, so their files stay on disk while the worker opens them. A truncate still drops
   * them: a worker that then fails to open a file reports the error.
   */
  async retainSstables(): Promise<{ readonly paths: readonly string[]; release(): void }> {
    await this.flush();
    const held = [...this.sstables];
    for (const s of held) this.retained.set(s.generation, (this.retained.get(s.generation) ?? 0) + 1);
    let released = false;
    return {
      paths: held.map((s) => s.path),
      release: () => {
        if (released) return;
        released = true;
        for (const s of held) {
          const n = (this.retained.get(s.generation) ?? 1) - 1;
          if (n > 0) {
            this.retained.set(s.generation, n);
            continue;
          }
          this.retained.delete(s.generation);
          const obsolete = this.removeOnRelease.get(s.generation);
          this.removeOnRelease.delete(s.generation);
          if (obsolete !== undefined) void this.removeFiles([obsolete]);
        }
      },
    };
  }

  private busy(generation: number): boolean {
    return this.compacting.has(generation) || this.retained.has(generation);
  }

  // #region flush
  /** Flushes everything written so far into SSTables. */
  flush(): Promise<void> {
    this.requestFlush();
    return this.flushChain;
  }

  private requestFlush(): void {
    const retry = this.sealed.filter((s) => s.failed);
    for (const s of retry) {
      s.failed = false;
      this.enqueueFlush(s);
    }
    if (this.active.isEmpty) return;
    const sealed: SealedMemtable = { memtable: this.active, failed: false };
    this.active.seal();
    this.active = new Memtable();
    this.sealed.push(sealed);
    this.enqueueFlush(sealed);
  }

  private enqueueFlush(s: SealedMemtable): void {
    const run = this.flushChain.then(() => this.flushMemtable(s));
    this.flushChain = run.catch((err: unknown) => {
      s.failed = true;
      this.ctx.logger.error({ err, table: this.options.name }, 'flush failed; the memtable stays in memory and is retried');
      // Writers may be waiting for this memtable to go (back-pressure): retry on our own.
      if (!this.retryScheduled && !this.closed) {
        this.retryScheduled = true;
        this.ctx.scheduler.after(FLUSH_RETRY_DELAY_MS, () => {
          this.retryScheduled = false;
          if (!this.closed) this.requestFlush();
        });
      }
    });
  }

  private allocateGeneration(): number {
    return this.nextGeneration++;
  }

  /**
   * Publishes a manifest change: `change` sees the current manifest when its turn comes (null:
   * nothing to publish); once the new manifest is durable, `apply` updates memory to match,
   * synchronously, so readers never see a state the disk does not have. Returns whether it
   * published. Writes run one at a time with their fsyncs off the event loop.
   */
  private commitManifest(change: (current: Manifest) => Manifest | null, apply: () => void): Promise<boolean> {
    const run = this.manifestQueue.then(async () => {
      const changed = change(this.manifest);
      if (changed === null) return false;
      const next = { ...changed, nextGeneration: Math.max(changed.nextGeneration, this.nextGeneration) };
      await writeManifest(this.dir, next);
      this.manifest = next;
      apply();
      return true;
    });
    this.manifestQueue = run.catch(() => undefined);
    return run;
  }

  /** Removes obsolete files off the event loop; a failure is logged (start-up cleans up anyway). */
  private async removeFiles(paths: ReadonlyArray<string>): Promise<void> {
    await Promise.all(
      paths.map((p) => fs.promises.rm(p, { force: true }).catch((err: unknown) => this.ctx.logger.warn({ err, file: p }, 'could not remove an obsolete file'))),
    );
  }

  private async flushMemtable(s: SealedMemtable): Promise<void> {
    if (!this.sealed.includes(s)) return; // truncated meanwhile
    const m = s.memtable;
    const epoch = this.epoch;
    const generation = this.allocateGeneration();
    const tmp = path.join(this.dir, tempFileName(generation));
    const meta = await this.ctx.flushWorker.flush(
      {
        path: tmp,
        generation,
        expectedPartitions: m.partitionCount,
        createdAtMs: this.ctx.clock.nowMs(),
        minTs: m.timestamps.min,
        maxTs: m.timestamps.max,
      },
      this.chunksOf(m),
    );
    const stale = (): boolean => epoch !== this.epoch || this.closed;
    if (stale()) {
      await this.removeFiles([tmp]);
      return;
    }
    const final = path.join(this.dir, sstableFileName(generation));
    await fs.promises.rename(tmp, final);
    await fsyncDir(this.dir);
    const reader = new SstableReader(final);
    const published = await this.commitManifest(
      (current) => {
        if (stale()) return null;
        const previous = current.flushedUpTo;
        const last = m.lastPosition;
        const flushedUpTo = previous === null || (last !== null && comparePositions(last, previous) > 0) ? last : previous;
        return { ...current, sstables: [...current.sstables, generation], flushedUpTo };
      },
      () => {
        this.sstables = [...this.sstables, reader];
        this.sealed.splice(this.sealed.indexOf(s), 1);
        for (const wake of this.slotWaiters.splice(0)) wake();
      },
    );
    if (!published) {
      reader.close();
      await this.removeFiles([final]);
      return;
    }
    this.counters.flushes++;
    this.ctx.logger.debug({ table: this.options.name, generation, rows: meta.rows, partitions: meta.partitions }, 'memtable flushed');
    this.ctx.onFlushed(this);
  }

  /**
   * Streams a sealed memtable as worker chunks, yielding to the event loop between chunks.
   * Each chunk gets its own buffer, which is handed to the worker without a copy.
   */
  private async *chunksOf(m: Memtable): AsyncGenerator<Buffer> {
    const chunkBytes = CHUNK_TARGET_BYTES + 64 * 1024;
    let w = new ByteWriter(chunkBytes);
    for (const p of m.partitionsFrom(null)) {
      if (!headerIsEmpty(p.header)) w.lbytes(p.pkey).uvarint(1).u8(0).lbytes(encodeHeader(p.header));
      for (const row of p.rows) {
        w.lbytes(p.pkey).uvarint(row.clustering.length + 1).u8(1).bytes(row.clustering);
        w.uvarint(row.end - row.start).bytesOf(row.slab, row.start, row.end);
        if (w.length >= CHUNK_TARGET_BYTES) {
          yield w.view();
          w = new ByteWriter(chunkBytes);
          await this.ctx.scheduler.yieldToIo();
        }
      }
    }
    if (w.length > 0) yield w.view();
  }
  // #endregion

  /** The oldest commit-log segment holding data not yet in an SSTable (Infinity if none). */
  oldestUnflushedSegment(): number {
    let oldest = Number.POSITIVE_INFINITY;
    for (const m of this.memtables()) if (m.firstPosition !== null && m.firstPosition.segment < oldest) oldest = m.firstPosition.segment;
    return oldest;
  }

  // #region compaction
  /** SSTables the size-tiered strategy would compact now (none while disabled). */
  compactionCandidates(evenIfDisabled = false): SstableReader[] | null {
    if ((!this.compaction.enabled && !evenIfDisabled) || this.closed) return null;
    const idle = this.sstables.filter((s) => !this.busy(s.generation));
    const picked = pickSizeTieredCompaction(
      idle.map((s) => ({ generation: s.generation, sizeBytes: s.sizeBytes, reader: s })),
      { ...DEFAULT_SIZE_TIERED, minThreshold: this.compaction.minThreshold, maxThreshold: this.compaction.maxThreshold },
    );
    return picked?.map((p) => p.reader) ?? null;
  }

  /**
   * Compacts now: with `major`, every SSTable not already being compacted into one (which also
   * purges every purgeable tombstone); otherwise whatever the strategy picks, until nothing is due.
   */
  async compact(options: { major?: boolean } = {}): Promise<void> {
    if (options.major) {
      await this.compactSstables(this.sstables.filter((s) => !this.busy(s.generation)));
      return;
    }
    for (let inputs = this.compactionCandidates(true); inputs !== null; inputs = this.compactionCandidates(true)) {
      await this.compactSstables(inputs);
    }
  }

  /**
   * Tombstones at or above this timestamp may shadow data outside the compaction (in a
   * memtable or another SSTable), so they must survive it.
   */
  private maxPurgeableTs(inputs: ReadonlySet<number>): number {
    let min = Number.POSITIVE_INFINITY;
    for (const m of this.memtables()) if (m.timestamps.min < min) min = m.timestamps.min;
    for (const s of this.sstables) if (!inputs.has(s.generation) && s.meta.minTs < min) min = s.meta.minTs;
    return min;
  }

  /** Compacts `inputs` into one SSTable in the compaction worker and publishes the result. */
  async compactSstables(inputs: SstableReader[]): Promise<void> {
    if (inputs.length === 0 || this.closed) return;
    const generations = new Set(inputs.map((s) => s.generation));
    for (const g of generations) assert(!this.compacting.has(g), 'an sstable is in two compactions');
    for (const g of generations) this.compacting.add(g);
    const epoch = this.epoch;
    const generation = this.allocateGeneration();
    const tmp = path.join(this.dir, tempFileName(generation));
    const nowSec = this.nowSec();
    try {
      const result = await this.ctx.compactionWorker.compact({
        inputs: inputs.map((s) => s.path),
        output: tmp,
        generation,
        purge: { nowSec, gcBeforeSec: nowSec - this.options.gcGraceSeconds, maxPurgeableTs: this.maxPurgeableTs(generations) },
        throughputBytesPerS: this.ctx.compactionThroughputBytesPerS,
        createdAtMs: this.ctx.clock.nowMs(),
      });
      const stale = (): boolean => epoch !== this.epoch || this.closed;
      if (stale()) {
        await this.removeFiles([tmp]);
        return;
      }
      const added: SstableReader[] = [];
      if (result.meta !== null) {
        const final = path.join(this.dir, sstableFileName(generation));
        await fs.promises.rename(tmp, final);
        await fsyncDir(this.dir);
        added.push(new SstableReader(final));
      }
      const published = await this.commitManifest(
        (current) => (stale() ? null : { ...current, sstables: [...current.sstables.filter((g) => !generations.has(g)), ...added.map((a) => a.generation)] }),
        () => {
          this.sstables = [...this.sstables.filter((s) => !generations.has(s.generation)), ...added];
          for (const s of inputs) s.close();
        },
      );
      if (!published) {
        for (const a of added) a.close();
        await this.removeFiles(added.map((a) => a.path));
        return;
      }
      for (const s of inputs) if (this.retained.has(s.generation)) this.removeOnRelease.set(s.generation, s.path);
      await this.removeFiles(inputs.filter((s) => !this.retained.has(s.generation)).map((s) => s.path));
      this.counters.compactions++;
      this.ctx.logger.debug({ table: this.options.name, inputs: [...generations], output: result.meta?.generation ?? null, bytesRead: result.bytesRead }, 'compaction done');
    } finally {
      for (const g of generations) this.compacting.delete(g);
    }
  }
  // #endregion

  /** Drops every row: memtables, SSTables, and (through the manifest) the commit log's copy. */
  async truncate(): Promise<void> {
    await this.flushChain;
    this.epoch++;
    const position = this.ctx.currentLogPosition();
    this.active = new Memtable();
    this.sealed.splice(0);
    for (const wake of this.slotWaiters.splice(0)) wake();
    // Compactions in flight see the epoch change and discard their output; their workers keep
    // reading the unlinked input files until they finish.
    const dropped = this.sstables;
    this.sstables = [];
    await this.commitManifest(
      (current) => ({ ...current, sstables: [], flushedUpTo: position }),
      () => undefined,
    );
    for (const s of dropped) s.close();
    await this.removeFiles(dropped.map((s) => s.path));
    this.ctx.onFlushed(this);
  }

  stats(): TableStats {
    return {
      sstableCount: this.sstables.length,
      sstableBytes: this.sstables.reduce((n, s) => n + s.sizeBytes, 0),
      memtableBytes: this.memtables().reduce((n, m) => n + m.bytes, 0),
      memtablePartitions: this.active.partitionCount,
      flushingMemtables: this.sealed.length,
      flushes: this.counters.flushes,
      compactions: this.counters.compactions,
      bloomFilterChecks: this.counters.bloomChecks,
      bloomFilterFalsePositives: this.counters.bloomFalsePositives,
    };
  }

  /** Waits for flushes in progress, then closes the SSTables. */
  async close(options: { flush: boolean }): Promise<void> {
    if (this.closed) return;
    if (options.flush) await this.flush();
    else await this.flushChain;
    await this.manifestQueue;
    this.closed = true;
    for (const s of this.sstables) s.close();
  }
}
