import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  afterStart,
  beforeEnd,
  ckLowerLimit,
  ckUpperLimit,
  decodeToken,
  encodeToken,
  MAX_TOKEN,
  MIN_TOKEN,
  prefixSuccessor,
  rowStorageCk,
} from '../../../src/storage/data/keys.js';

const arbToken = fc.bigInt({ min: MIN_TOKEN, max: MAX_TOKEN });

describe('storage key encodings', () => {
  it('token bytes sort like the tokens and round-trip', () => {
    fc.assert(
      fc.property(arbToken, arbToken, (x, y) => {
        expect(decodeToken(encodeToken(x))).toBe(x);
        expect(Math.sign(Buffer.compare(encodeToken(x), encodeToken(y)))).toBe(x < y ? -1 : x > y ? 1 : 0);
      }),
    );
  });

  it('prefix successor is the least string above every extension', () => {
    expect(prefixSuccessor(Buffer.from([1, 2]))).toEqual(Buffer.from([1, 3]));
    expect(prefixSuccessor(Buffer.from([1, 0xff]))).toEqual(Buffer.from([2]));
    expect(prefixSuccessor(Buffer.from([0xff]))).toBeNull();
  });

  it('the SQL ck limits contain exactly the rows inside the bounds, or a superset', () => {
    const arbBytes = fc.uint8Array({ maxLength: 3 }).map((u) => Buffer.from(u));
    const arbBound = fc.option(fc.record({ prefix: arbBytes, inclusive: fc.boolean() }), { nil: null });
    fc.assert(
      fc.property(arbBytes, arbBound, arbBound, (clustering, start, end) => {
        const ck = rowStorageCk(clustering);
        const inSql = Buffer.compare(ck, ckLowerLimit(start)) >= 0 && Buffer.compare(ck, ckUpperLimit(end)) < 0;
        if (afterStart(clustering, start) && beforeEnd(clustering, end)) expect(inSql).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});
