/**
 * The order of a memtable's partitions, kept cheaply: a sorted run of keys plus a small
 * unsorted batch of recent ones. Inserting is an array push; once the batch holds
 * max(`MIN_BATCH_KEYS`, run/8) keys it is sorted and merged into the run. The O(run) merge
 * thus happens once per run/8 inserts: amortized, each insert pays a few moves and a
 * logarithmic share of a sort, less than a B-tree insert; the longest pause (sort + merge at
 * 60k keys) is a few milliseconds. Iteration merges the run with the batch (sorted on demand),
 * so scans always see every key in order.
 *
 * Keys are strings whose JavaScript order is the storage order (latin1 of the storage key).
 * Invariants: `run` is strictly increasing; `batch` holds keys not in `run`, no duplicates
 * (the caller inserts each key once).
 */
const MIN_BATCH_KEYS = 4096;

function lowerBoundOf(keys: ReadonlyArray<string>, key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class SortedKeyIndex {
  private run: string[] = [];
  private batch: string[] = [];
  private batchSorted = true;

  get size(): number {
    return this.run.length + this.batch.length;
  }

  /** Adds a key that is not in the index yet. */
  insert(key: string): void {
    this.batch.push(key);
    this.batchSorted = false;
    if (this.batch.length >= MIN_BATCH_KEYS && this.batch.length >= this.run.length >>> 3) this.mergeBatch();
  }

  private sortBatch(): void {
    if (this.batchSorted) return;
    this.batch.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    this.batchSorted = true;
  }

  private mergeBatch(): void {
    this.sortBatch();
    const run = this.run;
    const batch = this.batch;
    const out: string[] = new Array(run.length + batch.length);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < run.length && j < batch.length) out[k++] = run[i]! < batch[j]! ? run[i++]! : batch[j++]!;
    while (i < run.length) out[k++] = run[i++]!;
    while (j < batch.length) out[k++] = batch[j++]!;
    this.run = out;
    this.batch = [];
  }

  /**
   * Keys in order from `from` (inclusive; undefined: from the start). The index must not change
   * while the iterator is in use (the memtable is only iterated synchronously, or sealed).
   */
  *keysFrom(from: string | undefined): IterableIterator<string> {
    this.sortBatch();
    const run = this.run;
    const batch = this.batch;
    let i = from === undefined ? 0 : lowerBoundOf(run, from);
    let j = from === undefined ? 0 : lowerBoundOf(batch, from);
    while (i < run.length && j < batch.length) yield run[i]! < batch[j]! ? run[i++]! : batch[j++]!;
    while (i < run.length) yield run[i++]!;
    while (j < batch.length) yield batch[j++]!;
  }
}
