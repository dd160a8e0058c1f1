/**
 * The Merkle tree of one token range (src/repair/merkle-tree.ts): leaves partition the range,
 * equal entry streams give equal trees, one differing entry shows up as exactly its leaf's
 * range, wrapping ranges and the whole ring behave, and the wire form round-trips and rejects
 * malformed input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rangeSize, type TokenRange } from '../../../src/ring/token-metadata.js';
import { MAX_TOKEN, MIN_TOKEN } from '../../../src/storage/data/keys.js';
import { CorruptDataError } from '../../../src/util/bytes.js';
import { CHAIN_BYTES, differences, EMPTY_LEAF_HASH, maxDepthFor, MerkleTree, MerkleTreeBuilder, wrapToken } from '../../../src/repair/merkle-tree.js';

interface Entry {
  readonly token: bigint;
  readonly bytes: Buffer;
}

function contains(range: TokenRange, token: bigint): boolean {
  if (range.start < range.end) return token > range.start && token <= range.end;
  return token > range.start || token <= range.end;
}

const offsetOf = (range: TokenRange, token: bigint): bigint => (((token - range.start - 1n) % 2n ** 64n) + 2n ** 64n) % 2n ** 64n;

function build(range: TokenRange, depth: number, entries: readonly Entry[]): MerkleTree {
  const builder = new MerkleTreeBuilder(range, depth);
  for (const e of entries) builder.add(e.token, e.bytes);
  return builder.finish();
}

/** Entries in ring order from the range's start (the order a replica reads them in). */
function sorted(range: TokenRange, entries: readonly Entry[]): Entry[] {
  return [...entries].sort((a, b) => {
    const d = offsetOf(range, a.token) - offsetOf(range, b.token);
    return d < 0n ? -1 : d > 0n ? 1 : Buffer.compare(a.bytes, b.bytes);
  });
}

const tokenArb = fc.bigInt({ min: MIN_TOKEN, max: MAX_TOKEN });
/** Any range, wrapping ones and the whole ring included; small ranges now and then. */
const rangeArb: fc.Arbitrary<TokenRange> = fc.oneof(
  fc.record({ start: tokenArb, end: tokenArb }),
  fc.tuple(tokenArb, fc.bigInt({ min: 1n, max: 5000n })).map(([start, size]) => ({ start, end: wrapToken(start + size) })),
  tokenArb.map((t) => ({ start: t, end: t })),
);

/** A range, a depth it admits, and entries whose tokens lie in it (ring order). */
const treeCaseArb = rangeArb.chain((range) => {
  const size = rangeSize(range.start, range.end);
  const tokenIn = fc.bigInt({ min: 0n, max: size - 1n }).map((o) => wrapToken(range.start + 1n + o));
  const entryArb = fc.record({ token: tokenIn, bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }).map((b) => Buffer.from(b)) });
  return fc.record({
    range: fc.constant(range),
    depth: fc.integer({ min: 0, max: Math.min(8, maxDepthFor(range)) }),
    entries: fc.array(entryArb, { maxLength: 40 }).map((es) => sorted(range, es)),
  });
});

describe('MerkleTree', () => {
  it('cuts a range into leaves that partition it, and finds every token in its leaf', () => {
    fc.assert(
      fc.property(treeCaseArb, ({ range, depth, entries }) => {
        const tree = build(range, depth, entries);
        expect(tree.leafRange(0).start).toBe(range.start);
        expect(tree.leafRange(tree.leafCount - 1).end).toBe(range.end);
        let total = 0n;
        for (let i = 0; i < tree.leafCount; i++) {
          const leaf = tree.leafRange(i);
          if (i + 1 < tree.leafCount) expect(tree.leafRange(i + 1).start).toBe(leaf.end);
          total += rangeSize(leaf.start, leaf.end);
        }
        expect(total).toBe(rangeSize(range.start, range.end));
        for (const e of entries) {
          expect(contains(tree.leafRange(tree.leafIndexOf(e.token)), e.token)).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('gives identical entry streams identical trees, and no differences', () => {
    fc.assert(
      fc.property(treeCaseArb, ({ range, depth, entries }) => {
        const a = build(range, depth, entries);
        const b = build(range, depth, entries.map((e) => ({ token: e.token, bytes: Buffer.from(e.bytes) })));
        expect(a.root.equals(b.root)).toBe(true);
        expect(differences(a, b)).toEqual([]);
        expect(a.entries).toBe(entries.length);
      }),
      { numRuns: 200 },
    );
  });

  it('reports one changed, missing or extra entry as exactly its leaf range', () => {
    const caseArb = treeCaseArb
      .filter((c) => c.entries.length > 0)
      .chain((c) => fc.record({ c: fc.constant(c), index: fc.nat({ max: c.entries.length - 1 }), change: fc.constantFrom('value', 'missing', 'extra') }));
    fc.assert(
      fc.property(caseArb, ({ c: { range, depth, entries }, index, change }) => {
        const victim = entries[index]!;
        let other: Entry[];
        if (change === 'value') other = entries.map((e, i) => (i === index ? { token: e.token, bytes: Buffer.concat([e.bytes, Buffer.from([0x2a])]) } : e));
        else if (change === 'missing') other = entries.filter((_, i) => i !== index);
        else other = sorted(range, [...entries, { token: victim.token, bytes: Buffer.from('extra row') }]);
        const a = build(range, depth, entries);
        const b = build(range, depth, other);
        const leaf = a.leafRange(a.leafIndexOf(victim.token));
        expect(differences(a, b)).toEqual([leaf]);
        expect(differences(b, a)).toEqual([leaf]);
      }),
      { numRuns: 300 },
    );
  });

  it('joins adjacent differing leaves and keeps apart the others', () => {
    const range = { start: 0n, end: 800n };
    const entry = (token: bigint, text: string): Entry => ({ token, bytes: Buffer.from(text) });
    const base = [entry(50n, 'a'), entry(150n, 'b'), entry(250n, 'c'), entry(650n, 'd')];
    const a = build(range, 3, base);
    // Leaves of 100 tokens: 150 and 250 sit in the adjacent leaves 1 and 2, 650 in leaf 6.
    const b = build(range, 3, [entry(50n, 'a'), entry(150n, 'B'), entry(250n, 'C'), entry(650n, 'D')]);
    expect(differences(a, b)).toEqual([
      { start: 100n, end: 300n },
      { start: 600n, end: 700n },
    ]);
  });

  it('handles a wrapping range in ring order across MAX_TOKEN', () => {
    const range = { start: MAX_TOKEN - 100n, end: MIN_TOKEN + 99n };
    expect(rangeSize(range.start, range.end)).toBe(200n);
    const tokens = [MAX_TOKEN - 50n, MAX_TOKEN, MIN_TOKEN, MIN_TOKEN + 10n];
    const entries = tokens.map((token, i) => ({ token, bytes: Buffer.from([i]) }));
    const a = build(range, 1, entries);
    expect(a.leafRange(0)).toEqual({ start: MAX_TOKEN - 100n, end: MAX_TOKEN });
    expect(a.leafRange(1)).toEqual({ start: MAX_TOKEN, end: MIN_TOKEN + 99n });
    expect(a.leafIndexOf(MAX_TOKEN)).toBe(0);
    expect(a.leafIndexOf(MIN_TOKEN)).toBe(1);
    const b = build(range, 1, entries.slice(0, 3));
    expect(differences(a, b)).toEqual([{ start: MAX_TOKEN, end: MIN_TOKEN + 99n }]);
  });

  it('reports the whole ring when every leaf of a whole-ring tree differs', () => {
    const range = { start: 42n, end: 42n };
    const a = build(range, 2, []);
    const b = build(
      range,
      2,
      sorted(range, [0, 1, 2, 3].map((i) => ({ token: wrapToken(42n + 1n + BigInt(i) * 2n ** 62n), bytes: Buffer.from([i]) }))),
    );
    expect(differences(a, b)).toEqual([{ start: 42n, end: 42n }]);
  });

  it('refuses entries that go backwards or fall outside the range, and trees that do not compare', () => {
    const builder = new MerkleTreeBuilder({ start: 0n, end: 100n }, 2);
    builder.add(50n, Buffer.from('x'));
    expect(() => builder.add(40n, Buffer.from('y'))).toThrow(/after a later one/);
    expect(() => builder.add(101n, Buffer.from('z'))).toThrow(/outside/);
    expect(() => new MerkleTreeBuilder({ start: 0n, end: 3n }, 2)).toThrow(/too small/);
    expect(() => differences(build({ start: 0n, end: 100n }, 2, []), build({ start: 0n, end: 100n }, 3, []))).toThrow(CorruptDataError);
  });

  it('hashes a leaf of more than CHAIN_BYTES of entries by what all of them hold', () => {
    const range = { start: 0n, end: 1000n };
    const entries = Array.from({ length: Math.ceil((3 * CHAIN_BYTES) / 1000) }, (_, i) => ({ token: 10n + BigInt(i), bytes: Buffer.alloc(1000, i) }));
    const a = build(range, 1, entries);
    expect(a.root.equals(build(range, 1, entries.map((e) => ({ token: e.token, bytes: Buffer.from(e.bytes) }))).root)).toBe(true);
    for (const changed of [0, entries.length - 1]) {
      const other = entries.map((e, i) => (i === changed ? { token: e.token, bytes: Buffer.alloc(1000, 255) } : e));
      expect(differences(a, build(range, 1, other))).toEqual([{ start: 0n, end: 500n }]);
    }
  });

  it('leaves without entries have the fixed empty hash', () => {
    const tree = build({ start: 0n, end: 1000n }, 2, [{ token: 10n, bytes: Buffer.from('x') }]);
    expect(tree.leafHash(0).equals(EMPTY_LEAF_HASH)).toBe(false);
    for (const i of [1, 2, 3]) expect(tree.leafHash(i).equals(EMPTY_LEAF_HASH)).toBe(true);
  });
});

describe('MerkleTree encoding', () => {
  it('round-trips every tree', () => {
    fc.assert(
      fc.property(treeCaseArb, ({ range, depth, entries }) => {
        const tree = build(range, depth, entries);
        const back = MerkleTree.decode(tree.encode());
        expect(back.range).toEqual(range);
        expect(back.depth).toBe(depth);
        expect(back.entries).toBe(entries.length);
        for (let n = 1; n < 2 * tree.leafCount; n++) expect(back.nodeHash(n).equals(tree.nodeHash(n))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('computes inner nodes a slice at a time to the same hashes', () => {
    fc.assert(
      fc.property(treeCaseArb, fc.integer({ min: 1, max: 7 }), ({ range, depth, entries }, slice) => {
        const tree = build(range, depth, entries);
        const stepped = MerkleTree.decode(tree.encode());
        let steps = 0;
        while (!stepped.hashInnerNodes(slice)) steps++;
        expect(steps).toBe(Math.max(0, Math.ceil((tree.leafCount - 1) / slice) - 1));
        expect(stepped.root.equals(tree.root)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('rejects every truncation and trailing bytes', () => {
    const tree = build({ start: -5000n, end: 5000n }, 4, [
      { token: -10n, bytes: Buffer.from('a') },
      { token: 4000n, bytes: Buffer.from('b') },
    ]);
    const bytes = tree.encode();
    for (let n = 0; n < bytes.length; n++) expect(() => MerkleTree.decode(bytes.subarray(0, n))).toThrow(CorruptDataError);
    expect(() => MerkleTree.decode(Buffer.concat([bytes, Buffer.from([0])]))).toThrow(CorruptDataError);
  });

  it('rejects a bad version, a depth too deep, stray bitmap bits and a filled leaf with the empty hash', () => {
    const tree = build({ start: 0n, end: 1000n }, 2, [{ token: 10n, bytes: Buffer.from('x') }]);
    const bytes = tree.encode();
    const headerBytes = 1 + 8 + 8 + 1 + 1;
    const mutate = (f: (b: Buffer) => void): Buffer => {
      const copy = Buffer.from(bytes);
      f(copy);
      return copy;
    };
    expect(() => MerkleTree.decode(mutate((b) => (b[0] = 2)))).toThrow(/format/);
    expect(() => MerkleTree.decode(mutate((b) => (b[17] = 17)))).toThrow(/depth/);
    // Depth 11 needs 2048 tokens: the range (0, 1000] has 1000.
    expect(() => MerkleTree.decode(mutate((b) => (b[17] = 11)))).toThrow(/too deep/);
    expect(() => MerkleTree.decode(mutate((b) => (b[headerBytes]! |= 0x80)))).toThrow(/beyond the last/);
    expect(() => MerkleTree.decode(mutate((b) => b.fill(0, headerBytes + 1)))).toThrow(/empty hash/);
  });

  it('never fails on arbitrary bytes with anything but CorruptDataError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (raw) => {
        try {
          MerkleTree.decode(Buffer.from(raw));
        } catch (err) {
          expect(err).toBeInstanceOf(CorruptDataError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
