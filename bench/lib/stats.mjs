/**
 * Small numeric helpers shared by the benchmarks: a monotonic clock, rates, ratios,
 * percentiles and human-readable formatting. No dependencies.
 */

/** Monotonic seconds (float), for timing phases. */
export function nowSeconds() {
  return Number(process.hrtime.bigint()) / 1e9;
}

/** Runs `fn` and returns `{ result, seconds }`. */
export async function timed(fn) {
  const t0 = nowSeconds();
  const result = await fn();
  return { result, seconds: nowSeconds() - t0 };
}

/** Events per second; 0 for an empty interval. */
export function rate(count, seconds) {
  return seconds > 0 ? count / seconds : 0;
}

/** a / b, or null when either side is missing or b is 0. */
export function ratio(a, b) {
  if (a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return a / b;
}

/** The p-th percentile (0..100) of an ascending array, nearest-rank. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** count, mean, p50, p90, p99, max of a list of numbers. */
export function summarize(values) {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    mean: sorted.length ? sum / sorted.length : NaN,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
  };
}

/** Rounds to `digits` significant-ish decimals for JSON output. */
export function round(x, digits = 3) {
  if (x == null || !Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** 91234 → "91.2k", 1234567 → "1.23M". */
export function fmtCount(n) {
  if (n == null || !Number.isFinite(n)) return '-';
  const a = Math.abs(n);
  if (a >= 1e6) return `${(n / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `${(n / 1e3).toPrecision(3)}k`;
  return a >= 100 ? n.toFixed(0) : n.toPrecision(3);
}

export function fmtRate(n, unit = '/s') {
  return n == null || !Number.isFinite(n) ? '-' : `${fmtCount(n)}${unit}`;
}

export function fmtRatio(r) {
  return r == null || !Number.isFinite(r) ? '-' : `${r.toFixed(2)}×`;
}

export function fmtBytes(n) {
  if (n == null || !Number.isFinite(n)) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

export function fmtMs(ms) {
  return ms == null || !Number.isFinite(ms) ? '-' : `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms`;
}

export function fmtSeconds(s) {
  return s == null || !Number.isFinite(s) ? '-' : `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;
}
