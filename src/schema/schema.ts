/**
 * Schema metadata: keyspaces, tables, columns. Immutable snapshots.
 *
 * A `Schema` is a value: DDL builds a new one (`withKeyspace`, `withTable`, …) and the node
 * swaps it in, so a request that started under one schema finishes under it. The planner caches
 * plans per schema version for the same reason.
 *
 * Invariants: a table's columns are its partition key columns (in key order), then clustering
 * columns (in clustering order), then static and regular columns sorted by name, as Cassandra
 * lists them; every name is unique within a table; a table has at least one partition key
 * column. Keyspace and table names match `[A-Za-z][A-Za-z0-9_]{0,47}` (SPEC 4).
 */
import type { CqlType } from './cql-type.js';

export type ColumnKind = 'partition_key' | 'clustering' | 'static' | 'regular';

export interface ColumnMetadata {
  readonly name: string;
  readonly type: CqlType;
  readonly kind: ColumnKind;
  /** Index within the partition key or the clustering key; -1 for other columns. */
  readonly position: number;
  /** Clustering columns only: stored in descending order. */
  readonly descending: boolean;
}

export type Replication =
  | { readonly class: 'SimpleStrategy'; readonly replicationFactor: number }
  | { readonly class: 'NetworkTopologyStrategy'; readonly datacenters: Readonly<Record<string, number>> };

export interface CompactionParams {
  readonly class: 'SizeTieredCompactionStrategy';
  readonly enabled: boolean;
  readonly minThreshold: number;
  readonly maxThreshold: number;
}

export interface TableParams {
  readonly comment: string;
  readonly defaultTimeToLive: number;
  readonly gcGraceSeconds: number;
  readonly conflictResolution: 'lww' | 'siblings';
  readonly readRepair: 'BLOCKING' | 'NONE';
  /** 'NONE', 'Nms' or 'Np' (percentile), normalised as Cassandra prints it. */
  readonly speculativeRetry: string;
  readonly compaction: CompactionParams;
}

export interface DroppedColumn {
  readonly type: CqlType;
  /** Cells of this name written at or before this time (µs) are dead, even if the column comes back. */
  readonly droppedAtMicros: number;
}

export interface TableMetadata {
  readonly keyspace: string;
  readonly name: string;
  /** A UUID: the storage engine's table id. A table dropped and created again gets a new one. */
  readonly id: string;
  readonly columns: readonly ColumnMetadata[];
  readonly params: TableParams;
  readonly droppedColumns: Readonly<Record<string, DroppedColumn>>;
}

export interface KeyspaceMetadata {
  readonly name: string;
  readonly replication: Replication;
  readonly durableWrites: boolean;
  readonly tables: ReadonlyMap<string, TableMetadata>;
}

export const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,47}$/;

/** Keyspaces that hold the node's own state; never created, altered or dropped by users. */
export const SYSTEM_KEYSPACES: ReadonlySet<string> = new Set(['system', 'system_schema']);

/** A table's columns grouped by role, computed once per table. */
export class TableLayout {
  readonly partitionKey: readonly ColumnMetadata[];
  readonly clustering: readonly ColumnMetadata[];
  /** Static and regular columns, by name. */
  readonly regular: readonly ColumnMetadata[];
  readonly hasStatic: boolean;
  private readonly byName: ReadonlyMap<string, ColumnMetadata>;

  constructor(readonly table: TableMetadata) {
    this.partitionKey = table.columns.filter((c) => c.kind === 'partition_key');
    this.clustering = table.columns.filter((c) => c.kind === 'clustering');
    this.regular = table.columns.filter((c) => c.kind === 'regular' || c.kind === 'static');
    this.hasStatic = table.columns.some((c) => c.kind === 'static');
    this.byName = new Map(table.columns.map((c) => [c.name, c]));
  }

  column(name: string): ColumnMetadata | undefined {
    return this.byName.get(name);
  }

  isPrimaryKey(c: ColumnMetadata): boolean {
    return c.kind === 'partition_key' || c.kind === 'clustering';
  }
}

/** Sorts columns into the canonical order of the header. */
export function orderColumns(columns: readonly ColumnMetadata[]): ColumnMetadata[] {
  const rank = { partition_key: 0, clustering: 1, static: 2, regular: 2 } as const;
  return [...columns].sort((a, b) => rank[a.kind] - rank[b.kind] || (rank[a.kind] < 2 ? a.position - b.position : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export class Schema {
  private readonly layouts = new Map<string, TableLayout>();
  private tablesById: Map<string, TableMetadata> | null = null;

  constructor(
    readonly keyspaces: ReadonlyMap<string, KeyspaceMetadata>,
    /** A hash of the definitions (see SchemaStore); equal on every node that agrees. */
    readonly version: string,
  ) {}

  static empty(version: string): Schema {
    return new Schema(new Map(), version);
  }

  keyspace(name: string): KeyspaceMetadata | undefined {
    return this.keyspaces.get(name);
  }

  table(keyspace: string, name: string): TableMetadata | undefined {
    return this.keyspaces.get(keyspace)?.tables.get(name);
  }

  /** A table by its id (internode messages name tables by id); indexed on first use. */
  tableById(id: string): TableMetadata | undefined {
    if (this.tablesById === null) this.tablesById = new Map([...this.tables()].map((t) => [t.id, t]));
    return this.tablesById.get(id);
  }

  /** The table's column groups, cached per schema snapshot. */
  layout(table: TableMetadata): TableLayout {
    const key = table.id;
    let layout = this.layouts.get(key);
    if (layout === undefined || layout.table !== table) {
      layout = new TableLayout(table);
      this.layouts.set(key, layout);
    }
    return layout;
  }

  *tables(): Iterable<TableMetadata> {
    for (const ks of this.keyspaces.values()) yield* ks.tables.values();
  }
}
