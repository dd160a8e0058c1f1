import { describe, expect, it } from 'vitest';
import { BloomFilter, hashKey, murmur3x86_32 } from '../../../src/storage/sstable/bloom-filter.js';

describe('bloom filter', () => {
  it('uses the reference MurmurHash3 x86_32', () => {
    // Vectors from the reference implementation (SMHasher).
    expect(murmur3x86_32(Buffer.alloc(0), 0)).toBe(0);
    expect(murmur3x86_32(Buffer.alloc(0), 1)).toBe(0x514e28b7);
    expect(murmur3x86_32(Buffer.from('hello'), 0)).toBe(0x248bfa47);
    expect(murmur3x86_32(Buffer.from('Hello, world!'), 1234)).toBe(0xfaf6cdb3);
  });

  it.each([100, 10_000, 50_000])('has no false negatives and few false positives for %i keys', (n) => {
    const filter = BloomFilter.forKeys(n, 0.01);
    for (let i = 0; i < n; i++) filter.add(hashKey(Buffer.from(`key-${i}`)));
    for (let i = 0; i < n; i++) expect(filter.mightContain(hashKey(Buffer.from(`key-${i}`)))).toBe(true);
    let falsePositives = 0;
    const probes = 50_000;
    for (let i = 0; i < probes; i++) if (filter.mightContain(hashKey(Buffer.from(`other-${i}`)))) falsePositives++;
    expect(falsePositives / probes).toBeLessThan(0.02);
  });

  it('survives serialization', () => {
    const filter = BloomFilter.forKeys(1000);
    for (let i = 0; i < 1000; i++) filter.add(hashKey(Buffer.from(`k${i}`)));
    const back = BloomFilter.deserialize(filter.serialize());
    for (let i = 0; i < 1000; i++) expect(back.mightContain(hashKey(Buffer.from(`k${i}`)))).toBe(true);
  });
});
