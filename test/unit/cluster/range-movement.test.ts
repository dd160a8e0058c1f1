/**
 * `planRangeMovements`: the ranges whose replica set changes between two rings, who gains and
 * who loses each. Hand-computed small rings (join, leave, merging, the whole ring), then a
 * property over random rings (SimpleStrategy and NetworkTopologyStrategy; joins, leaves,
 * removals, several at once): the movements cover exactly the tokens whose replicas change,
 * with the right gained and lost endpoints.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planRangeMovements, type RangeMovement } from '../../../src/cluster/membership/range-movement.js';
import { MAX_TOKEN, MIN_TOKEN } from '../../../src/ring/murmur3.js';
import { replicasFor } from '../../../src/ring/replication-strategy.js';
import { TokenMetadata, type RingNode } from '../../../src/ring/token-metadata.js';
import type { Replication } from '../../../src/schema/schema.js';

const node = (endpoint: string, tokens: bigint[], datacenter = 'dc1', rack = 'r1'): RingNode => ({ endpoint, tokens, datacenter, rack });
const simple = (rf: number): Replication => ({ class: 'SimpleStrategy', replicationFactor: rf });
const nts = (datacenters: Record<string, number>): Replication => ({ class: 'NetworkTopologyStrategy', datacenters });
const range = (start: bigint, end: bigint) => ({ start, end });

const A = node('a', [0n]);
const B = node('b', [100n]);
const C = node('c', [200n]);
const D = node('d', [50n]);

/** Whether `token` is in `(start, end]`, wrapping when start >= end (all of it when equal). */
function contains(r: { start: bigint; end: bigint }, token: bigint): boolean {
  if (r.start < r.end) return token > r.start && token <= r.end;
  return token > r.start || token <= r.end;
}

describe('planRangeMovements on small rings', () => {
  it('a node joining takes the ranges next to its token from the replicas that lose them (SimpleStrategy RF 2)', () => {
    const before = TokenMetadata.build([A, B, C]);
    const after = TokenMetadata.build([A, B, C, D]);
    // Before: (200,0] a b; (0,100] b c; (100,200] c a. After: (200,0] a d; (0,50] d b; (50,100] b c.
    expect(planRangeMovements(before, after, simple(2))).toEqual([
      { range: range(200n, 0n), before: ['a', 'b'], after: ['a', 'd'], gained: ['d'], lost: ['b'] },
      { range: range(0n, 50n), before: ['b', 'c'], after: ['d', 'b'], gained: ['d'], lost: ['c'] },
    ] satisfies RangeMovement[]);
  });

  it('a node leaving is the mirror image: it loses what a join gained', () => {
    const withD = TokenMetadata.build([A, B, C, D]);
    const without = TokenMetadata.build([A, B, C]);
    expect(planRangeMovements(withD, without, simple(2))).toEqual([
      { range: range(200n, 0n), before: ['a', 'd'], after: ['a', 'b'], gained: ['b'], lost: ['d'] },
      { range: range(0n, 50n), before: ['d', 'b'], after: ['b', 'c'], gained: ['c'], lost: ['d'] },
    ]);
  });

  it('nothing moves between equal rings, or when every node already replicates everything', () => {
    const ring = TokenMetadata.build([A, B, C]);
    expect(planRangeMovements(ring, ring, simple(2))).toEqual([]);
    expect(planRangeMovements(TokenMetadata.EMPTY, TokenMetadata.EMPTY, simple(3))).toEqual([]);
    // RF 0: no replicas either way.
    expect(planRangeMovements(ring, TokenMetadata.build([A, B, C, D]), simple(0))).toEqual([]);
  });

  it('merges consecutive ranges with the same replicas, also across the wrap-around', () => {
    const before = TokenMetadata.build([A, B]);
    // d's two tokens both fall in b's range (0, 100]: one movement (0, 20], not two.
    const after = TokenMetadata.build([A, B, node('d', [10n, 20n])]);
    expect(planRangeMovements(before, after, simple(1))).toEqual([{ range: range(0n, 20n), before: ['b'], after: ['d'], gained: ['d'], lost: ['b'] }]);
    // d's tokens on both sides of the wrap-around, in a's range (100, 0]: one wrapping movement.
    const wrapped = TokenMetadata.build([A, B, node('d', [MIN_TOKEN, MAX_TOKEN])]);
    expect(planRangeMovements(before, wrapped, simple(1))).toEqual([{ range: range(100n, MIN_TOKEN), before: ['a'], after: ['d'], gained: ['d'], lost: ['a'] }]);
  });

  it('the last node leaving loses the whole ring: start === end', () => {
    expect(planRangeMovements(TokenMetadata.build([A]), TokenMetadata.EMPTY, simple(1))).toEqual([{ range: range(0n, 0n), before: ['a'], after: [], gained: [], lost: ['a'] }]);
    // A second node joining a one-node ring at RF 2 gains everything, in two ranges whose preference orders differ.
    const grown = planRangeMovements(TokenMetadata.build([A]), TokenMetadata.build([A, B]), simple(2));
    expect(grown.map((m) => [m.range, m.gained, m.lost])).toEqual([
      [range(100n, 0n), ['b'], []],
      [range(0n, 100n), ['b'], []],
    ]);
  });

  it('NetworkTopologyStrategy: a join in one datacenter moves only that datacenter\'s replicas', () => {
    const dc1 = [node('a1', [0n], 'dc1'), node('b1', [100n], 'dc1'), node('c1', [200n], 'dc1')];
    const dc2 = [node('a2', [10n], 'dc2'), node('b2', [110n], 'dc2'), node('c2', [210n], 'dc2')];
    const before = TokenMetadata.build([...dc1, ...dc2]);
    const after = TokenMetadata.build([...dc1, ...dc2, node('d2', [60n], 'dc2')]);
    const movements = planRangeMovements(before, after, nts({ dc1: 2, dc2: 2 }));
    expect(movements.length).toBeGreaterThan(0);
    for (const m of movements) {
      expect(m.gained).toEqual(['d2']);
      expect(m.lost.every((e) => e.endsWith('2'))).toBe(true);
    }
    // A keyspace without replicas in dc2 does not move at all.
    expect(planRangeMovements(before, after, nts({ dc1: 3 }))).toEqual([]);
  });
});

// ---- properties over random rings ----------------------------------------------------------------

interface Change {
  readonly before: TokenMetadata;
  readonly after: TokenMetadata;
  readonly replication: Replication;
}

const tokenArb = fc.bigInt({ min: MIN_TOKEN, max: MAX_TOKEN });

/** 2–8 nodes over 1–2 datacenters and 1–2 racks, 1–4 tokens each; then some join and some leave. */
const changeArb: fc.Arbitrary<Change> = fc
  .record({
    nodes: fc.array(fc.record({ tokens: fc.uniqueArray(tokenArb, { minLength: 1, maxLength: 4 }), dc: fc.integer({ min: 1, max: 2 }), rack: fc.integer({ min: 1, max: 2 }) }), { minLength: 2, maxLength: 8 }),
    /** Per node: 0 stays, 1 joins (absent before), 2 leaves (absent after). */
    roles: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 8, maxLength: 8 }),
    replication: fc.oneof(
      fc.integer({ min: 1, max: 4 }).map(simple),
      fc.record({ dc1: fc.integer({ min: 0, max: 3 }), dc2: fc.integer({ min: 0, max: 3 }) }).map((dcs) => nts(dcs)),
    ),
  })
  .map(({ nodes, roles, replication }) => {
    const ringNodes = nodes.map((n, i) => node(`n${i}`, n.tokens, `dc${n.dc}`, `r${n.rack}`));
    return {
      before: TokenMetadata.build(ringNodes.filter((_, i) => roles[i] !== 1)),
      after: TokenMetadata.build(ringNodes.filter((_, i) => roles[i] !== 2)),
      replication,
    };
  });

/** Tokens worth probing: every ring token, its neighbours, the extremes, and a few random ones. */
function probes(change: Change, extra: readonly bigint[]): bigint[] {
  const out = new Set<bigint>([MIN_TOKEN, MAX_TOKEN, ...extra]);
  for (const t of [...change.before.tokens, ...change.after.tokens]) for (const d of [-1n, 0n, 1n]) if (t + d >= MIN_TOKEN && t + d <= MAX_TOKEN) out.add(t + d);
  return [...out];
}

describe('planRangeMovements over random rings', () => {
  it('covers exactly the tokens whose replica set changes, once each, with the right gained and lost endpoints', () => {
    fc.assert(
      fc.property(changeArb, fc.array(tokenArb, { maxLength: 10 }), (change, extra) => {
        const movements = planRangeMovements(change.before, change.after, change.replication);
        for (const m of movements) expect(m.gained.length + m.lost.length).toBeGreaterThan(0);
        for (const token of probes(change, extra)) {
          const was = replicasFor(token, change.replication, change.before);
          const will = replicasFor(token, change.replication, change.after);
          const changed = was.length !== will.length || was.some((e) => !will.includes(e));
          const holding = movements.filter((m) => contains(m.range, token));
          if (!changed) {
            expect(holding).toEqual([]);
            continue;
          }
          expect(holding).toHaveLength(1);
          const m = holding[0]!;
          expect(m.before).toEqual(was);
          expect(m.after).toEqual(will);
          expect(m.gained).toEqual(will.filter((e) => !was.includes(e)));
          expect(m.lost).toEqual(was.filter((e) => !will.includes(e)));
        }
      }),
      { numRuns: 300 },
    );
  });
});
