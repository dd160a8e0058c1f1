/**
 * Request Waiting List (Joshi, *Patterns of Distributed Systems*): one client request waiting
 * for its replicas — the response tally (response-tally.ts), the deadline, and the replica
 * requests in flight — as the coordinator keeps it (Cassandra: `AbstractWriteResponseHandler`,
 * `ReadCallback`).
 *
 * Invariants: a request settles once (its first outcome wins; answers after that are
 * ignored); every timer it started is cancelled when it settles; a replica's answer that cannot
 * be read counts as that replica's failure, and silence (a timeout, a lost connection) only as
 * the absence of an answer, decided by the deadline.
 * Bounds: one deadline per request; `schedule` adds at most what its caller schedules.
 */
import { MessageTooLargeError, MessagingError, RemoteError } from '../messaging/errors.js';
import type { Endpoint } from '../ring/token-metadata.js';
import type { Cancellable, Scheduler } from '../runtime/clock.js';
import type { ResponseTally } from './response-tally.js';

/**
 * Whether a failed replica request is a replica failure (it answered with an error, or its
 * answer can never arrive or be read) rather than silence, which only the deadline decides.
 */
export function isReplicaFailure(error: unknown): boolean {
  if (error instanceof RemoteError || error instanceof MessageTooLargeError) return true;
  return !(error instanceof MessagingError);
}

export interface WaitingRequestOptions {
  readonly tally: ResponseTally;
  readonly timeoutMs: number;
  readonly scheduler: Scheduler;
  /** Whether the client can be answered (checked after each success). */
  readonly ready: () => boolean;
  readonly timeoutError: () => Error;
  readonly failureError: () => Error;
  readonly onReplicaError: (endpoint: Endpoint, error: unknown) => void;
}

// #region pattern:Request Waiting List
/**
 * One client request waiting for its replicas: the tally, the deadline, and the replica
 * requests in flight. Settles once: with success when `ready`, with the failure error as soon as
 * the tally failed, with the timeout error at the deadline.
 */
export class WaitingRequest {
  readonly promise: Promise<void>;
  private done = false;
  private readonly timers: Cancellable[] = [];
  private resolve!: () => void;
  private reject!: (error: Error) => void;

  constructor(private readonly o: WaitingRequestOptions) {
    this.promise = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.timers.push(o.scheduler.after(o.timeoutMs, () => this.finish(o.timeoutError())));
  }

  get tally(): ResponseTally {
    return this.o.tally;
  }

  get isDone(): boolean {
    return this.done;
  }

  /** A hint was stored for `endpoint` (counts for ANY). */
  hinted(endpoint: Endpoint): void {
    if (this.done) return;
    this.o.tally.recordHint(endpoint);
    this.evaluate();
  }

  /** Settles now with `error` (the request cannot go on, e.g. the write was refused). */
  abort(error: Error): void {
    this.finish(error);
  }

  /** Runs `fn` after `delayMs` unless the request has settled by then. */
  schedule(delayMs: number, fn: () => void): void {
    this.timers.push(this.o.scheduler.after(delayMs, () => !this.done && fn()));
  }

  /**
   * Counts `outcome` as `endpoint`'s answer. `accept` reads the answer; if it throws (a corrupt
   * response) the replica counts as failed.
   */
  track<R>(endpoint: Endpoint, outcome: Promise<R>, accept: (response: R) => void): void {
    outcome.then(
      (response) => {
        if (this.done) return;
        try {
          accept(response);
        } catch (error) {
          this.failed(endpoint, error);
          return;
        }
        this.o.tally.recordSuccess(endpoint);
        this.evaluate();
      },
      (error: unknown) => {
        if (this.done) return;
        if (isReplicaFailure(error)) this.failed(endpoint, error);
      },
    );
  }

  private failed(endpoint: Endpoint, error: unknown): void {
    this.o.onReplicaError(endpoint, error);
    this.o.tally.recordFailure(endpoint);
    this.evaluate();
  }

  evaluate(): void {
    if (this.done) return;
    if (this.o.tally.state() === 'failed') this.finish(this.o.failureError());
    else if (this.o.ready()) this.finish(null);
  }

  private finish(error: Error | null): void {
    if (this.done) return;
    this.done = true;
    for (const timer of this.timers) timer.cancel();
    if (error === null) this.resolve();
    else this.reject(error);
  }
}
// #endregion
