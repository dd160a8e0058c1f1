/**
 * The coordinator's write-timestamp source: a Hybrid Clock (Joshi, *Patterns of Distributed
 * Systems*; Kulkarni et al., "Logical Physical Clocks", 2014) in the shape Cassandra uses for
 * client timestamps: one number, microseconds since the Unix epoch.
 *
 * Why µs and one number: cells carry a µs write timestamp and merge last-write-wins by it
 * (SPEC 6.6); `USING TIMESTAMP` and the request's `timestamp` are µs too. Folding the logical
 * counter into the low digits (one µs per tick) keeps every timestamp comparable with those
 * client-supplied ones and storable as the cell's timestamp, instead of a (wall, logical) pair
 * storage would have to understand.
 *
 * Rules
 * - `now()` returns max(physical µs, last issued + 1): strictly increasing per call, even when
 *   the injected clock stalls or steps back (NTP); it then runs 1 µs per call ahead of the
 *   physical clock until the physical clock catches up.
 * - `observe(remoteMicros)` remembers a later timestamp seen in a message, so the next `now()`
 *   is greater than it: a write coordinated here after seeing another node's write orders after
 *   it, even if this node's clock is behind.
 *
 * Bounds
 * - A remote timestamp more than `maxDriftMs` (default 60 s) ahead of our physical clock is
 *   not followed: by default it is ignored (`excessDrift: 'reject'`), or we move only to the
 *   bound (`'clamp'`). Either way it is counted (`excessDriftCount`) for a metric and a log line
 *   by the caller. So one node with a wild clock cannot drag the cluster's timestamps into the
 *   future; at most `maxDriftMs` ahead of our own clock, and only with `'clamp'`.
 * - Without remote input, issued timestamps lead the physical clock only by the number of calls
 *   made faster than 1 per µs (or while the clock was stepped back): `now()` never jumps.
 * - All timestamps are safe integers (µs fit until the year 2255); anything else is an
 *   assertion failure for our clock and a `RangeError` for a remote value.
 */
import type { Clock } from '../runtime/clock.js';
import { assert } from '../util/assert.js';

export const DEFAULT_MAX_DRIFT_MS = 60_000;
/** A larger tolerance would let one bad clock push timestamps a day ahead: not a useful setting. */
export const MAX_MAX_DRIFT_MS = 24 * 60 * 60 * 1000;

export type ExcessDriftPolicy = 'reject' | 'clamp';

export interface HybridClockOptions {
  /** How far (ms) a remote timestamp may be ahead of our physical clock and still be followed. */
  maxDriftMs?: number;
  /** What to do with a remote timestamp beyond the bound. */
  excessDrift?: ExcessDriftPolicy;
}

/** What `observe` did with a remote timestamp. */
export type ObserveResult =
  /** It was later than anything we issued: the next `now()` is greater than it. */
  | { kind: 'advanced' }
  /** We had already issued a timestamp at least as large: nothing changed. */
  | { kind: 'unchanged' }
  /** Beyond the drift bound: ignored ('reject') or followed only up to the bound ('clamp'). */
  | { kind: 'excess-drift'; aheadMicros: number; policy: ExcessDriftPolicy };

export class HybridClock {
  readonly maxDriftMs: number;
  readonly excessDrift: ExcessDriftPolicy;
  private lastMicros = 0;
  private excessDrifts = 0;

  constructor(
    private readonly clock: Clock,
    options: HybridClockOptions = {},
  ) {
    const maxDriftMs = options.maxDriftMs ?? DEFAULT_MAX_DRIFT_MS;
    if (!Number.isSafeInteger(maxDriftMs) || maxDriftMs < 0 || maxDriftMs > MAX_MAX_DRIFT_MS) {
      throw new RangeError(`maxDriftMs must be an integer in [0, ${MAX_MAX_DRIFT_MS}], got ${maxDriftMs}`);
    }
    this.maxDriftMs = maxDriftMs;
    this.excessDrift = options.excessDrift ?? 'reject';
  }

  // #region pattern:Hybrid Clock
  /** A fresh write timestamp in µs: greater than every one issued or observed before. */
  now(): number {
    const physicalMicros = this.physicalMicros();
    const next = Math.max(physicalMicros, this.lastMicros + 1);
    assert(Number.isSafeInteger(next), `hybrid clock overflow: ${next}`);
    this.lastMicros = next;
    return next;
  }

  /** Moves the clock past a timestamp seen in a message (a write, a read response, gossip). */
  observe(remoteMicros: number): ObserveResult {
    if (!Number.isSafeInteger(remoteMicros) || remoteMicros < 0) {
      throw new RangeError(`remote timestamp must be a non-negative safe integer (µs), got ${remoteMicros}`);
    }
    const physicalMicros = this.physicalMicros();
    const boundMicros = physicalMicros + this.maxDriftMs * 1000;
    if (remoteMicros > boundMicros) {
      this.excessDrifts++;
      if (this.excessDrift === 'clamp') this.lastMicros = Math.max(this.lastMicros, boundMicros);
      return { kind: 'excess-drift', aheadMicros: remoteMicros - physicalMicros, policy: this.excessDrift };
    }
    if (remoteMicros <= this.lastMicros) return { kind: 'unchanged' };
    this.lastMicros = remoteMicros;
    return { kind: 'advanced' };
  }
  // #endregion

  /** The largest timestamp issued or followed so far (0 before the first). */
  get lastIssuedMicros(): number {
    return this.lastMicros;
  }

  /** How many remote timestamps were beyond `maxDriftMs` (for a metric). */
  get excessDriftCount(): number {
    return this.excessDrifts;
  }

  private physicalMicros(): number {
    const micros = this.clock.nowMicros();
    assert(Number.isSafeInteger(micros) && micros >= 0, `physical clock returned ${micros} µs`);
    return micros;
  }
}
