/**
 * INSERT, INSERT JSON, UPDATE and DELETE: from a statement to partition updates.
 *
 * `prepareModification` checks the statement against the schema once (columns exist, the
 * primary key is complete, operations fit the column types) and returns a plan; the plan's
 * `collect` runs per execution: it binds the values, stamps every cell with the write
 * timestamp and TTL, and adds the changes to per-partition builders. A BATCH shares one set of
 * builders across its statements, so each partition gets one update, applied atomically.
 *
 * List index updates and removals by value read the current list first (a read before write,
 * as in Cassandra); everything else is a blind write.
 */
import type { Assignment, Delete, Insert, InsertJson, ModificationStatement, Term, UsingClause } from './ast.js';
import { InvalidRequest } from '../errors.js';
import type { CqlType, CqlValue } from '../schema/cql-type.js';
import type { ColumnMetadata, TableLayout, TableMetadata } from '../schema/schema.js';
import { MAX_TTL_SECONDS } from '../schema/schema-options.js';
import { valueFromJson } from '../schema/values.js';
import { nowSeconds } from '../runtime/clock.js';
import type { Mutation } from './data-path.js';
import { resolveTable, type ExecutionContext } from './execution-context.js';
import { decodePartitionKey, decodeRow, encodeClusteringOf, ListPaths, partitionKeyOf, PartitionUpdateBuilder, type PartitionKey, type WriteStamp } from './row-codec.js';
import { evaluateTerm } from './terms.js';
import { bindWhere, planWhere, type WherePlan } from './where.js';

const INT: CqlType = { kind: 'native', name: 'int' };
const BIGINT: CqlType = { kind: 'native', name: 'bigint' };
const MAX_JSON_BYTES = 1 << 20;

/** Builders of one execution (or one batch), one per table and partition. */
export class UpdateCollector {
  private readonly builders = new Map<string, { table: TableMetadata; builder: PartitionUpdateBuilder }>();

  builder(table: TableMetadata, pk: ReturnType<typeof partitionKeyOf>): PartitionUpdateBuilder {
    const k = `${table.id}\0${pk.key.toString('latin1')}`;
    let entry = this.builders.get(k);
    if (entry === undefined) {
      entry = { table, builder: new PartitionUpdateBuilder(pk) };
      this.builders.set(k, entry);
    }
    return entry.builder;
  }

  mutations(): Mutation[] {
    return [...this.builders.values()].map(({ table, builder }) => ({ table, update: builder.build() }));
  }
}

export interface ModificationPlan {
  readonly table: TableMetadata;
  collect(ctx: ExecutionContext, out: UpdateCollector, batchTimestamp: number | null): Promise<void>;
}

export function prepareModification(s: ModificationStatement, ctx: Pick<ExecutionContext, 'schema' | 'keyspace'>): ModificationPlan {
  const { table, layout } = resolveTable(ctx.schema, s.table, ctx.keyspace);
  if (s.kind === 'insert' || s.kind === 'insert_json') {
    if (s.ifNotExists) throw new InvalidRequest('conditional updates are not supported');
  } else if (s.ifExists || s.conditions.length > 0) throw new InvalidRequest('conditional updates are not supported');
  switch (s.kind) {
    case 'insert':
      return prepareInsert(s, table, layout);
    case 'insert_json':
      return prepareInsertJson(s, table, layout);
    case 'update':
      return prepareUpdate(s.assignments, s.where, s.using, table, layout);
    case 'delete':
      return prepareDelete(s, table, layout);
  }
}

// ---- Stamps --------------------------------------------------------------------------------

function stampOf(using: UsingClause, table: TableMetadata, ctx: ExecutionContext, batchTimestamp: number | null, allowTtl: boolean): WriteStamp {
  let ts: number;
  if (using.timestamp !== null) ts = timestampOf(using.timestamp, ctx);
  else ts = batchTimestamp ?? ctx.requestTimestamp ?? ctx.writeTimestamp();
  let ttl = table.params.defaultTimeToLive;
  if (using.ttl !== null) {
    if (!allowTtl) throw new InvalidRequest('A TTL cannot be used in DELETE statements');
    // A null TTL means no TTL, as in Cassandra 4 (Attributes.getTimeToLive).
    const v = (evaluateTerm(using.ttl, INT, '[ttl]', ctx) as number | null) ?? 0;
    if (v < 0) throw new InvalidRequest(`A TTL must be greater or equal to 0, but was ${v}`);
    if (v > MAX_TTL_SECONDS) throw new InvalidRequest(`ttl is too large. requested (${v}) maximum (${MAX_TTL_SECONDS})`);
    ttl = v;
  }
  return { ts, ttl, nowSec: nowSeconds(ctx.clock) };
}

function columnOf(layout: TableLayout, name: string): ColumnMetadata {
  const c = layout.column(name);
  if (c === undefined) throw new InvalidRequest(`Undefined column name ${name} in table ${layout.table.keyspace}.${layout.table.name}`);
  return c;
}

function keyValue(c: ColumnMetadata, v: CqlValue): CqlValue {
  if (v === null) throw new InvalidRequest(`Invalid null value in condition for column ${c.name}`);
  return v;
}

/** The partition key of a write; like Cassandra, the serialized key may not be empty. */
function writeKey(layout: TableLayout, values: readonly CqlValue[]): PartitionKey {
  const pk = partitionKeyOf(layout, values.map((v, i) => keyValue(layout.partitionKey[i]!, v)));
  if (pk.key.length === 0) throw new InvalidRequest('Key may not be empty');
  return pk;
}

/** A USING TIMESTAMP value (a statement's or a batch's), in µs. */
export function timestampOf(term: Term, ctx: ExecutionContext): number {
  const v = evaluateTerm(term, BIGINT, '[timestamp]', ctx) as bigint | null;
  if (v === null) throw new InvalidRequest('Invalid null value of timestamp');
  if (v < BigInt(Number.MIN_SAFE_INTEGER) || v > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvalidRequest(`Invalid timestamp ${v}: out of range`);
  return Number(v);
}

// ---- INSERT ----------------------------------------------------------------------------------

function prepareInsert(s: Insert, table: TableMetadata, layout: TableLayout): ModificationPlan {
  if (s.columns.length !== s.values.length) throw new InvalidRequest('Unmatched column names/values');
  if (new Set(s.columns).size !== s.columns.length) throw new InvalidRequest('The column names contains duplicates');
  const columns = s.columns.map((n) => columnOf(layout, n));
  const termOf = new Map(columns.map((c, i) => [c.name, s.values[i]!]));
  const missingPk = layout.partitionKey.filter((c) => !termOf.has(c.name));
  if (missingPk.length > 0) throw new InvalidRequest(`Some partition key parts are missing: ${missingPk.map((c) => c.name).join(', ')}`);
  const missingCk = layout.clustering.filter((c) => !termOf.has(c.name));
  if (missingCk.length > 0) throw new InvalidRequest(`Some clustering keys are missing: ${missingCk.map((c) => c.name).join(', ')}`);
  const pkTerms = layout.partitionKey.map((c) => termOf.get(c.name)!);
  const ckTerms = layout.clustering.map((c) => termOf.get(c.name)!);
  const regular = columns.filter((c) => !layout.isPrimaryKey(c)).map((c) => ({ column: c, term: termOf.get(c.name)! }));
  return {
    table,
    async collect(ctx, out, batchTimestamp) {
      const stamp = stampOf(s.using, table, ctx, batchTimestamp, true);
      const pk = writeKey(layout, layout.partitionKey.map((c, i) => evaluateTerm(pkTerms[i]!, c.type, c.name, ctx)));
      const ck = layout.clustering.map((c, i) => keyValue(c, evaluateTerm(ckTerms[i]!, c.type, c.name, ctx)));
      const row = out.builder(table, pk).row(encodeClusteringOf(layout, ck));
      row.markLive(stamp);
      const lists = new ListPaths(ctx.functions.listPositions, (n) => ctx.random.nextBytes(n));
      for (const { column, term } of regular) {
        const value = evaluateTerm(term, column.type, column.name, ctx);
        if (column.type.kind === 'native') row.setSimple(column, value, stamp);
        else row.setCollection(column, value, stamp, lists);
      }
    },
  };
}

function prepareInsertJson(s: InsertJson, table: TableMetadata, layout: TableLayout): ModificationPlan {
  return {
    table,
    async collect(ctx, out, batchTimestamp) {
      const text = evaluateTerm(s.json, { kind: 'native', name: 'text' }, '[json]', ctx) as string | null;
      if (text === null) throw new InvalidRequest('Got null for INSERT JSON values');
      if (text.length > MAX_JSON_BYTES) throw new InvalidRequest(`INSERT JSON value is larger than ${MAX_JSON_BYTES} characters`);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        throw new InvalidRequest(`Could not decode JSON string as a map: ${(e as Error).message}`);
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InvalidRequest('Could not decode JSON string as a map: not an object');
      const values = new Map<string, unknown>();
      for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
        const name = key.startsWith('"') && key.endsWith('"') && key.length >= 2 ? key.slice(1, -1) : key.toLowerCase();
        if (layout.column(name) === undefined) throw new InvalidRequest(`JSON values map contains unrecognized column: ${key}`);
        values.set(name, value);
      }
      for (const c of [...layout.partitionKey, ...layout.clustering]) {
        if (!values.has(c.name) || values.get(c.name) === null) throw new InvalidRequest(`Invalid null value in condition for column ${c.name}`);
      }
      const stamp = stampOf(s.using, table, ctx, batchTimestamp, true);
      const pk = writeKey(layout, layout.partitionKey.map((c) => valueFromJson(c.type, values.get(c.name), c.name)));
      const ck = layout.clustering.map((c) => keyValue(c, valueFromJson(c.type, values.get(c.name), c.name)));
      const row = out.builder(table, pk).row(encodeClusteringOf(layout, ck));
      row.markLive(stamp);
      const lists = new ListPaths(ctx.functions.listPositions, (n) => ctx.random.nextBytes(n));
      for (const c of layout.regular) {
        if (!values.has(c.name) && s.defaultUnset) continue;
        const value = values.has(c.name) ? valueFromJson(c.type, values.get(c.name) ?? null, c.name) : null;
        if (c.type.kind === 'native') row.setSimple(c, value, stamp);
        else row.setCollection(c, value, stamp, lists);
      }
    },
  };
}

// ---- UPDATE ----------------------------------------------------------------------------------

function checkAssignment(a: Assignment, c: ColumnMetadata, layout: TableLayout): void {
  if (layout.isPrimaryKey(c)) throw new InvalidRequest(`PRIMARY KEY part ${c.name} found in SET part`);
  const t = c.type;
  switch (a.kind) {
    case 'set':
      return;
    case 'set_element':
      if (t.kind !== 'map' && t.kind !== 'list') throw new InvalidRequest(`Invalid operation (${c.name}[?] = ?) for non list/map column ${c.name}`);
      return;
    case 'add':
      if (t.kind === 'native') throw new InvalidRequest(`Invalid operation (${c.name} = ${c.name} + ?) for non counter column ${c.name}`);
      return;
    case 'prepend':
      if (t.kind !== 'list') throw new InvalidRequest(`Invalid operation (${c.name} = ? + ${c.name}) for non list column ${c.name}`);
      return;
    case 'subtract':
      if (t.kind === 'native') throw new InvalidRequest(`Invalid operation (${c.name} = ${c.name} - ?) for non counter column ${c.name}`);
  }
}

function prepareUpdate(assignments: readonly Assignment[], where: Parameters<typeof planWhere>[0], using: UsingClause, table: TableMetadata, layout: TableLayout): ModificationPlan {
  const resolved = assignments.map((a) => {
    const c = columnOf(layout, a.column);
    checkAssignment(a, c, layout);
    return { a, c };
  });
  if (new Set(resolved.map((r) => r.c.name)).size !== resolved.length && resolved.some((r) => r.a.kind === 'set')) {
    throw new InvalidRequest(`Multiple incompatible setting of column ${resolved.find((r, i) => resolved.findIndex((x) => x.c.name === r.c.name) !== i)!.c.name}`);
  }
  const plan = planWhere(where, layout, 'update', false);
  const needsRead = resolved.some(({ a, c }) => c.type.kind === 'list' && (a.kind === 'set_element' || a.kind === 'subtract'));
  return {
    table,
    async collect(ctx, out, batchTimestamp) {
      const stamp = stampOf(using, table, ctx, batchTimestamp, true);
      const bound = bindWhere(plan, layout, ctx);
      const lists = new ListPaths(ctx.functions.listPositions, (n) => ctx.random.nextBytes(n));
      for (const pkValues of bound.partitionKeys!) {
        const pk = writeKey(layout, pkValues);
        const builder = out.builder(table, pk);
        for (const ck of bound.prefixes) {
          const clustering = encodeClusteringOf(layout, ck);
          const current = needsRead ? await readCurrentRow(ctx, table, layout, pk, clustering) : null;
          const row = builder.row(clustering);
          for (const { a, c } of resolved) applyAssignment(a, c, row, stamp, lists, current, ctx);
        }
      }
    },
  };
}

async function readCurrentRow(ctx: ExecutionContext, table: TableMetadata, layout: TableLayout, pk: ReturnType<typeof partitionKeyOf>, clustering: Buffer) {
  const bound = { prefix: clustering, inclusive: true };
  const p = await ctx.dataPath.readPartition(table, pk.token, pk.key, { start: bound, end: bound, limit: 1 }, ctx.consistency);
  const row = p?.rows.find((r) => r.clustering.equals(clustering));
  return row === undefined ? null : decodeRow(table, layout, decodePartitionKey(layout, pk.key), row, nowSeconds(ctx.clock));
}

function applyAssignment(
  a: Assignment,
  c: ColumnMetadata,
  row: ReturnType<PartitionUpdateBuilder['row']>,
  stamp: WriteStamp,
  lists: ListPaths,
  current: ReturnType<typeof decodeRow> | null,
  ctx: ExecutionContext,
): void {
  const t = c.type;
  switch (a.kind) {
    case 'set': {
      const value = evaluateTerm(a.value, t, c.name, ctx);
      if (t.kind === 'native') row.setSimple(c, value, stamp);
      else row.setCollection(c, value, stamp, lists);
      return;
    }
    case 'set_element': {
      if (t.kind === 'map') {
        row.setMapEntry(c, evaluateTerm(a.element, t.key, c.name, ctx), evaluateTerm(a.value, t.value, c.name, ctx), stamp);
        return;
      }
      const listType = t as Extract<CqlType, { kind: 'list' }>;
      const index = evaluateTerm(a.element, INT, c.name, ctx) as number | null;
      if (index === null) throw new InvalidRequest('Invalid null value for list index');
      const paths = current?.listPaths.get(c.name) ?? [];
      if (paths.length === 0) throw new InvalidRequest('Attempted to set an element on a list which is null');
      if (index < 0 || index >= paths.length) throw new InvalidRequest(`List index ${index} out of bound, list has size ${paths.length}`);
      row.setListElement(c, paths[index]!, evaluateTerm(a.value, listType.element, c.name, ctx), stamp);
      return;
    }
    case 'add':
    case 'prepend': {
      const value = evaluateTerm(a.value, t, c.name, ctx);
      if (value !== null) row.addElements(c, value, stamp, lists, a.kind === 'prepend');
      return;
    }
    case 'subtract': {
      if (t.kind === 'map') {
        const keys = evaluateTerm(a.value, { kind: 'set', element: t.key }, c.name, ctx) as CqlValue[] | null;
        row.removeElements(c, keys ?? [], stamp);
      } else if (t.kind === 'set') {
        row.removeElements(c, (evaluateTerm(a.value, t, c.name, ctx) as CqlValue[] | null) ?? [], stamp);
      } else if (t.kind === 'list') {
        const remove = (evaluateTerm(a.value, t, c.name, ctx) as CqlValue[] | null) ?? [];
        const values = (current?.values.get(c.name) as CqlValue[] | undefined) ?? [];
        const paths = current?.listPaths.get(c.name) ?? [];
        const serialized = new Set(remove.map((v) => JSON.stringify(jsonKey(v))));
        values.forEach((v, i) => {
          if (serialized.has(JSON.stringify(jsonKey(v)))) row.setListElement(c, paths[i]!, null, stamp);
        });
      }
    }
  }
}

/** A comparable key for list removal by value (bigint and Buffer are not JSON values). */
function jsonKey(v: CqlValue): unknown {
  if (typeof v === 'bigint') return `n:${v}`;
  if (Buffer.isBuffer(v)) return `b:${v.toString('hex')}`;
  if (Array.isArray(v)) return v.map((x) => jsonKey(x as CqlValue));
  return v;
}

// ---- DELETE ----------------------------------------------------------------------------------

function prepareDelete(s: Delete, table: TableMetadata, layout: TableLayout): ModificationPlan {
  const targets = s.targets.map((t) => {
    const c = columnOf(layout, t.column);
    if (layout.isPrimaryKey(c)) throw new InvalidRequest(`Invalid identifier ${c.name} for deletion (should not be a PRIMARY KEY part)`);
    if (t.element !== null && c.type.kind !== 'map' && c.type.kind !== 'list') throw new InvalidRequest(`Invalid operation (${c.name}[?]) for non list/map column ${c.name}`);
    return { c, element: t.element };
  });
  const plan: WherePlan = planWhere(s.where, layout, 'delete', false);
  if (targets.length > 0 && !plan.fullClustering) throw new InvalidRequest('Range deletions are not supported for specific columns');
  const needsRead = targets.some((t) => t.element !== null && t.c.type.kind === 'list');
  return {
    table,
    async collect(ctx, out, batchTimestamp) {
      const stamp = stampOf(s.using, table, ctx, batchTimestamp, false);
      const bound = bindWhere(plan, layout, ctx);
      for (const pkValues of bound.partitionKeys!) {
        const pk = writeKey(layout, pkValues);
        const builder = out.builder(table, pk);
        const deletion = { ts: stamp.ts, ldt: stamp.nowSec };
        if (plan.fullClustering) {
          for (const ck of bound.prefixes) {
            const clustering = encodeClusteringOf(layout, ck);
            if (targets.length === 0) {
              if (layout.clustering.length === 0) builder.deletePartition(deletion);
              else builder.row(clustering).deleteRow(stamp);
              continue;
            }
            const current = needsRead ? await readCurrentRow(ctx, table, layout, pk, clustering) : null;
            const row = builder.row(clustering);
            for (const { c, element } of targets) deleteTarget(c, element, row, stamp, current, ctx);
          }
        } else if (plan.clusteringPrefix.length === 0 && plan.clusteringSlice === null && plan.tupleSlice === null) {
          builder.deletePartition(deletion);
        } else {
          for (const slice of bound.slices) builder.rangeTombstones.push({ start: slice.start, end: slice.end, deletion });
        }
      }
    },
  };
}

function deleteTarget(c: ColumnMetadata, element: Term | null, row: ReturnType<PartitionUpdateBuilder['row']>, stamp: WriteStamp, current: ReturnType<typeof decodeRow> | null, ctx: ExecutionContext): void {
  const t = c.type;
  if (element === null) {
    row.deleteColumn(c, stamp);
    return;
  }
  if (t.kind === 'map') {
    const key = evaluateTerm(element, t.key, c.name, ctx);
    if (key === null) throw new InvalidRequest(`Invalid null map key for ${c.name}`);
    row.removeElements(c, [key], stamp);
    return;
  }
  const index = evaluateTerm(element, INT, c.name, ctx) as number | null;
  if (index === null) throw new InvalidRequest('Invalid null value for list index');
  const paths = current?.listPaths.get(c.name) ?? [];
  if (paths.length === 0) throw new InvalidRequest('Attempted to delete an element from a list which is null');
  if (index < 0 || index >= paths.length) throw new InvalidRequest(`List index ${index} out of bound, list has size ${paths.length}`);
  row.setListElement(c, paths[index]!, null, stamp);
}
