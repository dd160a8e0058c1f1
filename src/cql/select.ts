/**
 * SELECT: planning once per prepared statement, then reading, filtering, limiting and paging.
 *
 * Two ways to read. With the partition key restricted (`=`/`IN`), each partition is read by
 * key, slice by slice, in clustering order (or reversed for ORDER BY against the declared
 * order). Otherwise the query walks a token range (all of it, or `token()` bounds) through
 * `scanRange`, which needs ALLOW FILTERING as soon as anything else is restricted.
 *
 * The commonest shape, one partition of a table without clustering columns by `pk = ?` with
 * plain columns selected, skips all of this machinery through a plan compiled at prepare time
 * (point-read.ts) whenever no paging state is involved.
 *
 * Paging (SPEC 3.1 `page_size`/`paging_state`): a page holds at most `page_size` rows; the
 * paging state records where the page stopped (partition, slice, last clustering or scan
 * position) and the limits left, so the next page resumes exactly after the last row, on any
 * node with the same schema. COUNT(*) reads every page internally and returns one row.
 *
 * Bounds: reads ask storage for at most `READ_BATCH_ROWS` rows at a time; one request scans at
 * most `MAX_SCANNED_ROWS` rows (an ALLOW FILTERING query over more gets a warning and stops).
 */
import { createHash } from 'node:crypto';
import type { Select } from './ast.js';
import { InvalidRequest } from '../errors.js';
import type { CqlValue } from '../schema/cql-type.js';
import type { TableLayout, TableMetadata } from '../schema/schema.js';
import { formatType } from '../schema/type-names.js';
import { valueToJson } from '../schema/values.js';
import { nowSeconds } from '../runtime/clock.js';
import { afterStart, beforeEnd, partitionStorageKey, rowStorageCk } from '../storage/data/keys.js';
import { isRowLive } from '../storage/data/reconcile.js';
import type { ClusteringBound, Partition, Row } from '../storage/data/types.js';
import type { ScanPosition, SliceQuery } from '../storage/engine/api.js';
import { resolveTable, type ExecutionContext } from './execution-context.js';
import type { RowsResult } from './request.js';
import { decodePartitionKey, decodeRow, partitionKeyOf, type DecodedRow } from './row-codec.js';
import { versionsView } from './row-versions-view.js';
import { preparePointRead } from './point-read.js';
import { prepareSelection, type Selection } from './selection.js';
import { evaluateTerm } from './terms.js';
import { bindWhere, planWhere, type BoundSlice, type BoundWhere, type WherePlan } from './where.js';

export const DEFAULT_PAGE_SIZE = 5000;
const READ_BATCH_ROWS = 1000;
const MAX_SCANNED_ROWS = 10_000_000;
const INT = { kind: 'native', name: 'int' } as const;

export interface SelectPlan {
  readonly table: TableMetadata;
  execute(ctx: ExecutionContext, pageSize: number | null, pagingState: string | null): Promise<RowsResult>;
}

/** Where a page stopped. `p`/`s`: partition and slice index (by-key reads); `k`/`c`: scan position. */
interface PagingState {
  readonly v: 1;
  readonly q: string;
  readonly p: number;
  readonly s: number;
  /** Last clustering returned (hex) in partition p, slice s; null = start of the slice. */
  readonly c: string | null;
  /** Range scans: storage key of the last row's partition and its storage ck (hex). */
  readonly k: string | null;
  /** Rows still allowed by LIMIT, and rows already returned from the current partition. */
  readonly left: number;
  readonly inPartition: number;
}

function queryTag(s: Select, table: TableMetadata): string {
  return createHash('sha1').update(JSON.stringify([table.id, s.where, s.items, s.orderBy])).digest('base64url').slice(0, 12);
}

function encodeState(state: PagingState): string {
  return Buffer.from(JSON.stringify(state)).toString('base64url');
}

function decodeState(text: string, tag: string): PagingState {
  try {
    const s = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as PagingState;
    if (s.v === 1 && s.q === tag && Number.isSafeInteger(s.p) && Number.isSafeInteger(s.s) && Number.isSafeInteger(s.left) && Number.isSafeInteger(s.inPartition)) return s;
  } catch {
    // fall through
  }
  throw new InvalidRequest('Invalid value for the paging state');
}

export function prepareSelect(s: Select, ctx: Pick<ExecutionContext, 'schema' | 'keyspace'>): SelectPlan {
  const { table, layout } = resolveTable(ctx.schema, s.table, ctx.keyspace);
  const selection = prepareSelection(s.items, layout);
  const where = planWhere(s.where, layout, 'select', s.allowFiltering);
  const reversed = orderingReversed(s, layout, where);
  if (s.distinct) checkDistinct(selection, layout);
  const tag = queryTag(s, table);
  const pointRead = preparePointRead(table, layout, selection, where, { distinct: s.distinct, ordered: s.orderBy.length > 0 });
  return {
    table,
    async execute(ctx, pageSizeRequested, pagingStateText) {
      const limit = limitOf(s.limit, 'LIMIT', ctx);
      const perPartitionLimit = limitOf(s.perPartitionLimit, 'PER PARTITION LIMIT', ctx);
      if (pointRead !== null && pagingStateText === null) {
        // A page of one row would carry a paging state: the generic path knows how to write it.
        const pageRows = Math.min(pageSizeRequested ?? DEFAULT_PAGE_SIZE, limit);
        if (pageRows > 1) return pointRead.execute(ctx, pageRows, perPartitionLimit);
      }
      const bound = bindWhere(where, layout, ctx);
      const aggregate = selection.isCount;
      const pageSize = aggregate ? Number.MAX_SAFE_INTEGER : (pageSizeRequested ?? DEFAULT_PAGE_SIZE);
      if (pageSize <= 0) throw new InvalidRequest('page_size must be positive');
      const state = pagingStateText === null ? null : decodeState(pagingStateText, tag);
      const reader = new RowReader(ctx, table, layout, bound, reversed, s.distinct);
      const warnings: string[] = [];
      const take = aggregate ? Number.MAX_SAFE_INTEGER : Math.min(limit, state?.left ?? limit);
      let page: PageOut;
      if (s.orderBy.length > 0 && bound.partitionKeys !== null && bound.partitionKeys.length > 1) {
        page = await orderedAcrossPartitions(reader, bound.partitionKeys, take, pageSize, perPartitionLimit, reversed);
      } else if (bound.partitionKeys !== null) {
        page = await reader.byKeys(bound.partitionKeys, state, Math.min(pageSize, take), perPartitionLimit);
      } else if (bound.tokenStart !== null && bound.tokenEnd !== null && bound.tokenStart >= bound.tokenEnd) {
        page = { rows: [], next: null };
      } else {
        page = await reader.scan(state, Math.min(pageSize, take), perPartitionLimit);
      }
      if (reader.truncated) warnings.push(`Read stopped after scanning ${MAX_SCANNED_ROWS} rows; narrow the query`);
      if (aggregate && bound.partitionKeys === null) warnings.push('Aggregation query used without partition key');
      const columns = selection.columns.map((c) => ({ name: c.name, type: formatType(c.type) }));
      if (aggregate) {
        const values = selection.columns.map((c) => (c.isCount ? BigInt(page.rows.length) : page.rows[0] === undefined ? null : c.value(page.rows[0], ctx)));
        return { kind: 'rows', columns, rows: [toJsonRow(selection, values)], paging_state: null, context: null, conflicts: 0, warnings, trace: null };
      }
      const rows = page.rows.map((r) => toJsonRow(selection, selection.columns.map((c) => c.value(r, ctx))));
      const versions = versionsView(table, page.rows, (sibling, i) => {
        const of = page.rows[i]!;
        const decoded = reader.decodeSibling(of, sibling);
        const out: RowOut = { ...of, row: decoded ?? primaryKeyOnly(layout, of.row) };
        const json = toJsonRow(selection, selection.columns.map((c) => c.value(out, ctx)));
        return decoded === null ? { ...json, $deleted: true } : json;
      });
      for (const [i, siblings] of versions.siblings) rows[i]!['$siblings'] = siblings;
      warnings.push(...versions.warnings);
      const left = take - page.rows.length;
      const nextState = page.next !== null && left > 0 ? encodeState({ v: 1, q: tag, left, ...page.next }) : null;
      return { kind: 'rows', columns, rows, paging_state: nextState, context: versions.context, conflicts: versions.conflicts, warnings, trace: null };
    },
  };
}

function toJsonRow(selection: Selection, values: readonly CqlValue[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  selection.columns.forEach((c, i) => {
    const v = values[i] ?? null;
    out[c.name] = v === null ? null : valueToJson(c.type, v);
  });
  return out;
}

function limitOf(term: Select['limit'], what: string, ctx: ExecutionContext): number {
  if (term === null) return Number.MAX_SAFE_INTEGER;
  const v = evaluateTerm(term, INT, `[${what.toLowerCase()}]`, ctx) as number | null;
  if (v === null) throw new InvalidRequest(`Invalid null value of ${what.toLowerCase()}`);
  if (v <= 0) throw new InvalidRequest(`${what} must be strictly positive`);
  return v;
}

function checkDistinct(selection: Selection, layout: TableLayout): void {
  for (const c of selection.readsColumns) {
    if (c.kind !== 'partition_key') throw new InvalidRequest(`SELECT DISTINCT queries must only request partition key columns and/or static columns (not ${c.name})`);
  }
  if (new Set(selection.readsColumns.map((c) => c.name)).size < layout.partitionKey.length && !selection.isCount) {
    throw new InvalidRequest('SELECT DISTINCT queries must request all the partition key columns');
  }
}

/** Checks ORDER BY and returns whether rows are read in reverse storage order. */
function orderingReversed(s: Select, layout: TableLayout, where: WherePlan): boolean {
  if (s.orderBy.length === 0) return false;
  if (where.partitionTerms === null) throw new InvalidRequest('ORDER BY is only supported when the partition key is restricted by an EQ or an IN.');
  let reversed: boolean | null = null;
  s.orderBy.forEach((o, i) => {
    const c = layout.column(o.column);
    if (c === undefined) throw new InvalidRequest(`Undefined column name ${o.column}`);
    if (c.kind !== 'clustering') throw new InvalidRequest(`Order by is currently only supported on the clustered columns of the PRIMARY KEY, got ${o.column}`);
    if (c.position !== i) throw new InvalidRequest('Order by currently only supports the ordering of columns following their declared order in the PRIMARY KEY');
    const r = (o.order === 'DESC') !== c.descending;
    if (reversed !== null && reversed !== r) throw new InvalidRequest('Unsupported order by relation');
    reversed = r;
  });
  return reversed ?? false;
}

/**
 * ORDER BY with IN on the partition key: rows of several partitions merged in clustering
 * order (ties keep partition-key order), then LIMIT. Only the first `take` rows of each
 * partition can make the cut, so at most that many are read per partition. The result is one
 * page: like Cassandra, such a query cannot be paged, and a result larger than the page is an
 * error (Cassandra refuses it whenever paging is on; here only when it needs a second page).
 */
async function orderedAcrossPartitions(reader: RowReader, keys: readonly (readonly CqlValue[])[], take: number, pageSize: number, perPartitionLimit: number, reversed: boolean): Promise<PageOut> {
  const wanted = Math.min(take, pageSize === Number.MAX_SAFE_INTEGER ? pageSize : pageSize + 1);
  const all = await reader.byKeys(keys, null, Number.MAX_SAFE_INTEGER, Math.min(perPartitionLimit, wanted));
  all.rows.sort((a, b) => (reversed ? -1 : 1) * Buffer.compare(a.clustering, b.clustering));
  const rows = all.rows.slice(0, take);
  if (rows.length > pageSize) {
    throw new InvalidRequest('Cannot page queries with both ORDER BY and a IN restriction on the partition key; you must either remove the ORDER BY or the IN and sort client side, or disable paging for this query');
  }
  return { rows, next: null };
}

interface RowOut {
  readonly row: DecodedRow;
  readonly token: bigint;
  readonly clustering: Buffer;
  /** Partition key bytes and values, and the row's version (for conflicts, siblings, context). */
  readonly key: Buffer;
  readonly pkValues: readonly CqlValue[];
  readonly version: Buffer | undefined;
}

/** A sibling that is a deletion: only its primary key is shown (with `$deleted`). */
function primaryKeyOnly(layout: TableLayout, row: DecodedRow): DecodedRow {
  const values = new Map<string, CqlValue>();
  for (const c of [...layout.partitionKey, ...layout.clustering]) values.set(c.name, row.values.get(c.name) ?? null);
  return { values, writetimes: new Map(), ttls: new Map(), listPaths: new Map() };
}

interface PageOut {
  readonly rows: RowOut[];
  readonly next: Omit<PagingState, 'v' | 'q' | 'left'> | null;
}

/** Reads rows for one execution, applying filters, DISTINCT and the per-partition limit. */
class RowReader {
  truncated = false;
  private scanned = 0;
  private readonly nowSec: number;
  private readonly singleRowPartitions: boolean;

  constructor(
    private readonly ctx: ExecutionContext,
    private readonly table: TableMetadata,
    private readonly layout: TableLayout,
    private readonly where: BoundWhere,
    private readonly reversed: boolean,
    private readonly distinct: boolean,
  ) {
    this.nowSec = nowSeconds(ctx.clock);
    this.singleRowPartitions = layout.clustering.length === 0;
  }

  /** A sibling of a result row (a storage row as its write wrote it), decoded; null when it is a deletion. */
  decodeSibling(of: RowOut, sibling: Row): DecodedRow | null {
    return decodeRow(this.table, this.layout, of.pkValues, sibling, this.nowSec);
  }

  private accept(row: DecodedRow): boolean {
    for (const f of this.where.filters) if (!f.test(row.values.get(f.column.name) ?? null)) return false;
    return true;
  }

  async byKeys(keys: readonly (readonly CqlValue[])[], state: PagingState | null, pageRows: number, perPartitionLimit: number): Promise<PageOut> {
    const rows: RowOut[] = [];
    const slices = this.reversed ? [...this.where.slices].reverse() : this.where.slices;
    for (let p = state?.p ?? 0; p < keys.length; p++) {
      const resuming = state !== null && p === state.p;
      const pk = partitionKeyOf(this.layout, keys[p]!);
      if (pk.key.length === 0) throw new InvalidRequest('Key may not be empty');
      let inPartition = resuming ? state.inPartition : 0;
      for (let s = resuming ? state.s : 0; s < slices.length; s++) {
        const after = resuming && s === state.s && state.c !== null ? Buffer.from(state.c, 'hex') : null;
        let slice = slices[s]!;
        if (after !== null) slice = this.reversed ? { start: slice.start, end: { prefix: after, inclusive: false } } : { start: { prefix: after, inclusive: false }, end: slice.end };
        // Without filters, the rows still wanted bound the first read of the slice.
        const wanted = Math.min(READ_BATCH_ROWS, pageRows - rows.length, perPartitionLimit - inPartition, this.distinct ? 1 : READ_BATCH_ROWS);
        const want = this.where.filters.length > 0 ? READ_BATCH_ROWS : Math.max(1, wanted);
        for await (const out of this.readSlice(pk, slice, want)) {
          if (inPartition >= perPartitionLimit || (this.distinct && inPartition >= 1)) break;
          rows.push(out);
          inPartition++;
          if (rows.length >= pageRows) return { rows, next: { p, s, c: out.clustering.toString('hex'), k: null, inPartition } };
        }
      }
    }
    return { rows, next: null };
  }

  /**
   * Live, accepted rows of one slice of a partition, read in batches: `firstBatch` rows, then
   * `READ_BATCH_ROWS` at a time. A batch shorter than asked (in rows storage counts as live)
   * is the end of the slice.
   */
  private async *readSlice(pk: ReturnType<typeof partitionKeyOf>, slice: BoundSlice, firstBatch: number): AsyncGenerator<RowOut> {
    let current = slice;
    let batch = firstBatch;
    for (;;) {
      // A partition of a table without clustering columns holds one row at most: read it whole,
      // which storage answers with a single lookup per SSTable instead of a header read and a
      // slice scan.
      const slice: SliceQuery = this.singleRowPartitions ? {} : { start: current.start, end: current.end, reversed: this.reversed, limit: batch };
      const part = await this.ctx.dataPath.readPartition(this.table, pk.token, pk.key, slice, this.ctx.consistency);
      if (part === null) return;
      let live = 0;
      let last: Buffer | null = null;
      for (const row of part.rows) {
        last = row.clustering;
        if (isRowLive(row, this.nowSec)) live++;
        const decoded = decodeRow(this.table, this.layout, pk.values, row, this.nowSec);
        if (decoded !== null && this.accept(decoded)) yield { row: decoded, token: pk.token, clustering: row.clustering, key: pk.key, pkValues: pk.values, version: row.version };
      }
      this.scanned += part.rows.length;
      if (this.singleRowPartitions || live < batch || last === null || this.overScanBudget()) return;
      const after: ClusteringBound = { prefix: last, inclusive: false };
      current = this.reversed ? { start: current.start, end: after } : { start: after, end: current.end };
      batch = READ_BATCH_ROWS;
    }
  }

  private overScanBudget(): boolean {
    if (this.scanned < MAX_SCANNED_ROWS) return false;
    this.truncated = true;
    return true;
  }

  async scan(state: PagingState | null, pageRows: number, perPartitionLimit: number): Promise<PageOut> {
    const rows: RowOut[] = [];
    let resume: ScanPosition | null = state?.k != null ? { pkey: Buffer.from(state.k, 'hex'), ck: Buffer.from(state.c ?? '', 'hex') } : null;
    let inPartition = state?.inPartition ?? 0;
    let lastPkey: string | null = state?.k ?? null;
    for (;;) {
      // Without filters or limits that skip rows, the rows still wanted bound the read.
      const skips = this.where.filters.length > 0 || this.distinct || perPartitionLimit < Number.MAX_SAFE_INTEGER || !this.unsliced();
      const want = skips ? READ_BATCH_ROWS : Math.max(1, Math.min(READ_BATCH_ROWS, pageRows - rows.length));
      const page = await this.ctx.dataPath.scanRange(this.table, { startToken: this.where.tokenStart, endToken: this.where.tokenEnd, resume, pageRows: want }, this.ctx.consistency);
      for (const partition of page.partitions) {
        const pkey = partitionStorageKey(partition.token, partition.key).toString('hex');
        if (pkey !== lastPkey) {
          lastPkey = pkey;
          inPartition = 0;
        }
        const pkValues = decodePartitionKey(this.layout, partition.key);
        for (const row of partition.rows) {
          this.scanned++;
          if (inPartition >= perPartitionLimit || (this.distinct && inPartition >= 1)) continue;
          if (!this.inSlices(row)) continue;
          const decoded = decodeRow(this.table, this.layout, pkValues, row, this.nowSec);
          if (decoded === null || !this.accept(decoded)) continue;
          rows.push({ row: decoded, token: partition.token, clustering: row.clustering, key: partition.key, pkValues, version: row.version });
          inPartition++;
          if (rows.length >= pageRows) return { rows, next: this.scanState(partition, row, inPartition) };
        }
      }
      if (page.next === null || this.overScanBudget()) return { rows, next: null };
      resume = page.next;
    }
  }

  private scanState(partition: Partition, row: Row, inPartition: number): PageOut['next'] {
    return { p: 0, s: 0, k: partitionStorageKey(partition.token, partition.key).toString('hex'), c: rowStorageCk(row.clustering).toString('hex'), inPartition };
  }

  private unsliced(): boolean {
    const slices = this.where.slices;
    return slices.length === 1 && slices[0]!.start === null && slices[0]!.end === null;
  }

  /** Clustering restrictions in a scan (they need ALLOW FILTERING there). */
  private inSlices(row: Row): boolean {
    const slices = this.where.slices;
    if (this.unsliced()) return true;
    return slices.some((s) => afterStart(row.clustering, s.start) && beforeEnd(row.clustering, s.end));
  }
}
