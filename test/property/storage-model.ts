/**
 * A plain, event-sourced model of one table, for the storage property test
 * (storage-model.test.ts). Written independently of src/storage/data/reconcile.ts: it keeps
 * every write event ever made and answers "what does SELECT see now" by scanning them all.
 *
 * Rules (the spec's, restated):
 * - Cells: among all writes of one (partition, clustering, column) the winner is the one with
 *   the higher timestamp; on a tie a tombstone beats a value, then the greater value bytes,
 *   then the one that lives longer (no TTL counts as forever). The rule never looks at the
 *   time of reading, so every merge, whenever it happens, picks the same winner.
 *   The winner is visible iff it is live and no deletion covering it (partition deletion,
 *   range tombstone, row deletion) has a timestamp >= its timestamp.
 * - Row markers: the winner has the higher timestamp; on a tie the one that lives longer.
 *   Visible iff live and not shadowed by a covering deletion.
 * - A row is visible iff it has a visible cell or a visible marker.
 * - Clustering bounds have prefix semantics: an inclusive bound includes every clustering that
 *   starts with its prefix, an exclusive bound excludes them.
 */

export interface ModelBound {
  readonly prefix: Buffer;
  readonly inclusive: boolean;
}

/** A partition: its token and key bytes. */
export interface ModelPartitionKey {
  readonly token: bigint;
  readonly key: Buffer;
}

export type ModelEvent =
  | {
      readonly kind: 'cell';
      readonly pk: ModelPartitionKey;
      readonly ck: Buffer;
      readonly column: string;
      /** null: a cell tombstone. */
      readonly value: Buffer | null;
      readonly ts: number;
      readonly ttl: number;
      /** Seconds: expiry for an expiring cell, deletion time for a tombstone, else 0. */
      readonly ldt: number;
    }
  | { readonly kind: 'marker'; readonly pk: ModelPartitionKey; readonly ck: Buffer; readonly ts: number; readonly ttl: number; readonly expiresAt: number }
  | { readonly kind: 'rowDelete'; readonly pk: ModelPartitionKey; readonly ck: Buffer; readonly ts: number }
  | {
      readonly kind: 'rangeDelete';
      readonly pk: ModelPartitionKey;
      readonly start: ModelBound | null;
      readonly end: ModelBound | null;
      readonly ts: number;
    }
  | { readonly kind: 'partitionDelete'; readonly pk: ModelPartitionKey; readonly ts: number };

/** What SELECT sees of one row: its clustering and its visible cells sorted by column. */
export interface VisibleRow {
  readonly ck: string; // hex
  readonly cells: ReadonlyArray<readonly [column: string, value: string /* hex */]>;
}

export interface VisiblePartition {
  readonly token: bigint;
  readonly key: string; // hex
  readonly rows: ReadonlyArray<VisibleRow>;
}

function startsWithBytes(value: Buffer, prefix: Buffer): boolean {
  if (value.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (value[i] !== prefix[i]) return false;
  return true;
}

/** Plain lexicographic unsigned byte order (written out, not Buffer.compare, on purpose). */
export function compareBytes(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return a.length - b.length < 0 ? -1 : a.length === b.length ? 0 : 1;
}

export function modelAfterStart(ck: Buffer, start: ModelBound | null): boolean {
  if (start === null) return true;
  // Inclusive: everything from the prefix on (its extensions sort after it anyway).
  if (start.inclusive) return compareBytes(ck, start.prefix) >= 0;
  // Exclusive: strictly after the prefix and after all of its extensions.
  return compareBytes(ck, start.prefix) > 0 && !startsWithBytes(ck, start.prefix);
}

export function modelBeforeEnd(ck: Buffer, end: ModelBound | null): boolean {
  if (end === null) return true;
  // Inclusive: up to the prefix, plus every extension of it.
  if (end.inclusive) return compareBytes(ck, end.prefix) <= 0 || startsWithBytes(ck, end.prefix);
  // Exclusive: strictly before the prefix (extensions sort after it, so they are out).
  return compareBytes(ck, end.prefix) < 0;
}

export function modelInSlice(ck: Buffer, start: ModelBound | null, end: ModelBound | null): boolean {
  return modelAfterStart(ck, start) && modelBeforeEnd(ck, end);
}

function samePk(a: ModelPartitionKey, b: ModelPartitionKey): boolean {
  return a.token === b.token && a.key.equals(b.key);
}

/** Ring order: token, then key bytes. */
export function comparePartitionKeys(a: ModelPartitionKey, b: ModelPartitionKey): number {
  if (a.token !== b.token) return a.token < b.token ? -1 : 1;
  return compareBytes(a.key, b.key);
}

type CellEvent = Extract<ModelEvent, { kind: 'cell' }>;
type MarkerEvent = Extract<ModelEvent, { kind: 'marker' }>;

export class StorageModel {
  readonly events: ModelEvent[] = [];

  record(event: ModelEvent): void {
    this.events.push(event);
  }

  /** Every partition that was ever written to, in ring order. */
  partitionKeys(): ModelPartitionKey[] {
    const out: ModelPartitionKey[] = [];
    for (const e of this.events) if (!out.some((p) => samePk(p, e.pk))) out.push(e.pk);
    return out.sort(comparePartitionKeys);
  }

  /** The highest deletion timestamp covering (pk, ck), or -Infinity. */
  private coveringDeletionTs(events: ReadonlyArray<ModelEvent>, ck: Buffer): number {
    let ts = Number.NEGATIVE_INFINITY;
    for (const e of events) {
      if (e.kind === 'partitionDelete') ts = Math.max(ts, e.ts);
      else if (e.kind === 'rangeDelete' && modelInSlice(ck, e.start, e.end)) ts = Math.max(ts, e.ts);
      else if (e.kind === 'rowDelete' && e.ck.equals(ck)) ts = Math.max(ts, e.ts);
    }
    return ts;
  }

  private static cellLive(c: CellEvent, nowSec: number): boolean {
    return c.value !== null && (c.ttl === 0 || c.ldt > nowSec);
  }

  private static markerLive(m: MarkerEvent, nowSec: number): boolean {
    return m.ttl === 0 || m.expiresAt > nowSec;
  }

  /** How long a write lives, for ties: forever unless it has a TTL. */
  private static lifetime(ttl: number, expiresAt: number): number {
    return ttl === 0 ? Number.POSITIVE_INFINITY : expiresAt;
  }

  /** True when `a` beats `b` (same cell). The rule never depends on the time of reading. */
  private static cellBeats(a: CellEvent, b: CellEvent): boolean {
    if (a.ts !== b.ts) return a.ts > b.ts;
    if ((a.value === null) !== (b.value === null)) return a.value === null;
    if (a.value === null || b.value === null) return a.ldt > b.ldt;
    const c = compareBytes(a.value, b.value);
    if (c !== 0) return c > 0;
    return StorageModel.lifetime(a.ttl, a.ldt) > StorageModel.lifetime(b.ttl, b.ldt);
  }

  private static markerBeats(a: MarkerEvent, b: MarkerEvent): boolean {
    if (a.ts !== b.ts) return a.ts > b.ts;
    return StorageModel.lifetime(a.ttl, a.expiresAt) > StorageModel.lifetime(b.ttl, b.expiresAt);
  }

  /** What SELECT sees of one partition at `nowSec`, all rows in clustering order. */
  visibleRows(pk: ModelPartitionKey, nowSec: number): VisibleRow[] {
    const events = this.events.filter((e) => samePk(e.pk, pk));
    const cks: Buffer[] = [];
    for (const e of events) {
      if ((e.kind === 'cell' || e.kind === 'marker') && !cks.some((c) => c.equals(e.ck))) cks.push(e.ck);
    }
    cks.sort(compareBytes);
    const out: VisibleRow[] = [];
    for (const ck of cks) {
      const deletedTs = this.coveringDeletionTs(events, ck);
      const winners = new Map<string, CellEvent>();
      let marker: MarkerEvent | undefined;
      for (const e of events) {
        if (e.kind === 'cell' && e.ck.equals(ck)) {
          const w = winners.get(e.column);
          if (w === undefined || StorageModel.cellBeats(e, w)) winners.set(e.column, e);
        } else if (e.kind === 'marker' && e.ck.equals(ck)) {
          if (marker === undefined || StorageModel.markerBeats(e, marker)) marker = e;
        }
      }
      const cells: [string, string][] = [];
      for (const [column, w] of winners) {
        if (StorageModel.cellLive(w, nowSec) && w.ts > deletedTs) cells.push([column, w.value!.toString('hex')]);
      }
      cells.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const markerVisible = marker !== undefined && StorageModel.markerLive(marker, nowSec) && marker.ts > deletedTs;
      if (cells.length > 0 || markerVisible) out.push({ ck: ck.toString('hex'), cells });
    }
    return out;
  }

  /** SELECT with a clustering slice, direction and limit (counting visible rows). */
  select(
    pk: ModelPartitionKey,
    nowSec: number,
    query: { start?: ModelBound | null; end?: ModelBound | null; reversed?: boolean; limit?: number } = {},
  ): VisibleRow[] {
    let rows = this.visibleRows(pk, nowSec).filter((r) => modelInSlice(Buffer.from(r.ck, 'hex'), query.start ?? null, query.end ?? null));
    if (query.reversed === true) rows = rows.reverse();
    if (query.limit !== undefined) rows = rows.slice(0, query.limit);
    return rows;
  }

  /** Every partition with a visible row whose token lies in (startToken, endToken], in ring order. */
  scan(nowSec: number, startToken: bigint | null = null, endToken: bigint | null = null): VisiblePartition[] {
    const out: VisiblePartition[] = [];
    for (const pk of this.partitionKeys()) {
      if (startToken !== null && pk.token <= startToken) continue;
      if (endToken !== null && pk.token > endToken) continue;
      const rows = this.visibleRows(pk, nowSec);
      if (rows.length > 0) out.push({ token: pk.token, key: pk.key.toString('hex'), rows });
    }
    return out;
  }
}
