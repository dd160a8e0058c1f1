/** Small builders for storage-level test data. */
import type { Cell, ClusteringBound, DeletionTime, PartitionUpdate, RangeTombstone, Row } from '../../src/storage/data/types.js';

export const b = (s: string): Buffer => Buffer.from(s, 'utf8');

export function cell(column: string, value: string | null, ts: number, extra: Partial<Cell> = {}): Cell {
  return { column, value: value === null ? null : b(value), ts, ttl: 0, ldt: 0, ...extra };
}

export function row(clustering: string, cells: Cell[], extra: Partial<Row> = {}): Row {
  return { clustering: b(clustering), cells, ...extra };
}

export function update(token: bigint, key: string, rows: Row[], extra: Partial<PartitionUpdate> = {}): PartitionUpdate {
  return { token, key: b(key), rangeTombstones: [], rows, ...extra };
}

export const del = (ts: number, ldt = 1_700_000_000): DeletionTime => ({ ts, ldt });

export function bound(prefix: string, inclusive: boolean): ClusteringBound {
  return { prefix: b(prefix), inclusive };
}

export function rangeTombstone(start: ClusteringBound | null, end: ClusteringBound | null, deletion: DeletionTime): RangeTombstone {
  return { start, end, deletion };
}

/** Visible (column → value) of a row, for assertions. */
export function values(r: Row | undefined): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const c of r?.cells ?? []) out[c.path ? `${c.column}[${c.path.toString()}]` : c.column] = c.value?.toString() ?? null;
  return out;
}
