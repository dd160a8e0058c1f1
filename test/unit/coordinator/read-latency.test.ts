import { describe, expect, it } from 'vitest';
import { MIN_SAMPLES, ReadLatencyTracker, REFRESH_EVERY, WINDOW } from '../../../src/coordinator/read-latency.js';

describe('ReadLatencyTracker', () => {
  it('has no percentile before enough samples, then the nearest-rank percentile of the window', () => {
    const t = new ReadLatencyTracker();
    for (let i = 1; i < MIN_SAMPLES; i++) t.record('t', i);
    expect(t.percentileMs('t', 99)).toBeUndefined();
    for (let i = MIN_SAMPLES; i <= 100; i++) t.record('t', i);
    expect(t.percentileMs('t', 99)).toBe(99);
    expect(t.percentileMs('t', 50)).toBe(50);
    expect(t.percentileMs('other', 50)).toBeUndefined();
  });

  it('forgets samples older than the window, refreshing its cached figure as samples arrive', () => {
    const t = new ReadLatencyTracker();
    for (let i = 0; i < WINDOW; i++) t.record('t', 100);
    expect(t.percentileMs('t', 99)).toBe(100);
    for (let i = 0; i < WINDOW; i++) t.record('t', 1);
    expect(t.percentileMs('t', 99)).toBe(1);
    // Between refreshes the cached value stands; after REFRESH_EVERY samples it moves.
    for (let i = 0; i < REFRESH_EVERY; i++) t.record('t', 50);
    expect(t.percentileMs('t', 99)).toBe(50);
  });
});
