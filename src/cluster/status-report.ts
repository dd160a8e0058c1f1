/**
 * `GET /v1/status`, `GET /v1/ring` and `GET /v1/endpoints` (SPEC 3.3): one node's view of the
 * cluster, the data behind `ringtail status|ring|endpoints` and the convergence check of
 * `ringtail cluster up`.
 *
 * Ownership (`owns`) is a fraction of the token space, 0..1 per node: the share it is the
 * primary replica of (the plain ring share), or, for a keyspace, the share it holds a replica
 * of (`Owns (effective)`, summing to the replication factor over a datacenter's nodes). It is
 * null for a node that is not on the ring (no tokens yet, or JOINING).
 *
 * States (#7; how gossip's STATUS and REMOVALS become them: cluster/membership/membership-view.ts):
 * a JOINING node is listed with the tokens it will own; a LEAVING one (decommissioning, or a
 * dead node some node is removing) is still on the ring; LEFT and removed nodes are not listed.
 */

export type NodeLiveness = 'UP' | 'DOWN';
export type NodeState = 'NORMAL' | 'JOINING' | 'LEAVING' | 'MOVING';

export interface NodeStatus {
  readonly host_id: string;
  readonly name: string;
  /** The node's internode address (its identity on the ring), `host:port`. */
  readonly internode: string;
  readonly address: string;
  readonly http: string;
  readonly datacenter: string;
  readonly rack: string;
  readonly status: NodeLiveness;
  readonly state: NodeState;
  /** Bytes of SSTables and commit log on disk, as last gossiped. */
  readonly load_bytes: number;
  /** The node's tokens as decimal strings. */
  readonly tokens: readonly string[];
  readonly schema_version: string;
  readonly generation: number;
  /** Suspicion of the failure detector for this peer; 0 for the local node. */
  readonly phi: number;
  /** Fraction of the ring owned (see the header); null when the node is not on the ring. */
  readonly owns: number | null;
}

export interface StatusReport {
  readonly cluster_name: string;
  /** host_id of the answering node. */
  readonly local: string;
  readonly nodes: readonly NodeStatus[];
}

/** `GET /v1/ring`: one entry per ring token, in ring order (ascending tokens). */
export interface RingEntry {
  /** Decimal string. */
  readonly token: string;
  readonly host_id: string;
  readonly address: string;
  readonly internode: string;
  readonly datacenter: string;
  readonly rack: string;
  readonly status: NodeLiveness;
  readonly state: NodeState;
  readonly load_bytes: number;
  /** The owning node's ownership (as in `NodeStatus.owns`). */
  readonly owns: number | null;
}

/** One replica in `GET /v1/endpoints`, in preference order. */
export interface EndpointReplica {
  readonly host_id: string;
  readonly address: string;
  readonly datacenter: string;
  readonly rack: string;
  readonly up: boolean;
}

/** `GET /v1/endpoints`: a partition key's token and replicas. */
export interface EndpointsReport {
  /** Decimal string. */
  readonly token: string;
  readonly replicas: readonly EndpointReplica[];
}
