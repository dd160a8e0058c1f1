/**
 * The ring: every vnode token in ascending order with the endpoint that owns it, and each
 * endpoint's datacenter and rack. Pure and immutable: built from a list of nodes (the
 * cluster's `StatusReport`, itself built from gossip), answered from sorted arrays.
 *
 * Pattern: Consistent Hashing (Joshi, *Patterns of Distributed Systems*; Dynamo §4.2;
 * Cassandra's `TokenMetadata`). Token `t` of endpoint E makes E the primary replica of the
 * range (predecessor(t), t]: a key whose token is k belongs to the first ring token >= k,
 * wrapping past the largest token to the smallest. Replica placement beyond the primary is
 * the replication strategy's business (`replication-strategy.ts`).
 *
 * Endpoints are identified by their internode address (`host:port`): local clusters run every
 * node on 127.0.0.1 with its own ports, so an IP alone is not an identity.
 *
 * Invariants:
 * - `tokens` is strictly ascending; `owners[i]` owns `tokens[i]`; every owner has a location.
 * - A token claimed by two endpoints (a collision, or a hostile peer) goes to the endpoint that
 *   sorts first, so every node builds the same ring from the same gossip.
 * - JOINING nodes are not in the ring (their tokens are pending, as Cassandra's bootstrap
 *   tokens are); NORMAL, LEAVING and MOVING nodes are, whether UP or DOWN.
 * - Range sizes are counted modulo 2^64, the size of the token space; with a single token its
 *   range is the whole space. Ownership fractions of one ring therefore sum to 1 (up to
 *   floating-point rounding).
 *
 * Bounds: at most MAX_RING_TOKENS tokens (every gossip endpoint with the most vnodes);
 * building is O(T log T), a lookup O(log T), `rangesOf` and ownership O(T).
 */
import { MAX_GOSSIP_ENDPOINTS } from '../cluster/gossip/limits.js';
import { MAX_TOKENS_PER_NODE } from '../cluster/gossip/tokens.js';
import { assert } from '../util/assert.js';

export type Endpoint = string;

/** Size of the Murmur3 token space [-2^63, 2^63). */
export const TOKEN_SPACE = 2n ** 64n;
export const MAX_RING_TOKENS = MAX_GOSSIP_ENDPOINTS * MAX_TOKENS_PER_NODE;

export interface Location {
  readonly datacenter: string;
  readonly rack: string;
}

/** One node as the ring needs it. */
export interface RingNode extends Location {
  readonly endpoint: Endpoint;
  readonly tokens: readonly bigint[];
}

/** The fields of a `NodeStatus` (src/cluster/status-report.ts) the ring is built from. */
export interface StatusLikeNode {
  readonly internode: string;
  readonly datacenter: string;
  readonly rack: string;
  readonly state: string;
  /** Decimal strings, as in `NodeStatus.tokens`. */
  readonly tokens: readonly string[];
}

/** A token range `(start, end]`, wrapping when `start >= end` (the whole ring when equal). */
export interface TokenRange {
  readonly start: bigint;
  readonly end: bigint;
}

const compareBigint = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

/** Size of `(start, end]` in tokens, 2^64 when start = end (a ring with one token). */
export function rangeSize(start: bigint, end: bigint): bigint {
  const size = (((end - start) % TOKEN_SPACE) + TOKEN_SPACE) % TOKEN_SPACE;
  return size === 0n ? TOKEN_SPACE : size;
}

export class TokenMetadata {
  private readonly locations: ReadonlyMap<Endpoint, Location>;
  /** Per datacenter: its endpoints and its racks. */
  private readonly topology: ReadonlyMap<string, { readonly endpoints: number; readonly racks: number }>;

  private constructor(
    /** Every token on the ring, strictly ascending. */
    readonly tokens: readonly bigint[],
    /** `owners[i]` owns `tokens[i]`. */
    readonly owners: readonly Endpoint[],
    locations: Map<Endpoint, Location>,
  ) {
    this.locations = locations;
    const endpointsPerDc = new Map<string, Set<Endpoint>>();
    const racksPerDc = new Map<string, Set<string>>();
    for (const [endpoint, location] of locations) {
      if (!endpointsPerDc.has(location.datacenter)) {
        endpointsPerDc.set(location.datacenter, new Set());
        racksPerDc.set(location.datacenter, new Set());
      }
      endpointsPerDc.get(location.datacenter)!.add(endpoint);
      racksPerDc.get(location.datacenter)!.add(location.rack);
    }
    this.topology = new Map([...endpointsPerDc].map(([dc, eps]) => [dc, { endpoints: eps.size, racks: racksPerDc.get(dc)!.size }]));
  }

  static readonly EMPTY = new TokenMetadata([], [], new Map());

  /** The ring of `nodes`; nodes without tokens are left out. */
  static build(nodes: readonly RingNode[]): TokenMetadata {
    const claims: { token: bigint; endpoint: Endpoint }[] = [];
    const locations = new Map<Endpoint, Location>();
    for (const node of nodes) {
      if (node.tokens.length === 0) continue;
      assert(!locations.has(node.endpoint), `endpoint ${node.endpoint} listed twice`);
      locations.set(node.endpoint, { datacenter: node.datacenter, rack: node.rack });
      for (const token of node.tokens) claims.push({ token, endpoint: node.endpoint });
    }
    assert(claims.length <= MAX_RING_TOKENS, `ring of ${claims.length} tokens exceeds ${MAX_RING_TOKENS}`);
    claims.sort((a, b) => compareBigint(a.token, b.token) || (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0));
    const tokens: bigint[] = [];
    const owners: Endpoint[] = [];
    for (const claim of claims) {
      // Sorted by (token, endpoint): the first claim of a token is the one that sorts first.
      if (tokens.length > 0 && tokens[tokens.length - 1] === claim.token) continue;
      tokens.push(claim.token);
      owners.push(claim.endpoint);
    }
    // An endpoint whose every token went to another endpoint owns nothing: not on the ring.
    const owning = new Set(owners);
    for (const endpoint of [...locations.keys()]) if (!owning.has(endpoint)) locations.delete(endpoint);
    return new TokenMetadata(tokens, owners, locations);
  }

  /** The ring of a status report's nodes: every node with tokens that is not JOINING. */
  static fromStatus(nodes: readonly StatusLikeNode[]): TokenMetadata {
    return TokenMetadata.build(
      nodes
        .filter((n) => n.state !== 'JOINING' && n.tokens.length > 0)
        .map((n) => ({ endpoint: n.internode, datacenter: n.datacenter, rack: n.rack, tokens: n.tokens.map((t) => BigInt(t)) })),
    );
  }

  get size(): number {
    return this.tokens.length;
  }

  /** Endpoints on the ring, sorted. */
  endpoints(): Endpoint[] {
    return [...this.locations.keys()].sort();
  }

  location(endpoint: Endpoint): Location | undefined {
    return this.locations.get(endpoint);
  }

  /** Endpoints and distinct racks per datacenter on the ring. */
  datacenters(): ReadonlyMap<string, { readonly endpoints: number; readonly racks: number }> {
    return this.topology;
  }

  // #region pattern:Consistent Hashing
  /** Index of the first ring token >= `token`, wrapping to 0 past the largest. Ring not empty. */
  firstIndexAtOrAfter(token: bigint): number {
    assert(this.tokens.length > 0, 'the ring is empty');
    let low = 0;
    let high = this.tokens.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.tokens[mid]! < token) low = mid + 1;
      else high = mid;
    }
    return low === this.tokens.length ? 0 : low;
  }

  /** The primary replica of `token`: the owner of the first ring token >= it; undefined on an empty ring. */
  primaryRangeOwner(token: bigint): Endpoint | undefined {
    if (this.tokens.length === 0) return undefined;
    return this.owners[this.firstIndexAtOrAfter(token)];
  }

  /** The range `(predecessor, tokens[index]]` that ring token `index` is the primary replica of. */
  rangeAt(index: number): TokenRange {
    assert(index >= 0 && index < this.tokens.length, `no ring token at ${index}`);
    const previous = index === 0 ? this.tokens.length - 1 : index - 1;
    return { start: this.tokens[previous]!, end: this.tokens[index]! };
  }

  /** The ranges `endpoint` is the primary replica of, in ring order. */
  rangesOf(endpoint: Endpoint): TokenRange[] {
    const out: TokenRange[] = [];
    for (let i = 0; i < this.tokens.length; i++) if (this.owners[i] === endpoint) out.push(this.rangeAt(i));
    return out;
  }

  /**
   * Share of the token space each endpoint is the primary replica of (nodetool's plain
   * `Owns`); every endpoint on the ring has an entry.
   */
  ownership(): Map<Endpoint, number> {
    const owned = new Map<Endpoint, bigint>();
    for (const endpoint of this.locations.keys()) owned.set(endpoint, 0n);
    for (let i = 0; i < this.tokens.length; i++) {
      const { start, end } = this.rangeAt(i);
      const owner = this.owners[i]!;
      owned.set(owner, owned.get(owner)! + rangeSize(start, end));
    }
    return new Map([...owned].map(([endpoint, size]) => [endpoint, fractionOfRing(size)]));
  }
  // #endregion
}

/** `size` tokens as a fraction of the token space. */
export function fractionOfRing(size: bigint): number {
  return Number(size) / Number(TOKEN_SPACE);
}
