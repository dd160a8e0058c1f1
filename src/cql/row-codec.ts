/**
 * How CQL rows map onto the storage model, both ways (Cassandra's storage layout, simplified).
 *
 * - Partition key: the Cassandra serialization of its value (composite keys per
 *   `serializePartitionKey`), hashed by Murmur3 for the token.
 * - Clustering: the byte-comparable encoding of the clustering values (DESC columns inverted),
 *   so storage byte order is the table's clustering order.
 * - A simple column is one cell; its value is the Cassandra serialization.
 * - A non-frozen collection is one cell per element: a set element's path is the element's
 *   comparable encoding (empty value); a map entry's path is the key's encoding; a list
 *   element's path is a 12-byte position key (8 bytes of order from the node's list-position
 *   clock, 4 random bytes so two writers appending in the same microsecond do not collide). Replacing a whole collection writes a
 *   collection tombstone at ts-1 first, as Cassandra does, so the new elements (at ts) survive it.
 * - INSERT writes a row marker (liveness), UPDATE does not: a row updated and then with all its
 *   cells deleted disappears, an inserted one stays with nulls.
 */
import type { Clock } from '../runtime/clock.js';
import type { CqlType, CqlValue } from '../schema/cql-type.js';
import { decodeCellPath, decodeClustering, encodeCellPath, encodeClustering } from '../schema/comparable.js';
import type { ColumnMetadata, TableLayout, TableMetadata } from '../schema/schema.js';
import { deserializeValue, serializeValue } from '../schema/values.js';
import { murmur3Token } from '../ring/murmur3.js';
import { serializePartitionKey } from '../ring/partition-key.js';
import { compareCellKey, isCellLive, isRowLive, maxDeletion, reconcileCells, reconcileLiveness } from '../storage/data/reconcile.js';
import type { Cell, ComplexDeletion, DeletionTime, Liveness, PartitionUpdate, RangeTombstone, Row } from '../storage/data/types.js';

const EMPTY = Buffer.alloc(0);

export interface PartitionKey {
  readonly token: bigint;
  readonly key: Buffer;
  readonly values: readonly CqlValue[];
}

export function partitionKeyOf(layout: TableLayout, values: readonly CqlValue[]): PartitionKey {
  const parts = layout.partitionKey.map((c, i) => serializeValue(c.type, values[i]!));
  const key = parts.length === 1 ? parts[0]! : serializePartitionKey(parts);
  return { token: murmur3Token(key), key, values };
}

export function decodePartitionKey(layout: TableLayout, key: Buffer): CqlValue[] {
  if (layout.partitionKey.length === 1) return [deserializeValue(layout.partitionKey[0]!.type, key)];
  const out: CqlValue[] = [];
  let off = 0;
  for (const c of layout.partitionKey) {
    const len = key.readUInt16BE(off);
    out.push(deserializeValue(c.type, key.subarray(off + 2, off + 2 + len)));
    off += len + 3;
  }
  return out;
}

export function clusteringSpecs(layout: TableLayout): { type: CqlType; descending: boolean }[] {
  return layout.clustering.map((c) => ({ type: c.type, descending: c.descending }));
}

export function encodeClusteringOf(layout: TableLayout, values: readonly CqlValue[]): Buffer {
  if (layout.clustering.length === 0) return EMPTY;
  return encodeClustering(clusteringSpecs(layout), values);
}

/** Write parameters shared by every cell of one statement. */
export interface WriteStamp {
  readonly ts: number;
  /** Seconds; 0 = no expiry. */
  readonly ttl: number;
  readonly nowSec: number;
}

/** Accumulates one row's changes. */
export class RowUpdate {
  liveness: Liveness | undefined;
  deletion: DeletionTime | undefined;
  readonly cells: Cell[] = [];
  readonly complexDeletions: ComplexDeletion[] = [];

  constructor(readonly clustering: Buffer) {}

  markLive(stamp: WriteStamp): void {
    this.liveness = reconcileLiveness(this.liveness, { ts: stamp.ts, ttl: stamp.ttl, expiresAt: stamp.ttl > 0 ? stamp.nowSec + stamp.ttl : 0 });
  }

  setSimple(column: ColumnMetadata, value: CqlValue, stamp: WriteStamp): void {
    this.cells.push(value === null ? tombstoneCell(column.name, undefined, stamp) : liveCell(column.name, undefined, serializeValue(column.type, value), stamp));
  }

  /** Replaces the whole collection (null clears it). */
  setCollection(column: ColumnMetadata, value: CqlValue, stamp: WriteStamp, listPaths: ListPathSource): void {
    this.complexDeletions.push({ column: column.name, deletion: { ts: stamp.ts - 1, ldt: stamp.nowSec } });
    if (value !== null) this.addElements(column, value, stamp, listPaths, false);
  }

  /** Adds set elements / map entries, or appends (prepends) list elements. */
  addElements(column: ColumnMetadata, value: CqlValue, stamp: WriteStamp, listPaths: ListPathSource, prepend: boolean): void {
    const t = column.type;
    if (t.kind === 'set') for (const e of value as CqlValue[]) this.cells.push(liveCell(column.name, encodeCellPath(t.element, e), EMPTY, stamp));
    else if (t.kind === 'map') for (const [k, v] of value as Array<[CqlValue, CqlValue]>) this.setMapEntry(column, k, v, stamp);
    else if (t.kind === 'list') {
      const elements = value as CqlValue[];
      const paths = listPaths.next(elements.length, prepend);
      elements.forEach((e, i) => this.cells.push(liveCell(column.name, paths[i]!, serializeValue(t.element, e), stamp)));
    }
  }

  setMapEntry(column: ColumnMetadata, key: CqlValue, value: CqlValue, stamp: WriteStamp): void {
    const t = column.type as Extract<CqlType, { kind: 'map' }>;
    const path = encodeCellPath(t.key, key);
    this.cells.push(value === null ? tombstoneCell(column.name, path, stamp) : liveCell(column.name, path, serializeValue(t.value, value), stamp));
  }

  /** Deletes set elements or map keys. */
  removeElements(column: ColumnMetadata, keys: readonly CqlValue[], stamp: WriteStamp): void {
    const t = column.type;
    const keyType = t.kind === 'map' ? t.key : t.kind === 'set' ? t.element : null;
    if (keyType === null) return;
    for (const k of keys) this.cells.push(tombstoneCell(column.name, encodeCellPath(keyType, k), stamp));
  }

  /** Sets or deletes list elements found by a read (index updates, removal by value). */
  setListElement(column: ColumnMetadata, path: Buffer, value: CqlValue, stamp: WriteStamp): void {
    const t = column.type as Extract<CqlType, { kind: 'list' }>;
    this.cells.push(value === null ? tombstoneCell(column.name, path, stamp) : liveCell(column.name, path, serializeValue(t.element, value), stamp));
  }

  deleteColumn(column: ColumnMetadata, stamp: WriteStamp): void {
    if (column.type.kind === 'native') this.cells.push(tombstoneCell(column.name, undefined, stamp));
    else this.complexDeletions.push({ column: column.name, deletion: { ts: stamp.ts, ldt: stamp.nowSec } });
  }

  deleteRow(stamp: WriteStamp): void {
    this.deletion = maxDeletion(this.deletion, { ts: stamp.ts, ldt: stamp.nowSec });
  }

  /**
   * The row as storage takes it: one cell per (column, path) and one deletion per collection.
   * Statements of a batch (or one statement's assignments) may write the same cell twice, at
   * the same timestamp: the storage merge rules pick the winner, as they would across writes.
   */
  toRow(): Row {
    const cells = this.cells.sort(compareCellKey);
    const merged: Cell[] = [];
    for (const cell of cells) {
      const last = merged.at(-1);
      if (last !== undefined && compareCellKey(last, cell) === 0) merged[merged.length - 1] = reconcileCells(last, cell);
      else merged.push(cell);
    }
    return {
      clustering: this.clustering,
      liveness: this.liveness,
      deletion: this.deletion,
      complexDeletions: this.complexDeletions.length === 0 ? undefined : mergedComplexDeletions(this.complexDeletions),
      cells: merged,
    };
  }
}

/** One deletion per collection column (the strongest), sorted by column. */
function mergedComplexDeletions(deletions: readonly ComplexDeletion[]): ComplexDeletion[] {
  const byColumn = new Map<string, DeletionTime>();
  for (const d of deletions) byColumn.set(d.column, maxDeletion(byColumn.get(d.column), d.deletion)!);
  return [...byColumn.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([column, deletion]) => ({ column, deletion }));
}

function liveCell(column: string, path: Buffer | undefined, value: Buffer, stamp: WriteStamp): Cell {
  return { column, path, value, ts: stamp.ts, ttl: stamp.ttl, ldt: stamp.ttl > 0 ? stamp.nowSec + stamp.ttl : 0 };
}

function tombstoneCell(column: string, path: Buffer | undefined, stamp: WriteStamp): Cell {
  return { column, path, value: null, ts: stamp.ts, ttl: 0, ldt: stamp.nowSec };
}

/** Positions of new list elements: increasing with time for appends, decreasing for prepends. */
export interface ListPathSource {
  next(count: number, prepend: boolean): Buffer[];
}

/**
 * The node's list-position counter, like the time UUIDs Cassandra uses as list cell paths: it
 * follows the clock (µs × 1000) but never repeats or goes back, so elements appended by later
 * statements sort after earlier ones whatever write timestamps the statements carry (USING
 * TIMESTAMP may repeat or go backwards; list order is the order of execution on this node).
 */
export class ListPositionClock {
  private last = 0n;

  constructor(private readonly clock: Clock) {}

  /** Reserves `count` consecutive positions and returns the first. */
  reserve(count: number): bigint {
    const base = BigInt(this.clock.nowMicros()) * 1000n;
    const first = base > this.last ? base : this.last + 1n;
    this.last = first + BigInt(Math.max(count, 1)) - 1n;
    return first;
  }
}

/**
 * Cell paths for the list elements of one statement: 8 bytes of signed position (sign bit
 * flipped, so byte order is numeric order), then 4 random bytes so that two nodes appending
 * at the same instant do not write the same path.
 */
export class ListPaths implements ListPathSource {
  constructor(
    private readonly positions: ListPositionClock,
    private readonly randomBytes: (n: number) => Buffer,
  ) {}

  next(count: number, prepend: boolean): Buffer[] {
    const base = this.positions.reserve(count);
    const salt = this.randomBytes(4);
    const out: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      // Prepends mirror appends below zero: a later prepend gets more negative positions.
      const order = prepend ? -(base + BigInt(count)) + BigInt(i) : base + BigInt(i);
      const b = Buffer.alloc(12);
      b.writeBigUInt64BE(BigInt.asUintN(64, order) ^ (1n << 63n), 0);
      salt.copy(b, 8);
      out.push(b);
    }
    return out;
  }
}

/** Accumulates one partition's changes. */
export class PartitionUpdateBuilder {
  private readonly rows = new Map<string, RowUpdate>();
  deletion: DeletionTime | undefined;
  readonly rangeTombstones: RangeTombstone[] = [];

  constructor(readonly pk: PartitionKey) {}

  deletePartition(deletion: DeletionTime): void {
    this.deletion = maxDeletion(this.deletion, deletion);
  }

  row(clustering: Buffer): RowUpdate {
    const k = clustering.toString('latin1');
    let r = this.rows.get(k);
    if (r === undefined) {
      r = new RowUpdate(clustering);
      this.rows.set(k, r);
    }
    return r;
  }

  build(): PartitionUpdate {
    const rows = [...this.rows.values()].map((r) => r.toRow()).sort((a, b) => Buffer.compare(a.clustering, b.clustering));
    return { token: this.pk.token, key: this.pk.key, deletion: this.deletion, rangeTombstones: this.rangeTombstones, rows };
  }
}

// ---- Reading ---------------------------------------------------------------------------------

/** One live CQL row as read: every column's value, write time and remaining TTL. */
export interface DecodedRow {
  readonly values: Map<string, CqlValue>;
  readonly writetimes: Map<string, number>;
  readonly ttls: Map<string, number>;
  /** List element paths by column, for index updates and removals by value. */
  readonly listPaths: Map<string, Buffer[]>;
}

/** Decodes a storage row of `table`; null when it is not live (deleted or expired). */
export function decodeRow(table: TableMetadata, layout: TableLayout, pkValues: readonly CqlValue[], row: Row, nowSec: number): DecodedRow | null {
  if (!isRowLive(row, nowSec)) return null;
  const values = new Map<string, CqlValue>();
  const writetimes = new Map<string, number>();
  const ttls = new Map<string, number>();
  const listPaths = new Map<string, Buffer[]>();
  layout.partitionKey.forEach((c, i) => values.set(c.name, pkValues[i] ?? null));
  if (layout.clustering.length > 0) {
    const ck = decodeClustering(clusteringSpecs(layout), row.clustering);
    layout.clustering.forEach((c, i) => values.set(c.name, ck[i] ?? null));
  }
  let i = 0;
  const cells = row.cells;
  let anyCell = false;
  while (i < cells.length) {
    const name = cells[i]!.column;
    let j = i;
    while (j < cells.length && cells[j]!.column === name) j++;
    const column = layout.column(name);
    const dropped = table.droppedColumns[name];
    if (column !== undefined && !layout.isPrimaryKey(column)) {
      const live = cells.slice(i, j).filter((c) => isCellLive(c, nowSec) && (dropped === undefined || c.ts > dropped.droppedAtMicros));
      if (live.length > 0) {
        anyCell = true;
        setColumn(column, live, values, listPaths, nowSec);
        const first = live[0]!;
        if (column.type.kind === 'native') {
          writetimes.set(name, first.ts);
          if (first.ttl > 0) ttls.set(name, Math.max(0, first.ldt - nowSec));
        }
      }
    }
    i = j;
  }
  // A row kept alive only by cells of dropped columns is gone.
  if (!anyCell && (row.liveness === undefined || !isRowLiveByMarker(row, nowSec))) return null;
  return { values, writetimes, ttls, listPaths };
}

function isRowLiveByMarker(row: Row, nowSec: number): boolean {
  const l = row.liveness;
  return l !== undefined && (l.ttl === 0 || l.expiresAt > nowSec);
}

function setColumn(column: ColumnMetadata, live: Cell[], values: Map<string, CqlValue>, listPaths: Map<string, Buffer[]>, _nowSec: number): void {
  const t = column.type;
  switch (t.kind) {
    case 'native':
      values.set(column.name, deserializeValue(t, live[0]!.value!));
      return;
    case 'set':
      values.set(column.name, live.map((c) => decodeCellPath(t.element, c.path!)));
      return;
    case 'map':
      values.set(column.name, live.map((c): [CqlValue, CqlValue] => [decodeCellPath(t.key, c.path!), deserializeValue(t.value, c.value!)]));
      return;
    case 'list':
      values.set(column.name, live.map((c) => deserializeValue(t.element, c.value!)));
      listPaths.set(column.name, live.map((c) => c.path!));
  }
}
