/**
 * One ring and the ownership figures computed on it, memoised per replication: effective
 * ownership is O(T²) at worst, and status requests and metric scrapes ask for it often.
 * Bounded: at most MAX_MEMOISED_REPLICATIONS replications are kept per ring.
 */
import type { Replication } from '../schema/schema.js';
import { effectiveOwnership } from './replication-strategy.js';
import type { Endpoint, TokenMetadata } from './token-metadata.js';

/** Replications whose effective ownership is kept per ring (keyspaces usually share a few). */
const MAX_MEMOISED_REPLICATIONS = 64;

export class RingPlacement {
  readonly ownership: Map<Endpoint, number>;
  private readonly effectiveByReplication = new Map<string, Map<Endpoint, number>>();

  constructor(
    readonly key: string,
    readonly ring: TokenMetadata,
  ) {
    this.ownership = ring.ownership();
  }

  /** Effective ownership under `replication`, or the plain ring share without one. */
  owns(replication: Replication | undefined): Map<Endpoint, number> {
    if (replication === undefined) return this.ownership;
    const key = replicationKey(replication);
    let owns = this.effectiveByReplication.get(key);
    if (owns === undefined) {
      if (this.effectiveByReplication.size >= MAX_MEMOISED_REPLICATIONS) this.effectiveByReplication.clear();
      owns = effectiveOwnership(replication, this.ring);
      this.effectiveByReplication.set(key, owns);
    }
    return owns;
  }
}

function replicationKey(r: Replication): string {
  if (r.class === 'SimpleStrategy') return `S:${r.replicationFactor}`;
  return `N:${Object.entries(r.datacenters)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([dc, rf]) => `${dc}=${rf}`)
    .join(',')}`;
}
