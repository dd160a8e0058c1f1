/**
 * The memtable: recent writes of one table, in memory, sorted for flushing.
 *
 * Partitions are found through a Map and kept in order by a `SortedKeyIndex`, both keyed by
 * the storage key (token bytes + partition key, as a latin1 string so JavaScript string order
 * is byte order); each partition keeps its rows in a sorted array by clustering bytes. A row is held
 * encoded (codec.ts), in slabs the memtable owns: few long-lived objects for the garbage
 * collector to trace, and a flush streams the bytes as they are. Applying an update to an
 * existing row decodes, merges cell by cell (reconcile.ts) and re-encodes it, so a memtable
 * holds at most one version of each cell.
 *
 * Invariants: rows are sorted by clustering with no duplicates; `bytes` is the sum of the
 * size estimates of what is held; a sealed memtable never changes (it is being flushed and
 * may be iterated across event-loop turns).
 * Bounds: the owner flushes it once `bytes` passes `memtable_flush_threshold_mb`.
 */
import { assert } from '../../util/assert.js';
import { ByteReader, ByteWriter } from '../../util/bytes.js';
import { readRow, readRowVersionOnly, writeRow } from '../data/codec.js';
import { partitionStorageKey } from '../data/keys.js';
import { compareCellKey, headerTimestamps, mergeHeaders, mergeRows, rowTimestamps } from '../data/reconcile.js';
import { EMPTY_HEADER, type Cell, type PartitionHeader, type PartitionUpdate, type RangeTombstone, type Row } from '../data/types.js';
import { SlabAllocator } from './slab-allocator.js';
import { SortedKeyIndex } from './sorted-key-index.js';

/** A position in the commit log; memtables only compare them. */
export interface LogPosition {
  readonly segment: number;
  readonly offset: number;
}

/**
 * A row as the memtable holds it: its clustering and where its encoded bytes lie in a slab.
 * Offsets rather than a Buffer view: one object per row fewer for the garbage collector.
 */
export interface MemRow {
  readonly clustering: Buffer;
  slab: Buffer;
  start: number;
  end: number;
}

export interface MemPartition {
  /** Token bytes + partition key bytes (keys.ts). */
  readonly pkey: Buffer;
  header: PartitionHeader;
  /** Sorted by clustering bytes. */
  readonly rows: MemRow[];
}

export function decodeMemRow(row: MemRow): Row {
  const r = new ByteReader(row.slab, row.start, row.end);
  const decoded = readRow(r, row.clustering);
  assert(r.remaining === 0, 'memtable row length mismatch');
  return decoded;
}

/** The version blob of a memtable row (a view into its slab), without decoding its cells. */
export function memRowVersion(row: MemRow): Buffer | undefined {
  return readRowVersionOnly(new ByteReader(row.slab, row.start, row.end));
}

/** The encoded bytes of a memtable row (a view into its slab). */
export function memRowBytes(row: MemRow): Buffer {
  return row.slab.subarray(row.start, row.end);
}

const PARTITION_OVERHEAD_BYTES = 160;
const ROW_OVERHEAD_BYTES = 96;
const EMPTY = Buffer.alloc(0);

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
export function lowerBound(rows: ReadonlyArray<{ readonly clustering: Buffer }>, clustering: Buffer): number {
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
  /** Lookup by storage key (O(1)) … */
  private readonly byKey = new Map<string, MemPartition>();
  /** … and their keys in storage-key order, for flushes and scans. */
  private readonly order = new SortedKeyIndex();
  private readonly slabs = new SlabAllocator();
  private readonly scratch = new ByteWriter(4096);
  private sealedFlag = false;
  bytes = 0;
  rowCount = 0;
  firstPosition: LogPosition | null = null;
  lastPosition: LogPosition | null = null;
  readonly timestamps = { min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY };

  get partitionCount(): number {
    return this.byKey.size;
  }

  get isEmpty(): boolean {
    return this.byKey.size === 0;
  }

  /**
   * Bytes of keys and values copied into the memtable's slabs, superseded versions included:
   * with overwrites this grows past `bytes`, and it is what the memtable really holds.
   */
  get slabBytes(): number {
    return this.slabs.usedBytes;
  }

  seal(): void {
    this.sealedFlag = true;
  }

  /** Merges `update` in. `position` is where the update sits in the commit log. */
  apply(update: PartitionUpdate, position: LogPosition | null): void {
    assert(!this.sealedFlag, 'a sealed memtable is immutable');
    const pkey = partitionStorageKey(update.token, update.key);
    const skey = pkey.toString('latin1');
    let partition = this.byKey.get(skey);
    if (partition === undefined) {
      partition = { pkey: this.slabs.copy(pkey), header: EMPTY_HEADER, rows: [] };
      this.byKey.set(skey, partition);
      this.order.insert(skey);
      this.bytes += PARTITION_OVERHEAD_BYTES + pkey.length;
    }
    if (update.deletion !== undefined || update.rangeTombstones.length > 0) {
      this.bytes -= headerBytes(partition.header);
      const rangeTombstones = update.rangeTombstones.map((rt) => this.ownRangeTombstone(rt));
      partition.header = mergeHeaders(partition.header, { deletion: update.deletion, rangeTombstones });
      this.bytes += headerBytes(partition.header);
      headerTimestamps(update, this.timestamps);
    }
    for (const incoming of update.rows) this.applyRow(partition, sortedCells(incoming));
    if (position !== null) {
      if (this.firstPosition === null) this.firstPosition = position;
      this.lastPosition = position;
    }
  }

  /** Encodes `row` into the slabs; returns where it lies. */
  private encode(row: Row): { slab: Buffer; start: number; end: number } {
    this.scratch.reset();
    writeRow(this.scratch, row);
    return this.slabs.place(this.scratch.view());
  }

  private applyRow(partition: MemPartition, row: Row): void {
    rowTimestamps(row, this.timestamps);
    const rows = partition.rows;
    const i = lowerBound(rows, row.clustering);
    const existing = rows[i];
    if (existing !== undefined && existing.clustering.equals(row.clustering)) {
      const merged = this.encode(mergeRows(decodeMemRow(existing), row));
      this.bytes += merged.end - merged.start - (existing.end - existing.start);
      existing.slab = merged.slab;
      existing.start = merged.start;
      existing.end = merged.end;
    } else {
      const clustering = row.clustering.length === 0 ? EMPTY : this.slabs.copy(row.clustering);
      const placed = this.encode(row);
      const memRow: MemRow = { clustering, slab: placed.slab, start: placed.start, end: placed.end };
      // Appending (a new partition, or rows written in clustering order) is the common case.
      if (i === rows.length) rows.push(memRow);
      else rows.splice(i, 0, memRow);
      this.bytes += ROW_OVERHEAD_BYTES + clustering.length + placed.end - placed.start;
      this.rowCount++;
    }
  }

  private ownRangeTombstone(rt: RangeTombstone): RangeTombstone {
    const own = (b: RangeTombstone['start']): RangeTombstone['start'] => (b === null ? null : { prefix: this.slabs.copy(b.prefix), inclusive: b.inclusive });
    return { start: own(rt.start), end: own(rt.end), deletion: rt.deletion };
  }

  get(pkey: Buffer): MemPartition | undefined {
    return this.byKey.get(pkey.toString('latin1'));
  }

  /** Partitions in storage-key order, starting at `fromPkey` (inclusive) when given. */
  *partitionsFrom(fromPkey: Buffer | null): IterableIterator<MemPartition> {
    const start = fromPkey === null ? undefined : fromPkey.toString('latin1');
    for (const key of this.order.keysFrom(start)) yield this.byKey.get(key)!;
  }
}
