/**
 * The storage data model: what a replica stores for one table.
 *
 * A table holds partitions ordered by (token, partition key bytes); a partition holds rows
 * ordered by their clustering bytes. The storage engine never interprets keys or values:
 * the CQL layer encodes clustering keys so that plain byte order is the table's clustering
 * order (descending columns included), and partition keys as Cassandra serializes them.
 *
 * Every fact carries a write timestamp in microseconds (`ts`). Deletions are data too
 * (tombstones), so that a replica that missed a delete learns of it on merge; they are
 * purged only by compaction after `gc_grace_seconds`.
 *
 * Times: `ts` µs since the epoch (a safe integer); `ldt` ("local deletion time") and
 * `expiresAt` are whole seconds since the epoch.
 */

/** A deletion at `ts`: shadows everything written at or before `ts`. */
export interface DeletionTime {
  readonly ts: number;
  /** When the delete happened, in seconds: the start of its gc_grace period. */
  readonly ldt: number;
}

/**
 * The row marker written by INSERT: the row exists (with all its columns null) while this is
 * live. UPDATE does not write it, as in Cassandra.
 */
export interface Liveness {
  readonly ts: number;
  /** Seconds; 0 when the marker never expires. */
  readonly ttl: number;
  /** Seconds since the epoch when it expires; 0 when `ttl` is 0. */
  readonly expiresAt: number;
}

/** One value of one column (or one element of a collection column, with `path`). */
export interface Cell {
  readonly column: string;
  /** Element key for non-frozen collection cells (byte-comparable); absent for simple columns. */
  readonly path?: Buffer | undefined;
  /** The value bytes; `null` for a cell tombstone. */
  readonly value: Buffer | null;
  readonly ts: number;
  /** Seconds; 0 when the cell does not expire. */
  readonly ttl: number;
  /**
   * Seconds since the epoch: for a tombstone, when it was deleted; for an expiring cell, when
   * it expires; otherwise 0.
   */
  readonly ldt: number;
}

/** One row: its marker, row tombstone, collection tombstones, cells and version vector. */
export interface Row {
  /** Byte-comparable clustering key; empty for tables without clustering columns. */
  readonly clustering: Buffer;
  readonly liveness?: Liveness | undefined;
  readonly deletion?: DeletionTime | undefined;
  /** Whole-collection deletions (e.g. `SET l = [...]` first deletes `l`), by column. */
  readonly complexDeletions?: ReadonlyArray<ComplexDeletion> | undefined;
  /** Sorted by (column, path); at most one cell per (column, path). */
  readonly cells: ReadonlyArray<Cell>;
  /** Opaque version-vector blob (see src/versioning/row-version.ts); merged by join. */
  readonly version?: Buffer | undefined;
}

export interface ComplexDeletion {
  readonly column: string;
  readonly deletion: DeletionTime;
}

/**
 * One side of a clustering range. `prefix` is a byte-comparable clustering prefix: an
 * inclusive bound includes every clustering that starts with it, an exclusive one excludes them.
 */
export interface ClusteringBound {
  readonly prefix: Buffer;
  readonly inclusive: boolean;
}

/** Deletes every row whose clustering lies between `start` and `end` (null: unbounded). */
export interface RangeTombstone {
  readonly start: ClusteringBound | null;
  readonly end: ClusteringBound | null;
  readonly deletion: DeletionTime;
}

/** Partition-level facts, stored ahead of the partition's rows. */
export interface PartitionHeader {
  readonly deletion?: DeletionTime | undefined;
  readonly rangeTombstones: ReadonlyArray<RangeTombstone>;
}

/**
 * Everything known about one partition from some set of sources, unfiltered: tombstones are
 * kept (a coordinator needs them to merge replicas), data they shadow is not.
 * Rows are in clustering order (or reversed, when a read asked for it).
 */
export interface Partition extends PartitionHeader {
  readonly token: bigint;
  readonly key: Buffer;
  readonly rows: ReadonlyArray<Row>;
}

/** A write to one partition of one table: the unit of the commit log and of replication. */
export interface PartitionUpdate extends Partition {}

export const EMPTY_HEADER: PartitionHeader = Object.freeze({ rangeTombstones: Object.freeze([]) as ReadonlyArray<RangeTombstone> });

export function headerIsEmpty(h: PartitionHeader): boolean {
  return h.deletion === undefined && h.rangeTombstones.length === 0;
}
