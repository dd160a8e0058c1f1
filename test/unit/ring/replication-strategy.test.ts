/**
 * Replica placement (SPEC 6.2) and effective ownership: SimpleStrategy walks the ring for RF
 * distinct endpoints; NetworkTopologyStrategy does so per datacenter, spreading over racks
 * first. Hand-computed small rings, then properties over random rings.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_TOKEN, MIN_TOKEN } from '../../../src/ring/murmur3.js';
import { effectiveOwnership, replicasFor, totalReplicationFactor } from '../../../src/ring/replication-strategy.js';
import { TOKEN_SPACE, TokenMetadata, type RingNode } from '../../../src/ring/token-metadata.js';
import type { Replication } from '../../../src/schema/schema.js';

const node = (endpoint: string, tokens: bigint[], datacenter = 'dc1', rack = 'r1'): RingNode => ({ endpoint, tokens, datacenter, rack });
const simple = (rf: number): Replication => ({ class: 'SimpleStrategy', replicationFactor: rf });
const nts = (datacenters: Record<string, number>): Replication => ({ class: 'NetworkTopologyStrategy', datacenters });

// Sorted: -100 (c), 0 (a), 50 (b), 100 (a).
const RING = TokenMetadata.build([node('a', [0n, 100n]), node('b', [50n]), node('c', [-100n])]);

describe('SimpleStrategy', () => {
  it('takes the next RF distinct endpoints clockwise from the first token at or after the key', () => {
    expect(replicasFor(1n, simple(2), RING)).toEqual(['b', 'a']);
    expect(replicasFor(50n, simple(2), RING)).toEqual(['b', 'a']);
    expect(replicasFor(-50n, simple(2), RING)).toEqual(['a', 'b']);
    expect(replicasFor(60n, simple(2), RING)).toEqual(['a', 'c']);
    expect(replicasFor(101n, simple(2), RING)).toEqual(['c', 'a']);
    expect(replicasFor(MAX_TOKEN, simple(1), RING)).toEqual(['c']);
    expect(replicasFor(MIN_TOKEN, simple(3), RING)).toEqual(['c', 'a', 'b']);
  });

  it('skips an endpoint met again on the walk', () => {
    // From 60: a (100), c (-100), then a again (0) is skipped, b (50).
    expect(replicasFor(60n, simple(3), RING)).toEqual(['a', 'c', 'b']);
  });

  it('gives every endpoint when RF exceeds the endpoints, and none for RF 0 or an empty ring', () => {
    expect(replicasFor(1n, simple(5), RING)).toEqual(['b', 'a', 'c']);
    expect(replicasFor(1n, simple(0), RING)).toEqual([]);
    expect(replicasFor(1n, simple(3), TokenMetadata.EMPTY)).toEqual([]);
  });

  it('computes effective ownership as the ranges each endpoint replicates', () => {
    // Ranges and their RF 2 replicas: (100,-100] c a; (-100,0] a b; (0,50] b a; (50,100] a c.
    const owns = effectiveOwnership(simple(2), RING);
    const space = Number(TOKEN_SPACE);
    expect(owns.get('a')).toBeCloseTo(1, 12);
    expect(owns.get('b')).toBeCloseTo(150 / space, 25);
    expect(owns.get('c')).toBeCloseTo(1, 12);
    expect(effectiveOwnership(simple(3), RING)).toEqual(new Map([['a', 1], ['b', 1], ['c', 1]]));
    expect(effectiveOwnership(simple(0), RING)).toEqual(new Map([['a', 0], ['b', 0], ['c', 0]]));
  });
});

describe('NetworkTopologyStrategy', () => {
  // dc1: A r1 @10, B r1 @20, C r2 @30, D r1 @40; dc2: E r1 @15, F r1 @35.
  const ring = TokenMetadata.build([
    node('A', [10n], 'dc1', 'r1'),
    node('B', [20n], 'dc1', 'r1'),
    node('C', [30n], 'dc1', 'r2'),
    node('D', [40n], 'dc1', 'r1'),
    node('E', [15n], 'dc2', 'r1'),
    node('F', [35n], 'dc2', 'r1'),
  ]);

  it('spreads a datacenter over distinct racks first', () => {
    // From 5: A (r1), B (r1 again: skipped, racks left to cover), C (r2).
    expect(replicasFor(5n, nts({ dc1: 2 }), ring)).toEqual(['A', 'C']);
    // From 25: C (r2), F (dc2: not replicated), D (r1).
    expect(replicasFor(25n, nts({ dc1: 2 }), ring)).toEqual(['C', 'D']);
  });

  it('repeats racks only as far as RF exceeds the racks, in walk order (Cassandra single pass)', () => {
    // RF 3 over 2 racks allows one repeat: A (r1), B (r1, the repeat), C (r2).
    expect(replicasFor(5n, nts({ dc1: 3 }), ring)).toEqual(['A', 'B', 'C']);
    // From 21: C (r2), D (r1), A (r1, the repeat).
    expect(replicasFor(21n, nts({ dc1: 3 }), ring)).toEqual(['C', 'D', 'A']);
  });

  it('fills each datacenter from one walk, in walk order', () => {
    expect(replicasFor(5n, nts({ dc1: 3, dc2: 1 }), ring)).toEqual(['A', 'E', 'B', 'C']);
    expect(replicasFor(36n, nts({ dc1: 1, dc2: 2 }), ring)).toEqual(['D', 'E', 'F']);
  });

  it('caps RF at the datacenter size and ignores datacenters with no endpoints or RF 0', () => {
    expect(replicasFor(5n, nts({ dc1: 9 }), ring)).toEqual(['A', 'B', 'C', 'D']);
    expect(replicasFor(5n, nts({ dc3: 2 }), ring)).toEqual([]);
    expect(replicasFor(5n, nts({ dc1: 0, dc2: 1 }), ring)).toEqual(['E']);
  });

  it('sums effective ownership to each datacenter RF', () => {
    const owns = effectiveOwnership(nts({ dc1: 2, dc2: 1 }), ring);
    const sum = (eps: string[]) => eps.reduce((s, e) => s + owns.get(e)!, 0);
    expect(sum(['A', 'B', 'C', 'D'])).toBeCloseTo(2, 9);
    expect(sum(['E', 'F'])).toBeCloseTo(1, 9);
    // C is r2's only endpoint: with RF 2 over 2 racks it holds a replica of everything.
    expect(owns.get('C')).toBeCloseTo(1, 12);
  });
});

describe('totalReplicationFactor', () => {
  it('is RF, or the sum of the datacenter factors', () => {
    expect(totalReplicationFactor(simple(3))).toBe(3);
    expect(totalReplicationFactor(nts({ dc1: 3, dc2: 2 }))).toBe(5);
  });
});

// ---- properties -------------------------------------------------------------------------------

const tokenArb = fc.bigInt({ min: MIN_TOKEN + 1n, max: MAX_TOKEN });

/** 1 to 10 endpoints in up to 2 datacenters and 3 racks each, 1 to 4 tokens each. */
const nodesArb = fc
  .array(fc.record({ datacenter: fc.constantFrom('dc1', 'dc2'), rack: fc.constantFrom('r1', 'r2', 'r3'), tokenCount: fc.integer({ min: 1, max: 4 }) }), { minLength: 1, maxLength: 10 })
  .chain((shapes) =>
    fc.uniqueArray(tokenArb, { minLength: shapes.reduce((n, s) => n + s.tokenCount, 0), maxLength: shapes.reduce((n, s) => n + s.tokenCount, 0) }).map((tokens) => {
      let next = 0;
      return shapes.map((s, i) => node(`n${i}`, tokens.slice(next, (next += s.tokenCount)), s.datacenter, s.rack));
    }),
  );

const replicationArb: fc.Arbitrary<Replication> = fc.oneof(
  fc.integer({ min: 0, max: 6 }).map(simple),
  fc.record({ dc1: fc.integer({ min: 0, max: 5 }), dc2: fc.integer({ min: 0, max: 5 }) }).map(nts),
);

function perDatacenter(nodes: readonly RingNode[]): Map<string, RingNode[]> {
  const out = new Map<string, RingNode[]>();
  for (const n of nodes) out.set(n.datacenter, [...(out.get(n.datacenter) ?? []), n]);
  return out;
}

describe('placement properties', () => {
  it('gives distinct replicas, as many as RF allows, the primary first for SimpleStrategy', () => {
    fc.assert(
      fc.property(nodesArb, replicationArb, tokenArb, (nodes, replication, token) => {
        const ring = TokenMetadata.build(nodes);
        const replicas = replicasFor(token, replication, ring);
        expect(new Set(replicas).size).toBe(replicas.length);
        if (replication.class === 'SimpleStrategy') {
          expect(replicas.length).toBe(Math.min(replication.replicationFactor, nodes.length));
          if (replicas.length > 0) expect(replicas[0]).toBe(ring.primaryRangeOwner(token));
          return;
        }
        for (const [dc, members] of perDatacenter(nodes)) {
          const rf = replication.datacenters[dc] ?? 0;
          const inDc = replicas.filter((e) => ring.location(e)!.datacenter === dc);
          expect(inDc.length).toBe(Math.min(rf, members.length));
          // Rack spreading: as many distinct racks as RF and the datacenter's racks allow.
          const racks = new Set(members.map((m) => m.rack));
          expect(new Set(inDc.map((e) => ring.location(e)!.rack)).size).toBe(Math.min(rf, racks.size));
        }
      }),
    );
  });

  it('is deterministic: the same ring in any node order places the same replicas in the same order', () => {
    fc.assert(
      fc.property(nodesArb, replicationArb, tokenArb, (nodes, replication, token) => {
        const a = replicasFor(token, replication, TokenMetadata.build(nodes));
        const b = replicasFor(token, replication, TokenMetadata.build([...nodes].reverse()));
        expect(b).toEqual(a);
      }),
    );
  });

  it('places every token of a range on the same replicas', () => {
    fc.assert(
      fc.property(nodesArb, replicationArb, fc.nat(), (nodes, replication, pick) => {
        const ring = TokenMetadata.build(nodes);
        const { start, end } = ring.rangeAt(pick % ring.size);
        const first = start === MAX_TOKEN ? MIN_TOKEN : start + 1n;
        expect(replicasFor(first, replication, ring)).toEqual(replicasFor(end, replication, ring));
      }),
    );
  });

  it('sums effective ownership to RF (capped by the endpoints) over the ring, per datacenter for NTS', () => {
    fc.assert(
      fc.property(nodesArb, replicationArb, (nodes, replication) => {
        const ring = TokenMetadata.build(nodes);
        const owns = effectiveOwnership(replication, ring);
        for (const share of owns.values()) {
          expect(share).toBeGreaterThanOrEqual(0);
          expect(share).toBeLessThanOrEqual(1 + 1e-12);
        }
        if (replication.class === 'SimpleStrategy') {
          const total = [...owns.values()].reduce((a, b) => a + b, 0);
          expect(total).toBeCloseTo(Math.min(replication.replicationFactor, nodes.length), 9);
          return;
        }
        for (const [dc, members] of perDatacenter(nodes)) {
          const total = members.reduce((s, m) => s + owns.get(m.endpoint)!, 0);
          expect(total).toBeCloseTo(Math.min(replication.datacenters[dc] ?? 0, members.length), 9);
        }
      }),
    );
  });
});
