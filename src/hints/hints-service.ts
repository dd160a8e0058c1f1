/**
 * Hinted handoff, the facade a node wires in (issue #7 §1, SPEC 6.5): the coordinator asks
 * `shouldHint` and `store`s a hint for a replica that is down or did not answer in time;
 * gossip's UP/DOWN events drive replay (`onUp`/`onDown`); `stats` feeds the metrics.
 *
 * Cassandra: `HintsService` (write path `StorageProxy.submitHint`, `shouldHint` with
 * `max_hint_window`), `HintsStore`, `HintsDispatchExecutor`, `HintsCleanupTrigger`. Pattern
 * (Joshi, *Patterns of Distributed Systems*): Hinted Handoff, over a Segmented Log per target.
 *
 * Composition: hint-store.ts (durable per-target segments, budget), hint-dispatcher.ts (replay,
 * rate limit, retries), a periodic visit of UP targets with hints (hints of replicas that timed
 * out while alive, or stored after the UP event), and a periodic expiry sweep of segments
 * whose every hint is older than its table's gc_grace_seconds (or whose tables are gone).
 *
 * Rules
 * - Hint only when `hinted_handoff_enabled`, the target has been down less than
 *   `max_hint_window_ms` (a replica that merely timed out counts as down for 0 ms), and the
 *   disk budget has room; a refusal for the window or the budget counts as `dropped` for the
 *   target and is logged (once per down period / once per over-budget episode).
 * - `store` resolves true only once the hint is durable (sync `group`), so ANY may count it.
 *
 * Bounds: those of the store and the dispatcher (limits.ts); two timers.
 */
import { join } from 'node:path';
import type { Settings } from '../config/settings.js';
import type { MessagingService } from '../messaging/messaging-service.js';
import type { Endpoint } from '../ring/token-metadata.js';
import type { Cancellable, Clock, Scheduler } from '../runtime/clock.js';
import { assert } from '../util/assert.js';
import type { Logger } from '../util/logger.js';
import { HintDispatcher, type HintDispatcherStats, type RetryBackoff } from './hint-dispatcher.js';
import { HintStore, type HintSync, type TargetHintStats } from './hint-store.js';
import { DEFAULT_HINT_DISPATCH_INTERVAL_MS, DEFAULT_HINT_EXPIRY_SWEEP_MS, DEFAULT_HINT_TTL_SECONDS, MAX_HINT_TARGETS } from './limits.js';

export type { HintSync, TargetHintStats };

/** A replica a hint is for: its host id (where hints are filed) and its internode endpoint. */
export interface HintTarget {
  readonly hostId: string;
  readonly endpoint: Endpoint;
}

export type HintsSettings = Pick<Settings, 'hinted_handoff_enabled' | 'max_hint_window_ms' | 'hint_replay_bytes_per_s' | 'write_request_timeout_ms'>;

export interface HintsServiceOptions {
  /** The node's `data_dir`; hints live in `<data_dir>/hints/<target host id>/`. */
  readonly dataDir: string;
  readonly settings: HintsSettings;
  /** `max_hints_size_mb` × MiB; default limits.ts DEFAULT_MAX_HINTS_SIZE_BYTES. */
  readonly maxHintsSizeBytes?: number;
  /** Default `group` (durable before `store` resolves). */
  readonly sync?: HintSync;
  readonly syncPeriodMs?: number;
  readonly messaging: Pick<MessagingService, 'request'>;
  /** The table's gc_grace_seconds, undefined once it is dropped; default 10 days for all. */
  readonly gcGraceSecondsOf?: (tableId: string) => number | undefined;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly segmentSizeBytes?: number;
  readonly dispatchIntervalMs?: number;
  readonly expirySweepMs?: number;
  readonly maxInFlight?: number;
  readonly pageHints?: number;
  readonly retryBackoff?: RetryBackoff;
}

export interface HintsStats {
  readonly enabled: boolean;
  /** Bytes on disk and queued, against `maxTotalBytes`. */
  readonly totalBytes: number;
  readonly maxTotalBytes: number;
  /** A hint was refused for the budget and nothing has been freed since. */
  readonly overBudget: boolean;
  readonly refusedOverBudget: number;
  readonly syncs: number;
  /** Per target host id: stored, replayed, expired, dropped, pendingHints, pendingBytes, segments. */
  readonly targets: ReadonlyMap<string, TargetHintStats>;
  readonly dispatch: HintDispatcherStats;
}

const defaultGcGrace = (): number => DEFAULT_HINT_TTL_SECONDS;

export class HintsService {
  private readonly log: Logger;
  private readonly gcGraceSecondsOf: (tableId: string) => number | undefined;
  private readonly dispatchIntervalMs: number;
  private readonly expirySweepMs: number;
  /** Per target, the down period (its start) already reported as past the hint window. */
  private readonly windowWarned = new Map<string, number>();
  private dispatchTimer: Cancellable | null = null;
  private sweepTimer: Cancellable | null = null;
  private started = false;
  private stopped = false;

  private constructor(
    private readonly o: HintsServiceOptions,
    private readonly hintStore: HintStore,
    private readonly dispatcher: HintDispatcher,
  ) {
    this.log = o.logger.child({ component: 'hints' });
    this.gcGraceSecondsOf = o.gcGraceSecondsOf ?? defaultGcGrace;
    this.dispatchIntervalMs = o.dispatchIntervalMs ?? DEFAULT_HINT_DISPATCH_INTERVAL_MS;
    this.expirySweepMs = o.expirySweepMs ?? DEFAULT_HINT_EXPIRY_SWEEP_MS;
    assert(this.dispatchIntervalMs > 0 && this.expirySweepMs > 0, 'hint dispatch and sweep intervals must be positive');
  }

  /** Opens the hint store (loading hints left by an earlier run); call `start` to replay. */
  static async open(o: HintsServiceOptions): Promise<HintsService> {
    const store = await HintStore.open({
      dir: join(o.dataDir, 'hints'),
      sync: o.sync ?? 'group',
      clock: o.clock,
      scheduler: o.scheduler,
      logger: o.logger,
      ...(o.syncPeriodMs !== undefined ? { syncPeriodMs: o.syncPeriodMs } : {}),
      ...(o.segmentSizeBytes !== undefined ? { segmentSizeBytes: o.segmentSizeBytes } : {}),
      ...(o.maxHintsSizeBytes !== undefined ? { maxTotalBytes: o.maxHintsSizeBytes } : {}),
    });
    const dispatcher = new HintDispatcher({
      store,
      messaging: o.messaging,
      clock: o.clock,
      scheduler: o.scheduler,
      logger: o.logger,
      bytesPerSecond: o.settings.hint_replay_bytes_per_s,
      requestTimeoutMs: o.settings.write_request_timeout_ms,
      gcGraceSecondsOf: o.gcGraceSecondsOf ?? defaultGcGrace,
      ...(o.maxInFlight !== undefined ? { maxInFlight: o.maxInFlight } : {}),
      ...(o.pageHints !== undefined ? { pageHints: o.pageHints } : {}),
      ...(o.retryBackoff !== undefined ? { retryBackoff: o.retryBackoff } : {}),
    });
    return new HintsService(o, store, dispatcher);
  }

  get enabled(): boolean {
    return this.o.settings.hinted_handoff_enabled;
  }

  // #region pattern:Hinted Handoff (the coordinator's decision)
  /**
   * Whether to store a hint for `target`, down since `downSinceMs` (null: alive but it did not
   * answer in time). A "no" other than hinting being disabled counts as a dropped hint.
   */
  shouldHint(target: HintTarget, downSinceMs: number | null): boolean {
    if (!this.enabled || this.stopped) return false;
    if (downSinceMs !== null) {
      const downForMs = this.o.clock.nowMs() - downSinceMs;
      if (downForMs >= this.o.settings.max_hint_window_ms) {
        this.hintStoreCountDropped(target, downSinceMs, downForMs);
        return false;
      }
    }
    return this.hintStore.admits(target.hostId);
  }

  /** Stores a hint durably; true once it is (ANY may count it), false if it was refused. */
  store(target: HintTarget, tableId: string, mutationBytes: Buffer): Promise<boolean> {
    if (!this.enabled || this.stopped) return Promise.resolve(false);
    return this.hintStore.append(target.hostId, { createdAtMs: this.o.clock.nowMs(), tableId, mutation: mutationBytes });
  }
  // #endregion

  /** Gossip: `hostId` is UP at `endpoint`; replays its hints at once. */
  onUp(hostId: string, endpoint: Endpoint): void {
    this.windowWarned.delete(hostId);
    if (!this.stopped) this.dispatcher.onUp(hostId, endpoint);
  }

  /** Gossip: `hostId` is DOWN; its replay stops. */
  onDown(hostId: string): void {
    this.dispatcher.onDown(hostId);
  }

  /** The node left the cluster (decommission, removenode, replaced): its hints go. */
  async removeTarget(hostId: string): Promise<void> {
    this.dispatcher.forget(hostId);
    this.windowWarned.delete(hostId);
    await this.hintStore.removeTarget(hostId);
  }

  /** Starts the periodic visit of UP targets with hints and the expiry sweep. */
  start(): void {
    assert(!this.started, 'hints service started twice');
    this.started = true;
    this.scheduleDispatch();
    this.scheduleSweep();
  }

  /** Stops replay, writes and syncs queued hints, closes the store. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.dispatchTimer?.cancel();
    this.sweepTimer?.cancel();
    this.dispatchTimer = null;
    this.sweepTimer = null;
    await this.dispatcher.stop();
    await this.hintStore.close();
  }

  /** Visits every UP target with hints now (what the periodic timer does). */
  dispatchPending(): void {
    for (const hostId of this.hintStore.targetsWithHints()) this.dispatcher.poke(hostId);
  }

  /** Deletes every segment whose hints have all expired now; returns how many hints went. */
  expireNow(): number {
    const nowMs = this.o.clock.nowMs();
    return this.hintStore.expire((tableId, newestCreatedAtMs) => {
      const gcGraceSeconds = this.gcGraceSecondsOf(tableId);
      return gcGraceSeconds === undefined || newestCreatedAtMs + gcGraceSeconds * 1000 <= nowMs;
    });
  }

  /** Resolves once no replay is running (tests, shutdown). */
  idle(): Promise<void> {
    return this.dispatcher.idle();
  }

  pendingHints(hostId: string): number {
    return this.hintStore.pendingHints(hostId);
  }

  stats(): HintsStats {
    const store = this.hintStore.stats();
    return { enabled: this.enabled, ...store, dispatch: this.dispatcher.stats() };
  }

  private hintStoreCountDropped(target: HintTarget, downSinceMs: number, downForMs: number): void {
    this.hintStore.countDropped(target.hostId);
    if (this.windowWarned.get(target.hostId) === downSinceMs) return;
    if (this.windowWarned.size >= MAX_HINT_TARGETS) this.windowWarned.clear();
    this.windowWarned.set(target.hostId, downSinceMs);
    this.log.warn(
      { hostId: target.hostId, endpoint: target.endpoint, downForMs, maxHintWindowMs: this.o.settings.max_hint_window_ms },
      'replica down longer than the hint window: not hinting it (repair will be needed)',
    );
  }

  private scheduleDispatch(): void {
    if (this.stopped) return;
    this.dispatchTimer = this.o.scheduler.after(this.dispatchIntervalMs, () => {
      this.dispatchTimer = null;
      this.dispatchPending();
      this.scheduleDispatch();
    });
  }

  private scheduleSweep(): void {
    if (this.stopped) return;
    this.sweepTimer = this.o.scheduler.after(this.expirySweepMs, () => {
      this.sweepTimer = null;
      this.expireNow();
      this.scheduleSweep();
    });
  }
}
