import { describe, expect, it } from 'vitest';
import { bucketsBySize, DEFAULT_SIZE_TIERED, pickSizeTieredCompaction } from '../../../src/storage/compaction/size-tiered.js';

const MB = 1024 * 1024;
const sst = (generation: number, mb: number) => ({ generation, sizeBytes: mb * MB });
const opts = { ...DEFAULT_SIZE_TIERED, minSstableBytes: 1 * MB };

describe('size-tiered compaction strategy', () => {
  it('buckets tables of similar size together', () => {
    const buckets = bucketsBySize([sst(1, 10), sst(2, 12), sst(3, 100), sst(4, 9), sst(5, 110)], opts);
    expect(buckets.map((b) => b.map((s) => s.generation))).toEqual([[4, 1, 2], [3, 5]]);
  });

  it('waits for min_threshold similar tables', () => {
    expect(pickSizeTieredCompaction([sst(1, 10), sst(2, 10), sst(3, 10)], opts)).toBeNull();
    expect(pickSizeTieredCompaction([sst(1, 10), sst(2, 10), sst(3, 10), sst(4, 10)], opts)?.map((s) => s.generation)).toEqual([1, 2, 3, 4]);
  });

  it('prefers the bucket of the smallest tables and caps at max_threshold', () => {
    const small = Array.from({ length: 40 }, (_, i) => sst(i + 1, 2));
    const big = [sst(100, 500), sst(101, 500), sst(102, 500), sst(103, 500)];
    const picked = pickSizeTieredCompaction([...big, ...small], opts)!;
    expect(picked).toHaveLength(32);
    expect(picked.every((s) => s.sizeBytes === 2 * MB)).toBe(true);
  });

  it('puts every table under min_sstable_size in one bucket', () => {
    const tiny = [sst(1, 0.01), sst(2, 0.5), sst(3, 0.9), sst(4, 0.001)];
    expect(pickSizeTieredCompaction(tiny, opts)).toHaveLength(4);
  });
});
