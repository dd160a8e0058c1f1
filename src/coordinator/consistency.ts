/**
 * Consistency levels (SPEC 6.3): how many replica responses a request needs, from which
 * datacenters, and whether enough replicas are alive to try at all.
 *
 * Pattern: Majority Quorum (Joshi, *Patterns of Distributed Systems*), generalised the way
 * Cassandra's tunable consistency does it (`ConsistencyLevel.blockFor` / `blockForWrite`,
 * `ReplicaPlans.assureSufficientLiveReplicas`). Pure: no I/O, no time.
 *
 * A level becomes a `Requirement`: one or more *groups*, each a set of replicas (every replica,
 * or those of one datacenter) and the number of them that must answer. A request is satisfied
 * when every group is. This single shape covers every level:
 * - ANY: one group of 1 over every replica, where a stored hint also counts (the coordinator
 *   can always store one, so ANY is never unavailable).
 * - ONE, TWO, THREE: 1, 2, 3 over every replica.
 * - QUORUM: floor(total RF / 2) + 1 over every replica, total RF = the sum over datacenters.
 * - ALL: the total RF (at least 1: a keyspace with no replicas is unavailable, not vacuously
 *   satisfied; the same holds for EACH_QUORUM with no datacenter of RF > 0). Counted from the replication, not from the replicas the ring yielded: a
 *   ring with fewer endpoints than RF cannot give ALL (or QUORUM) its meaning, so it is refused
 *   as Unavailable, as Cassandra does.
 * - LOCAL_ONE: 1 in the coordinator's datacenter; LOCAL_QUORUM: floor(local RF / 2) + 1 there
 *   (SimpleStrategy has no per-datacenter RF, so its quorum is over the total RF, but only
 *   local replicas count, like Cassandra).
 * - EACH_QUORUM: one group per datacenter of NetworkTopologyStrategy with RF > 0, each needing
 *   its own local quorum; with SimpleStrategy it is QUORUM (there are no datacenters to span).
 * - SERIAL, LOCAL_SERIAL: refused (conditional updates are not supported).
 * Writes also wait for every pending replica (a node joining the range) in a group, so that a
 * range movement finishing right after the write cannot lose it (`blockForWrite`).
 *
 * Invariants: every group needs at least 1 response; `blockFor` is the sum over groups and is
 * the `block_for` of timeout and failure errors; a replica belongs to at most one group.
 *
 * Bounds: a request involves at most MAX_REPLICAS_PER_REQUEST replicas (distinct ring
 * endpoints); everything here is linear in it.
 */
import type { ConsistencyLevel } from '../cql/request.js';
import { InvalidRequest, Unavailable } from '../errors.js';
import { MAX_GOSSIP_ENDPOINTS } from '../cluster/gossip/limits.js';
import type { Endpoint } from '../ring/token-metadata.js';
import { totalReplicationFactor } from '../ring/replication-strategy.js';
import type { Replication } from '../schema/schema.js';
import { assert } from '../util/assert.js';

/** Replicas are distinct endpoints on the ring, which holds at most this many. */
export const MAX_REPLICAS_PER_REQUEST = MAX_GOSSIP_ENDPOINTS;

/** One replica of a token as the coordinator sees it. */
export interface ReplicaInfo {
  readonly endpoint: Endpoint;
  readonly datacenter: string;
  /** A node taking over the range (bootstrap, move): written to, never read from. */
  readonly pending?: boolean;
}

export type Operation = 'read' | 'write';

/** Replicas that must answer: every replica (`datacenter` null) or those of one datacenter. */
export interface ReplicaGroup {
  readonly datacenter: string | null;
  readonly required: number;
}

export interface Requirement {
  readonly consistency: ConsistencyLevel;
  /** Responses needed in all: the `block_for` of WriteTimeout, ReadTimeout and the failures. */
  readonly blockFor: number;
  readonly groups: readonly ReplicaGroup[];
  /** ANY: a hint stored by the coordinator counts as a response. */
  readonly hintsCount: boolean;
}

const quorumOf = (rf: number): number => Math.floor(rf / 2) + 1;

/** The group `replica` counts in, or -1 when its answer does not count for the level. */
export function groupIndexOf(requirement: Requirement, replica: ReplicaInfo): number {
  return requirement.groups.findIndex((g) => g.datacenter === null || g.datacenter === replica.datacenter);
}

/**
 * What `consistency` needs for a request on `replicas` (the token's replicas, with pending ones
 * for writes) of a keyspace replicated as `replication`, coordinated from `localDc`.
 * Throws InvalidRequest for SERIAL/LOCAL_SERIAL, and for ANY on a read.
 */
export function requirementFor(
  consistency: ConsistencyLevel,
  replication: Replication,
  replicas: readonly ReplicaInfo[],
  localDc: string,
  operation: Operation,
): Requirement {
  assert(replicas.length <= MAX_REPLICAS_PER_REQUEST, `${replicas.length} replicas exceed ${MAX_REPLICAS_PER_REQUEST}`);
  if (consistency === 'SERIAL' || consistency === 'LOCAL_SERIAL') {
    throw new InvalidRequest(`Consistency level ${consistency} is not supported: conditional updates (lightweight transactions) are not implemented`);
  }
  if (consistency === 'ANY' && operation === 'read') throw new InvalidRequest('ANY ConsistencyLevel is only supported for writes');
  // Reads never go to pending replicas, so they add nothing to what a read waits for.
  const pending = operation === 'write' ? replicas.filter((r) => r.pending === true) : [];
  const pendingIn = (dc: string | null): number => pending.filter((r) => dc === null || r.datacenter === dc).length;
  const all = (required: number): ReplicaGroup[] => [{ datacenter: null, required: required + pendingIn(null) }];
  const local = (required: number): ReplicaGroup[] => [{ datacenter: localDc, required: required + pendingIn(localDc) }];
  let groups: ReplicaGroup[];
  switch (consistency) {
    case 'ANY':
      // A hint stands in for any replica, pending ones included: Cassandra adds nothing here.
      return build(consistency, [{ datacenter: null, required: 1 }], true);
    case 'ONE':
      groups = all(1);
      break;
    case 'TWO':
      groups = all(2);
      break;
    case 'THREE':
      groups = all(3);
      break;
    case 'QUORUM':
      groups = all(quorumOf(totalReplicationFactor(replication)));
      break;
    case 'ALL':
      // A keyspace without replicas (every RF 0) must not meet ALL vacuously: it needs one
      // response that nothing can give, so it is Unavailable like every other level.
      groups = all(Math.max(1, totalReplicationFactor(replication)));
      break;
    case 'LOCAL_ONE':
      groups = local(1);
      break;
    case 'LOCAL_QUORUM':
      groups = local(quorumOf(localReplicationFactor(replication, localDc)));
      break;
    case 'EACH_QUORUM':
      groups = replication.class === 'SimpleStrategy' ? all(quorumOf(replication.replicationFactor)) : eachQuorum(replication.datacenters, pendingIn);
      // No datacenter with replicas: as for ALL, never met vacuously.
      if (groups.length === 0) groups = all(1);
      break;
  }
  return build(consistency, groups, false);
}

function build(consistency: ConsistencyLevel, groups: ReplicaGroup[], hintsCount: boolean): Requirement {
  const blockFor = groups.reduce((sum, g) => sum + g.required, 0);
  for (const g of groups) assert(g.required >= 1, `group ${g.datacenter ?? '*'} of ${consistency} needs no response`);
  return { consistency, blockFor, groups, hintsCount };
}

/** The local datacenter's RF; SimpleStrategy knows only a total. */
function localReplicationFactor(replication: Replication, localDc: string): number {
  if (replication.class === 'SimpleStrategy') return replication.replicationFactor;
  return replication.datacenters[localDc] ?? 0;
}

function eachQuorum(datacenters: Readonly<Record<string, number>>, pendingIn: (dc: string) => number): ReplicaGroup[] {
  // A datacenter with RF 0 holds no replica: requiring a quorum of nothing there would make
  // EACH_QUORUM impossible. Sorted so every node reports the same datacenter first.
  return Object.entries(datacenters)
    .filter(([, rf]) => rf > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([datacenter, rf]) => ({ datacenter, required: quorumOf(rf) + pendingIn(datacenter) }));
}

/** Responses `consistency` needs in all (the sum over its groups); a write by default. */
export function blockFor(
  consistency: ConsistencyLevel,
  replication: Replication,
  replicas: readonly ReplicaInfo[],
  localDc: string,
  operation: Operation = 'write',
): number {
  return requirementFor(consistency, replication, replicas, localDc, operation).blockFor;
}

// #region pattern:Majority Quorum
/**
 * Throws Unavailable when the replicas known alive cannot satisfy `requirement`: the first group
 * (in order; datacenters sorted for EACH_QUORUM) with fewer live replicas than it needs gives
 * `required` and `alive`. ANY never throws: the coordinator can always store a hint.
 */
export function checkAvailable(requirement: Requirement, replicas: readonly ReplicaInfo[], isAlive: (endpoint: Endpoint) => boolean): void {
  if (requirement.hintsCount) return;
  for (const group of requirement.groups) {
    let alive = 0;
    for (const r of replicas) if ((group.datacenter === null || r.datacenter === group.datacenter) && isAlive(r.endpoint)) alive++;
    if (alive < group.required) {
      const where = group.datacenter === null || requirement.groups.length === 1 ? '' : ` in datacenter ${group.datacenter}`;
      const error = new Unavailable(requirement.consistency, group.required, alive);
      error.message += where;
      throw error;
    }
  }
}
// #endregion

/** Where a write goes: every live replica now (pending ones included); the down ones get hints. */
export interface WriteTargets {
  readonly live: readonly ReplicaInfo[];
  readonly down: readonly ReplicaInfo[];
}

export function writeTargets(replicas: readonly ReplicaInfo[], isAlive: (endpoint: Endpoint) => boolean): WriteTargets {
  const live: ReplicaInfo[] = [];
  const down: ReplicaInfo[] = [];
  for (const r of replicas) (isAlive(r.endpoint) ? live : down).push(r);
  return { live, down };
}
