/**
 * The ring (Consistent Hashing): which endpoint is the primary replica of a token, the ranges
 * an endpoint owns, and the share of the token space each endpoint owns. Small rings are
 * computed by hand; properties check any ring.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_TOKEN, MIN_TOKEN } from '../../../src/ring/murmur3.js';
import { rangeSize, TOKEN_SPACE, TokenMetadata, type RingNode } from '../../../src/ring/token-metadata.js';

const node = (endpoint: string, tokens: bigint[], datacenter = 'dc1', rack = 'r1'): RingNode => ({ endpoint, tokens, datacenter, rack });

// Sorted: -100 (c), 0 (a), 50 (b), 100 (a).
const RING = TokenMetadata.build([node('a', [0n, 100n]), node('b', [50n]), node('c', [-100n])]);

describe('TokenMetadata', () => {
  it('keeps every token in ascending order with its owner', () => {
    expect(RING.tokens).toEqual([-100n, 0n, 50n, 100n]);
    expect(RING.owners).toEqual(['c', 'a', 'b', 'a']);
    expect(RING.endpoints()).toEqual(['a', 'b', 'c']);
    expect(RING.location('b')).toEqual({ datacenter: 'dc1', rack: 'r1' });
  });

  it('gives a token to the owner of the first ring token at or after it, wrapping past the largest', () => {
    expect(RING.primaryRangeOwner(MIN_TOKEN)).toBe('c');
    expect(RING.primaryRangeOwner(-100n)).toBe('c');
    expect(RING.primaryRangeOwner(-99n)).toBe('a');
    expect(RING.primaryRangeOwner(0n)).toBe('a');
    expect(RING.primaryRangeOwner(1n)).toBe('b');
    expect(RING.primaryRangeOwner(50n)).toBe('b');
    expect(RING.primaryRangeOwner(100n)).toBe('a');
    expect(RING.primaryRangeOwner(101n)).toBe('c');
    expect(RING.primaryRangeOwner(MAX_TOKEN)).toBe('c');
    expect(TokenMetadata.EMPTY.primaryRangeOwner(0n)).toBeUndefined();
  });

  it('lists the ranges an endpoint is the primary replica of, the first one wrapping', () => {
    expect(RING.rangesOf('a')).toEqual([
      { start: -100n, end: 0n },
      { start: 50n, end: 100n },
    ]);
    expect(RING.rangesOf('c')).toEqual([{ start: 100n, end: -100n }]);
    expect(RING.rangesOf('nobody')).toEqual([]);
  });

  it('measures ownership as the share of the 2^64 token space owned', () => {
    const owns = RING.ownership();
    const space = Number(TOKEN_SPACE);
    expect(owns.get('a')).toBeCloseTo(150 / space, 25);
    expect(owns.get('b')).toBeCloseTo(50 / space, 25);
    expect(owns.get('c')).toBeCloseTo(1, 12);
    expect(TokenMetadata.build([node('solo', [42n])]).ownership()).toEqual(new Map([['solo', 1]]));
  });

  it('splits evenly spaced tokens evenly', () => {
    const quarter = 2n ** 62n;
    const ring = TokenMetadata.build([node('a', [MIN_TOKEN + 1n, 1n]), node('b', [MIN_TOKEN + 1n + quarter, 1n + quarter])]);
    expect(ring.ownership()).toEqual(new Map([['a', 0.5], ['b', 0.5]]));
  });

  it('counts range sizes modulo 2^64, a lone token owning everything', () => {
    expect(rangeSize(-100n, 0n)).toBe(100n);
    expect(rangeSize(100n, -100n)).toBe(TOKEN_SPACE - 200n);
    expect(rangeSize(7n, 7n)).toBe(TOKEN_SPACE);
  });

  it('gives a token claimed twice to the endpoint that sorts first, whatever the order of the nodes', () => {
    const one = TokenMetadata.build([node('b', [5n, 9n]), node('a', [5n])]);
    const two = TokenMetadata.build([node('a', [5n]), node('b', [9n, 5n])]);
    expect(one.owners).toEqual(['a', 'b']);
    expect(two.tokens).toEqual(one.tokens);
    expect(two.owners).toEqual(one.owners);
    // An endpoint left with no token is not on the ring.
    expect(TokenMetadata.build([node('b', [5n]), node('a', [5n])]).endpoints()).toEqual(['a']);
  });

  it('counts endpoints and racks per datacenter', () => {
    const ring = TokenMetadata.build([node('a', [1n], 'dc1', 'r1'), node('b', [2n], 'dc1', 'r2'), node('c', [3n], 'dc1', 'r1'), node('d', [4n], 'dc2', 'r1')]);
    expect(Object.fromEntries(ring.datacenters())).toEqual({ dc1: { endpoints: 3, racks: 2 }, dc2: { endpoints: 1, racks: 1 } });
  });

  it('is built from status nodes, leaving out JOINING nodes and nodes without tokens', () => {
    const ring = TokenMetadata.fromStatus([
      { internode: '127.0.0.1:7001', datacenter: 'dc1', rack: 'r1', state: 'NORMAL', tokens: ['-5', '10'] },
      { internode: '127.0.0.1:7002', datacenter: 'dc1', rack: 'r2', state: 'LEAVING', tokens: ['3'] },
      { internode: '127.0.0.1:7003', datacenter: 'dc1', rack: 'r1', state: 'JOINING', tokens: ['4'] },
      { internode: '127.0.0.1:7004', datacenter: 'dc1', rack: 'r1', state: 'NORMAL', tokens: [] },
    ]);
    expect(ring.tokens).toEqual([-5n, 3n, 10n]);
    expect(ring.endpoints()).toEqual(['127.0.0.1:7001', '127.0.0.1:7002']);
  });
});

// ---- properties -------------------------------------------------------------------------------

const tokenArb = fc.bigInt({ min: MIN_TOKEN + 1n, max: MAX_TOKEN });
const ringArb = fc
  .uniqueArray(tokenArb, { minLength: 1, maxLength: 40 })
  .chain((tokens) => fc.tuple(fc.constant(tokens), fc.array(fc.integer({ min: 0, max: 5 }), { minLength: tokens.length, maxLength: tokens.length })))
  .map(([tokens, owners]) => {
    const byEndpoint = new Map<string, bigint[]>();
    tokens.forEach((t, i) => byEndpoint.set(`n${owners[i]}`, [...(byEndpoint.get(`n${owners[i]}`) ?? []), t]));
    return [...byEndpoint].map(([endpoint, ts]) => node(endpoint, ts));
  });

describe('TokenMetadata properties', () => {
  it('ownership sums to 1 and each endpoint owns exactly the sizes of its ranges', () => {
    fc.assert(
      fc.property(ringArb, (nodes) => {
        const ring = TokenMetadata.build(nodes);
        const owns = ring.ownership();
        expect([...owns.values()].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
        let total = 0n;
        for (const endpoint of ring.endpoints()) {
          const size = ring.rangesOf(endpoint).reduce((sum, r) => sum + rangeSize(r.start, r.end), 0n);
          total += size;
          expect(owns.get(endpoint)).toBeCloseTo(Number(size) / Number(TOKEN_SPACE), 12);
        }
        expect(total).toBe(TOKEN_SPACE);
      }),
    );
  });

  it('the primary owner of a token is the owner of the range containing it', () => {
    fc.assert(
      fc.property(ringArb, tokenArb, (nodes, token) => {
        const ring = TokenMetadata.build(nodes);
        const owner = ring.primaryRangeOwner(token)!;
        const inRange = ring.rangesOf(owner).some(({ start, end }) => (start < end ? token > start && token <= end : token > start || token <= end));
        expect(inRange).toBe(true);
      }),
    );
  });

  it('does not depend on the order of the nodes or of their tokens', () => {
    fc.assert(
      fc.property(ringArb, (nodes) => {
        const a = TokenMetadata.build(nodes);
        const b = TokenMetadata.build([...nodes].reverse().map((n) => ({ ...n, tokens: [...n.tokens].reverse() })));
        expect(b.tokens).toEqual(a.tokens);
        expect(b.owners).toEqual(a.owners);
      }),
    );
  });
});
