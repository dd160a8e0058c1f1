/**
 * A token bucket in bytes per second: the rate limit of hint replay (Cassandra's
 * `hinted_handoff_throttle`, here `hint_replay_bytes_per_s`, one bucket for the whole node).
 *
 * Pure: it never reads a clock; the caller passes `nowMs` (STYLE.md §1). `take(n, nowMs)`
 * always takes (the bucket may go into debt) and answers how long the caller must wait before
 * acting on those bytes. So a hint larger than the burst still goes out, after the wait its size
 * costs, and concurrent takers queue behind each other's debt: over any interval, at most
 * `capacityBytes + rate × interval` bytes are released.
 *
 * Invariants: tokens never exceed `capacityBytes`; time going backwards (a clock step) refills
 * nothing and is otherwise ignored; the wait is 0 exactly when the balance stays ≥ 0.
 */
import { assert } from '../util/assert.js';

export interface TokenBucketOptions {
  readonly bytesPerSecond: number;
  /** The burst: bytes that may go out at once after an idle period. Default one second's worth. */
  readonly capacityBytes?: number;
  readonly nowMs: number;
}

export class TokenBucket {
  readonly bytesPerSecond: number;
  readonly capacityBytes: number;
  private tokens: number;
  private lastMs: number;

  constructor(options: TokenBucketOptions) {
    assert(options.bytesPerSecond > 0 && Number.isFinite(options.bytesPerSecond), `token bucket rate must be positive, got ${options.bytesPerSecond}`);
    this.bytesPerSecond = options.bytesPerSecond;
    this.capacityBytes = options.capacityBytes ?? options.bytesPerSecond;
    assert(this.capacityBytes > 0, 'token bucket capacity must be positive');
    this.tokens = this.capacityBytes;
    this.lastMs = options.nowMs;
  }

  /** Takes `bytes` tokens; returns the wait in ms (0 = act now) before using them. */
  take(bytes: number, nowMs: number): number {
    assert(bytes >= 0 && Number.isFinite(bytes), `cannot take ${bytes} tokens`);
    this.refill(nowMs);
    this.tokens -= bytes;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.bytesPerSecond);
  }

  /** The balance now (negative while in debt). */
  available(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens;
  }

  private refill(nowMs: number): void {
    if (nowMs <= this.lastMs) return;
    this.tokens = Math.min(this.capacityBytes, this.tokens + ((nowMs - this.lastMs) * this.bytesPerSecond) / 1000);
    this.lastMs = nowMs;
  }
}
