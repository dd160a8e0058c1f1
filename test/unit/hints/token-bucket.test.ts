/** The replay rate limit: bursts up to the capacity, then the rate; debt makes later takers wait. */
import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../../src/hints/token-bucket.js';

describe('TokenBucket', () => {
  it('lets a burst of the capacity through at once, then asks to wait for the rest', () => {
    const bucket = new TokenBucket({ bytesPerSecond: 1000, nowMs: 0 });
    expect(bucket.take(600, 0)).toBe(0);
    expect(bucket.take(400, 0)).toBe(0);
    expect(bucket.take(500, 0)).toBe(500);
    // The debt carries over: the next taker waits behind it.
    expect(bucket.take(500, 0)).toBe(1000);
  });

  it('refills at the rate, never above the capacity', () => {
    const bucket = new TokenBucket({ bytesPerSecond: 1000, capacityBytes: 2000, nowMs: 0 });
    expect(bucket.take(2000, 0)).toBe(0);
    expect(bucket.available(500)).toBe(500);
    expect(bucket.available(10_000)).toBe(2000);
  });

  it('releases at most capacity + rate × elapsed bytes over any run of takes', () => {
    const bucket = new TokenBucket({ bytesPerSecond: 10_000, nowMs: 0 });
    let nowMs = 0;
    let released = 0;
    for (let i = 0; i < 200; i++) {
      nowMs += bucket.take(777, nowMs);
      released += 777;
      expect(released).toBeLessThanOrEqual(10_000 + (10_000 * nowMs) / 1000 + 777);
    }
    // And it does not hold back much more than the rate requires.
    expect(nowMs).toBeLessThanOrEqual(((released - 10_000) / 10_000) * 1000 + 1);
  });

  it('ignores a clock going backwards and lets a take larger than the capacity through after its wait', () => {
    const bucket = new TokenBucket({ bytesPerSecond: 100, nowMs: 1000 });
    expect(bucket.take(100, 1000)).toBe(0);
    expect(bucket.available(500)).toBe(0);
    expect(bucket.take(1000, 1000)).toBe(10_000);
  });
});
