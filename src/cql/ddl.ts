/**
 * Schema statements: CREATE/ALTER/DROP KEYSPACE and TABLE, TRUNCATE, USE.
 *
 * Each builds new metadata from the statement, checks it with Cassandra's rules and messages,
 * and hands the write to the SchemaManager, which serializes schema changes. Results follow
 * SPEC 3.1 (`schema_change` with `change`, `target`, `keyspace`, `table`).
 */
import type { AlterKeyspace, AlterTable, ColumnDefinition, CreateKeyspace, CreateTable, DropKeyspace, DropTable, Statement, Truncate, Use } from './ast.js';
import { AlreadyExists, ConfigurationError, InvalidRequest, Unauthorized } from '../errors.js';
import type { CqlType } from '../schema/cql-type.js';
import { NAME_PATTERN, orderColumns, SYSTEM_KEYSPACES, type ColumnMetadata, type KeyspaceMetadata, type TableMetadata } from '../schema/schema.js';
import type { SchemaManager } from '../schema/schema-manager.js';
import { DEFAULT_TABLE_PARAMS, parseKeyspaceOptions, parseTableParams } from '../schema/schema-options.js';
import { makeRandomUuid } from '../schema/timeuuid.js';
import { formatType, typeFromExpr } from '../schema/type-names.js';
import { keyspaceOf, resolveTable, type ExecutionContext } from './execution-context.js';
import type { CqlResult, SchemaChangeResult, SetKeyspaceResult, VoidResult } from './request.js';

export type SchemaStatement = CreateKeyspace | AlterKeyspace | DropKeyspace | CreateTable | AlterTable | DropTable | Truncate | Use;

export function isSchemaStatement(s: Statement): s is SchemaStatement {
  return ['create_keyspace', 'alter_keyspace', 'drop_keyspace', 'create_table', 'alter_table', 'drop_table', 'truncate', 'use'].includes(s.kind);
}

function changed(change: SchemaChangeResult['change'], keyspace: string, table: string | null = null): SchemaChangeResult {
  return { kind: 'schema_change', change, target: table === null ? 'KEYSPACE' : 'TABLE', keyspace, table, warnings: [], trace: null };
}

const VOID: VoidResult = { kind: 'void', warnings: [], trace: null };

function checkName(name: string, what: 'Keyspace' | 'Table'): void {
  if (NAME_PATTERN.test(name)) return;
  // Cassandra's wording: CreateKeyspaceStatement (InvalidRequest) and TableMetadata.validate (ConfigurationError).
  if (what === 'Keyspace') throw new InvalidRequest(`Keyspace name must not be empty, more than 48 characters long, or contain non-alphanumeric-underscore characters (got '${name}')`);
  throw new ConfigurationError(`Table name must not be empty, more than 48 characters long, or contain non-alphanumeric-underscore characters (got "${name}")`);
}

function checkUserKeyspace(name: string): void {
  if (SYSTEM_KEYSPACES.has(name)) throw new Unauthorized(`${name} keyspace is not user-modifiable.`);
}

export async function executeSchemaStatement(s: SchemaStatement, ctx: ExecutionContext, schemaManager: SchemaManager): Promise<CqlResult> {
  switch (s.kind) {
    case 'use': {
      if (ctx.schema.keyspace(s.keyspace) === undefined && !SYSTEM_KEYSPACES.has(s.keyspace)) throw new InvalidRequest(`Keyspace '${s.keyspace}' does not exist`);
      const r: SetKeyspaceResult = { kind: 'set_keyspace', keyspace: s.keyspace, warnings: [], trace: null };
      return r;
    }
    case 'truncate': {
      const { table } = resolveTable(ctx.schema, s.table, ctx.keyspace);
      checkUserKeyspace(table.keyspace);
      await ctx.dataPath.truncate(table);
      return VOID;
    }
    case 'create_keyspace':
      return createKeyspace(s, ctx, schemaManager);
    case 'alter_keyspace':
      return schemaManager.change(async (schema, store) => {
        checkUserKeyspace(s.keyspace);
        const ks = schema.keyspace(s.keyspace);
        if (ks === undefined) throw new InvalidRequest(`Keyspace '${s.keyspace}' doesn't exist`);
        const o = parseKeyspaceOptions(s.properties, s.keyspace);
        await store.saveKeyspace({ ...ks, replication: o.replication ?? ks.replication, durableWrites: o.durableWrites ?? ks.durableWrites }, ctx.writeTimestamp());
        return changed('UPDATED', s.keyspace);
      });
    case 'drop_keyspace':
      return schemaManager.change(async (schema, store) => {
        checkUserKeyspace(s.keyspace);
        if (schema.keyspace(s.keyspace) === undefined) {
          if (s.ifExists) return VOID;
          throw new InvalidRequest(`Keyspace '${s.keyspace}' doesn't exist`);
        }
        await store.dropKeyspace(s.keyspace, ctx.writeTimestamp());
        return changed('DROPPED', s.keyspace);
      });
    case 'create_table':
      return createTable(s, ctx, schemaManager);
    case 'alter_table':
      return alterTable(s, ctx, schemaManager);
    case 'drop_table':
      return schemaManager.change(async (schema, store) => {
        const ks = keyspaceOf(s.table, ctx.keyspace);
        checkUserKeyspace(ks);
        if (schema.table(ks, s.table.name) === undefined) {
          if (s.ifExists) return VOID;
          throw new InvalidRequest(`Table '${ks}.${s.table.name}' doesn't exist`);
        }
        await store.dropTable(ks, s.table.name, ctx.writeTimestamp());
        return changed('DROPPED', ks, s.table.name);
      });
  }
}

function createKeyspace(s: CreateKeyspace, ctx: ExecutionContext, schemaManager: SchemaManager): Promise<CqlResult> {
  checkName(s.keyspace, 'Keyspace');
  checkUserKeyspace(s.keyspace);
  const options = parseKeyspaceOptions(s.properties, s.keyspace);
  if (options.replication === undefined) throw new ConfigurationError('Missing mandatory option \'replication\'');
  const ks: KeyspaceMetadata = { name: s.keyspace, replication: options.replication, durableWrites: options.durableWrites ?? true, tables: new Map() };
  return schemaManager.change(async (schema, store) => {
    if (schema.keyspace(s.keyspace) !== undefined) {
      if (s.ifNotExists) return VOID;
      throw new AlreadyExists(s.keyspace, '');
    }
    await store.saveKeyspace(ks, ctx.writeTimestamp());
    return changed('CREATED', s.keyspace);
  });
}

function columnType(d: ColumnDefinition): CqlType {
  const t = typeFromExpr(d.type);
  if (t.kind === 'native' && t.name === 'counter') throw new InvalidRequest(`counter columns are not supported (column ${d.name})`);
  return t;
}

/** How CREATE TABLE names the table in its errors: as written, keyspace included if given. */
function writtenName(s: CreateTable): string {
  return s.table.keyspace === null ? s.table.name : `${s.table.keyspace}.${s.table.name}`;
}

/** Builds a table's metadata from CREATE TABLE, with Cassandra's checks, in Cassandra's order. */
/** The statement-level checks of CREATE TABLE (Cassandra's `Raw`): columns, PRIMARY KEY, order. */
function primaryKeyOf(s: CreateTable): { partition: readonly string[]; clustering: readonly string[] } {
  const defs = new Set<string>();
  for (const d of s.columns) {
    if (defs.has(d.name)) throw new InvalidRequest(`Duplicate column '${d.name}' declaration for table '${writtenName(s)}'`);
    defs.add(d.name);
  }
  const inline = s.columns.filter((d) => d.primaryKey);
  if (inline.length + (s.primaryKey === null ? 0 : 1) > 1) throw new InvalidRequest(`Multiple PRIMARY KEY specified for table '${writtenName(s)}' (exactly one required)`);
  const seenOrder = new Set<string>();
  for (const o of s.clusteringOrder) {
    if (seenOrder.has(o.column)) throw new InvalidRequest(`Duplicate column '${o.column}' in CLUSTERING ORDER BY clause for table '${writtenName(s)}'`);
    seenOrder.add(o.column);
  }
  const key = s.primaryKey ?? (inline.length === 1 ? { partition: [inline[0]!.name], clustering: [] } : null);
  if (key === null) throw new InvalidRequest(`No PRIMARY KEY specifed for table '${writtenName(s)}' (exactly one required)`);
  return key;
}

/** Builds a table's metadata from CREATE TABLE, with Cassandra's checks, in Cassandra's order. */
export function tableFromStatement(s: CreateTable, keyspace: string, id: string): TableMetadata {
  const table = s.table.name;
  const key = primaryKeyOf(s);
  const defs = new Map(s.columns.map((d) => [d.name, d]));
  checkName(table, 'Table');
  const params = parseTableParams(s.properties, DEFAULT_TABLE_PARAMS);
  const types = new Map<string, CqlType>();
  for (const d of s.columns) types.set(d.name, typeFromExpr(d.type));
  const seen = new Set<string>();
  for (const name of [...key.partition, ...key.clustering]) {
    const type = types.get(name);
    if (type === undefined) throw new InvalidRequest(`Unknown column '${name}' referenced in PRIMARY KEY for table '${table}'`);
    if (seen.has(name)) throw new InvalidRequest(`Duplicate column '${name}' in PRIMARY KEY clause for table '${table}'`);
    seen.add(name);
    if (type.kind !== 'native') throw new InvalidRequest(`Invalid non-frozen collection type ${formatType(type)} for PRIMARY KEY column '${name}'`);
    if (type.name === 'counter') throw new InvalidRequest(`counter type is not supported for PRIMARY KEY column '${name}'`);
    if (defs.get(name)!.isStatic) throw new InvalidRequest(`Static column '${name}' cannot be part of the PRIMARY KEY`);
  }
  checkClusteringOrder(s, key.clustering);
  const statics = s.columns.filter((d) => d.isStatic);
  if (statics.length > 0) {
    if (key.clustering.length === 0) throw new InvalidRequest('Static columns are only useful (and thus allowed) if the table has at least one clustering column');
    throw new InvalidRequest(`static columns are not supported (column ${statics[0]!.name})`);
  }
  const order = new Map(s.clusteringOrder.map((o) => [o.column, o.order === 'DESC']));
  const columns: ColumnMetadata[] = s.columns.map((d) => {
    const type = types.get(d.name)!;
    const pkIndex = key.partition.indexOf(d.name);
    const ckIndex = key.clustering.indexOf(d.name);
    if (pkIndex >= 0) return { name: d.name, type, kind: 'partition_key', position: pkIndex, descending: false };
    if (ckIndex >= 0) return { name: d.name, type, kind: 'clustering', position: ckIndex, descending: order.get(d.name) ?? false };
    if (type.kind === 'native' && type.name === 'counter') throw new InvalidRequest(`counter columns are not supported (column ${d.name})`);
    return { name: d.name, type, kind: 'regular', position: -1, descending: false };
  });
  return { keyspace, name: table, id, columns: orderColumns(columns), params, droppedColumns: {} };
}

/** CLUSTERING ORDER must name clustering columns, in their order, from the first one on. */
function checkClusteringOrder(s: CreateTable, clustering: readonly string[]): void {
  if (s.clusteringOrder.length > clustering.length) throw new InvalidRequest('Only clustering columns can be defined in CLUSTERING ORDER directive');
  const named = new Set(s.clusteringOrder.map((o) => o.column));
  s.clusteringOrder.forEach((o, i) => {
    const expected = clustering[i]!;
    if (o.column === expected) return;
    if (named.has(expected)) throw new InvalidRequest(`The order of columns in the CLUSTERING ORDER directive must match that of the clustering columns (${expected} must appear before ${o.column})`);
    throw new InvalidRequest(`Missing CLUSTERING ORDER for column ${expected}`);
  });
}

function createTable(s: CreateTable, ctx: ExecutionContext, schemaManager: SchemaManager): Promise<CqlResult> {
  const keyspace = keyspaceOf(s.table, ctx.keyspace);
  checkUserKeyspace(keyspace);
  primaryKeyOf(s);
  const id = makeRandomUuid(ctx.random.nextBytes(16));
  return schemaManager.change(async (schema, store) => {
    // As in Cassandra, existence is checked before the definition: IF NOT EXISTS on an
    // existing table succeeds whatever the new definition says.
    if (schema.keyspace(keyspace) === undefined) throw new InvalidRequest(`Keyspace '${keyspace}' doesn't exist`);
    if (schema.table(keyspace, s.table.name) !== undefined) {
      if (s.ifNotExists) return VOID;
      throw new AlreadyExists(keyspace, s.table.name);
    }
    const table = tableFromStatement(s, keyspace, id);
    await store.saveTable(table, ctx.writeTimestamp());
    return changed('CREATED', keyspace, s.table.name);
  });
}

function alterTable(s: AlterTable, ctx: ExecutionContext, schemaManager: SchemaManager): Promise<CqlResult> {
  return schemaManager.change(async (schema, store) => {
    const keyspace = keyspaceOf(s.table, ctx.keyspace);
    checkUserKeyspace(keyspace);
    const table = schema.table(keyspace, s.table.name);
    if (table === undefined) throw new InvalidRequest(`Table '${keyspace}.${s.table.name}' doesn't exist`);
    const now = ctx.writeTimestamp();
    let next: TableMetadata;
    const a = s.action;
    switch (a.kind) {
      case 'add': {
        const names = new Set(table.columns.map((c) => c.name));
        const added = a.columns.map((d): ColumnMetadata => {
          if (names.has(d.name)) throw new InvalidRequest(`Column with name '${d.name}' already exists`);
          names.add(d.name);
          if (d.primaryKey) throw new InvalidRequest(`Cannot add a PRIMARY KEY column ${d.name}`);
          const type = columnType(d);
          if (d.isStatic) {
            if (!table.columns.some((c) => c.kind === 'clustering')) throw new InvalidRequest('Static columns are only useful (and thus allowed) if the table has at least one clustering column');
            throw new InvalidRequest(`static columns are not supported (column ${d.name})`);
          }
          const dropped = table.droppedColumns[d.name];
          if (dropped !== undefined && formatType(dropped.type) !== formatType(type)) {
            throw new InvalidRequest(`Cannot re-add previously dropped column '${d.name}' of type ${formatType(type)}, incompatible with previous type ${formatType(dropped.type)}`);
          }
          return { name: d.name, type, kind: 'regular', position: -1, descending: false };
        });
        next = { ...table, columns: orderColumns([...table.columns, ...added]) };
        break;
      }
      case 'drop': {
        const dropped = { ...table.droppedColumns };
        for (const name of a.columns) {
          const c = table.columns.find((x) => x.name === name);
          if (c === undefined) throw new InvalidRequest(`Column ${name} was not found in table '${table.keyspace}.${table.name}'`);
          if (c.kind === 'partition_key' || c.kind === 'clustering') throw new InvalidRequest(`Cannot drop PRIMARY KEY column ${name}`);
          dropped[name] = { type: c.type, droppedAtMicros: now };
        }
        next = { ...table, columns: table.columns.filter((c) => !a.columns.includes(c.name)), droppedColumns: dropped };
        break;
      }
      case 'with':
        next = { ...table, params: parseTableParams(a.properties, table.params) };
        break;
    }
    await store.saveTable(next, now);
    return changed('UPDATED', table.keyspace, table.name);
  });
}
