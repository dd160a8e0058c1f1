import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/runtime/clock.js';
import { ManualClock } from '../../../src/runtime/manual-clock.js';
import { DEFAULT_MAX_DRIFT_MS, HybridClock } from '../../../src/versioning/hybrid-clock.js';

/** A physical clock that can also step back, as NTP may do to a real one. */
class SteppingClock implements Clock {
  constructor(public micros: number) {}
  nowMs(): number {
    return Math.floor(this.micros / 1000);
  }
  nowMicros(): number {
    return this.micros;
  }
}

const START_MS = 1_700_000_000_000;

describe('hybrid clock: now()', () => {
  it('follows the physical clock in µs when it moves forward', () => {
    const clock = new ManualClock(START_MS);
    const hlc = new HybridClock(clock);
    expect(hlc.now()).toBe(START_MS * 1000);
    clock.advanceMs(5);
    expect(hlc.now()).toBe((START_MS + 5) * 1000);
  });

  it('is strictly increasing while the physical clock stalls', () => {
    const hlc = new HybridClock(new ManualClock(START_MS));
    const issued = Array.from({ length: 5 }, () => hlc.now());
    expect(issued).toEqual([0, 1, 2, 3, 4].map((k) => START_MS * 1000 + k));
  });

  it('never goes backwards when the physical clock steps back, and rejoins it once it catches up', () => {
    const clock = new SteppingClock(START_MS * 1000);
    const hlc = new HybridClock(clock);
    const before = hlc.now();
    clock.micros -= 10_000_000; // NTP steps the clock back 10 s
    expect(hlc.now()).toBe(before + 1);
    expect(hlc.now()).toBe(before + 2);
    clock.micros = before + 50;
    expect(hlc.now()).toBe(before + 50);
  });
});

describe('hybrid clock: observe()', () => {
  it('moves past a later remote timestamp so the next local one orders after it', () => {
    const clock = new ManualClock(START_MS);
    const hlc = new HybridClock(clock);
    const remote = START_MS * 1000 + 2_000_000; // a peer 2 s ahead
    expect(hlc.observe(remote)).toEqual({ kind: 'advanced' });
    expect(hlc.lastIssuedMicros).toBe(remote);
    expect(hlc.now()).toBe(remote + 1);
  });

  it('ignores an earlier remote timestamp', () => {
    const clock = new ManualClock(START_MS);
    const hlc = new HybridClock(clock);
    const issued = hlc.now();
    expect(hlc.observe(issued)).toEqual({ kind: 'unchanged' });
    expect(hlc.observe(issued - 5_000)).toEqual({ kind: 'unchanged' });
    expect(hlc.now()).toBe(issued + 1);
  });

  it('refuses to follow a remote clock beyond maxDriftMs and counts it', () => {
    const clock = new ManualClock(START_MS);
    const hlc = new HybridClock(clock, { maxDriftMs: 1_000 });
    const wild = START_MS * 1000 + 3_600_000_000; // an hour ahead
    expect(hlc.observe(wild)).toEqual({ kind: 'excess-drift', aheadMicros: 3_600_000_000, policy: 'reject' });
    expect(hlc.excessDriftCount).toBe(1);
    expect(hlc.now()).toBe(START_MS * 1000);
    // exactly at the bound is still followed
    expect(hlc.observe(START_MS * 1000 + 1_000_000)).toEqual({ kind: 'advanced' });
    expect(hlc.excessDriftCount).toBe(1);
  });

  it('clamps to the bound when asked to', () => {
    const clock = new ManualClock(START_MS);
    const hlc = new HybridClock(clock, { maxDriftMs: 1_000, excessDrift: 'clamp' });
    expect(hlc.observe(START_MS * 1000 + 3_600_000_000).kind).toBe('excess-drift');
    expect(hlc.now()).toBe(START_MS * 1000 + 1_000_000 + 1);
    expect(hlc.excessDriftCount).toBe(1);
  });

  it('defaults to a 60 s bound and validates its options and inputs', () => {
    expect(new HybridClock(new ManualClock()).maxDriftMs).toBe(DEFAULT_MAX_DRIFT_MS);
    expect(DEFAULT_MAX_DRIFT_MS).toBe(60_000);
    expect(() => new HybridClock(new ManualClock(), { maxDriftMs: -1 })).toThrow(RangeError);
    expect(() => new HybridClock(new ManualClock(), { maxDriftMs: 1.5 })).toThrow(RangeError);
    const hlc = new HybridClock(new ManualClock());
    expect(() => hlc.observe(Number.NaN)).toThrow(RangeError);
    expect(() => hlc.observe(-1)).toThrow(RangeError);
    expect(() => hlc.observe(2 ** 60)).toThrow(RangeError);
  });
});

type Step = { op: 'now' } | { op: 'observe'; offsetMicros: number } | { op: 'tick'; deltaMicros: number };

const arbStep: fc.Arbitrary<Step> = fc.oneof(
  fc.constant<Step>({ op: 'now' }),
  fc.record({ op: fc.constant('observe' as const), offsetMicros: fc.integer({ min: -120_000_000, max: 120_000_000 }) }),
  fc.record({ op: fc.constant('tick' as const), deltaMicros: fc.integer({ min: -5_000_000, max: 5_000_000 }) }),
);

describe('hybrid clock: properties', () => {
  it('issues strictly increasing timestamps, each greater than every remote one within the bound', () => {
    fc.assert(
      fc.property(fc.array(arbStep, { maxLength: 60 }), fc.constantFrom<'reject' | 'clamp'>('reject', 'clamp'), (steps, policy) => {
        const clock = new SteppingClock(START_MS * 1000);
        const hlc = new HybridClock(clock, { maxDriftMs: 30_000, excessDrift: policy });
        let lastIssued = -1;
        let maxFollowed = -1;
        let excess = 0;
        for (const step of steps) {
          if (step.op === 'tick') {
            clock.micros += step.deltaMicros;
          } else if (step.op === 'observe') {
            const remote = clock.micros + step.offsetMicros;
            const result = hlc.observe(remote);
            if (remote <= clock.micros + 30_000_000) {
              expect(result.kind).not.toBe('excess-drift');
              maxFollowed = Math.max(maxFollowed, remote);
            } else {
              expect(result.kind).toBe('excess-drift');
              excess++;
            }
          } else {
            const t = hlc.now();
            expect(t).toBeGreaterThan(lastIssued);
            expect(t).toBeGreaterThan(maxFollowed);
            expect(t).toBeGreaterThanOrEqual(clock.micros);
            lastIssued = t;
          }
        }
        expect(hlc.excessDriftCount).toBe(excess);
      }),
    );
  });
});
