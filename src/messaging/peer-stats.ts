/**
 * Per-peer traffic counters and the statistics the metrics layer reads.
 *
 * Counters only grow (Prometheus counters); `queued`, `inFlight` and `connected` are read from
 * the live connection when `stats()` is called. One counters object per peer serves both
 * directions: our outbound connection to it and the inbound connections it opened to us.
 */
import type { WriteCounters } from './write-batcher.js';

export interface PeerCounters extends WriteCounters {
  receivedFrames: number;
  receivedBytes: number;
  /** Messages dropped: outbound queue full, or still unwritten when their connection closed. */
  dropped: number;
  /** Requests that got no response within their timeout. */
  timeouts: number;
  /** Outbound handshakes completed. */
  connects: number;
  /** Outbound connection attempts after the first (after a loss, a failure or a refusal). */
  reconnects: number;
}

export function newPeerCounters(): PeerCounters {
  return { writes: 0, sentFrames: 0, sentBytes: 0, receivedFrames: 0, receivedBytes: 0, dropped: 0, timeouts: 0, connects: 0, reconnects: 0 };
}

/** Adds `from` into `into` (a connection's pre-handshake traffic joins its peer's counters). */
export function addCounters(into: PeerCounters, from: PeerCounters): void {
  for (const key of Object.keys(from) as (keyof PeerCounters)[]) into[key] += from[key];
}

export interface PeerStats extends Readonly<PeerCounters> {
  /** `host:port` of the peer's listen address. */
  readonly peer: string;
  /** Learnt at the last completed handshake; null before. */
  readonly hostId: string | null;
  /** Our outbound connection to the peer completed its handshake and is open. */
  readonly connected: boolean;
  /** Messages waiting in our outbound queue to the peer. */
  readonly queued: number;
  /** Requests sent to the peer that wait for a response. */
  readonly inFlight: number;
}

export interface MessagingStats {
  readonly peers: readonly PeerStats[];
  /** Handshakes refused, by us or by the peer (each side counts its own). */
  readonly refusedHandshakes: number;
  /** Handshakes that did not finish within the handshake timeout. */
  readonly handshakeTimeouts: number;
  /** Connections closed because of a corrupt, hostile or out-of-protocol frame. */
  readonly corruptFrames: number;
}
