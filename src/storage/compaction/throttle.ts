/**
 * Rate limit for background I/O (compaction_throughput_mb_per_s), for worker threads only:
 * it blocks the calling thread with `Atomics.wait` when work runs ahead of the allowed rate,
 * which is exactly what a worker should do and what the event loop must never do.
 */
const CHECK_EVERY_BYTES = 1 << 20;

export class Throttle {
  private readonly startedMs = performance.now();
  private nextCheckBytes = CHECK_EVERY_BYTES;
  private readonly sleeper = new Int32Array(new SharedArrayBuffer(4));

  /** `bytesPerS` of 0 means unthrottled. */
  constructor(private readonly bytesPerS: number) {}

  /** Call with the running total of bytes processed. */
  consume(totalBytes: number): void {
    if (this.bytesPerS <= 0 || totalBytes < this.nextCheckBytes) return;
    this.nextCheckBytes = totalBytes + CHECK_EVERY_BYTES;
    const dueMs = (totalBytes / this.bytesPerS) * 1000;
    const aheadMs = dueMs - (performance.now() - this.startedMs);
    if (aheadMs > 1) Atomics.wait(this.sleeper, 0, 0, aheadMs);
  }
}
