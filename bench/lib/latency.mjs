/**
 * Latency samples of one phase in bounded memory: the first `MAX_LATENCY_SAMPLES` are kept,
 * then reservoir sampling keeps a uniform sample of every latency recorded.
 */
import { percentile } from './stats.mjs';
import { nextBelow, prng32 } from './workload.mjs';

export const MAX_LATENCY_SAMPLES = 1 << 20;

export class LatencyRecorder {
  constructor(seed) {
    this.samples = new Float64Array(MAX_LATENCY_SAMPLES);
    this.count = 0;
    this.next = prng32(seed);
  }

  record(ms) {
    const n = this.count++;
    if (n < MAX_LATENCY_SAMPLES) this.samples[n] = ms;
    else {
      const j = nextBelow(this.next, n + 1);
      if (j < MAX_LATENCY_SAMPLES) this.samples[j] = ms;
    }
  }

  summary() {
    const sorted = this.samples.slice(0, Math.min(this.count, MAX_LATENCY_SAMPLES)).sort();
    let sum = 0;
    for (const v of sorted) sum += v;
    return {
      samples: sorted.length,
      mean: sorted.length ? sum / sorted.length : null,
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      p999: percentile(sorted, 99.9),
      max: sorted.length ? sorted[sorted.length - 1] : null,
    };
  }
}
