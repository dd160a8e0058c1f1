/**
 * Size-tiered compaction strategy (Cassandra's STCS), as a pure function: given the live
 * SSTables of a table, which ones to merge next, if any.
 *
 * SSTables are grouped into buckets of similar size: a table joins a bucket when its size is
 * within [bucketLow, bucketHigh] × the bucket's average, and every table smaller than
 * `minSstableBytes` shares one bucket. A bucket with at least `minThreshold` members is a
 * candidate; at most `maxThreshold` of its smallest members are compacted. Among candidates the
 * bucket of smallest tables wins: it is the cheapest and removes the most files per byte.
 */
export interface SizedSstable {
  readonly generation: number;
  readonly sizeBytes: number;
}

export interface SizeTieredOptions {
  readonly minThreshold: number;
  readonly maxThreshold: number;
  readonly bucketLow: number;
  readonly bucketHigh: number;
  readonly minSstableBytes: number;
}

export const DEFAULT_SIZE_TIERED: SizeTieredOptions = {
  minThreshold: 4,
  maxThreshold: 32,
  bucketLow: 0.5,
  bucketHigh: 1.5,
  minSstableBytes: 50 * 1024 * 1024,
};

export function bucketsBySize<T extends SizedSstable>(sstables: ReadonlyArray<T>, options: SizeTieredOptions): T[][] {
  const sorted = [...sstables].sort((a, b) => a.sizeBytes - b.sizeBytes || a.generation - b.generation);
  const buckets: { members: T[]; average: number }[] = [];
  for (const sstable of sorted) {
    const bucket = buckets.find(
      (b) =>
        (sstable.sizeBytes >= b.average * options.bucketLow && sstable.sizeBytes <= b.average * options.bucketHigh) ||
        (sstable.sizeBytes < options.minSstableBytes && b.average < options.minSstableBytes),
    );
    if (bucket === undefined) {
      buckets.push({ members: [sstable], average: sstable.sizeBytes });
    } else {
      bucket.members.push(sstable);
      bucket.average += (sstable.sizeBytes - bucket.average) / bucket.members.length;
    }
  }
  return buckets.map((b) => b.members);
}

/** The SSTables to compact next, smallest bucket first, or null when nothing qualifies. */
export function pickSizeTieredCompaction<T extends SizedSstable>(sstables: ReadonlyArray<T>, options: SizeTieredOptions): T[] | null {
  const candidates = bucketsBySize(sstables, options).filter((b) => b.length >= options.minThreshold);
  if (candidates.length === 0) return null;
  return candidates[0]!.slice(0, options.maxThreshold);
}
