import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FailureDetector } from '../../../src/cluster/failure/failure-detector.js';
import {
  PhiAccrualDetector,
  defaultPhiAccrualOptions,
  phiOfNormalisedDelay,
  type PhiAccrualOptions,
} from '../../../src/cluster/failure/phi-accrual.js';
import { SeededRandom, type Random } from '../../../src/runtime/random.js';

const INTERVAL_MS = 200;
const THRESHOLD = 8;
const options = defaultPhiAccrualOptions(INTERVAL_MS);
const seed = Number(process.env.GOSSIP_SEED ?? 20240601);

/** Feeds arrivals (absolute ms) to a fresh detector; returns the times phi first passed the threshold while checking every `stepMs`. */
function run(arrivalsMs: number[], untilMs: number, stepMs = 10, opts: PhiAccrualOptions = options): { detector: PhiAccrualDetector; convictionsMs: number[] } {
  const detector = new PhiAccrualDetector(opts);
  const convictionsMs: number[] = [];
  let next = 0;
  let convicted = false;
  for (let t = arrivalsMs[0] ?? 0; t <= untilMs; t += stepMs) {
    while (next < arrivalsMs.length && (arrivalsMs[next] as number) <= t) {
      detector.heartbeat(arrivalsMs[next] as number);
      next++;
      convicted = false;
    }
    const suspected = detector.phi(t) > THRESHOLD;
    if (suspected && !convicted) convictionsMs.push(t);
    convicted = suspected;
  }
  return { detector, convictionsMs };
}

/** Gossip-like arrivals: mostly one per round, sometimes a round or two missed, with jitter. */
function gossipArrivals(random: Random, count: number, jitterMs: number, pauses: (i: number) => number = () => 0): number[] {
  const out: number[] = [];
  let t = 1_000_000;
  for (let i = 0; i < count; i++) {
    const rounds = random.nextFloat() < 0.1 ? 2 : 1;
    t += rounds * INTERVAL_MS + (random.nextFloat() - 0.5) * 2 * jitterMs + pauses(i);
    out.push(Math.round(t));
  }
  return out;
}

describe('phi-accrual failure detector', () => {
  it('phi is 0 before any heartbeat and ~0 right after one', () => {
    const d = new PhiAccrualDetector(options);
    expect(d.phi(5_000)).toBe(0);
    d.heartbeat(1_000);
    expect(d.phi(1_000)).toBeLessThan(1e-6);
    for (let t = 1_200; t <= 20_000; t += 200) d.heartbeat(t);
    expect(d.phi(20_000)).toBeLessThan(1e-6);
  });

  it('bootstraps on the gossip interval: one heartbeat, then silence, convicts after about 1.5 s', () => {
    const { convictionsMs } = run([1_000], 10_000);
    expect(convictionsMs).toHaveLength(1);
    const afterMs = (convictionsMs[0] as number) - 1_000;
    expect(afterMs).toBeGreaterThan(1_400);
    expect(afterMs).toBeLessThan(1_700);
  });

  it('never convicts steady heartbeats', () => {
    const arrivals = Array.from({ length: 3_000 }, (_, i) => 1_000 + i * INTERVAL_MS);
    const { convictionsMs, detector } = run(arrivals, arrivals.at(-1) as number);
    expect(convictionsMs).toEqual([]);
    expect(detector.sampleCount).toBe(1_000); // bounded window
    expect(detector.meanMs()).toBeCloseTo(INTERVAL_MS, 6);
  });

  it('never convicts jittery gossip arrivals (±80 ms, missed rounds)', () => {
    const arrivals = gossipArrivals(new SeededRandom(seed), 5_000, 80);
    expect(run(arrivals, arrivals.at(-1) as number).convictionsMs).toEqual([]);
  });

  it('never convicts through GC-like pauses: 300–500 ms often, 1 s now and then', () => {
    const random = new SeededRandom(seed + 1);
    const pause = (): number => {
      const u = random.nextFloat();
      if (u < 0.005) return 1_000;
      if (u < 0.05) return 300 + 200 * random.nextFloat();
      return 0;
    };
    const arrivals = gossipArrivals(random, 10_000, 40, pause);
    const { convictionsMs, detector } = run(arrivals, arrivals.at(-1) as number);
    expect(convictionsMs).toEqual([]);
    // A 1 s pause right after the window saw hardly any: still no conviction.
    const quiet = Array.from({ length: 500 }, (_, i) => 1_000 + i * INTERVAL_MS);
    const last = quiet.at(-1) as number;
    expect(run([...quiet, last + 1_000 + INTERVAL_MS], last + 1_300).convictionsMs).toEqual([]);
    expect(detector.stdDeviationMs()).toBeLessThanOrEqual(options.maxStdDeviationMs);
  });

  it('convicts a node that stops within 3 s of its last heartbeat (median under 2 s)', () => {
    const delaysMs: number[] = [];
    for (let s = 0; s < 50; s++) {
      const random = new SeededRandom(seed + 100 + s);
      const arrivals = gossipArrivals(random, 300 + random.nextInt(300), 60);
      const lastMs = arrivals.at(-1) as number;
      const { convictionsMs } = run(arrivals, lastMs + 5_000);
      expect(convictionsMs).toHaveLength(1);
      delaysMs.push((convictionsMs[0] as number) - lastMs);
    }
    delaysMs.sort((a, b) => a - b);
    const median = delaysMs[Math.floor(delaysMs.length / 2)] as number;
    expect(Math.max(...delaysMs)).toBeLessThan(3_000);
    expect(median).toBeLessThan(2_000);
    expect(Math.min(...delaysMs)).toBeGreaterThan(1_200);
  });

  it('matches the conviction delay the header derives: mean + pause + 5.22 · std', () => {
    const arrivals = Array.from({ length: 200 }, (_, i) => i * INTERVAL_MS);
    const { detector } = run(arrivals, arrivals.at(-1) as number);
    const expected = INTERVAL_MS + options.acceptablePauseMs + 5.22 * options.minStdDeviationMs;
    expect(detector.convictionDelayMs(THRESHOLD)).toBeGreaterThan(expected - 5);
    expect(detector.convictionDelayMs(THRESHOLD)).toBeLessThan(expected + 5);
    expect(phiOfNormalisedDelay(5.225)).toBeCloseTo(8, 1);
  });

  it('phi is monotone non-decreasing in silence and finite far out', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 2_000 }), { minLength: 0, maxLength: 60 }),
        fc.array(fc.integer({ min: 0, max: 100_000 }), { minLength: 2, maxLength: 30 }),
        (gapsMs, probesMs) => {
          const d = new PhiAccrualDetector(options);
          let t = 0;
          d.heartbeat(t);
          for (const g of gapsMs) d.heartbeat((t += g));
          let previous = -1;
          for (const p of [...probesMs].sort((a, b) => a - b)) {
            const phi = d.phi(t + p);
            expect(Number.isFinite(phi)).toBe(true);
            expect(phi).toBeGreaterThanOrEqual(previous);
            previous = phi;
          }
        },
      ),
    );
  });

  it('ignores intervals longer than maxSampleIntervalMs and tolerates clock readings that go back', () => {
    const d = new PhiAccrualDetector(options);
    d.heartbeat(0);
    d.heartbeat(200);
    d.heartbeat(60_000); // the peer was down for a minute: not a sample
    expect(d.sampleCount).toBe(1);
    d.heartbeat(59_000); // an older reading: a zero interval, last arrival unchanged
    expect(d.lastArrivalMs).toBe(60_000);
    expect(d.phi(59_500)).toBeLessThan(1e-6);
  });

  it('keeps exact statistics over many laps of the window', () => {
    const small: PhiAccrualOptions = { ...options, windowSize: 7 };
    const d = new PhiAccrualDetector(small);
    let t = 0;
    d.heartbeat(t);
    const intervals: number[] = [];
    const random = new SeededRandom(seed);
    for (let i = 0; i < 1_000; i++) {
      const gap = 100 + random.nextFloat() * 300;
      intervals.push(gap);
      d.heartbeat((t += gap));
    }
    const window = intervals.slice(-7);
    const mean = window.reduce((a, b) => a + b, 0) / 7;
    expect(d.meanMs()).toBeCloseTo(mean, 6);
  });
});

describe('failure detector (per endpoint)', () => {
  it('tracks endpoints separately, reports phi 0 for unknown ones, and forgets on remove', () => {
    const fd = new FailureDetector({ phiConvictThreshold: THRESHOLD, maxEndpoints: 4, detector: options });
    for (let t = 0; t <= 10_000; t += 200) {
      fd.report('a:1', t);
      if (t <= 2_000) fd.report('b:1', t);
    }
    expect(fd.isConvicted('a:1', 10_000)).toBe(false);
    expect(fd.isConvicted('b:1', 10_000)).toBe(true);
    expect(fd.phi('nobody:1', 10_000)).toBe(0);
    expect([...fd.phis(10_000).keys()]).toEqual(['a:1', 'b:1']);
    fd.remove('b:1');
    expect(fd.phi('b:1', 10_000)).toBe(0);
  });

  it('refuses more endpoints than its bound', () => {
    const fd = new FailureDetector({ phiConvictThreshold: THRESHOLD, maxEndpoints: 2, detector: options });
    fd.report('a:1', 0);
    fd.report('b:1', 0);
    expect(() => fd.report('c:1', 0)).toThrow(/full/);
  });
});
