/**
 * Requests in flight on one connection, matched to their responses by request id.
 *
 * Pattern: Request Pipeline (Joshi). A sender does not wait for one response before sending
 * the next request: up to `maxInFlight` requests travel on the same connection at once and
 * responses may come back in any order (a slow read does not hold up a fast gossip ack).
 * Every request carries its own timeout, armed when it is created, so time spent queued
 * before it was sent counts too. Cassandra: `RequestCallbacks`, keyed by message id.
 *
 * Invariants
 * - At most `maxInFlight` requests are in flight; the owner keeps the others queued.
 * - Request ids on a connection are unique among the requests in flight: ids count up from 1,
 *   wrap after 2^32 - 1, skip 0 (one-way frames) and any id still in flight.
 * - A request settles exactly once: response, remote error, timeout, lost connection or stop,
 *   whichever comes first; its timer is cancelled when it settles. A response for an id that
 *   is not in flight (it timed out) is ignored.
 *
 * Bounds: `maxInFlight` (1..MAX_IN_FLIGHT) entries in the map.
 */
import type { Cancellable, Scheduler } from '../runtime/clock.js';
import { assert } from '../util/assert.js';
import { MAX_REQUEST_ID } from './frame.js';

/** More than this many requests in flight on one connection is a configuration error. */
export const MAX_IN_FLIGHT = 1_000_000;

/** One request from the moment it is made until it settles. */
export class OutstandingRequest {
  requestId = 0;
  private timer: Cancellable | null = null;
  private settled = false;

  constructor(
    readonly verb: number,
    readonly payload: Uint8Array,
    private readonly onResolve: (payload: Uint8Array) => void,
    private readonly onReject: (error: Error) => void,
  ) {}

  get isSettled(): boolean {
    return this.settled;
  }

  /** Starts the request's own clock; `onExpire` must take it out of wherever it waits, then reject it. */
  armTimeout(scheduler: Scheduler, timeoutMs: number, onExpire: () => void): void {
    assert(this.timer === null && !this.settled, 'a request timeout is armed once');
    this.timer = scheduler.after(timeoutMs, onExpire);
  }

  resolve(payload: Uint8Array): void {
    if (!this.finish()) return;
    this.onResolve(payload);
  }

  reject(error: Error): void {
    if (!this.finish()) return;
    this.onReject(error);
  }

  private finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.timer?.cancel();
    this.timer = null;
    return true;
  }
}

// #region pattern:Request Pipeline
export class RequestPipeline {
  private readonly inFlight = new Map<number, OutstandingRequest>();
  private lastRequestId = 0;

  constructor(readonly maxInFlight: number) {
    assert(Number.isInteger(maxInFlight) && maxInFlight >= 1 && maxInFlight <= MAX_IN_FLIGHT, `maxInFlight out of range: ${maxInFlight}`);
  }

  get size(): number {
    return this.inFlight.size;
  }

  hasRoom(): boolean {
    return this.inFlight.size < this.maxInFlight;
  }

  /** Records a request about to be sent and gives it a fresh id. */
  add(request: OutstandingRequest): number {
    assert(this.hasRoom(), 'the owner checks hasRoom() before sending a request');
    let id = this.lastRequestId;
    do {
      id = id >= MAX_REQUEST_ID ? 1 : id + 1;
    } while (this.inFlight.has(id));
    this.lastRequestId = id;
    request.requestId = id;
    this.inFlight.set(id, request);
    return id;
  }

  /** Removes and returns the request a response answers, if it is still in flight. */
  take(requestId: number): OutstandingRequest | undefined {
    const request = this.inFlight.get(requestId);
    if (request !== undefined) this.inFlight.delete(requestId);
    return request;
  }

  /** Rejects every request in flight: their connection is gone, no response can arrive. */
  failAll(error: () => Error): void {
    const requests = [...this.inFlight.values()];
    this.inFlight.clear();
    for (const request of requests) request.reject(error());
  }
}
// #endregion
