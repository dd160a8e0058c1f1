/**
 * Recent coordinator read latencies per table, for `speculative_retry = 'Np'` (SPEC 6.4): a
 * read still waiting after the table's p-th percentile latency asks one more replica.
 * Cassandra keeps the same per-table figure (`coordinatorReadLatency`) for the same purpose.
 *
 * A ring buffer of the last WINDOW samples per table; a percentile is computed by sorting a copy
 * and cached until REFRESH_EVERY more samples arrive, so a read costs O(1) and a refresh
 * O(WINDOW log WINDOW) once per REFRESH_EVERY reads.
 *
 * Bounds: WINDOW samples per table, at most MAX_TABLES tables (the least recently added table
 * is forgotten beyond that); no percentile before MIN_SAMPLES samples (the caller then falls
 * back to its default).
 */
export const WINDOW = 1024;
export const REFRESH_EVERY = 128;
export const MIN_SAMPLES = 32;
export const MAX_TABLES = 4096;

class TableLatencies {
  private readonly samples = new Float64Array(WINDOW);
  private count = 0;
  private next = 0;
  private sinceRefresh = 0;
  private readonly cached = new Map<number, number>();

  record(ms: number): void {
    this.samples[this.next] = ms;
    this.next = (this.next + 1) % WINDOW;
    if (this.count < WINDOW) this.count++;
    if (++this.sinceRefresh >= REFRESH_EVERY) {
      this.sinceRefresh = 0;
      this.cached.clear();
    }
  }

  percentile(p: number): number | undefined {
    if (this.count < MIN_SAMPLES) return undefined;
    let value = this.cached.get(p);
    if (value === undefined) {
      const sorted = this.samples.slice(0, this.count).sort();
      value = sorted[Math.min(this.count - 1, Math.ceil((p / 100) * this.count) - 1)]!;
      this.cached.set(p, value);
    }
    return value;
  }
}

export class ReadLatencyTracker {
  private readonly tables = new Map<string, TableLatencies>();

  record(tableId: string, ms: number): void {
    let t = this.tables.get(tableId);
    if (t === undefined) {
      if (this.tables.size >= MAX_TABLES) this.tables.delete(this.tables.keys().next().value!);
      t = new TableLatencies();
      this.tables.set(tableId, t);
    }
    t.record(ms);
  }

  /** The table's p-th percentile (0 < p < 100) of recent read latencies; undefined with too few. */
  percentileMs(tableId: string, p: number): number | undefined {
    return this.tables.get(tableId)?.percentile(p);
  }
}
