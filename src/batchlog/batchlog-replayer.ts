/**
 * The batch-log replayer every node runs: batches left in the local batch log longer than a
 * coordinator could still be working on them are applied to their replicas and removed.
 *
 * Cassandra: `BatchlogManager.replayFailedBatches` (every 10 s there; `intervalMs` here), with
 * `getBatchlogTimeout()` (twice the write timeout) as the age a batch must reach. Pattern
 * (Joshi, *Patterns of Distributed Systems*): the recovery half of a Write-Ahead Log: re-apply
 * what was logged but possibly not applied. Like the rest of the core it takes an injected
 * Clock and Scheduler (STYLE.md §1).
 *
 * Why it is safe: an entry still in the log after `replayAfterMs` belongs to a coordinator that
 * died or failed after storing it (a live one removes it within about two write timeouts). Its
 * mutations carry their original cell timestamps, so applying them again, even alongside a
 * coordinator that is merely slow, writes the same cells: replay is idempotent.
 *
 * A round: the oldest due entries (at most `maxBatchesPerRound`), one after another; each is
 * written with the injected write function at `consistency` (ONE by default; the write path
 * still sends to every live replica) and removed once that succeeded. A failed write leaves
 * the entry for the next round (logged, counted). Mutations of tables that no longer exist are
 * skipped (a dropped table takes its data with it); an undecodable entry is logged and removed.
 * Rounds never overlap: the next is scheduled `intervalMs` after one ends.
 *
 * The batch-log table is flushed every `flushPeriodMs` while its memtable holds data: its
 * entries come and go, and an unflushed memtable would pin old commit-log segments (the
 * engine frees a segment only once every table flushed past it).
 *
 * Bounds: one round at a time, at most `maxBatchesPerRound` batches, each write bounded by the
 * write path's own timeout.
 */
import type { Mutation } from '../cql/data-path.js';
import type { ConsistencyLevel } from '../cql/request.js';
import type { Cancellable, Clock, Scheduler } from '../runtime/clock.js';
import type { TableMetadata } from '../schema/schema.js';
import { assert } from '../util/assert.js';
import type { Logger } from '../util/logger.js';
import { batchIdString, type Batch, type BatchlogEntry, type BatchlogStore } from './batchlog-store.js';

export const DEFAULT_REPLAY_INTERVAL_MS = 1000;
export const DEFAULT_MAX_BATCHES_PER_ROUND = 64;
export const DEFAULT_BATCHLOG_FLUSH_PERIOD_MS = 60_000;
/** Added to twice the write timeout: a coordinator's own removal may still be on its way. */
export const REPLAY_MARGIN_MS = 1000;

/** How old a batch must be before another node replays it: 2 × the write timeout + a margin. */
export function defaultReplayAfterMs(writeRequestTimeoutMs: number): number {
  return 2 * writeRequestTimeoutMs + REPLAY_MARGIN_MS;
}

export interface BatchlogReplayerOptions {
  readonly store: Pick<BatchlogStore, 'due' | 'read' | 'remove' | 'memtableBytes' | 'flush'>;
  /** The normal write path (StorageProxy.write). */
  readonly write: (mutations: readonly Mutation[], consistency: ConsistencyLevel) => Promise<unknown>;
  /** The current schema's table with this id; undefined once dropped. */
  readonly tableById: (tableId: string) => TableMetadata | undefined;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  /** Age (by the local clock, since stored) at which a batch is replayed. */
  readonly replayAfterMs: number;
  readonly intervalMs?: number;
  readonly maxBatchesPerRound?: number;
  readonly consistency?: ConsistencyLevel;
  readonly flushPeriodMs?: number;
}

export interface BatchlogReplayerStats {
  readonly rounds: number;
  /** Batches applied and removed. */
  readonly replayed: number;
  /** Replay attempts that failed (retried next round). */
  readonly failed: number;
  /** Mutations of dropped tables left out of a replay. */
  readonly skippedMutations: number;
  /** Undecodable entries removed. */
  readonly corrupt: number;
}

export interface ReplayRound {
  readonly replayed: number;
  readonly failed: number;
}

export class BatchlogReplayer {
  private readonly intervalMs: number;
  private readonly maxBatchesPerRound: number;
  private readonly consistency: ConsistencyLevel;
  private readonly flushPeriodMs: number;
  private readonly log: Logger;
  private timer: Cancellable | null = null;
  private running: Promise<unknown> = Promise.resolve();
  private started = false;
  private stopped = false;
  private lastFlushMs: number;
  private counters = { rounds: 0, replayed: 0, failed: 0, skippedMutations: 0, corrupt: 0 };

  constructor(private readonly o: BatchlogReplayerOptions) {
    this.intervalMs = o.intervalMs ?? DEFAULT_REPLAY_INTERVAL_MS;
    this.maxBatchesPerRound = o.maxBatchesPerRound ?? DEFAULT_MAX_BATCHES_PER_ROUND;
    this.consistency = o.consistency ?? 'ONE';
    this.flushPeriodMs = o.flushPeriodMs ?? DEFAULT_BATCHLOG_FLUSH_PERIOD_MS;
    assert(this.intervalMs > 0 && o.replayAfterMs >= 0, 'replay interval must be positive and the replay age not negative');
    assert(Number.isInteger(this.maxBatchesPerRound) && this.maxBatchesPerRound >= 1, 'at least one batch per round');
    this.log = o.logger.child({ component: 'batchlog-replayer' });
    this.lastFlushMs = o.clock.nowMs();
  }

  /** Replays due batches every `intervalMs` until `stop`. */
  start(): void {
    assert(!this.started, 'batch log replayer started twice');
    this.started = true;
    this.schedule();
  }

  /** Stops scheduling rounds and waits for the one running, if any. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
    await this.running;
  }

  stats(): BatchlogReplayerStats {
    return { ...this.counters };
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.o.scheduler.after(this.intervalMs, () => {
      this.timer = null;
      if (this.stopped) return;
      this.running = this.replayDue()
        .catch((err: unknown) => this.log.error({ err }, 'batch log replay round failed'))
        .finally(() => this.schedule());
    });
  }

  // #region pattern:Write-Ahead Log (batch log replay)
  /** One round: replays the oldest due batches; exposed for tests and for a node's shutdown. */
  async replayDue(): Promise<ReplayRound> {
    this.counters.rounds++;
    const cutoffMicros = this.o.clock.nowMicros() - this.o.replayAfterMs * 1000;
    let replayed = 0;
    let failed = 0;
    for (const entry of this.o.store.due(cutoffMicros, this.maxBatchesPerRound)) {
      if (this.stopped) break;
      const outcome = await this.replayOne(entry);
      if (outcome === 'replayed') replayed++;
      else if (outcome === 'failed') failed++;
    }
    if (replayed > 0 || failed > 0) this.log.info({ replayed, failed }, 'batch log replay round');
    await this.flushIfDue();
    return { replayed, failed };
  }

  private async replayOne(entry: BatchlogEntry): Promise<'replayed' | 'failed' | 'gone'> {
    const batchId = batchIdString(entry.id);
    let batch: Batch | null;
    try {
      batch = this.o.store.read(entry.id);
    } catch (err) {
      this.log.error({ err, batchId }, 'undecodable batch log entry removed');
      this.counters.corrupt++;
      await this.o.store.remove(entry.id);
      return 'gone';
    }
    // Removed meanwhile (its coordinator finished after all).
    if (batch === null) return 'gone';
    const mutations: Mutation[] = [];
    for (const m of batch.mutations) {
      const table = this.o.tableById(m.tableId);
      if (table === undefined) this.counters.skippedMutations++;
      else mutations.push({ table, update: m.update });
    }
    try {
      if (mutations.length > 0) await this.o.write(mutations, this.consistency);
      await this.o.store.remove(entry.id);
    } catch (err) {
      this.counters.failed++;
      this.log.warn({ err, batchId }, 'batch replay failed; retrying next round');
      return 'failed';
    }
    this.counters.replayed++;
    this.log.debug({ batchId, mutations: mutations.length, writtenAtMs: batch.writtenAtMs }, 'batch replayed');
    return 'replayed';
  }
  // #endregion

  private async flushIfDue(): Promise<void> {
    const nowMs = this.o.clock.nowMs();
    if (nowMs - this.lastFlushMs < this.flushPeriodMs || this.o.store.memtableBytes() === 0) return;
    this.lastFlushMs = nowMs;
    await this.o.store.flush();
  }
}
