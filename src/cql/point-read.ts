/**
 * The fast path of the commonest read: `SELECT <columns> FROM t WHERE pk = ?` on a table
 * without clustering columns (one partition, at most one row, no paging to resume).
 *
 * Cassandra concept: a single-partition read command with a names filter. The generic reader
 * (select.ts) handles every shape of SELECT through an async generator of decoded rows held in
 * Maps; for this shape all of that is decided at prepare time instead: which cell feeds which
 * output slot, each output's JSON encoder, the result's column metadata (shared, frozen), so an
 * execution binds the key, makes one `DataPath.readPartition` call and builds the JSON rows
 * straight from the storage cells.
 *
 * Invariant: for every request it accepts, the result equals the generic reader's, field for
 * field and error for error (test/unit/cql/point-read.test.ts runs both). It declines (returns
 * null at prepare) any statement with filters, IN lists, DISTINCT, aggregates, selectors other
 * than plain columns, collection columns, or a siblings-mode table (its results show each row's
 * concurrent versions and a causal context); select.ts only calls it without a paging state and
 * with room for more than one row in the page (a full one-row page would carry a paging state).
 */
import { InvalidRequest } from '../errors.js';
import { assert, AssertionError } from '../util/assert.js';
import type { CqlValue } from '../schema/cql-type.js';
import type { ColumnMetadata, TableLayout, TableMetadata } from '../schema/schema.js';
import { formatType } from '../schema/type-names.js';
import { deserializeValue, serializeValue, valueToJson } from '../schema/values.js';
import { murmur3Token } from '../ring/murmur3.js';
import { serializePartitionKey } from '../ring/partition-key.js';
import { nowSeconds } from '../runtime/clock.js';
import { isCellLive } from '../storage/data/reconcile.js';
import type { Row } from '../storage/data/types.js';
import type { Term } from './ast.js';
import type { ExecutionContext } from './execution-context.js';
import type { ColumnSpec, RowsResult } from './request.js';
import type { Selection } from './selection.js';
import { versionsView, type VersionedResultRow } from './row-versions-view.js';
import { evaluateTerm } from './terms.js';
import type { WherePlan } from './where.js';

/** What a stored cell of one column name means to this plan. */
interface CellRole {
  /** Output slots fed by this column's value (a column may be selected twice). */
  readonly slots: readonly number[];
  /** Cells at or below this timestamp belong to a dropped incarnation of the column. */
  readonly droppedAtMicros: number;
}

/** An output slot: a partition-key component (`pkIndex` ≥ 0) or a regular column's cell. */
interface Slot {
  readonly name: string;
  readonly column: ColumnMetadata;
  readonly pkIndex: number;
}

export interface PointReadPlan {
  /** Runs the read; `pageRows` > 1 rows fit in the page, `perPartitionLimit` ≥ 1. */
  execute(ctx: ExecutionContext, pageRows: number, perPartitionLimit: number): Promise<RowsResult>;
}

/** The point-read plan of a prepared SELECT, or null when the statement is not of its shape. */
export function preparePointRead(table: TableMetadata, layout: TableLayout, selection: Selection, where: WherePlan, shape: { distinct: boolean; ordered: boolean }): PointReadPlan | null {
  if (layout.clustering.length > 0 || shape.distinct || shape.ordered || selection.isCount) return null;
  if (where.partitionTerms === null || where.filters.length > 0 || where.tokenSlice !== null) return null;
  // Siblings-mode results carry each row's concurrent versions and a causal context: generic path.
  if (table.params.conflictResolution === 'siblings') return null;
  const keyTerms: Term[] = [];
  for (const terms of where.partitionTerms) {
    if (!Array.isArray(terms) || terms.length !== 1) return null;
    keyTerms.push((terms as readonly Term[])[0]!);
  }
  const slots: Slot[] = [];
  for (const out of selection.columns) {
    const c = out.column;
    if (c === undefined || c.type.kind !== 'native' || c.kind === 'clustering') return null;
    slots.push({ name: out.name, column: c, pkIndex: c.kind === 'partition_key' ? c.position : -1 });
  }
  const roles = cellRoles(table, layout, slots);
  const columns: readonly ColumnSpec[] = Object.freeze(selection.columns.map((c) => Object.freeze({ name: c.name, type: formatType(c.type) })));
  const partitionKey = layout.partitionKey;

  return {
    async execute(ctx, pageRows, perPartitionLimit) {
      const keyValues: CqlValue[] = [];
      for (let i = 0; i < partitionKey.length; i++) {
        const c = partitionKey[i]!;
        const v = evaluateTerm(keyTerms[i]!, c.type, c.name, ctx);
        if (v === null) throw new InvalidRequest(`Invalid null value in condition for column ${c.name}`);
        keyValues.push(v);
      }
      const key = partitionKey.length === 1 ? serializeValue(partitionKey[0]!.type, keyValues[0]!) : serializePartitionKey(partitionKey.map((c, i) => serializeValue(c.type, keyValues[i]!)));
      if (key.length === 0) throw new InvalidRequest('Key may not be empty');
      const nowSec = nowSeconds(ctx.clock);
      const partition = await ctx.dataPath.readPartition(table, murmur3Token(key), key, {}, ctx.consistency);
      const rows: Record<string, unknown>[] = [];
      const versioned: VersionedResultRow[] = [];
      if (partition !== null) {
        for (const row of partition.rows) {
          const json = rowToJson(row, slots, roles, keyValues, nowSec);
          if (json === null) continue;
          if (rows.length >= perPartitionLimit) break;
          rows.push(json);
          versioned.push({ key, clustering: row.clustering, version: row.version });
          // Only a table with clustering columns holds more than one row per partition.
          assert(rows.length < pageRows, 'a partition without clustering columns filled a page');
        }
      }
      const versions = versionsView(table, versioned, noSiblings);
      return { kind: 'rows', columns, rows, paging_state: null, context: versions.context, conflicts: versions.conflicts, warnings: [...versions.warnings], trace: null };
    },
  };
}

/** lww tables never show siblings (the plan declines siblings-mode tables). */
function noSiblings(): never {
  throw new AssertionError('point read asked to render a sibling');
}

/** Every column name that may appear in a stored row and what its cells mean here. */
function cellRoles(table: TableMetadata, layout: TableLayout, slots: readonly Slot[]): ReadonlyMap<string, CellRole> {
  const roles = new Map<string, CellRole>();
  for (const c of layout.regular) {
    const dropped = table.droppedColumns[c.name];
    const outputs: number[] = [];
    slots.forEach((s, i) => {
      if (s.pkIndex < 0 && s.column.name === c.name) outputs.push(i);
    });
    roles.set(c.name, { slots: outputs, droppedAtMicros: dropped === undefined ? Number.NEGATIVE_INFINITY : dropped.droppedAtMicros });
  }
  return roles;
}

/**
 * The row as a JSON object in output order, or null when it is not live — the same rules as
 * `decodeRow` (row-codec.ts): a row needs a live marker or a live cell of a current column;
 * cells of columns no longer in the table, or written before their column was dropped, are
 * ignored.
 */
function rowToJson(row: Row, slots: readonly Slot[], roles: ReadonlyMap<string, CellRole>, keyValues: readonly CqlValue[], nowSec: number): Record<string, unknown> | null {
  const liveness = row.liveness;
  let live = liveness !== undefined && (liveness.ttl === 0 || liveness.expiresAt > nowSec);
  const values: (Buffer | undefined)[] = new Array<Buffer | undefined>(slots.length);
  for (const cell of row.cells) {
    if (!isCellLive(cell, nowSec)) continue;
    const role = roles.get(cell.column);
    if (role === undefined || cell.ts <= role.droppedAtMicros) continue;
    live = true;
    for (const i of role.slots) values[i] ??= cell.value!;
  }
  if (!live) return null;
  const out: Record<string, unknown> = {};
  for (let i = 0; i < slots.length; i++) {
    const slot = slots[i]!;
    const type = slot.column.type;
    if (slot.pkIndex >= 0) {
      out[slot.name] = valueToJson(type, keyValues[slot.pkIndex] ?? null);
    } else {
      const bytes = values[i];
      out[slot.name] = bytes === undefined ? null : valueToJson(type, deserializeValue(type, bytes));
    }
  }
  return out;
}
