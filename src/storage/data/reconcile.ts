/**
 * Merge rules: how two versions of the same data combine (Versioned Value, last-write-wins).
 *
 * Cells: the higher timestamp wins; on a tie a tombstone wins, then the greater value bytes,
 * then the later expiry. Every rule is a total order that never reads the clock, so merging is
 * commutative, associative and idempotent, and gives the same answer whenever it happens:
 * replicas and SSTables can be merged in any order, at any time, and always agree
 * (test/unit/storage/reconcile.test.ts).
 *
 * Deletions shadow everything with a timestamp at or below theirs: a partition deletion the
 * whole partition, a range tombstone the rows in its range, a row deletion its row, a complex
 * deletion one collection column.
 */
import { mergeRowVersions } from '../../versioning/row-version.js';
import { inRange } from './keys.js';
import type { Cell, ComplexDeletion, DeletionTime, Liveness, PartitionHeader, RangeTombstone, Row } from './types.js';

export function compareCellKey(a: Cell, b: Cell): number {
  if (a.column !== b.column) return a.column < b.column ? -1 : 1;
  if (a.path === undefined) return b.path === undefined ? 0 : -1;
  if (b.path === undefined) return 1;
  return Buffer.compare(a.path, b.path);
}

export function isCellLive(cell: Cell, nowSec: number): boolean {
  return cell.value !== null && (cell.ttl === 0 || cell.ldt > nowSec);
}

export function isLivenessLive(l: Liveness, nowSec: number): boolean {
  return l.ttl === 0 || l.expiresAt > nowSec;
}

// #region pattern:Versioned Value
/** When a value stops being live, for tie-breaking: never (Infinity) unless it has a TTL. */
function expiryOf(ttl: number, expiresAt: number): number {
  return ttl === 0 ? Number.POSITIVE_INFINITY : expiresAt;
}

/**
 * The cell that wins between two versions of the same (column, path): the higher timestamp;
 * on a tie a tombstone, then the greater value, then the one that lives longer.
 *
 * The rule never looks at the clock. Cassandra's resolves a tie between a live and an expired
 * cell by the time of the merge, so two replicas that merged at different times can keep
 * different winners; here every replica, memtable and compaction picks the same cell, whenever
 * it merges. It is a total order on cells, so argument order never matters either.
 */
export function reconcileCells(a: Cell, b: Cell): Cell {
  if (a.ts !== b.ts) return a.ts > b.ts ? a : b;
  if (a.value === null || b.value === null) {
    if (a.value !== null) return b;
    if (b.value !== null) return a;
    return a.ldt >= b.ldt ? a : b;
  }
  const byValue = Buffer.compare(a.value, b.value);
  if (byValue !== 0) return byValue > 0 ? a : b;
  const ea = expiryOf(a.ttl, a.ldt);
  const eb = expiryOf(b.ttl, b.ldt);
  if (ea !== eb) return ea > eb ? a : b;
  if (a.ttl !== b.ttl) return a.ttl > b.ttl ? a : b;
  return a.ldt >= b.ldt ? a : b; // only malformed cells differ here; still a total order
}
// #endregion

/** Row markers: the higher timestamp, then the one that lives longer (clock-free, like cells). */
export function reconcileLiveness(a: Liveness | undefined, b: Liveness | undefined): Liveness | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if (a.ts !== b.ts) return a.ts > b.ts ? a : b;
  const ea = expiryOf(a.ttl, a.expiresAt);
  const eb = expiryOf(b.ttl, b.expiresAt);
  if (ea !== eb) return ea > eb ? a : b;
  if (a.ttl !== b.ttl) return a.ttl > b.ttl ? a : b;
  return a.expiresAt >= b.expiresAt ? a : b;
}

export function maxDeletion(a: DeletionTime | undefined, b: DeletionTime | undefined): DeletionTime | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if (a.ts !== b.ts) return a.ts > b.ts ? a : b;
  return a.ldt >= b.ldt ? a : b;
}

export function shadows(deletion: DeletionTime | undefined, ts: number): boolean {
  return deletion !== undefined && ts <= deletion.ts;
}

function mergeCellLists(a: ReadonlyArray<Cell>, b: ReadonlyArray<Cell>): Cell[] {
  if (a.length === 0) return b.slice();
  if (b.length === 0) return a.slice();
  const out: Cell[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const c = compareCellKey(a[i]!, b[j]!);
    if (c < 0) out.push(a[i++]!);
    else if (c > 0) out.push(b[j++]!);
    else out.push(reconcileCells(a[i++]!, b[j++]!));
  }
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

function mergeComplexDeletions(
  a: ReadonlyArray<ComplexDeletion> | undefined,
  b: ReadonlyArray<ComplexDeletion> | undefined,
): ComplexDeletion[] | undefined {
  if (a === undefined || a.length === 0) return b?.slice();
  if (b === undefined || b.length === 0) return a.slice();
  const byColumn = new Map<string, DeletionTime>();
  for (const d of [...a, ...b]) byColumn.set(d.column, maxDeletion(byColumn.get(d.column), d.deletion)!);
  return [...byColumn.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([column, deletion]) => ({ column, deletion }));
}

/** Merges two versions of the same row (same clustering). Shadowed data is not removed here. */
export function mergeRows(a: Row, b: Row): Row {
  return {
    clustering: a.clustering,
    liveness: reconcileLiveness(a.liveness, b.liveness),
    deletion: maxDeletion(a.deletion, b.deletion),
    complexDeletions: mergeComplexDeletions(a.complexDeletions, b.complexDeletions),
    cells: mergeCellLists(a.cells, b.cells),
    version: mergeRowVersions(a.version, b.version),
  };
}

export function mergeHeaders(a: PartitionHeader, b: PartitionHeader): PartitionHeader {
  return {
    deletion: maxDeletion(a.deletion, b.deletion),
    rangeTombstones: mergeRangeTombstones(a.rangeTombstones, b.rangeTombstones),
  };
}

function sameBound(x: RangeTombstone['start'], y: RangeTombstone['start']): boolean {
  if (x === null || y === null) return x === y;
  return x.inclusive === y.inclusive && x.prefix.equals(y.prefix);
}

/** Union of two range-tombstone lists; identical ranges keep the greater deletion. */
export function mergeRangeTombstones(a: ReadonlyArray<RangeTombstone>, b: ReadonlyArray<RangeTombstone>): RangeTombstone[] {
  if (b.length === 0) return a.slice();
  const out = a.slice();
  for (const rt of b) {
    const i = out.findIndex((x) => sameBound(x.start, rt.start) && sameBound(x.end, rt.end));
    if (i < 0) out.push(rt);
    else out[i] = { ...rt, deletion: maxDeletion(out[i]!.deletion, rt.deletion)! };
  }
  return out;
}

/** The strongest deletion covering a row: the partition's, its range tombstones', its own. */
export function coveringDeletion(header: PartitionHeader, clustering: Buffer): DeletionTime | undefined {
  let d = header.deletion;
  for (const rt of header.rangeTombstones) {
    if (inRange(clustering, rt.start, rt.end)) d = maxDeletion(d, rt.deletion);
  }
  return d;
}

/** `row` with what is left of its parts, or null when nothing is left. */
function rowOrNull(
  row: Row,
  left: { liveness: Liveness | undefined; deletion: DeletionTime | undefined; complexDeletions: ComplexDeletion[] | undefined; cells: ReadonlyArray<Cell> },
): Row | null {
  const complexDeletions = left.complexDeletions !== undefined && left.complexDeletions.length > 0 ? left.complexDeletions : undefined;
  if (left.liveness === undefined && left.deletion === undefined && left.cells.length === 0 && complexDeletions === undefined) return null;
  return { clustering: row.clustering, liveness: left.liveness, deletion: left.deletion, complexDeletions, cells: left.cells, version: row.version };
}

/**
 * Removes from `row` whatever `covering` (or the row's own deletions) shadow. Returns null when
 * nothing remains. Tombstones that are not themselves shadowed are kept.
 */
export function removeShadowed(row: Row, covering: DeletionTime | undefined): Row | null {
  const rowDeletion = row.deletion !== undefined && !shadows(covering, row.deletion.ts) ? row.deletion : undefined;
  const effective = maxDeletion(covering, rowDeletion);
  const liveness = row.liveness !== undefined && !shadows(effective, row.liveness.ts) ? row.liveness : undefined;
  const complexDeletions = row.complexDeletions?.filter((c) => !shadows(effective, c.deletion.ts));
  let cells = row.cells;
  if (effective !== undefined || (complexDeletions !== undefined && complexDeletions.length > 0)) {
    cells = row.cells.filter((cell) => {
      if (shadows(effective, cell.ts)) return false;
      if (cell.path === undefined || complexDeletions === undefined) return true;
      const cd = complexDeletions.find((c) => c.column === cell.column);
      return cd === undefined || !shadows(cd.deletion, cell.ts);
    });
  }
  return rowOrNull(row, { liveness, deletion: rowDeletion, complexDeletions, cells });
}

/** A row is live (visible to SELECT) when its marker or any of its cells is live. */
export function isRowLive(row: Row, nowSec: number): boolean {
  if (row.liveness !== undefined && isLivenessLive(row.liveness, nowSec)) return true;
  for (const cell of row.cells) if (isCellLive(cell, nowSec)) return true;
  return false;
}

/** Compaction's purge rule inputs: see `purgeRow`. */
export interface PurgeRule {
  /** Seconds: tombstones deleted before this instant have outlived gc_grace_seconds. */
  readonly gcBeforeSec: number;
  /**
   * Tombstones at or above this timestamp may still shadow data in SSTables or memtables outside
   * the compaction, so they are kept regardless of age.
   */
  readonly maxPurgeableTs: number;
  readonly nowSec: number;
}

function purgeable(d: DeletionTime, rule: PurgeRule): boolean {
  return d.ldt < rule.gcBeforeSec && d.ts < rule.maxPurgeableTs;
}

/**
 * Drops tombstones, and expired cells and markers, once past gc_grace (counted from when
 * they were written, for expired data, as Cassandra does) and unable to shadow anything outside
 * the compaction. Until then an expired cell is kept as it is: it still shadows older values,
 * and turning it into a tombstone would change how it breaks timestamp ties.
 */
export function purgeRow(row: Row, rule: PurgeRule): Row | null {
  const deletion = row.deletion !== undefined && !purgeable(row.deletion, rule) ? row.deletion : undefined;
  let liveness = row.liveness;
  if (liveness !== undefined && !isLivenessLive(liveness, rule.nowSec)) {
    liveness = purgeable({ ts: liveness.ts, ldt: liveness.expiresAt - liveness.ttl }, rule) ? undefined : liveness;
  }
  const complexDeletions = row.complexDeletions?.filter((c) => !purgeable(c.deletion, rule));
  const cells = row.cells.filter((cell) => {
    if (cell.value === null) return !purgeable({ ts: cell.ts, ldt: cell.ldt }, rule);
    if (cell.ttl !== 0 && cell.ldt <= rule.nowSec) return !purgeable({ ts: cell.ts, ldt: cell.ldt - cell.ttl }, rule);
    return true;
  });
  return rowOrNull(row, { liveness, deletion, complexDeletions, cells });
}

export function purgeHeader(header: PartitionHeader, rule: PurgeRule): PartitionHeader {
  return {
    deletion: header.deletion !== undefined && !purgeable(header.deletion, rule) ? header.deletion : undefined,
    rangeTombstones: header.rangeTombstones.filter((rt) => !purgeable(rt.deletion, rule)),
  };
}

/** Running min and max of write timestamps, for SSTable metadata and purge decisions. */
export interface TimestampRange {
  min: number;
  max: number;
}

function widen(acc: TimestampRange, ts: number): void {
  if (ts < acc.min) acc.min = ts;
  if (ts > acc.max) acc.max = ts;
}

export function rowTimestamps(row: Row, acc: TimestampRange): void {
  if (row.liveness) widen(acc, row.liveness.ts);
  if (row.deletion) widen(acc, row.deletion.ts);
  if (row.complexDeletions) for (const c of row.complexDeletions) widen(acc, c.deletion.ts);
  for (const c of row.cells) widen(acc, c.ts);
}

export function headerTimestamps(h: PartitionHeader, acc: TimestampRange): void {
  if (h.deletion) widen(acc, h.deletion.ts);
  for (const rt of h.rangeTombstones) widen(acc, rt.deletion.ts);
}
