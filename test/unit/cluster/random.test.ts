import { describe, expect, it } from 'vitest';
import { SeededRandom, type Random } from '../../../src/runtime/random.js';
import { systemRandom } from '../../../src/runtime/system.js';

function checkContract(random: Random): void {
  for (let i = 0; i < 2_000; i++) {
    const f = random.nextFloat();
    expect(f >= 0 && f < 1).toBe(true);
    const n = random.nextInt(7);
    expect(Number.isInteger(n) && n >= 0 && n < 7).toBe(true);
  }
  expect(random.nextInt(1)).toBe(0);
  const big = random.nextInt(2 ** 53);
  expect(Number.isSafeInteger(big) && big >= 0).toBe(true);
  expect(random.nextBytes(13)).toHaveLength(13);
  expect(random.nextBytes(0)).toHaveLength(0);
  expect(['a', 'b', 'c']).toContain(random.pick(['a', 'b', 'c']));
  expect(() => random.pick([])).toThrow();
  expect(() => random.nextInt(0)).toThrow();
  expect(() => random.nextInt(1.5)).toThrow();
}

describe('Random', () => {
  it('seeded and system generators keep the contract', () => {
    checkContract(new SeededRandom(42));
    checkContract(systemRandom);
  });

  it('a seed replays the same sequence; different seeds differ', () => {
    const a = new SeededRandom(7);
    const b = new SeededRandom(7);
    const c = new SeededRandom(8);
    const seqA = Array.from({ length: 100 }, () => a.nextUint32());
    expect(Array.from({ length: 100 }, () => b.nextUint32())).toEqual(seqA);
    expect(Array.from({ length: 100 }, () => c.nextUint32())).not.toEqual(seqA);
    // Seeds that differ only above 2^32 differ too.
    expect(new SeededRandom(2 ** 40 + 7).nextUint32()).not.toBe(new SeededRandom(7).nextUint32());
  });

  it('is roughly uniform (chi-square over 10 buckets)', () => {
    const random = new SeededRandom(123);
    const buckets = new Array<number>(10).fill(0);
    const draws = 100_000;
    for (let i = 0; i < draws; i++) buckets[random.nextInt(10)]!++;
    const expected = draws / 10;
    const chi2 = buckets.reduce((sum, b) => sum + (b - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(27.9); // p = 0.001 for 9 degrees of freedom
    const bytes = random.nextBytes(100_000);
    const mean = bytes.reduce((s, b) => s + b, 0) / bytes.length;
    expect(Math.abs(mean - 127.5)).toBeLessThan(2);
  });

  it('forks independent, reproducible streams', () => {
    const parent1 = new SeededRandom(99);
    const parent2 = new SeededRandom(99);
    expect(parent1.fork().nextFloat()).toBe(parent2.fork().nextFloat());
    expect(parent1.fork().nextFloat()).not.toBe(parent1.fork().nextFloat());
  });
});
