/**
 * Streaming: push this node's rows of one table within some token ranges to another node. The
 * one primitive that bootstrap, decommission, removenode and repair use to move data.
 *
 * Cassandra: `StreamPlan` / `StreamSession` (an outgoing transfer of a table's ranges),
 * `stream_throughput_outbound`, and the receiving side that applies what arrives. Here a
 * session is a push: the sender keeps a flushed snapshot of the table's SSTables out of
 * compaction (`TableStore.retainSstables`), a worker thread reads their merged entries within
 * the ranges (stream-reader.ts), and each page goes to the receiver as STREAM_APPLY, which
 * applies every partition through its commit log before acknowledging. STREAM_PUSH_REQUEST asks
 * another node to run a push, so a coordinator of a membership change can move data between
 * two other nodes.
 *
 * Invariants
 * - A page is acknowledged only once every update in it is durable on the receiver (per its
 *   `commitlog_sync`), so a finished push means the receiver holds the rows even if it
 *   crashes right after.
 * - Applying is idempotent (merging is a join; cells keep their timestamps, row versions merge
 *   by the DVV join), so a page retried after a lost ack, or a push repeated, changes nothing.
 * - The rows pushed are everything the table held when the push began (retain flushes first);
 *   writes arriving during the push are the coordinator's business (pending endpoints).
 * - A failed push fails as a whole, with an error naming the table, target and ranges; pages
 *   already applied stay applied (harmless: they are the sender's data).
 *
 * Bounds: MAX_CONCURRENT_SESSIONS pushes at once, MAX_QUEUED_SESSIONS waiting (more are
 * refused); per push MAX_PAGES_IN_FLIGHT STREAM_APPLY requests outstanding and
 * MAX_PAGES_UNACKED pages buffered from the reader thread, each page at most `pageBytes`
 * (limits.ts); `pageAttempts` tries per page with doubling backoff; output throttled to
 * `throughputBytesPerS` (stream_throughput_mb_per_s).
 */
import { parseEndpoint } from '../cluster/cluster-service.js';
import { newestTimestamp, UnknownTableError } from '../coordinator/replica-verbs.js';
import type { MessagingService } from '../messaging/messaging-service.js';
import type { PeerAddress } from '../messaging/peer.js';
import { Verb } from '../messaging/verbs.js';
import type { Endpoint, TokenRange } from '../ring/token-metadata.js';
import type { Clock, Scheduler } from '../runtime/clock.js';
import { systemClock } from '../runtime/system.js';
import type { StorageEngine } from '../storage/engine/storage-engine.js';
import { assert } from '../util/assert.js';
import type { Logger } from '../util/logger.js';
import {
  checkPageBytes,
  DEFAULT_PAGE_ATTEMPTS,
  DEFAULT_PAGE_RETRY_BACKOFF,
  DEFAULT_PAGE_TIMEOUT_MS,
  DEFAULT_PUSH_REQUEST_TIMEOUT_MS,
  MAX_CONCURRENT_SESSIONS,
  MAX_PAGES_IN_FLIGHT,
  MAX_QUEUED_SESSIONS,
  MAX_STREAM_PAGE_BYTES,
  MAX_STREAM_RANGES,
} from './limits.js';
import {
  decodeApplyRequest,
  decodePushRequest,
  decodeStreamResult,
  encodeApplyRequest,
  encodePushRequest,
  encodeStreamResult,
  type StreamResult,
} from './stream-messages.js';
import { decodeStreamPage, type StreamPage } from './stream-page.js';
import { formatRanges } from './stream-ranges.js';
import { readRanges, type ReadRangesOptions } from './stream-reader.js';

export type { StreamResult } from './stream-messages.js';

const MIB = 1024 * 1024;
const EMPTY = new Uint8Array(0);

/** A push (or a request for one) that did not complete. `message` names table, target and ranges. */
export class StreamFailedError extends Error {
  override readonly name = 'StreamFailedError';
}

export interface StreamStats {
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly rowsSent: number;
  readonly rowsReceived: number;
  readonly sessionsActive: number;
  readonly sessionsQueued: number;
  readonly sessionsCompleted: number;
  readonly sessionsFailed: number;
}

export interface StreamServiceOptions {
  readonly engine: Pick<StorageEngine, 'table'>;
  readonly messaging: Pick<MessagingService, 'registerHandler' | 'request'>;
  /** This node's endpoint (`host:port`); a function when it is known only once messaging listens. */
  readonly self: Endpoint | (() => Endpoint);
  readonly logger: Logger;
  /** stream_throughput_mb_per_s in bytes; 0 = unthrottled. */
  readonly throughputBytesPerS: number;
  readonly scheduler: Scheduler;
  readonly clock?: Clock;
  /** Default MAX_STREAM_PAGE_BYTES; see `streamPageBytesFor`. */
  readonly pageBytes?: number;
  readonly pageTimeoutMs?: number;
  readonly pageAttempts?: number;
  readonly retryBackoff?: { readonly initialMs: number; readonly maxMs: number };
  readonly maxConcurrentSessions?: number;
  /** Told the newest timestamp of every page received (the Hybrid Clock moves past it). */
  readonly observeTimestamp?: (micros: number) => void;
  /** The page source; the worker-thread reader by default (tests may substitute one). */
  readonly readRanges?: (paths: readonly string[], ranges: readonly TokenRange[], options: ReadRangesOptions) => AsyncIterable<StreamPage>;
}

/** A counting semaphore with a bounded queue: at most `limit` holders, `MAX_QUEUED_SESSIONS` waiting. */
class SessionSlots {
  private held = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  get queued(): number {
    return this.waiting.length;
  }

  get active(): number {
    return this.held;
  }

  async acquire(): Promise<void> {
    if (this.held < this.limit) {
      this.held++;
      return;
    }
    if (this.waiting.length >= MAX_QUEUED_SESSIONS) throw new StreamFailedError(`too many streaming sessions waiting (${MAX_QUEUED_SESSIONS})`);
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** Hands the slot to the next waiter, if any. */
  release(): void {
    const next = this.waiting.shift();
    if (next !== undefined) next();
    else this.held--;
  }
}

interface Totals {
  rows: number;
  partitions: number;
  bytes: number;
  pages: number;
}

export class StreamService {
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly pageBytes: number;
  private readonly pageTimeoutMs: number;
  private readonly pageAttempts: number;
  private readonly retryBackoff: { readonly initialMs: number; readonly maxMs: number };
  private readonly slots: SessionSlots;
  private readonly read: NonNullable<StreamServiceOptions['readRanges']>;
  private stopped = false;
  private counters = { bytesSent: 0, bytesReceived: 0, rowsSent: 0, rowsReceived: 0, sessionsCompleted: 0, sessionsFailed: 0 };

  constructor(private readonly options: StreamServiceOptions) {
    this.log = options.logger.child({ component: 'streaming' });
    this.clock = options.clock ?? systemClock;
    this.pageBytes = options.pageBytes ?? MAX_STREAM_PAGE_BYTES;
    checkPageBytes(this.pageBytes);
    this.pageTimeoutMs = options.pageTimeoutMs ?? DEFAULT_PAGE_TIMEOUT_MS;
    this.pageAttempts = options.pageAttempts ?? DEFAULT_PAGE_ATTEMPTS;
    this.retryBackoff = options.retryBackoff ?? DEFAULT_PAGE_RETRY_BACKOFF;
    const maxSessions = options.maxConcurrentSessions ?? MAX_CONCURRENT_SESSIONS;
    assert(Number.isSafeInteger(this.pageAttempts) && this.pageAttempts >= 1 && this.pageAttempts <= 100, `page attempts must be 1..100, got ${this.pageAttempts}`);
    assert(Number.isSafeInteger(maxSessions) && maxSessions >= 1 && maxSessions <= 64, `concurrent stream sessions must be 1..64, got ${maxSessions}`);
    assert(this.pageTimeoutMs > 0 && this.retryBackoff.initialMs >= 0 && this.retryBackoff.maxMs >= this.retryBackoff.initialMs, 'bad stream timeouts');
    this.slots = new SessionSlots(maxSessions);
    this.read = options.readRanges ?? readRanges;
    options.messaging.registerHandler(Verb.STREAM_APPLY, async (from, payload) => {
      const { tableId, page } = decodeApplyRequest(payload);
      try {
        await this.applyPage(tableId, page);
      } catch (err) {
        this.log.debug({ err, from: from.hostId, tableId }, 'stream page not applied');
        throw err;
      }
      return EMPTY;
    });
    options.messaging.registerHandler(Verb.STREAM_PUSH_REQUEST, async (from, payload) => {
      const request = decodePushRequest(payload);
      this.log.info({ from: from.hostId, tableId: request.tableId, target: request.target, ranges: request.ranges.length }, 'stream push requested');
      return encodeStreamResult(await this.push(request.tableId, request.ranges, request.target));
    });
  }

  private get self(): Endpoint {
    return typeof this.options.self === 'function' ? this.options.self() : this.options.self;
  }

  stats(): StreamStats {
    return { ...this.counters, sessionsActive: this.slots.active, sessionsQueued: this.slots.queued };
  }

  /** Refuses new pushes and stops retrying pages; running pushes fail at their next page. */
  stop(): void {
    this.stopped = true;
  }

  /**
   * Pushes this node's rows of `tableId` within `ranges` to `target` (this node itself: applied
   * locally). Resolves once the target acknowledged every page.
   */
  async push(tableId: string, ranges: readonly TokenRange[], target: Endpoint): Promise<StreamResult> {
    if (ranges.length > MAX_STREAM_RANGES) throw new StreamFailedError(`a push names at most ${MAX_STREAM_RANGES} ranges, got ${ranges.length}`);
    const what = `streaming table ${tableId} ranges ${formatRanges(ranges)} to ${target}`;
    if (this.stopped) throw new StreamFailedError(`${what}: the stream service is stopped`);
    await this.slots.acquire();
    const startedMs = this.clock.nowMs();
    try {
      const table = this.options.engine.table(tableId);
      if (table === undefined) throw new UnknownTableError(tableId);
      this.log.info({ tableId, target, ranges: ranges.length }, 'stream push started');
      const retained = await table.retainSstables();
      let totals: Totals;
      try {
        totals = await this.sendPages(tableId, retained.paths, ranges, target);
      } finally {
        retained.release();
      }
      this.counters.sessionsCompleted++;
      const seconds = Math.max(this.clock.nowMs() - startedMs, 1) / 1000;
      this.log.info({ tableId, target, ranges: ranges.length, ...totals, seconds, mbPerS: Number((totals.bytes / MIB / seconds).toFixed(2)) }, 'stream push finished');
      return totals;
    } catch (err) {
      this.counters.sessionsFailed++;
      const reason = err instanceof Error ? err.message : String(err);
      this.log.warn({ err, tableId, target, ranges: ranges.length, ms: this.clock.nowMs() - startedMs }, 'stream push failed');
      throw new StreamFailedError(`${what} failed: ${reason}`, { cause: err });
    } finally {
      this.slots.release();
    }
  }

  /**
   * Asks `source` to push its rows of `tableId` within `ranges` to `target`, waiting up to
   * `timeoutMs` for the whole push; `source` this node: `push` directly.
   */
  async requestPush(source: Endpoint, tableId: string, ranges: readonly TokenRange[], target: Endpoint, timeoutMs = DEFAULT_PUSH_REQUEST_TIMEOUT_MS): Promise<StreamResult> {
    if (source === this.self) return this.push(tableId, ranges, target);
    const payload = encodePushRequest({ tableId, target, ranges });
    try {
      return decodeStreamResult(await this.options.messaging.request(parseEndpoint(source), Verb.STREAM_PUSH_REQUEST, payload, timeoutMs));
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new StreamFailedError(`asking ${source} to stream table ${tableId} ranges ${formatRanges(ranges)} to ${target} failed: ${reason}`, { cause: err });
    }
  }

  /** Reads pages off the reader thread and sends them, at most MAX_PAGES_IN_FLIGHT at a time. */
  private async sendPages(tableId: string, paths: readonly string[], ranges: readonly TokenRange[], target: Endpoint): Promise<Totals> {
    const totals: Totals = { rows: 0, partitions: 0, bytes: 0, pages: 0 };
    // One address object per push: messaging keeps its connection per address object.
    const address = target === this.self ? null : parseEndpoint(target);
    const inflight: Promise<void>[] = [];
    let failure: unknown = null;
    try {
      for await (const page of this.read(paths, ranges, { pageBytes: this.pageBytes, throughputBytesPerS: this.options.throughputBytesPerS })) {
        if (failure !== null) break;
        if (inflight.length >= MAX_PAGES_IN_FLIGHT) await inflight.shift();
        const sent = this.sendPage(tableId, page, address).then(() => {
          totals.rows += page.rows;
          totals.partitions += page.partitions;
          totals.bytes += page.bytes.length;
          totals.pages++;
          this.counters.rowsSent += page.rows;
          this.counters.bytesSent += page.bytes.length;
        });
        // Noticed at once (the loop stops reading), and never an unhandled rejection while
        // the loop waits for the reader; the promise itself is awaited below.
        sent.catch((err: unknown) => (failure ??= err));
        inflight.push(sent);
      }
      await Promise.all(inflight);
    } finally {
      await Promise.allSettled(inflight);
    }
    if (failure !== null) throw failure;
    return totals;
  }

  /** One page to `address` (null: this node), retried with backoff: applying twice is harmless. */
  private async sendPage(tableId: string, page: StreamPage, address: PeerAddress | null): Promise<void> {
    const payload = address === null ? null : encodeApplyRequest(tableId, page.bytes);
    let backoffMs = this.retryBackoff.initialMs;
    for (let attempt = 1; ; attempt++) {
      if (this.stopped) throw new StreamFailedError('the stream service is stopped');
      try {
        if (address === null) await this.applyPage(tableId, page.bytes);
        else await this.options.messaging.request(address, Verb.STREAM_APPLY, payload!, this.pageTimeoutMs);
        return;
      } catch (err) {
        if (attempt >= this.pageAttempts) throw new StreamFailedError(`page of ${page.rows} rows not applied after ${attempt} attempts: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        this.log.debug({ err, tableId, attempt }, 'stream page failed; retrying');
        await this.sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, this.retryBackoff.maxMs);
      }
    }
  }

  /** Applies every partition of a page through the commit log; resolves once all are durable. */
  private async applyPage(tableId: string, page: Buffer): Promise<void> {
    const table = this.options.engine.table(tableId);
    if (table === undefined) throw new UnknownTableError(tableId);
    const updates = decodeStreamPage(page);
    let rows = 0;
    let newest = 0;
    for (const update of updates) {
      rows += update.rows.length;
      if (this.options.observeTimestamp !== undefined) newest = Math.max(newest, newestTimestamp(update));
    }
    if (newest > 0) this.options.observeTimestamp?.(newest);
    await Promise.all(updates.map((update) => table.apply(update)));
    this.counters.rowsReceived += rows;
    this.counters.bytesReceived += page.length;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.options.scheduler.after(ms, resolve));
  }
}
