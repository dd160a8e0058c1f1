/**
 * Durable schema: keyspace and table definitions kept as rows of the `system_schema` keyspace
 * on the node's own storage engine, so they share its commit log, flushes and crash recovery.
 *
 * Layout (format 1): `system_schema.keyspaces` has one partition per keyspace (key: the name in
 * UTF-8, no clustering) with a `definition` cell holding the keyspace as JSON;
 * `system_schema.tables` has one partition per keyspace and one row per table (clustering: the
 * table name in UTF-8) with a `definition` cell holding the table as JSON. Dropping writes a
 * tombstone at the DDL's timestamp, so schema merges like any other data: last write wins.
 * That is also how a node will adopt a peer's schema later (#4): apply its rows and reload.
 *
 * The schema version is a hash of every live definition (user keyspaces only), printed as a
 * UUID the way Cassandra prints its schema version: two nodes with the same definitions agree.
 */
import { createHash } from 'node:crypto';
import { isCellLive, isRowLive } from '../storage/data/reconcile.js';
import type { Cell, Partition, PartitionUpdate } from '../storage/data/types.js';
import type { StorageEngine } from '../storage/engine/storage-engine.js';
import type { TableStore } from '../storage/engine/table-store.js';
import type { Clock } from '../runtime/clock.js';
import { nowSeconds } from '../runtime/clock.js';
import { murmur3Token } from '../ring/murmur3.js';
import { assert } from '../util/assert.js';
import { orderColumns, Schema, type ColumnKind, type ColumnMetadata, type KeyspaceMetadata, type Replication, type TableMetadata, type TableParams } from './schema.js';
import { formatType, parseTypeString } from './type-names.js';

const FORMAT_VERSION = 1;
const DEFINITION = 'definition';
const EMPTY = Buffer.alloc(0);
/** Bounds the number of schema rows read at start-up (SPEC does not cap tables; this does). */
const MAX_SCHEMA_ROWS = 100_000;

export const SCHEMA_KEYSPACES_TABLE = { id: '00000000-0000-4000-8000-00000000000a', keyspace: 'system_schema', name: 'keyspaces', gcGraceSeconds: 7 * 24 * 3600 };
export const SCHEMA_TABLES_TABLE = { id: '00000000-0000-4000-8000-00000000000b', keyspace: 'system_schema', name: 'tables', gcGraceSeconds: 7 * 24 * 3600 };

interface KeyspaceJson {
  format: number;
  name: string;
  replication: Replication;
  durable_writes: boolean;
}

interface TableJson {
  format: number;
  keyspace: string;
  name: string;
  id: string;
  columns: { name: string; type: string; kind: ColumnKind; position: number; descending: boolean }[];
  params: TableParams;
  dropped: Record<string, { type: string; dropped_at: number }>;
}

function keyspaceJson(ks: KeyspaceMetadata): KeyspaceJson {
  return { format: FORMAT_VERSION, name: ks.name, replication: ks.replication, durable_writes: ks.durableWrites };
}

function tableJson(t: TableMetadata): TableJson {
  return {
    format: FORMAT_VERSION,
    keyspace: t.keyspace,
    name: t.name,
    id: t.id,
    columns: t.columns.map((c) => ({ name: c.name, type: formatType(c.type), kind: c.kind, position: c.position, descending: c.descending })),
    params: t.params,
    dropped: Object.fromEntries(Object.entries(t.droppedColumns).map(([n, d]) => [n, { type: formatType(d.type), dropped_at: d.droppedAtMicros }])),
  };
}

function tableFromJson(j: TableJson): TableMetadata {
  assert(j.format === FORMAT_VERSION, `unknown table definition format ${j.format}`);
  const columns: ColumnMetadata[] = j.columns.map((c) => ({ name: c.name, type: parseTypeString(c.type), kind: c.kind, position: c.position, descending: c.descending }));
  return {
    keyspace: j.keyspace,
    name: j.name,
    id: j.id,
    columns: orderColumns(columns),
    params: j.params,
    droppedColumns: Object.fromEntries(Object.entries(j.dropped).map(([n, d]) => [n, { type: parseTypeString(d.type), droppedAtMicros: d.dropped_at }])),
  };
}

export class SchemaStore {
  private constructor(
    private readonly keyspacesTable: TableStore,
    private readonly tablesTable: TableStore,
    private readonly clock: Clock,
  ) {}

  /** Opens the system_schema tables. Replay the commit log for them before `load()`. */
  static open(engine: StorageEngine, clock: Clock): SchemaStore {
    const keyspaces = engine.openTable({ ...SCHEMA_KEYSPACES_TABLE, compaction: { enabled: true } });
    const tables = engine.openTable({ ...SCHEMA_TABLES_TABLE, compaction: { enabled: true } });
    return new SchemaStore(keyspaces, tables, clock);
  }

  static readonly tableIds: ReadonlySet<string> = new Set([SCHEMA_KEYSPACES_TABLE.id, SCHEMA_TABLES_TABLE.id]);

  /** Reads every live definition and builds the schema snapshot. */
  load(): Schema {
    const now = nowSeconds(this.clock);
    const keyspaces = new Map<string, { json: KeyspaceJson; tables: Map<string, TableMetadata> }>();
    for (const p of this.scan(this.keyspacesTable)) {
      const def = liveDefinition(p.rows[0]?.cells ?? [], now);
      if (def === null || !isRowLive(p.rows[0]!, now)) continue;
      const json = JSON.parse(def.toString('utf8')) as KeyspaceJson;
      assert(json.format === FORMAT_VERSION, `unknown keyspace definition format ${json.format}`);
      keyspaces.set(json.name, { json, tables: new Map() });
    }
    for (const p of this.scan(this.tablesTable)) {
      for (const row of p.rows) {
        const def = liveDefinition(row.cells, now);
        if (def === null || !isRowLive(row, now)) continue;
        const table = tableFromJson(JSON.parse(def.toString('utf8')) as TableJson);
        keyspaces.get(table.keyspace)?.tables.set(table.name, table);
      }
    }
    const metadata = new Map<string, KeyspaceMetadata>();
    for (const [name, { json, tables }] of keyspaces) {
      metadata.set(name, { name, replication: json.replication, durableWrites: json.durable_writes, tables });
    }
    return new Schema(metadata, schemaVersion(metadata));
  }

  private *scan(table: TableStore): Generator<Partition> {
    let resume = null;
    let rows = 0;
    do {
      const page = table.scanRange({ startToken: null, endToken: null, resume, pageRows: 1000 });
      for (const p of page.partitions) {
        rows += p.rows.length;
        assert(rows <= MAX_SCHEMA_ROWS, `more than ${MAX_SCHEMA_ROWS} schema rows`);
        yield p;
      }
      resume = page.next;
    } while (resume !== null);
  }

  async saveKeyspace(ks: KeyspaceMetadata, tsMicros: number): Promise<void> {
    await this.keyspacesTable.apply(update(ks.name, EMPTY, definitionCell(keyspaceJson(ks), tsMicros), tsMicros));
  }

  /** Drops the keyspace's definition and every table definition in it. */
  async dropKeyspace(name: string, tsMicros: number): Promise<void> {
    const deletion = { ts: tsMicros, ldt: nowSeconds(this.clock) };
    const key = Buffer.from(name, 'utf8');
    const token = murmur3Token(key);
    await this.tablesTable.apply({ token, key, deletion, rangeTombstones: [], rows: [] });
    await this.keyspacesTable.apply({ token, key, deletion, rangeTombstones: [], rows: [] });
  }

  async saveTable(t: TableMetadata, tsMicros: number): Promise<void> {
    await this.tablesTable.apply(update(t.keyspace, Buffer.from(t.name, 'utf8'), definitionCell(tableJson(t), tsMicros), tsMicros));
  }

  async dropTable(keyspace: string, name: string, tsMicros: number): Promise<void> {
    const key = Buffer.from(keyspace, 'utf8');
    const row = { clustering: Buffer.from(name, 'utf8'), deletion: { ts: tsMicros, ldt: nowSeconds(this.clock) }, cells: [] };
    await this.tablesTable.apply({ token: murmur3Token(key), key, rangeTombstones: [], rows: [row] });
  }
}

function definitionCell(json: object, ts: number): Cell {
  return { column: DEFINITION, value: Buffer.from(JSON.stringify(json), 'utf8'), ts, ttl: 0, ldt: 0 };
}

function update(partition: string, clustering: Buffer, cell: Cell, ts: number): PartitionUpdate {
  const key = Buffer.from(partition, 'utf8');
  return { token: murmur3Token(key), key, rangeTombstones: [], rows: [{ clustering, liveness: { ts, ttl: 0, expiresAt: 0 }, cells: [cell] }] };
}

function liveDefinition(cells: readonly Cell[], nowSec: number): Buffer | null {
  const c = cells.find((x) => x.column === DEFINITION);
  return c !== undefined && c.value !== null && isCellLive(c, nowSec) ? c.value : null;
}

/** A stable hash of the definitions, formatted as a UUID. */
export function schemaVersion(keyspaces: ReadonlyMap<string, KeyspaceMetadata>): string {
  const h = createHash('sha256');
  for (const name of [...keyspaces.keys()].sort()) {
    const ks = keyspaces.get(name)!;
    h.update(JSON.stringify(keyspaceJson(ks)));
    for (const t of [...ks.tables.keys()].sort()) h.update(JSON.stringify(tableJson(ks.tables.get(t)!)));
  }
  const hex = h.digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-3${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
