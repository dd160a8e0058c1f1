/**
 * The pure decisions of a repair coordinator (Cassandra: `RepairJob`, which turns the trees of a
 * range's replicas into `SyncTask`s): which replicas hold which ring ranges, how deep each
 * range's tree is, how ranges are batched into requests, and which transfers make the replicas
 * of a range identical once their trees are known.
 *
 * Sync rule: replicas whose trees have the same root hold the same data (a group). For every
 * two groups G and H, the differing ranges of their trees are streamed from one member of G to
 * every member of H and from one member of H to every member of G. Afterwards every replica
 * has received every other group's data, so all hold the union (merging is a join): the same
 * data. Streaming from one member per group, not from each, sends each missing row to a
 * replica once per group that has it, instead of once per replica that has it.
 *
 * Pure: no I/O; O(ranges × RF) per plan, plus the tree walks of `differences`.
 */
import type { Replication } from '../schema/schema.js';
import { replicasFor } from '../ring/replication-strategy.js';
import type { Endpoint, TokenMetadata, TokenRange } from '../ring/token-metadata.js';
import { assert } from '../util/assert.js';
import { TARGET_PARTITIONS_PER_LEAF } from './limits.js';
import { differences, MAX_MERKLE_DEPTH, maxDepthFor, type MerkleTree } from './merkle-tree.js';
import type { RangeDepth } from './validation.js';

export interface ReplicatedRange {
  readonly range: TokenRange;
  /** In preference order (primary first). */
  readonly replicas: readonly Endpoint[];
}

/** Every range of the ring (one per ring token) with its replicas under `replication`. */
export function ringRanges(ring: TokenMetadata, replication: Replication): ReplicatedRange[] {
  const out: ReplicatedRange[] = [];
  for (let i = 0; i < ring.size; i++) {
    const range = ring.rangeAt(i);
    out.push({ range, replicas: replicasFor(range.end, replication, ring) });
  }
  return out;
}

/** The deepest tree a request's leaf budget allows for one range. */
export function depthCapFor(leafBudget: number): number {
  assert(Number.isSafeInteger(leafBudget) && leafBudget >= 1, `leaf budget ${leafBudget}`);
  return Math.min(MAX_MERKLE_DEPTH, Math.floor(Math.log2(leafBudget)));
}

/**
 * Depth for a range of about `partitions` partitions: leaves of about
 * TARGET_PARTITIONS_PER_LEAF partitions, within `depthCap` and what the range's size allows.
 */
export function chooseDepth(partitions: number, range: TokenRange, depthCap: number): number {
  const wanted = partitions <= TARGET_PARTITIONS_PER_LEAF ? 0 : Math.ceil(Math.log2(partitions / TARGET_PARTITIONS_PER_LEAF));
  return Math.max(0, Math.min(wanted, depthCap, maxDepthFor(range)));
}

/**
 * Consecutive runs of `ranges` whose trees together stay within `leafBudget` leaves and
 * `maxRanges` ranges: one tree request per replica per batch. Every range fits a batch alone
 * (its depth is at most `depthCapFor(leafBudget)`).
 */
export function batchByLeaves<T extends RangeDepth>(ranges: readonly T[], leafBudget: number, maxRanges: number): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let leaves = 0;
  for (const r of ranges) {
    const size = 2 ** r.depth;
    assert(size <= leafBudget, `a tree of depth ${r.depth} exceeds the leaf budget ${leafBudget}`);
    if (current.length > 0 && (leaves + size > leafBudget || current.length >= maxRanges)) {
      batches.push(current);
      current = [];
      leaves = 0;
    }
    current.push(r);
    leaves += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

export interface Transfer {
  readonly source: Endpoint;
  readonly target: Endpoint;
  readonly ranges: readonly TokenRange[];
}

export interface RangeSync {
  /** Replicas grouped by identical trees; one group = the replicas agree. */
  readonly groups: readonly (readonly Endpoint[])[];
  readonly transfers: readonly Transfer[];
}

// #region pattern:Merkle Tree
/** The transfers that make the replicas of one range identical (see the module header). */
export function planRangeSync(trees: ReadonlyArray<{ readonly endpoint: Endpoint; readonly tree: MerkleTree }>): RangeSync {
  const byRoot = new Map<string, { endpoint: Endpoint; tree: MerkleTree }[]>();
  for (const t of trees) {
    const key = t.tree.root.toString('hex');
    const group = byRoot.get(key);
    if (group === undefined) byRoot.set(key, [{ ...t }]);
    else group.push({ ...t });
  }
  const groups = [...byRoot.values()];
  const transfers: Transfer[] = [];
  for (let i = 0; i < groups.length; i++) {
    for (let j = i + 1; j < groups.length; j++) {
      const g = groups[i]!;
      const h = groups[j]!;
      const ranges = differences(g[0]!.tree, h[0]!.tree);
      if (ranges.length === 0) continue;
      for (const member of h) transfers.push({ source: g[0]!.endpoint, target: member.endpoint, ranges });
      for (const member of g) transfers.push({ source: h[0]!.endpoint, target: member.endpoint, ranges });
    }
  }
  return { groups: groups.map((g) => g.map((m) => m.endpoint)), transfers };
}
// #endregion
