import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SortedKeyIndex } from '../../../src/storage/memtable/sorted-key-index.js';

describe('sorted key index', () => {
  it('iterates every key in order from any start, across merges of the recent batch', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ maxLength: 6 }), { maxLength: 10_000 }), fc.string({ maxLength: 6 }), (keys, from) => {
        const index = new SortedKeyIndex();
        for (const k of keys) index.insert(k);
        const sorted = [...keys].sort();
        expect([...index.keysFrom(undefined)]).toEqual(sorted);
        expect([...index.keysFrom(from)]).toEqual(sorted.filter((k) => k >= from));
        expect(index.size).toBe(keys.length);
      }),
      { numRuns: 60 },
    );
  });
});
