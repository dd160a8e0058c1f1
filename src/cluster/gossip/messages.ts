/**
 * The four gossip messages, as plain values (Cassandra: `GossipDigestSyn`, `GossipDigestAck`,
 * `GossipDigestAck2`, `GossipShutdown`).
 *
 * Pattern: Gossip Dissemination (Joshi). One exchange is three messages, started by the node
 * whose round it is:
 *
 *     A → B  SYN   {clusterName, digests}: (endpoint, generation, maxVersion) for all A knows
 *     B → A  ACK   {digests: what B wants from A, states: what A is missing, as deltas}
 *     A → B  ACK2  {states: what B asked for}
 *
 * so both sides end the exchange with the newer of the two views of every endpoint they
 * mentioned. `SHUTDOWN` announces a graceful stop so peers mark the node DOWN at once instead
 * of waiting for the failure detector.
 *
 * The gossiper produces and consumes these; the driver moves them (gossip-codec.ts and
 * src/proto/gossip.proto are their wire form). Bounds: see limits.ts; the codec enforces them on
 * decode and the gossiper never builds a message beyond them.
 */
import type { EndpointStateEntry, GossipDigest } from './endpoint-state.js';

export interface GossipSyn {
  readonly kind: 'syn';
  /** A SYN from another cluster is ignored (and counted): its state never enters ours. */
  readonly clusterName: string;
  readonly digests: readonly GossipDigest[];
}

export interface GossipAck {
  readonly kind: 'ack';
  /** Requests: send me every version of `endpoint` above `maxVersion` (0: the whole state). */
  readonly digests: readonly GossipDigest[];
  /** Deltas the SYN's sender is missing. */
  readonly states: readonly EndpointStateEntry[];
}

export interface GossipAck2 {
  readonly kind: 'ack2';
  readonly states: readonly EndpointStateEntry[];
}

export interface GossipShutdown {
  readonly kind: 'shutdown';
  /** The node shutting down: must be the sender. */
  readonly endpoint: string;
  /** Its generation: a shutdown of an older incarnation is ignored. */
  readonly generation: number;
}

export type GossipMessage = GossipSyn | GossipAck | GossipAck2 | GossipShutdown;
