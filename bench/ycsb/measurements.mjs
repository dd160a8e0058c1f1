/**
 * Latency and throughput measurements for a YCSB run (YCSB's Measurements with the HdrHistogram
 * measurement type): per operation, a whole-run HDR histogram and an interval histogram that is
 * read and reset once per progress tick, so the run yields both a summary and a timeline.
 *
 * Latencies are in microseconds, recorded into hdr-histogram-js histograms (1 µs … 60 s,
 * 3 significant digits). Values outside that range are clamped (and counted in `clampedCount`),
 * not dropped. Only successful operations enter the latency histograms; every operation counts
 * toward throughput, failed ones also toward `errors` (a fast error must not pass for a fast
 * read in the percentiles, yet it still shows in the error count).
 *
 * Time: `startMs`, and the `nowMs` passed to `interval()` / `summary()`, are readings of one
 * clock; by default `performance.now()`, or `Date.now()` when `startMs` looks like an epoch
 * time (> 10^12), or the `now` function given.
 *
 * Bounds: 2 histograms per operation type plus 2 for all operations (fixed size each); the
 * timeline keeps at most `maxTimelinePoints` points (default 36,000 = 10 h at one per second;
 * later points are still returned by `interval()` but not stored, and `timelineTruncated` is set).
 */
import * as hdr from 'hdr-histogram-js';

export const LOWEST_LATENCY_US = 1;
export const HIGHEST_LATENCY_US = 60_000_000;
export const DEFAULT_MAX_TIMELINE_POINTS = 36_000;

function newHistogram() {
  return hdr.build({ lowestDiscernibleValue: LOWEST_LATENCY_US, highestTrackableValue: HIGHEST_LATENCY_US, numberOfSignificantValueDigits: 3 });
}

/** Counts and histograms of one operation type (or of all of them). */
class OperationSeries {
  constructor() {
    this.total = newHistogram();
    this.interval = newHistogram();
    this.count = 0;
    this.errors = 0;
    this.intervalCount = 0;
    this.intervalErrors = 0;
  }

  record(latencyUs, ok) {
    this.count++;
    this.intervalCount++;
    if (ok) {
      this.total.recordValue(latencyUs);
      this.interval.recordValue(latencyUs);
    } else {
      this.errors++;
      this.intervalErrors++;
    }
  }

  resetInterval() {
    this.interval.reset();
    this.intervalCount = 0;
    this.intervalErrors = 0;
  }

  destroy() {
    this.total.destroy();
    this.interval.destroy();
  }
}

/** A percentile of a histogram, or null when it holds no value. */
function percentileUs(histogram, p) {
  return histogram.totalCount > 0 ? histogram.getValueAtPercentile(p) : null;
}

export class Measurements {
  /**
   * @param {{ startMs: number, now?: () => number, maxTimelinePoints?: number }} opts
   */
  constructor({ startMs, now, maxTimelinePoints = DEFAULT_MAX_TIMELINE_POINTS }) {
    if (!Number.isFinite(startMs)) throw new Error(`startMs must be a number, got ${startMs}`);
    if (!Number.isSafeInteger(maxTimelinePoints) || maxTimelinePoints < 1) throw new Error(`maxTimelinePoints must be a positive integer, got ${maxTimelinePoints}`);
    this.startMs = startMs;
    this.now = now ?? (startMs > 1e12 ? () => Date.now() : () => performance.now());
    this.maxTimelinePoints = maxTimelinePoints;
    this.intervalStartMs = startMs;
    /** @type {Map<string, OperationSeries>} */
    this.series = new Map();
    this.all = new OperationSeries();
    /** @type {ReturnType<Measurements['interval']>[]} */
    this.timeline = [];
    this.timelineTruncated = false;
    this.clampedCount = 0;
    this.closed = false;
  }

  /**
   * Records one finished operation.
   * @param {string} op e.g. 'READ', 'UPDATE', 'INSERT', 'SCAN', 'READMODIFYWRITE'
   * @param {number} latencyUs
   * @param {boolean} [ok]
   */
  record(op, latencyUs, ok = true) {
    if (this.closed) throw new Error('Measurements.record after close()');
    let value = Math.round(latencyUs);
    if (!(value >= LOWEST_LATENCY_US) || value > HIGHEST_LATENCY_US) {
      this.clampedCount++;
      value = value > HIGHEST_LATENCY_US ? HIGHEST_LATENCY_US : LOWEST_LATENCY_US;
    }
    let series = this.series.get(op);
    if (!series) {
      series = new OperationSeries();
      this.series.set(op, series);
    }
    series.record(value, ok);
    this.all.record(value, ok);
  }

  /** Operations recorded so far (all types, failed included). */
  get operations() {
    return this.all.count;
  }

  /** Failed operations recorded so far. */
  get errors() {
    return this.all.errors;
  }

  /**
   * Closes the current interval (call once per second): its throughput, errors and latency
   * percentiles, overall and by operation. Appends it to `timeline` (within the cap) and starts
   * the next interval.
   * @param {number} [nowMs]
   */
  interval(nowMs = this.now()) {
    const seconds = Math.max(0, (nowMs - this.intervalStartMs) / 1000);
    /** @type {Record<string, { count: number, errors: number, opsPerSec: number, p50Us: number | null, p99Us: number | null }>} */
    const byOp = {};
    for (const [op, s] of this.series) {
      if (s.intervalCount === 0) continue;
      byOp[op] = {
        count: s.intervalCount,
        errors: s.intervalErrors,
        opsPerSec: seconds > 0 ? s.intervalCount / seconds : 0,
        p50Us: percentileUs(s.interval, 50),
        p99Us: percentileUs(s.interval, 99),
      };
    }
    const a = this.all;
    const point = {
      tSec: (nowMs - this.startMs) / 1000,
      intervalSec: seconds,
      operations: a.intervalCount,
      totalOperations: a.count,
      opsPerSec: seconds > 0 ? a.intervalCount / seconds : 0,
      errors: a.intervalErrors,
      p50Us: percentileUs(a.interval, 50),
      p99Us: percentileUs(a.interval, 99),
      p999Us: percentileUs(a.interval, 99.9),
      maxUs: a.interval.totalCount > 0 ? a.interval.maxValue : null,
      byOp,
    };
    for (const s of this.series.values()) s.resetInterval();
    a.resetInterval();
    this.intervalStartMs = nowMs;
    if (this.timeline.length < this.maxTimelinePoints) this.timeline.push(point);
    else this.timelineTruncated = true;
    return point;
  }

  /**
   * Whole-run statistics per operation type (`operations`) and over all of them (`overall`).
   * @param {number} [endMs] the end of the measured run (default now)
   */
  summary(endMs = this.now()) {
    const seconds = Math.max(0, (endMs - this.startMs) / 1000);
    const describe = (s) => ({
      count: s.count,
      errors: s.errors,
      opsPerSec: seconds > 0 ? s.count / seconds : 0,
      meanUs: s.total.totalCount > 0 ? s.total.mean : null,
      p50Us: percentileUs(s.total, 50),
      p95Us: percentileUs(s.total, 95),
      p99Us: percentileUs(s.total, 99),
      p999Us: percentileUs(s.total, 99.9),
      maxUs: s.total.totalCount > 0 ? s.total.maxValue : null,
    });
    /** @type {Record<string, ReturnType<typeof describe>>} */
    const operations = {};
    for (const op of [...this.series.keys()].sort()) operations[op] = describe(/** @type {OperationSeries} */ (this.series.get(op)));
    return { seconds, operations, overall: describe(this.all), clampedCount: this.clampedCount, timelineTruncated: this.timelineTruncated };
  }

  /** Frees the histograms (needed by the WebAssembly build; harmless for the JS one). */
  close() {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.series.values()) s.destroy();
    this.all.destroy();
  }
}
