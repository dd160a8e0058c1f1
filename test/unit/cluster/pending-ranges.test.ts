/**
 * Pending ranges: while nodes join, leave or are removed, the endpoints a token gains in the
 * future ring. Hand-computed rings for each kind of change (SimpleStrategy and
 * NetworkTopologyStrategy), the no-op instance, then a property over random rings and changes:
 * for every token, pending = future replicas − current replicas, never a natural replica.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PendingRanges } from '../../../src/cluster/membership/pending-ranges.js';
import { MAX_TOKEN, MIN_TOKEN } from '../../../src/ring/murmur3.js';
import { replicasFor } from '../../../src/ring/replication-strategy.js';
import { TokenMetadata, type RingNode } from '../../../src/ring/token-metadata.js';
import type { Replication } from '../../../src/schema/schema.js';

const node = (endpoint: string, tokens: bigint[], datacenter = 'dc1', rack = 'r1'): RingNode => ({ endpoint, tokens, datacenter, rack });
const simple = (rf: number): Replication => ({ class: 'SimpleStrategy', replicationFactor: rf });
const nts = (datacenters: Record<string, number>): Replication => ({ class: 'NetworkTopologyStrategy', datacenters });

const A = node('a', [0n]);
const B = node('b', [100n]);
const C = node('c', [200n]);
const D = node('d', [50n]);
const RING = TokenMetadata.build([A, B, C]);

describe('PendingRanges', () => {
  it('is empty when nothing moves: one shared empty list for every token', () => {
    const none = PendingRanges.compute({ current: RING, joining: [], leaving: [] });
    expect(none.isEmpty).toBe(true);
    expect(none.future).toBe(RING);
    expect(none.pendingEndpoints(1n, simple(3))).toBe(PendingRanges.NONE.pendingEndpoints(5n, simple(1)));
    expect(PendingRanges.NONE.pendingEndpoints(1n, simple(3))).toEqual([]);
    // A "joining" node already on the ring and a "leaving" one that is not: nothing moves either.
    expect(PendingRanges.compute({ current: RING, joining: [A], leaving: ['zz'] }).isEmpty).toBe(true);
  });

  it('a joining node is pending for the ranges it will replicate, and only for those (SimpleStrategy RF 2)', () => {
    const pending = PendingRanges.compute({ current: RING, joining: [D], leaving: [] });
    expect(pending.isEmpty).toBe(false);
    expect(pending.future.tokens).toEqual([0n, 50n, 100n, 200n]);
    const rf2 = simple(2);
    // Future: (200,0] a d; (0,50] d b; (50,100] b c; (100,200] c a.
    expect(pending.pendingEndpoints(201n, rf2)).toEqual(['d']);
    expect(pending.pendingEndpoints(MAX_TOKEN, rf2)).toEqual(['d']);
    expect(pending.pendingEndpoints(MIN_TOKEN, rf2)).toEqual(['d']);
    expect(pending.pendingEndpoints(0n, rf2)).toEqual(['d']);
    expect(pending.pendingEndpoints(1n, rf2)).toEqual(['d']);
    expect(pending.pendingEndpoints(50n, rf2)).toEqual(['d']);
    expect(pending.pendingEndpoints(51n, rf2)).toEqual([]);
    expect(pending.pendingEndpoints(150n, rf2)).toEqual([]);
    expect(pending.pendingEndpoints(200n, rf2)).toEqual([]);
    // RF 3: d joins every replica set except (50,100]'s (b c a, as now).
    for (const t of [MIN_TOKEN, 0n, 25n, 150n, 250n]) expect(pending.pendingEndpoints(t, simple(3))).toEqual(['d']);
    expect(pending.pendingEndpoints(75n, simple(3))).toEqual([]);
    expect(pending.location('d')).toEqual({ datacenter: 'dc1', rack: 'r1' });
    expect(pending.location('a')).toEqual({ datacenter: 'dc1', rack: 'r1' });
  });

  it('a leaving (or removed) node makes the next replicas pending for its ranges', () => {
    const current = TokenMetadata.build([A, B, C, D]);
    const pending = PendingRanges.compute({ current, joining: [], leaving: ['d'] });
    expect(pending.future.endpoints()).toEqual(['a', 'b', 'c']);
    // Now (200,0] a d and (0,50] d b; after d leaves: (200,0] a b and (0,100] b c.
    expect(pending.pendingEndpoints(0n, simple(2))).toEqual(['b']);
    expect(pending.pendingEndpoints(10n, simple(2))).toEqual(['c']);
    expect(pending.pendingEndpoints(60n, simple(2))).toEqual([]);
    // RF 3: whatever a token's future replicas lack now is pending.
    for (const t of [MIN_TOKEN, 25n, 75n, 150n]) {
      const natural = replicasFor(t, simple(3), current);
      const future = replicasFor(t, simple(3), pending.future);
      expect(pending.pendingEndpoints(t, simple(3))).toEqual(future.filter((e) => !natural.includes(e)));
    }
  });

  it('a join and a leave at once compose into one future ring', () => {
    const pending = PendingRanges.compute({ current: RING, joining: [D], leaving: ['b'] });
    expect(pending.future.endpoints()).toEqual(['a', 'c', 'd']);
    // Future RF 1: (200,0] a, (0,50] d, (50,200] c. Now: (0,100] b, (100,200] c.
    expect(pending.pendingEndpoints(10n, simple(1))).toEqual(['d']);
    expect(pending.pendingEndpoints(60n, simple(1))).toEqual(['c']);
    expect(pending.pendingEndpoints(150n, simple(1))).toEqual([]);
  });

  it('NetworkTopologyStrategy: a node joining dc2 is pending only for keyspaces replicated there', () => {
    const current = TokenMetadata.build([node('a1', [0n], 'dc1'), node('b1', [100n], 'dc1'), node('a2', [10n], 'dc2'), node('b2', [110n], 'dc2')]);
    const pending = PendingRanges.compute({ current, joining: [node('c2', [60n], 'dc2')], leaving: [] });
    // dc2 RF 2 over two nodes: every token's dc2 replicas are a2, b2; c2 takes (10, 60] from b2's turn.
    expect(pending.pendingEndpoints(30n, nts({ dc1: 1, dc2: 2 }))).toEqual(['c2']);
    expect(pending.pendingEndpoints(30n, nts({ dc1: 2 }))).toEqual([]);
    expect(pending.location('c2')).toEqual({ datacenter: 'dc2', rack: 'r1' });
  });

  it('memoises per replication: equal replications (distinct objects) give the same answer', () => {
    const pending = PendingRanges.compute({ current: RING, joining: [D], leaving: [] });
    const first = pending.pendingEndpoints(1n, simple(2));
    expect(pending.pendingEndpoints(1n, simple(2))).toBe(first);
    expect(pending.pendingEndpoints(1n, nts({ dc1: 2 }))).toEqual(['d']);
  });
});

// ---- property: pending = future − current ----------------------------------------------------------

const tokenArb = fc.bigInt({ min: MIN_TOKEN, max: MAX_TOKEN });

const scenarioArb = fc.record({
  nodes: fc.array(fc.record({ tokens: fc.uniqueArray(tokenArb, { minLength: 1, maxLength: 4 }), dc: fc.integer({ min: 1, max: 2 }), rack: fc.integer({ min: 1, max: 2 }) }), { minLength: 1, maxLength: 8 }),
  /** Per node: 0 normal, 1 joining, 2 leaving (or being removed). */
  roles: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 8, maxLength: 8 }),
  replication: fc.oneof(
    fc.integer({ min: 1, max: 4 }).map(simple),
    fc.record({ dc1: fc.integer({ min: 0, max: 3 }), dc2: fc.integer({ min: 0, max: 3 }) }).map((dcs) => nts(dcs)),
  ),
  extra: fc.array(tokenArb, { maxLength: 10 }),
});

describe('PendingRanges over random rings', () => {
  it('for every token: the future replicas that are not replicas now, in future order, never a natural replica', () => {
    fc.assert(
      fc.property(scenarioArb, ({ nodes, roles, replication, extra }) => {
        const ringNodes = nodes.map((n, i) => node(`n${i}`, n.tokens, `dc${n.dc}`, `r${n.rack}`));
        const current = TokenMetadata.build(ringNodes.filter((_, i) => roles[i] !== 1));
        const joining = ringNodes.filter((_, i) => roles[i] === 1);
        const leaving = ringNodes.filter((_, i) => roles[i] === 2).map((n) => n.endpoint);
        const pending = PendingRanges.compute({ current, joining, leaving });
        const expectedFuture = TokenMetadata.build(ringNodes.filter((_, i) => roles[i] !== 2));
        expect(pending.future.tokens).toEqual(expectedFuture.tokens);
        expect(pending.future.owners).toEqual(expectedFuture.owners);
        const probes = new Set<bigint>([MIN_TOKEN, MAX_TOKEN, ...extra]);
        for (const t of [...current.tokens, ...expectedFuture.tokens]) for (const d of [-1n, 0n, 1n]) if (t + d >= MIN_TOKEN && t + d <= MAX_TOKEN) probes.add(t + d);
        for (const token of probes) {
          const natural = replicasFor(token, replication, current);
          const future = replicasFor(token, replication, expectedFuture);
          const got = pending.pendingEndpoints(token, replication);
          expect(got).toEqual(future.filter((e) => !natural.includes(e)));
          expect(got.some((e) => natural.includes(e))).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });
});
