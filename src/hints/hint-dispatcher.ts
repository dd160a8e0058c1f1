/**
 * Hint replay: per target host, sends its stored hints oldest first as HINT requests once the
 * target is UP, deletes each after its acknowledgement, and stops when the target goes down or
 * a delivery fails (then retries after a backoff).
 *
 * Cassandra: `HintsDispatchExecutor` / `HintsDispatcher` (pages of hints, one dispatch per
 * host at a time, `hinted_handoff_throttle` through a rate limiter), `HintsDispatchTrigger`
 * (a periodic visit of every live host with hints). Pattern (Joshi, *Patterns of Distributed
 * Systems*): the replay half of Hinted Handoff; the rate limit is a token bucket
 * (token-bucket.ts) shared by every target of this node.
 *
 * A dispatch reads a page of the target's hints from the store and keeps up to `maxInFlight`
 * of them on the wire, in order; hints are retired strictly in read order: the oldest must be
 * acknowledged before any later one is reported complete, so the store's cursor only moves over
 * a delivered prefix. The first failure ends the dispatch; later hints already sent are simply
 * sent again next time (a hint applies idempotently: its cells keep their timestamps).
 * Before a hint is sent, its age is checked against its table's gc_grace_seconds (read when it
 * is sent: a hint older than that could resurrect data a tombstone purge already forgot): too
 * old → completed as expired; a table that no longer exists → dropped. Neither is sent.
 *
 * Invariants: at most one dispatch per target at a time; a target that is down gets nothing;
 * time and timers come from the injected Clock/Scheduler (STYLE.md §1).
 *
 * Bounds: at most `maxInFlight` hints in flight per target, `pageHints` hints (and
 * HINT_PAGE_MAX_BYTES) read per page, every request bounded by `requestTimeoutMs`; state for
 * at most MAX_HINT_TARGETS targets; the retry backoff doubles up to `retryBackoff.maxMs`.
 */
import { parseEndpoint } from '../cluster/cluster-service.js';
import type { MessagingService } from '../messaging/messaging-service.js';
import type { PeerAddress } from '../messaging/peer.js';
import { Verb } from '../messaging/verbs.js';
import type { Endpoint } from '../ring/token-metadata.js';
import type { Cancellable, Clock, Scheduler } from '../runtime/clock.js';
import { assert } from '../util/assert.js';
import type { Logger } from '../util/logger.js';
import type { HintOutcome, HintStore, StoredHint } from './hint-store.js';
import {
  DEFAULT_HINT_MAX_INFLIGHT,
  DEFAULT_HINT_PAGE_HINTS,
  DEFAULT_HINT_RETRY_BACKOFF,
  DEFAULT_HINT_TTL_SECONDS,
  HINT_PAGE_MAX_BYTES,
  MAX_HINT_MAX_INFLIGHT,
  MAX_HINT_PAGE_HINTS,
  MAX_HINT_TARGETS,
} from './limits.js';
import { TokenBucket } from './token-bucket.js';

export interface RetryBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

export interface HintDispatcherOptions {
  readonly store: Pick<HintStore, 'read' | 'complete'>;
  readonly messaging: Pick<MessagingService, 'request'>;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  /** `hint_replay_bytes_per_s`: the node-wide replay rate, counted in framed hint bytes. */
  readonly bytesPerSecond: number;
  /** Each HINT request's timeout (the write timeout is a natural choice). */
  readonly requestTimeoutMs: number;
  /**
   * The table's gc_grace_seconds (a hint's time to live), or undefined when the table no longer
   * exists (its hints are dropped). Default: every table lives, for DEFAULT_HINT_TTL_SECONDS.
   */
  readonly gcGraceSecondsOf?: (tableId: string) => number | undefined;
  readonly maxInFlight?: number;
  readonly pageHints?: number;
  readonly retryBackoff?: RetryBackoff;
}

export interface HintDispatcherStats {
  readonly dispatches: number;
  /** Deliveries that failed (each ends its dispatch and schedules a retry). */
  readonly failures: number;
  readonly targetsUp: number;
}

/** How one hint of a page ended; `aborted`: not sent because the target went down or we stop. */
type SendResult = HintOutcome | 'failed' | 'aborted';
type DispatchResult = 'done' | 'failed' | 'aborted';

interface TargetState {
  readonly hostId: string;
  endpoint: PeerAddress;
  up: boolean;
  running: Promise<void> | null;
  /** Asked to dispatch while one ran: go again when it ends. */
  again: boolean;
  failures: number;
  retryTimer: Cancellable | null;
  /** Rate-limit waits in progress, woken early when the target goes down or we stop. */
  readonly sleepers: Set<() => void>;
}

const defaultGcGrace = (): number => DEFAULT_HINT_TTL_SECONDS;

export class HintDispatcher {
  private readonly log: Logger;
  private readonly bucket: TokenBucket;
  private readonly maxInFlight: number;
  private readonly pageHints: number;
  private readonly backoff: RetryBackoff;
  private readonly gcGraceSecondsOf: (tableId: string) => number | undefined;
  private readonly targets = new Map<string, TargetState>();
  private stopped = false;
  private dispatches = 0;
  private failures = 0;

  constructor(private readonly o: HintDispatcherOptions) {
    this.log = o.logger.child({ component: 'hint-dispatcher' });
    this.bucket = new TokenBucket({ bytesPerSecond: o.bytesPerSecond, nowMs: o.clock.nowMs() });
    this.maxInFlight = o.maxInFlight ?? DEFAULT_HINT_MAX_INFLIGHT;
    this.pageHints = o.pageHints ?? DEFAULT_HINT_PAGE_HINTS;
    this.backoff = o.retryBackoff ?? DEFAULT_HINT_RETRY_BACKOFF;
    this.gcGraceSecondsOf = o.gcGraceSecondsOf ?? defaultGcGrace;
    assert(Number.isInteger(this.maxInFlight) && this.maxInFlight >= 1 && this.maxInFlight <= MAX_HINT_MAX_INFLIGHT, `hint maxInFlight must be in [1, ${MAX_HINT_MAX_INFLIGHT}]`);
    assert(Number.isInteger(this.pageHints) && this.pageHints >= 1 && this.pageHints <= MAX_HINT_PAGE_HINTS, `hint pageHints must be in [1, ${MAX_HINT_PAGE_HINTS}]`);
    assert(this.backoff.initialMs > 0 && this.backoff.maxMs >= this.backoff.initialMs, 'hint retry backoff must be positive and capped above its start');
    assert(o.requestTimeoutMs > 0, 'hint request timeout must be positive');
  }

  /** Gossip saw `hostId` UP at `endpoint`: replay its hints now (a pending retry is cut short). */
  onUp(hostId: string, endpoint: Endpoint): void {
    const state = this.stateFor(hostId, endpoint);
    if (state === null) return;
    state.endpoint = parseEndpoint(endpoint);
    state.up = true;
    state.failures = 0;
    state.retryTimer?.cancel();
    state.retryTimer = null;
    this.kick(state);
  }

  /** Gossip saw `hostId` DOWN: its dispatch stops after the hints in flight settle. */
  onDown(hostId: string): void {
    const state = this.targets.get(hostId);
    if (state === undefined) return;
    state.up = false;
    state.retryTimer?.cancel();
    state.retryTimer = null;
    wakeAll(state);
  }

  /** Dispatches to `hostId` if it is UP, idle and not waiting for a retry (the periodic visit). */
  poke(hostId: string): void {
    const state = this.targets.get(hostId);
    if (state !== undefined && state.retryTimer === null) this.kick(state);
  }

  /** Forgets a target (removed from the cluster); a dispatch in progress stops. */
  forget(hostId: string): void {
    this.onDown(hostId);
    this.targets.delete(hostId);
  }

  isUp(hostId: string): boolean {
    return this.targets.get(hostId)?.up ?? false;
  }

  /** Resolves once no dispatch runs (for shutdown and tests). */
  async idle(): Promise<void> {
    for (let round = 0; round < 16; round++) {
      const running = [...this.targets.values()].map((s) => s.running).filter((r): r is Promise<void> => r !== null);
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const state of this.targets.values()) {
      state.retryTimer?.cancel();
      state.retryTimer = null;
      wakeAll(state);
    }
    await this.idle();
  }

  stats(): HintDispatcherStats {
    let targetsUp = 0;
    for (const state of this.targets.values()) if (state.up) targetsUp++;
    return { dispatches: this.dispatches, failures: this.failures, targetsUp };
  }

  private stateFor(hostId: string, endpoint: Endpoint): TargetState | null {
    const existing = this.targets.get(hostId);
    if (existing !== undefined) return existing;
    if (this.targets.size >= MAX_HINT_TARGETS) {
      this.log.warn({ hostId, maxTargets: MAX_HINT_TARGETS }, 'too many hint targets: not dispatching to this one');
      return null;
    }
    const state: TargetState = { hostId, endpoint: parseEndpoint(endpoint), up: false, running: null, again: false, failures: 0, retryTimer: null, sleepers: new Set() };
    this.targets.set(hostId, state);
    return state;
  }

  private kick(state: TargetState): void {
    if (this.stopped || !state.up) return;
    if (state.running !== null) {
      state.again = true;
      return;
    }
    state.again = false;
    this.dispatches++;
    state.running = this.dispatch(state)
      .then((result) => this.afterDispatch(state, result))
      .catch((err: unknown) => {
        this.log.error({ err, hostId: state.hostId }, 'hint dispatch failed unexpectedly');
        this.afterDispatch(state, 'failed');
      })
      .finally(() => {
        state.running = null;
        if (state.again && state.retryTimer === null) this.kick(state);
      });
  }

  private afterDispatch(state: TargetState, result: DispatchResult): void {
    if (result === 'done') {
      state.failures = 0;
      return;
    }
    if (result !== 'failed' || this.stopped || !state.up) return;
    state.failures++;
    this.failures++;
    state.again = false;
    const delayMs = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** Math.min(30, state.failures - 1));
    state.retryTimer = this.o.scheduler.after(delayMs, () => {
      state.retryTimer = null;
      this.kick(state);
    });
  }

  // #region pattern:Hinted Handoff (replay)
  private async dispatch(state: TargetState): Promise<DispatchResult> {
    let replayed = 0;
    for (;;) {
      if (this.stopped || !state.up) return 'aborted';
      const page = await this.o.store.read(state.hostId, this.pageHints, HINT_PAGE_MAX_BYTES);
      if (page.length === 0) {
        if (replayed > 0) this.log.info({ hostId: state.hostId, replayed }, 'hints replayed');
        return 'done';
      }
      const result = await this.deliverPage(state, page);
      replayed += result.replayed;
      if (result.outcome !== 'done') {
        this.log.info({ hostId: state.hostId, replayed, outcome: result.outcome }, 'hint dispatch stopped');
        return result.outcome;
      }
    }
  }

  /** Sends a page with up to `maxInFlight` hints on the wire, retiring them in order. */
  private async deliverPage(state: TargetState, page: readonly StoredHint[]): Promise<{ outcome: DispatchResult; replayed: number }> {
    const window: { hint: StoredHint; result: Promise<SendResult> }[] = [];
    let next = 0;
    let outcome: DispatchResult = 'done';
    let replayed = 0;
    while (next < page.length || window.length > 0) {
      while (outcome === 'done' && next < page.length && window.length < this.maxInFlight) {
        const hint = page[next++]!;
        window.push({ hint, result: this.sendOne(state, hint) });
      }
      const head = window.shift();
      if (head === undefined) break;
      const result = await head.result;
      // After the first hint that did not go through, later ones are only awaited (bounded
      // in-flight), never completed: the cursor must not pass an undelivered hint.
      if (outcome !== 'done') continue;
      if (result === 'failed' || result === 'aborted') {
        outcome = result;
        continue;
      }
      if (result === 'replayed') replayed++;
      this.o.store.complete(head.hint, result);
    }
    if (outcome === 'done' && (this.stopped || !state.up) && next < page.length) outcome = 'aborted';
    return { outcome, replayed };
  }

  private async sendOne(state: TargetState, hint: StoredHint): Promise<SendResult> {
    const gcGraceSeconds = this.gcGraceSecondsOf(hint.tableId);
    if (gcGraceSeconds === undefined) return 'dropped';
    const nowMs = this.o.clock.nowMs();
    if (hint.createdAtMs + gcGraceSeconds * 1000 <= nowMs) return 'expired';
    const waitMs = this.bucket.take(hint.sizeBytes, nowMs);
    if (waitMs > 0) await this.sleep(state, waitMs);
    if (this.stopped || !state.up) return 'aborted';
    try {
      await this.o.messaging.request(state.endpoint, Verb.HINT, hint.mutation, this.o.requestTimeoutMs);
      return 'replayed';
    } catch (err) {
      this.log.debug({ err, hostId: state.hostId }, 'hint delivery failed');
      return 'failed';
    }
  }
  // #endregion

  private sleep(state: TargetState, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        timer.cancel();
        state.sleepers.delete(wake);
        resolve();
      };
      const timer = this.o.scheduler.after(ms, wake);
      state.sleepers.add(wake);
    });
  }
}

function wakeAll(state: TargetState): void {
  for (const wake of [...state.sleepers]) wake();
}
