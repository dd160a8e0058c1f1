/**
 * Replica placement: which endpoints hold the data of a token, in preference order, for a
 * keyspace's replication (SPEC 6.2), and how much of the ring each endpoint then holds.
 *
 * Pattern: Consistent Hashing with replication (Joshi, *Patterns of Distributed Systems*;
 * Dynamo §4.3's preference list). Cassandra concepts: `SimpleStrategy` and
 * `NetworkTopologyStrategy.calculateNaturalReplicas`, and `StorageService.effectiveOwnership`
 * behind `nodetool status KEYSPACE`'s `Owns (effective)`.
 *
 * - SimpleStrategy: walk the ring clockwise from the first token >= the key's token (wrapping)
 *   and take each endpoint not taken yet, until RF endpoints or the ring runs out.
 * - NetworkTopologyStrategy: one clockwise walk serves every datacenter. Per datacenter, RF is
 *   capped at its endpoint count; an endpoint on a rack not yet used in its datacenter is always
 *   taken; one on a used rack is taken only while the datacenter may still repeat racks
 *   (RF − its rack count repeats in all), so every rack gets a replica before any rack gets a
 *   second one whenever RF allows. This is Cassandra's single-pass algorithm; the order of the
 *   result is the order of the walk (the first replica is the primary).
 *
 * Invariants: replicas are distinct; the result depends only on (token, replication, ring);
 * for each range of the ring, the replica set is the same for every token in it.
 *
 * Bounds: a walk visits at most every ring token once (O(T) per lookup, usually O(RF));
 * `effectiveOwnership` does one lookup per ring token, O(T²) in the worst case, which is why
 * callers memoise it per ring (cluster-service.ts).
 */
import type { Replication } from '../schema/schema.js';
import { assert } from '../util/assert.js';
import { fractionOfRing, rangeSize, type Endpoint, type TokenMetadata } from './token-metadata.js';

// #region pattern:Consistent Hashing
/** The endpoints that replicate `token`, primary first. Empty for an empty ring or RF 0. */
export function replicasFor(token: bigint, replication: Replication, ring: TokenMetadata): Endpoint[] {
  if (ring.size === 0) return [];
  return replicasFromIndex(ring.firstIndexAtOrAfter(token), replication, ring);
}

/** The replicas of the range that ring token `start` ends, walking clockwise from it. */
function replicasFromIndex(start: number, replication: Replication, ring: TokenMetadata): Endpoint[] {
  return replication.class === 'SimpleStrategy'
    ? simpleReplicas(start, replication.replicationFactor, ring)
    : networkTopologyReplicas(start, replication.datacenters, ring);
}

function simpleReplicas(start: number, replicationFactor: number, ring: TokenMetadata): Endpoint[] {
  const replicas: Endpoint[] = [];
  const taken = new Set<Endpoint>();
  for (let step = 0; step < ring.size && replicas.length < replicationFactor; step++) {
    const endpoint = ring.owners[(start + step) % ring.size]!;
    if (taken.has(endpoint)) continue;
    taken.add(endpoint);
    replicas.push(endpoint);
  }
  return replicas;
}

/** How one datacenter's replicas are filling up during the walk. */
interface DatacenterFill {
  /** Replicas still to place here. */
  remaining: number;
  /** Replicas that may still go to a rack that already has one. */
  rackRepeatsAllowed: number;
  readonly racksUsed: Set<string>;
}

function networkTopologyReplicas(start: number, factors: Readonly<Record<string, number>>, ring: TokenMetadata): Endpoint[] {
  const fills = new Map<string, DatacenterFill>();
  for (const [datacenter, shape] of ring.datacenters()) {
    const factor = Math.min(factors[datacenter] ?? 0, shape.endpoints);
    if (factor <= 0) continue;
    fills.set(datacenter, { remaining: factor, rackRepeatsAllowed: factor - shape.racks, racksUsed: new Set() });
  }
  let datacentersToFill = fills.size;
  const replicas: Endpoint[] = [];
  const taken = new Set<Endpoint>();
  for (let step = 0; step < ring.size && datacentersToFill > 0; step++) {
    const endpoint = ring.owners[(start + step) % ring.size]!;
    if (taken.has(endpoint)) continue;
    const location = ring.location(endpoint)!;
    const fill = fills.get(location.datacenter);
    if (fill === undefined || fill.remaining === 0) continue;
    if (fill.racksUsed.has(location.rack)) {
      // A repeat now must not cost a rack that has no replica yet its turn.
      if (fill.rackRepeatsAllowed <= 0) continue;
      fill.rackRepeatsAllowed--;
    } else {
      fill.racksUsed.add(location.rack);
    }
    taken.add(endpoint);
    replicas.push(endpoint);
    fill.remaining--;
    if (fill.remaining === 0) datacentersToFill--;
  }
  assert(datacentersToFill === 0, 'a full walk of the ring places every capped replica');
  return replicas;
}
// #endregion

/**
 * Per endpoint on the ring, the share of the token space it holds a replica of under
 * `replication` (nodetool's `Owns (effective)`): the sum over every range it replicates. Per
 * datacenter the shares sum to that datacenter's RF, capped at its endpoint count.
 */
export function effectiveOwnership(replication: Replication, ring: TokenMetadata): Map<Endpoint, number> {
  const held = new Map<Endpoint, bigint>();
  for (const endpoint of ring.endpoints()) held.set(endpoint, 0n);
  for (let i = 0; i < ring.size; i++) {
    const { start, end } = ring.rangeAt(i);
    const size = rangeSize(start, end);
    for (const endpoint of replicasFromIndex(i, replication, ring)) held.set(endpoint, held.get(endpoint)! + size);
  }
  return new Map([...held].map(([endpoint, size]) => [endpoint, fractionOfRing(size)]));
}

/** The total replication factor: RF, or the sum of the datacenters' factors. */
export function totalReplicationFactor(replication: Replication): number {
  if (replication.class === 'SimpleStrategy') return replication.replicationFactor;
  return Object.values(replication.datacenters).reduce((sum, rf) => sum + rf, 0);
}
