/**
 * The memtable: recent writes of one table, in memory, sorted for flushing.
 *
 * Partitions are kept in a B+tree keyed by their storage key (token bytes + partition key,
 * as a latin1 string so JavaScript string order is byte order); each partition keeps its rows
 * in a sorted array by clustering bytes. Applying an update merges it cell by cell with what is
 * there (reconcile.ts), so a memtable holds at most one version of each cell.
 *
 * Invariants: rows are sorted by clustering with no duplicates; `bytes` is the sum of the
 * size estimates of what is held; a sealed memtable never changes (it is being flushed and
 * may be iterated across event-loop turns).
 * Bounds: the owner flushes it once `bytes` passes `memtable_flush_threshold_mb`.
 */
import sortedBtree from 'sorted-btree';
import { assert } from '../../util/assert.js';
import { partitionStorageKey } from '../data/keys.js';
import { compareCellKey, headerTimestamps, mergeHeaders, mergeRows, rowTimestamps } from '../data/reconcile.js';
import type { Cell, PartitionHeader, PartitionUpdate, Row } from '../data/types.js';

// sorted-btree is CommonJS with `exports.default`: Node's ESM interop hands us module.exports
// (class at `.default`), while the test runner's interop hands us the class itself.
type BTreeClass = typeof sortedBtree.default;
const BTree: BTreeClass = (sortedBtree as unknown as { default?: BTreeClass }).default ?? (sortedBtree as unknown as BTreeClass);
type BTreeOf<K, V> = sortedBtree.default<K, V>;

/** A position in the commit log; memtables only compare them. */
export interface LogPosition {
  readonly segment: number;
  readonly offset: number;
}

export interface MemPartition {
  readonly token: bigint;
  readonly key: Buffer;
  readonly pkey: Buffer;
  header: PartitionHeader;
  /** Sorted by clustering bytes. */
  readonly rows: Row[];
}

const PARTITION_OVERHEAD_BYTES = 160;
const ROW_OVERHEAD_BYTES = 96;
const CELL_OVERHEAD_BYTES = 48;

export function estimateRowBytes(row: Row): number {
  let n = ROW_OVERHEAD_BYTES + row.clustering.length + (row.version?.length ?? 0);
  for (const c of row.cells) n += CELL_OVERHEAD_BYTES + c.column.length + (c.path?.length ?? 0) + (c.value?.length ?? 0);
  return n;
}

function headerBytes(h: PartitionHeader): number {
  let n = 0;
  for (const rt of h.rangeTombstones) n += 64 + (rt.start?.prefix.length ?? 0) + (rt.end?.prefix.length ?? 0);
  return n;
}

function sortedCells(row: Row): Row {
  const cells = row.cells;
  for (let i = 1; i < cells.length; i++) {
    const c = compareCellKey(cells[i - 1]!, cells[i]!);
    if (c >= 0) {
      // Rare: the caller sent cells out of order or twice; sort, and let the later duplicate win.
      const byKey = new Map<string, Cell>();
      for (const cell of cells) byKey.set(`${cell.column}\u0000${cell.path?.toString('latin1') ?? ''}`, cell);
      return { ...row, cells: [...byKey.values()].sort(compareCellKey) };
    }
  }
  return row;
}

/** Index of the first row whose clustering is >= `clustering` (binary search). */
export function lowerBound(rows: ReadonlyArray<Row>, clustering: Buffer): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (Buffer.compare(rows[mid]!.clustering, clustering) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class Memtable {
  private readonly partitions: BTreeOf<string, MemPartition> = new BTree<string, MemPartition>();
  private sealedFlag = false;
  bytes = 0;
  rowCount = 0;
  firstPosition: LogPosition | null = null;
  lastPosition: LogPosition | null = null;
  readonly timestamps = { min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY };

  get sealed(): boolean {
    return this.sealedFlag;
  }

  get partitionCount(): number {
    return this.partitions.size;
  }

  get isEmpty(): boolean {
    return this.partitions.size === 0;
  }

  seal(): void {
    this.sealedFlag = true;
  }

  /** Merges `update` in. `position` is where the update sits in the commit log. */
  apply(update: PartitionUpdate, position: LogPosition | null, nowSec: number): void {
    assert(!this.sealedFlag, 'a sealed memtable is immutable');
    const pkey = partitionStorageKey(update.token, update.key);
    const skey = pkey.toString('latin1');
    let partition = this.partitions.get(skey);
    if (partition === undefined) {
      partition = { token: update.token, key: Buffer.from(update.key), pkey, header: { rangeTombstones: [] }, rows: [] };
      this.partitions.set(skey, partition);
      this.bytes += PARTITION_OVERHEAD_BYTES + pkey.length;
    }
    if (update.deletion !== undefined || update.rangeTombstones.length > 0) {
      this.bytes -= headerBytes(partition.header);
      partition.header = mergeHeaders(partition.header, update);
      this.bytes += headerBytes(partition.header);
      headerTimestamps(update, this.timestamps);
    }
    for (const incoming of update.rows) this.applyRow(partition, sortedCells(incoming), nowSec);
    if (position !== null) {
      if (this.firstPosition === null) this.firstPosition = position;
      this.lastPosition = position;
    }
  }

  private applyRow(partition: MemPartition, row: Row, nowSec: number): void {
    rowTimestamps(row, this.timestamps);
    const rows = partition.rows;
    const i = lowerBound(rows, row.clustering);
    const existing = rows[i];
    if (existing !== undefined && existing.clustering.equals(row.clustering)) {
      const merged = mergeRows(existing, row, nowSec);
      this.bytes += estimateRowBytes(merged) - estimateRowBytes(existing);
      rows[i] = merged;
    } else {
      const owned = { ...row, clustering: Buffer.from(row.clustering) };
      rows.splice(i, 0, owned);
      this.bytes += estimateRowBytes(owned);
      this.rowCount++;
    }
  }

  get(pkey: Buffer): MemPartition | undefined {
    return this.partitions.get(pkey.toString('latin1'));
  }

  /** Partitions in storage-key order, starting at `fromPkey` (inclusive) when given. */
  *partitionsFrom(fromPkey: Buffer | null): IterableIterator<MemPartition> {
    const start = fromPkey === null ? undefined : fromPkey.toString('latin1');
    for (const [, partition] of this.partitions.entries(start)) yield partition;
  }
}
