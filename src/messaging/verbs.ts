/**
 * Internode verbs: what a frame asks the receiver to do (Cassandra's `Verb`).
 *
 * A verb is the u16 in every frame header (frame.ts). Numbers are part of the wire contract:
 * never reuse or renumber one, only add. Ranges keep related verbs together and leave room:
 *
 *   1..15     the connection handshake (handshake.ts); never dispatched to a handler
 *   16..31    diagnostics
 *   32..63    cluster membership: gossip (issue #4), schema agreement
 *   64..127   the data path: mutations, reads, repair of reads (issue #5)
 *   128..191  hints, batch log, anti-entropy repair, streaming (issue #7)
 *
 * Verbs marked "reserved" are named so that their numbers are fixed before their modules exist;
 * those modules document the payload next to their `.proto` message.
 */

export const Verb = {
  /** Dialer → acceptor: `Hello` (messaging.proto). */
  HANDSHAKE_HELLO: 1,
  /** Acceptor → dialer: `HelloReply`. */
  HANDSHAKE_REPLY: 2,
  /** Dialer → acceptor: `HelloConfirm`; the dialer's messages may follow at once. */
  HANDSHAKE_CONFIRM: 3,

  /** Request whose response is its own payload: liveness probes, tests, benchmarks. */
  ECHO: 16,

  GOSSIP_SYN: 32,
  GOSSIP_ACK: 33,
  GOSSIP_ACK2: 34,
  /** One-way: the sender is shutting down gracefully; mark it down at once. */
  GOSSIP_SHUTDOWN: 35,
  /** reserved: ask a peer for its schema (schema agreement, issue #4 §4). */
  SCHEMA_PULL: 40,
  /** reserved: push a schema change to a peer. */
  SCHEMA_PUSH: 41,

  /** reserved: apply a mutation on a replica. */
  MUTATION: 64,
  /** reserved: read a partition's data on a replica. */
  READ_DATA: 65,
  /** reserved: read a digest of a partition on a replica. */
  READ_DIGEST: 66,
  /** reserved: write merged rows back to a stale replica. */
  READ_REPAIR: 67,
  /** reserved: read a token range (range scans). */
  RANGE_READ: 68,
  /** reserved: truncate a table on every node. */
  TRUNCATE: 69,
  /**
   * Coordinator → one replica of the rows: version the update there (its own entry of each
   * row's version vector moves past what it holds) and replicate it, answering like a write.
   */
  VERSIONED_WRITE: 70,

  /** reserved: deliver a stored hint to its replica. */
  HINT: 128,
  /** reserved: store a logged batch in the batch log of another node. */
  BATCH_STORE: 129,
  /** reserved: remove a batch log entry once the batch is applied. */
  BATCH_REMOVE: 130,
  /** ask a replica for Merkle trees of a table's token ranges (anti-entropy repair, src/repair). */
  MERKLE_TREE_REQUEST: 136,
  /** ask a node to push its rows of a table's token ranges to a target node (src/streaming). */
  STREAM_PUSH_REQUEST: 144,
  /** one page of streamed rows for the receiver to apply (src/streaming). */
  STREAM_APPLY: 145,
} as const;

export type VerbName = keyof typeof Verb;
export type Verb = (typeof Verb)[VerbName];

/** The largest verb a frame can carry (the header field is a u16). */
export const MAX_VERB = 0xffff;

const names = new Map<number, string>(Object.entries(Verb).map(([name, value]) => [value, name]));

/** A verb's name for logs; unknown numbers (a newer peer's verbs) print as `VERB_<n>`. */
export function verbName(verb: number): string {
  return names.get(verb) ?? `VERB_${verb}`;
}

/** Handshake verbs belong to the connection itself and never reach a registered handler. */
export function isHandshakeVerb(verb: number): boolean {
  return verb >= 1 && verb <= 15;
}
