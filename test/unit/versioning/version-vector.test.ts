import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compare, decode, encode, increment, join, type VersionVector } from '../../../src/versioning/version-vector.js';
import { CorruptDataError } from '../../../src/util/bytes.js';

const arbVector: fc.Arbitrary<VersionVector> = fc
  .dictionary(fc.constantFrom('n1', 'n2', 'n3', 'n4'), fc.integer({ min: 1, max: 5 }))
  .map((d) => new Map(Object.entries(d)));
const same = (a: VersionVector, b: VersionVector): void => {
  expect(encode(a)).toEqual(encode(b));
};

describe('version vectors', () => {
  it('join is commutative, associative and idempotent, and dominates both inputs', () => {
    fc.assert(
      fc.property(arbVector, arbVector, arbVector, (a, b, c) => {
        same(join(a, b), join(b, a));
        same(join(join(a, b), c), join(a, join(b, c)));
        same(join(a, a), a);
        expect(['after', 'equal']).toContain(compare(join(a, b), a));
      }),
    );
  });

  it('tells causal order from concurrency', () => {
    const base = increment(new Map(), 'n1');
    const left = increment(base, 'n1');
    const right = increment(base, 'n2');
    expect(compare(left, base)).toBe('after');
    expect(compare(base, left)).toBe('before');
    expect(compare(left, right)).toBe('concurrent');
    expect(compare(join(left, right), right)).toBe('after');
    expect(compare(base, new Map(base))).toBe('equal');
  });

  it('encodes canonically and rejects malformed bytes', () => {
    fc.assert(
      fc.property(arbVector, (v) => {
        same(decode(encode(v)), v);
      }),
    );
    expect(() => decode(Buffer.from([1, 2, 0x61, 0x62, 0]))).toThrow(CorruptDataError); // counter 0
    expect(() => decode(Buffer.from([5]))).toThrow(CorruptDataError);
  });
});
