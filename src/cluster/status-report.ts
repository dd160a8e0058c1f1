/**
 * `GET /v1/status`: one node's view of the cluster, the data behind `ringtail status` and the
 * convergence check of `ringtail cluster up`.
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
}

export interface StatusReport {
  readonly cluster_name: string;
  /** host_id of the answering node. */
  readonly local: string;
  readonly nodes: readonly NodeStatus[];
}
