/**
 * Pending ranges: while nodes join, leave or are removed, the endpoints that will replicate a
 * token once the change completes but do not yet. Every write also goes to them, and waits for
 * them, so that a write acknowledged at QUORUM is on a quorum of the old replica set *and* of
 * the new one; reads keep using the current ring (natural replicas) until the change is over.
 *
 * Cassandra: `TokenMetadata.calculatePendingRanges` / `PendingRangeMaps` and
 * `ReplicaLayout.forTokenWriteLiveAndDown` (natural + pending); `ConsistencyLevel.blockForWrite`
 * adds the pending count (src/coordinator/consistency.ts). Pattern: Consistent Hashing (Joshi),
 * during a membership change.
 *
 * Model: the *current* ring holds the NORMAL nodes and those leaving or being removed (they
 * still replicate until they are gone); the *future* ring is the current one with the joining
 * nodes added and the leaving/removed ones taken out. For a replication, the pending endpoints
 * of a token are its replicas in the future ring that are not its replicas in the current one:
 * exactly the `gained` endpoints of `planRangeMovements(current, future, replication)`.
 * Several changes at once (two nodes joining, one joining while another leaves) compose into
 * that one future ring, as Cassandra's "all left, all bootstrapping" approximation does.
 *
 * Invariants: immutable once built; `pendingEndpoints` never returns a natural replica, never
 * an endpoint twice, and returns the same (shared, frozen) empty list for every token when
 * nothing moves (`isEmpty`: `PendingRanges.NONE`, or what `compute` returns then, whose future
 * ring is the current one), so a hot path costs one check. Lookups are O(log R) over the R ranges with pending endpoints.
 *
 * Bounds: the tables built per replication are memoised, at most MAX_MEMOISED_REPLICATIONS
 * (then the memo starts over); each holds at most one entry per range of the token union of
 * both rings (≤ 2 × MAX_RING_TOKENS). A new instance is built per ring change (cluster-service).
 */
import { TokenMetadata, type Endpoint, type Location, type RingNode } from '../../ring/token-metadata.js';
import type { Replication } from '../../schema/schema.js';
import { planRangeMovements } from './range-movement.js';

/** Replications whose pending tables are kept per instance (keyspaces usually share a few). */
export const MAX_MEMOISED_REPLICATIONS = 64;

const NO_ENDPOINTS: readonly Endpoint[] = Object.freeze([]);

export interface PendingRangesInput {
  /** The ring now: NORMAL nodes and the nodes leaving or being removed. */
  readonly current: TokenMetadata;
  /** Nodes joining (with the tokens they will own); already on `current` are ignored. */
  readonly joining: readonly RingNode[];
  /** Endpoints leaving the ring (LEAVING, or being removed). */
  readonly leaving: Iterable<Endpoint>;
}

/** Per replication: ranges with pending endpoints, as sorted range ends for a binary search. */
interface PendingTable {
  /** End token of each range, ascending (the wrapping range, if any, is split at the end of the ring). */
  readonly ends: readonly bigint[];
  /** Start token of each range (exclusive). */
  readonly starts: readonly bigint[];
  readonly endpoints: readonly (readonly Endpoint[])[];
}

const EMPTY_TABLE: PendingTable = { ends: [], starts: [], endpoints: [] };

export class PendingRanges {
  static readonly NONE = new PendingRanges(TokenMetadata.EMPTY, TokenMetadata.EMPTY, false);

  private readonly byReplication = new Map<string, PendingTable>();
  private readonly byObject = new WeakMap<Replication, PendingTable>();

  private constructor(
    /** The ring reads use now. */
    readonly current: TokenMetadata,
    /** The ring once every change under way has completed. */
    readonly future: TokenMetadata,
    private readonly moving: boolean,
  ) {}

  /** The pending ranges of `input`; an empty instance (future = current) when nobody joins or leaves. */
  static compute(input: PendingRangesInput): PendingRanges {
    const leaving = new Set(input.leaving);
    const onRing = new Set(input.current.endpoints());
    const joining = input.joining.filter((n) => n.tokens.length > 0 && !onRing.has(n.endpoint) && !leaving.has(n.endpoint));
    const leavingOnRing = [...leaving].filter((e) => onRing.has(e));
    if (joining.length === 0 && leavingOnRing.length === 0) return new PendingRanges(input.current, input.current, false);
    const future = TokenMetadata.build([...ringNodesOf(input.current).filter((n) => !leaving.has(n.endpoint)), ...dedupe(joining)]);
    return new PendingRanges(input.current, future, true);
  }

  /** True when nobody joins or leaves: no token has pending endpoints. */
  get isEmpty(): boolean {
    return !this.moving;
  }

  /**
   * The endpoints that will replicate `token` under `replication` once the changes under way
   * complete and do not replicate it now, in the future ring's preference order.
   */
  pendingEndpoints(token: bigint, replication: Replication): readonly Endpoint[] {
    if (!this.moving) return NO_ENDPOINTS;
    const table = this.tableOf(replication);
    const i = lowerBound(table.ends, token);
    if (i === table.ends.length) return NO_ENDPOINTS;
    return token > table.starts[i]! ? table.endpoints[i]! : NO_ENDPOINTS;
  }

  /** Where an endpoint of either ring is (a joining node is only on the future one). */
  location(endpoint: Endpoint): Location | undefined {
    return this.current.location(endpoint) ?? this.future.location(endpoint);
  }

  private tableOf(replication: Replication): PendingTable {
    // Keyspaces hand out the same replication object per schema version: look it up by
    // identity first, so a write does not build a key string.
    let table = this.byObject.get(replication);
    if (table !== undefined) return table;
    const key = replicationKey(replication);
    table = this.byReplication.get(key);
    if (table === undefined) {
      if (this.byReplication.size >= MAX_MEMOISED_REPLICATIONS) this.byReplication.clear();
      table = buildTable(this.current, this.future, replication);
      this.byReplication.set(key, table);
    }
    this.byObject.set(replication, table);
    return table;
  }
}

// #region pattern:Consistent Hashing (pending ranges)
function buildTable(current: TokenMetadata, future: TokenMetadata, replication: Replication): PendingTable {
  const ranges: { start: bigint; end: bigint; endpoints: readonly Endpoint[] }[] = [];
  for (const m of planRangeMovements(current, future, replication)) {
    if (m.gained.length === 0) continue;
    const { start, end } = m.range;
    if (start < end) {
      ranges.push({ start, end, endpoints: Object.freeze([...m.gained]) });
      continue;
    }
    // A wrapping range (or the whole ring, start === end) in two non-wrapping pieces: from
    // below the smallest token to `end`, and from `start` to the largest token.
    const endpoints = Object.freeze([...m.gained]);
    ranges.push({ start: BELOW_EVERY_TOKEN, end, endpoints });
    if (start < ABOVE_EVERY_TOKEN) ranges.push({ start, end: ABOVE_EVERY_TOKEN, endpoints });
  }
  if (ranges.length === 0) return EMPTY_TABLE;
  ranges.sort((a, b) => (a.end < b.end ? -1 : a.end > b.end ? 1 : 0));
  return { ends: ranges.map((r) => r.end), starts: ranges.map((r) => r.start), endpoints: ranges.map((r) => r.endpoints) };
}
// #endregion

/** Below −2^63, the smallest Murmur3 token: `(BELOW_EVERY_TOKEN, end]` holds every token up to `end`. */
const BELOW_EVERY_TOKEN = -(2n ** 63n) - 1n;
/** The largest token: `(start, ABOVE_EVERY_TOKEN]` holds every token above `start`. */
const ABOVE_EVERY_TOKEN = 2n ** 63n - 1n;

/** Index of the first element >= `token`, or `sorted.length`. */
function lowerBound(sorted: readonly bigint[], token: bigint): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid]! < token) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The nodes a ring was built from (each endpoint with the tokens it owns). */
export function ringNodesOf(ring: TokenMetadata): RingNode[] {
  const tokens = new Map<Endpoint, bigint[]>();
  ring.tokens.forEach((t, i) => {
    const owner = ring.owners[i]!;
    let list = tokens.get(owner);
    if (list === undefined) tokens.set(owner, (list = []));
    list.push(t);
  });
  return [...tokens].map(([endpoint, ts]) => ({ endpoint, tokens: ts, ...ring.location(endpoint)! }));
}

/** The first listing of each endpoint (gossip lists an endpoint once; this guards the ring's assertion). */
function dedupe(nodes: readonly RingNode[]): RingNode[] {
  const seen = new Set<Endpoint>();
  const out: RingNode[] = [];
  for (const n of nodes) {
    if (seen.has(n.endpoint)) continue;
    seen.add(n.endpoint);
    out.push(n);
  }
  return out;
}

/** One string per distinct replication (same shape as ring-placement.ts's key). */
export function replicationKey(r: Replication): string {
  if (r.class === 'SimpleStrategy') return `S:${r.replicationFactor}`;
  return `N:${Object.entries(r.datacenters)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([dc, rf]) => `${dc}=${rf}`)
    .join(',')}`;
}
