/**
 * Which token ranges change replicas when the ring changes (a node joins, leaves or is
 * removed), and who gains and who loses each of them. Pure: two rings and a replication in,
 * a list of movements out.
 *
 * Cassandra concepts: `RangeStreamer.calculateRangesToFetchWithPreferredEndpoints` (a
 * bootstrapping node's ranges and their sources), `StorageService.calculateStreamAndFetchRanges`
 * (decommission) and `TokenMetadata.calculatePendingRanges` (pending-ranges.ts uses this same
 * plan: the endpoints a range gains are its pending endpoints while the change is under way).
 * Pattern: Consistent Hashing (Joshi), whose point is that a ring change moves only the ranges
 * next to the tokens that come and go.
 *
 * How: the tokens of both rings together cut the token space into elementary ranges; within
 * one of them every token has the same replicas in either ring (a replica set only changes at
 * a ring token), so one lookup per elementary range and per ring decides it. A range whose
 * replica *set* differs is a movement; `gained` = after − before, `lost` = before − after, each
 * in the preference order of its ring. Consecutive movements with the same `before` and
 * `after` lists (in order) are merged, also across the wrap-around point.
 *
 * Invariants (tested): the movements are disjoint, in ring order, and cover exactly the tokens
 * whose replica set changes; every movement has a non-empty `gained` or `lost`; a range is
 * `(start, end]`, wrapping when start >= end, and `start === end` (the whole ring) only when a
 * single range changes as a whole. Lists are never shared between movements.
 *
 * Bounds: U = distinct tokens of both rings (≤ 2 × MAX_RING_TOKENS); O(U log U) to sort them and
 * 2U replica lookups (each O(RF) usually, O(T) at worst, as `replicasFor`).
 */
import { replicasFor } from '../../ring/replication-strategy.js';
import type { Endpoint, TokenMetadata, TokenRange } from '../../ring/token-metadata.js';
import type { Replication } from '../../schema/schema.js';

export interface RangeMovement {
  /** `(start, end]`, wrapping when start >= end. */
  readonly range: TokenRange;
  /** The range's replicas in the ring before the change, in preference order. */
  readonly before: readonly Endpoint[];
  /** Its replicas in the ring after the change, in preference order. */
  readonly after: readonly Endpoint[];
  /** In `after` but not in `before`: the endpoints that must receive the range's data. */
  readonly gained: readonly Endpoint[];
  /** In `before` but not in `after`: the endpoints that stop replicating it. */
  readonly lost: readonly Endpoint[];
}

const compareBigint = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

/** Every range whose replica set differs between `before` and `after` under `replication`, in ring order. */
export function planRangeMovements(before: TokenMetadata, after: TokenMetadata, replication: Replication): RangeMovement[] {
  const boundaries = unionOfTokens(before, after);
  const pieces: RangeMovement[] = [];
  for (let i = 0; i < boundaries.length; i++) {
    const end = boundaries[i]!;
    const start = boundaries[i === 0 ? boundaries.length - 1 : i - 1]!;
    const was = replicasFor(end, replication, before);
    const will = replicasFor(end, replication, after);
    const gained = will.filter((e) => !was.includes(e));
    const lost = was.filter((e) => !will.includes(e));
    if (gained.length === 0 && lost.length === 0) continue;
    const previous = pieces[pieces.length - 1];
    if (previous !== undefined && previous.range.end === start && sameList(previous.before, was) && sameList(previous.after, will)) {
      pieces[pieces.length - 1] = { ...previous, range: { start: previous.range.start, end } };
      continue;
    }
    pieces.push({ range: { start, end }, before: was, after: will, gained, lost });
  }
  return mergeAcrossWrap(pieces);
}

/** The first and last movements meet at the wrap-around point: one range, unless that would be the whole ring twice over. */
function mergeAcrossWrap(pieces: RangeMovement[]): RangeMovement[] {
  if (pieces.length < 2) return pieces;
  const first = pieces[0]!;
  const last = pieces[pieces.length - 1]!;
  if (last.range.end !== first.range.start || !sameList(first.before, last.before) || !sameList(first.after, last.after)) return pieces;
  return [{ ...first, range: { start: last.range.start, end: first.range.end } }, ...pieces.slice(1, -1)];
}

function unionOfTokens(a: TokenMetadata, b: TokenMetadata): bigint[] {
  const all = [...a.tokens, ...b.tokens].sort(compareBigint);
  const out: bigint[] = [];
  for (const t of all) if (out.length === 0 || out[out.length - 1] !== t) out.push(t);
  return out;
}

function sameList(a: readonly Endpoint[], b: readonly Endpoint[]): boolean {
  return a.length === b.length && a.every((e, i) => e === b[i]);
}
