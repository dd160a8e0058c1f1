/**
 * The phi-accrual failure detector (Hayashibara et al., 2004), as a pure class.
 *
 * Pattern: HeartBeat (Joshi) — a peer is alive while its heartbeats keep arriving; this module
 * turns "how long since the last one" into a suspicion level instead of a fixed timeout.
 * Cassandra concept: `FailureDetector` / `ArrivalWindow`, `phi_convict_threshold`.
 *
 * Input: heartbeat arrival times (`heartbeat(nowMs)`, readings of an injected clock passed in).
 * Output: phi(nowMs) = -log10(P(a heartbeat arrives later than nowMs - lastArrival)), under a
 * model of the inter-arrival times seen in a bounded window. A peer is convicted when phi
 * exceeds the threshold (8 by default: the model gives a 1e-8 chance that it is alive).
 *
 * ## The model, and why not Cassandra's
 *
 * Cassandra assumes exponentially distributed inter-arrival times: phi = 0.434 · Δt / mean.
 * With mean = 1 s and threshold 8 it convicts after Δt = 8 / 0.434 ≈ 18 means, whatever the
 * observed jitter; with our 200 ms gossip interval that would still be 3.7 s, and it does not
 * learn that a peer is regular. We use Hayashibara's normal model with Akka's two guards:
 *
 *     y   = (Δt − (mean + acceptablePause)) / max(std, minStd)
 *     phi = −log10(1 − Φ(y)),   Φ ≈ logistic(1.5976·y + 0.070566·y³)   (Bowling et al., 2009)
 *
 * The logistic approximation of the normal CDF makes 1 − Φ(y) = 1 / (1 + e^z) with
 * z = 1.5976·y + 0.070566·y³, so phi = softplus(z) / ln 10: finite for every y (no log of 0),
 * strictly increasing in Δt, and ≈ 0 right after an arrival. phi = 8 ⇔ z = 8·ln 10 = 18.42 ⇔
 * y = 5.22, so with threshold 8 a silent peer is convicted at
 *
 *     Δt_convict = mean + acceptablePause + 5.22 · max(std, minStd)          (1)
 *
 * - `minStd` keeps a very regular peer (std → a few ms) from being convicted by the first
 *   late heartbeat: a normal tail is thin, so without a floor a 50 ms delay is "impossible".
 * - `acceptablePause` shifts the whole distribution right by a pause we decide to tolerate
 *   without evidence in the window (event-loop stalls and GC pauses are rare, so a window of
 *   recent samples under-represents them).
 * - `maxStd` caps what a very irregular window can add to (1): detection time stays bounded
 *   (the 3 s) however noisy the arrivals were; above it, pauses are tolerated only up
 *   to `acceptablePause`.
 *
 * ## The constants (gossip interval I = 200 ms, threshold 8, SPEC defaults)
 *
 * Arrivals are not one per I: a node learns that a peer's heartbeat rose only when some gossip
 * exchange carries it (first-hand or relayed), so arrivals come 0–4 rounds apart. Measured in
 * the gossip simulation (fanout 2, tick jitter 0–5 ms, delays mostly 1–20 ms with 1% at
 * 300–500 ms and 0.1% at 1 s; 2 minutes per size):
 *
 *     nodes   mean    std    p99    max inter-arrival (ms)
 *     3       205     54     452    842
 *     5       206     75     410    603
 *     20      227     116    501    808
 *     50      238     130    577    825
 *
 * `defaultPhiAccrualOptions(200)`: minStd = I/2 = 100 ms, maxStd = I = 200 ms,
 * acceptablePause = 4·I = 800 ms. By (1):
 *
 *     Δt_convict = 205 + 800 + 5.22·100 ≈ 1.53 s   (3–5 nodes: std below the floor)
 *                = 227 + 800 + 5.22·116 ≈ 1.63 s   (20 nodes)
 *                ≤ mean + 800 + 5.22·200 ≈ 2.1 s   (the most irregular window allowed)
 *
 * Kill → DOWN = (time for the victim's last heartbeat to reach the observer) + Δt_convict +
 * (wait for the observer's next tick, < I). Simulated over 100 seeds: median 1.53 / 1.58 /
 * 1.78 s and max 1.79 / 1.96 / 2.31 s for 3 / 5 / 20 nodes: inside the 3 s (median 2 s)
 * with room for real-world overhead.
 * No false conviction: a 300–500 ms pause leaves phi < 0.01 (y ≈ −3); a 1 s stall of the peer
 * plus the round or two its next heartbeat takes to reach us (≈ 1.2–1.4 s of silence) stays
 * below Δt_convict; in the simulation, peers stalling 1.2 s every 40 s on average are never
 * convicted (the first false convictions appear with 1.4 s stalls). The observer's own stalls
 * are not counted at all: the gossiper runs this detector on time that stands still while the
 * observer is paused. A larger acceptablePause (1 s) tolerates 1.4 s stalls but moves the
 * median detection of 20 nodes to 2.0 s; a smaller one trades the other way.
 *
 * Bootstrap: before the first interval is recorded, mean = the expected interval (the gossip
 * interval) and std = minStd, so a peer seen once is convicted after ≈ 1.5 s of silence, like
 * any regular one. Before the first arrival phi is 0 (nothing is known yet).
 *
 * Bounds: the window holds at most `windowSize` intervals (1000 ≈ 3 minutes at 200 ms), in a
 * fixed ring; an interval longer than `maxSampleIntervalMs` is not recorded (the peer was down
 * or we were paused: it says nothing about normal jitter, and one such sample would inflate the
 * mean for the whole window, as Cassandra's MAX_INTERVAL does).
 */
import { assert } from '../../util/assert.js';

export interface PhiAccrualOptions {
  /** Mean assumed before any interval is recorded: the heartbeat (gossip) interval. */
  readonly expectedIntervalMs: number;
  /** Inter-arrival intervals kept (ring buffer). */
  readonly windowSize: number;
  /** Floor on the standard deviation used by the model. */
  readonly minStdDeviationMs: number;
  /** Cap on the standard deviation used by the model: bounds the time to conviction. */
  readonly maxStdDeviationMs: number;
  /** Silence tolerated on top of the observed mean before suspicion grows. */
  readonly acceptablePauseMs: number;
  /** Longer intervals are not recorded. */
  readonly maxSampleIntervalMs: number;
}

export const MAX_PHI_WINDOW_SIZE = 10_000;
/** z for which phi = 8, i.e. softplus(z) = 8·ln 10 (used in docs and tests). */
const LN10 = Math.log(10);

/** The constants justified in the header, scaled to the gossip interval. */
export function defaultPhiAccrualOptions(gossipIntervalMs: number): PhiAccrualOptions {
  assert(gossipIntervalMs > 0, `gossip interval must be positive: ${gossipIntervalMs}`);
  return {
    expectedIntervalMs: gossipIntervalMs,
    windowSize: 1000,
    minStdDeviationMs: gossipIntervalMs / 2,
    maxStdDeviationMs: gossipIntervalMs,
    acceptablePauseMs: 4 * gossipIntervalMs,
    maxSampleIntervalMs: 10 * gossipIntervalMs,
  };
}

function checkOptions(o: PhiAccrualOptions): void {
  assert(o.expectedIntervalMs > 0, 'expectedIntervalMs must be positive');
  assert(Number.isInteger(o.windowSize) && o.windowSize >= 1 && o.windowSize <= MAX_PHI_WINDOW_SIZE, `windowSize out of range: ${o.windowSize}`);
  assert(o.minStdDeviationMs > 0, 'minStdDeviationMs must be positive');
  assert(o.maxStdDeviationMs >= o.minStdDeviationMs, 'maxStdDeviationMs must be at least minStdDeviationMs');
  assert(o.acceptablePauseMs >= 0, 'acceptablePauseMs must not be negative');
  assert(o.maxSampleIntervalMs > 0, 'maxSampleIntervalMs must be positive');
}

/** phi for a normalised delay y: softplus(z) / ln 10, computed without overflow. */
export function phiOfNormalisedDelay(y: number): number {
  const z = y * (1.5976 + 0.070566 * y * y);
  const softplus = z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
  return softplus / LN10;
}

/** One peer's arrival window. */
export class PhiAccrualDetector {
  private readonly intervals: Float64Array;
  private count = 0;
  private head = 0;
  private sumMs = 0;
  private sumSquaresMs2 = 0;
  private lastArrival: number | null = null;

  constructor(private readonly options: PhiAccrualOptions) {
    checkOptions(options);
    this.intervals = new Float64Array(options.windowSize);
  }

  /** When the last heartbeat arrived, or null before the first. */
  get lastArrivalMs(): number | null {
    return this.lastArrival;
  }

  /** Recorded intervals (≤ windowSize). */
  get sampleCount(): number {
    return this.count;
  }

  /** Records a heartbeat arrival. Readings that go backwards count as arriving now-ish (0 ms). */
  heartbeat(nowMs: number): void {
    if (this.lastArrival !== null) {
      const intervalMs = Math.max(0, nowMs - this.lastArrival);
      if (intervalMs <= this.options.maxSampleIntervalMs) this.record(intervalMs);
    }
    this.lastArrival = this.lastArrival === null ? nowMs : Math.max(this.lastArrival, nowMs);
  }

  /** Mean interval of the model (the bootstrap interval before any sample). */
  meanMs(): number {
    return this.count === 0 ? this.options.expectedIntervalMs : this.sumMs / this.count;
  }

  /** Standard deviation of the model: the window's, clamped to [minStd, maxStd]. */
  stdDeviationMs(): number {
    const { minStdDeviationMs, maxStdDeviationMs } = this.options;
    if (this.count < 2) return minStdDeviationMs;
    const mean = this.sumMs / this.count;
    const variance = Math.max(0, this.sumSquaresMs2 / this.count - mean * mean);
    return Math.min(maxStdDeviationMs, Math.max(minStdDeviationMs, Math.sqrt(variance)));
  }

  /** Suspicion level at `nowMs`: 0 before the first arrival, ≈ 0 right after one, then growing. */
  phi(nowMs: number): number {
    if (this.lastArrival === null) return 0;
    const silenceMs = Math.max(0, nowMs - this.lastArrival);
    const y = (silenceMs - (this.meanMs() + this.options.acceptablePauseMs)) / this.stdDeviationMs();
    return phiOfNormalisedDelay(y);
  }

  /** Silence after which phi first exceeds `threshold`, given the current window (for docs and metrics). */
  convictionDelayMs(threshold: number): number {
    // phi is increasing in y: bisection on y is exact enough and needs no inverse formula.
    let low = -100;
    let high = 100;
    for (let i = 0; i < 100; i++) {
      const mid = (low + high) / 2;
      if (phiOfNormalisedDelay(mid) > threshold) high = mid;
      else low = mid;
    }
    return this.meanMs() + this.options.acceptablePauseMs + high * this.stdDeviationMs();
  }

  private record(intervalMs: number): void {
    const size = this.intervals.length;
    if (this.count === size) {
      const evicted = this.intervals[this.head] as number;
      this.sumMs -= evicted;
      this.sumSquaresMs2 -= evicted * evicted;
    } else {
      this.count++;
    }
    this.intervals[this.head] = intervalMs;
    this.sumMs += intervalMs;
    this.sumSquaresMs2 += intervalMs * intervalMs;
    this.head = (this.head + 1) % size;
    // Running sums drift after many add/subtract pairs of fractional values: recompute them
    // exactly once per lap of the ring (O(window) every window samples).
    if (this.head === 0) this.recomputeSums();
  }

  private recomputeSums(): void {
    let sum = 0;
    let sumSquares = 0;
    for (let i = 0; i < this.count; i++) {
      const v = this.intervals[i] as number;
      sum += v;
      sumSquares += v * v;
    }
    this.sumMs = sum;
    this.sumSquaresMs2 = sumSquares;
  }
}
