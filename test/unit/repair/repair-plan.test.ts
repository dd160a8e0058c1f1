/**
 * The coordinator's pure decisions (src/repair/repair-plan.ts) and the MERKLE_TREE_REQUEST
 * formats (src/repair/repair-messages.ts).
 */
import { describe, expect, it } from 'vitest';
import { TokenMetadata } from '../../../src/ring/token-metadata.js';
import { CorruptDataError } from '../../../src/util/bytes.js';
import { MAX_LEAVES_PER_REQUEST, MAX_RANGES_PER_REQUEST, TARGET_PARTITIONS_PER_LEAF } from '../../../src/repair/limits.js';
import { MerkleTreeBuilder } from '../../../src/repair/merkle-tree.js';
import {
  decodeEstimateResponse,
  decodeTreeRequest,
  decodeTreesResponse,
  encodeEstimateResponse,
  encodeTreeRequest,
  encodeTreesResponse,
} from '../../../src/repair/repair-messages.js';
import { batchByLeaves, chooseDepth, depthCapFor, planRangeSync, ringRanges } from '../../../src/repair/repair-plan.js';

const RANGE = { start: 0n, end: 1_000_000n };

function tree(rows: Record<number, string>, depth = 4) {
  const builder = new MerkleTreeBuilder(RANGE, depth);
  for (const [token, value] of Object.entries(rows).sort((a, b) => Number(a[0]) - Number(b[0]))) builder.add(BigInt(token), Buffer.from(value));
  return builder.finish();
}

describe('planRangeSync', () => {
  it('plans nothing when every replica agrees', () => {
    const rows = { 10: 'a', 500_000: 'b' };
    const sync = planRangeSync(['a:1', 'b:1', 'c:1'].map((endpoint) => ({ endpoint, tree: tree(rows) })));
    expect(sync.groups).toEqual([['a:1', 'b:1', 'c:1']]);
    expect(sync.transfers).toEqual([]);
  });

  it('streams to a lagging replica from one agreeing replica, and back to both of them', () => {
    const full = tree({ 10: 'a', 500_000: 'b' });
    const lagging = tree({ 10: 'a' });
    const sync = planRangeSync([
      { endpoint: 'a:1', tree: full },
      { endpoint: 'b:1', tree: full },
      { endpoint: 'c:1', tree: lagging },
    ]);
    const leaf = [full.leafRange(full.leafIndexOf(500_000n))];
    expect(sync.groups).toEqual([['a:1', 'b:1'], ['c:1']]);
    expect(sync.transfers).toEqual([
      { source: 'a:1', target: 'c:1', ranges: leaf },
      { source: 'c:1', target: 'a:1', ranges: leaf },
      { source: 'c:1', target: 'b:1', ranges: leaf },
    ]);
  });

  it('syncs every pair of groups when all three replicas differ', () => {
    const sync = planRangeSync([
      { endpoint: 'a:1', tree: tree({ 10: 'a' }) },
      { endpoint: 'b:1', tree: tree({ 10: 'b' }) },
      { endpoint: 'c:1', tree: tree({ 10: 'c' }) },
    ]);
    expect(sync.groups).toHaveLength(3);
    const pairs = sync.transfers.map((t) => `${t.source}>${t.target}`).sort();
    expect(pairs).toEqual(['a:1>b:1', 'a:1>c:1', 'b:1>a:1', 'b:1>c:1', 'c:1>a:1', 'c:1>b:1']);
  });
});

describe('depths and batches', () => {
  it('aims at a handful of partitions per leaf, within the caps', () => {
    expect(chooseDepth(0, RANGE, 16)).toBe(0);
    expect(chooseDepth(TARGET_PARTITIONS_PER_LEAF, RANGE, 16)).toBe(0);
    expect(chooseDepth(TARGET_PARTITIONS_PER_LEAF * 1024, RANGE, 16)).toBe(10);
    expect(chooseDepth(TARGET_PARTITIONS_PER_LEAF * 1025, RANGE, 16)).toBe(11);
    expect(chooseDepth(1e12, RANGE, 16)).toBe(16);
    expect(chooseDepth(1e12, RANGE, 9)).toBe(9);
    // A range of 100 tokens cannot have more than 64 leaves.
    expect(chooseDepth(1e12, { start: 0n, end: 100n }, 16)).toBe(6);
    expect(depthCapFor(MAX_LEAVES_PER_REQUEST)).toBe(16);
    expect(depthCapFor(1000)).toBe(9);
  });

  it('batches ranges by their leaves and count', () => {
    const ranges = [10, 10, 9, 3, 10].map((depth, i) => ({ range: { start: BigInt(i), end: BigInt(i + 1) }, depth }));
    expect(batchByLeaves(ranges, 2048, 100).map((b) => b.map((r) => r.depth))).toEqual([[10, 10], [9, 3, 10]]);
    expect(batchByLeaves(ranges, 1 << 16, 2).map((b) => b.length)).toEqual([2, 2, 1]);
    expect(() => batchByLeaves(ranges, 512, 100)).toThrow(/leaf budget/);
  });

  it('lists every ring range with its replicas', () => {
    const ring = TokenMetadata.build([
      { endpoint: 'a:1', datacenter: 'dc1', rack: 'r1', tokens: [0n, 100n] },
      { endpoint: 'b:1', datacenter: 'dc1', rack: 'r1', tokens: [50n] },
    ]);
    expect(ringRanges(ring, { class: 'SimpleStrategy', replicationFactor: 2 })).toEqual([
      { range: { start: 100n, end: 0n }, replicas: ['a:1', 'b:1'] },
      { range: { start: 0n, end: 50n }, replicas: ['b:1', 'a:1'] },
      { range: { start: 50n, end: 100n }, replicas: ['a:1', 'b:1'] },
    ]);
  });
});

describe('MERKLE_TREE_REQUEST formats', () => {
  it('round-trips estimate and tree requests and answers', () => {
    const estimate = { kind: 'estimate' as const, tableId: 't-1', ranges: [RANGE, { start: 5n, end: -5n }] };
    expect(decodeTreeRequest(encodeTreeRequest(estimate))).toEqual(estimate);
    expect(decodeEstimateResponse(encodeEstimateResponse([3, 0]), 2)).toEqual([3, 0]);
    const trees = { kind: 'trees' as const, tableId: 't-1', ranges: [{ range: RANGE, depth: 4 }] };
    expect(decodeTreeRequest(encodeTreeRequest(trees))).toEqual(trees);
    const t = tree({ 10: 'a' });
    const [back] = decodeTreesResponse(encodeTreesResponse([t.encode()]), trees.ranges);
    expect(back!.root.equals(t.root)).toBe(true);
  });

  it('rejects answers that do not match the request, and malformed requests', () => {
    const t = tree({ 10: 'a' });
    expect(() => decodeTreesResponse(encodeTreesResponse([t.encode()]), [{ range: RANGE, depth: 5 }])).toThrow(CorruptDataError);
    expect(() => decodeTreesResponse(encodeTreesResponse([]), [{ range: RANGE, depth: 4 }])).toThrow(CorruptDataError);
    expect(() => decodeEstimateResponse(encodeEstimateResponse([1]), 2)).toThrow(CorruptDataError);
    const request = encodeTreeRequest({ kind: 'trees', tableId: 't', ranges: [{ range: RANGE, depth: 4 }] });
    for (let n = 0; n < request.length; n++) expect(() => decodeTreeRequest(request.subarray(0, n))).toThrow(CorruptDataError);
    expect(() => decodeTreeRequest(Buffer.concat([request, Buffer.from([0])]))).toThrow(CorruptDataError);
    const badKind = Buffer.from(request);
    badKind[1] = 9;
    expect(() => decodeTreeRequest(badKind)).toThrow(/kind/);
    const tooDeep = Buffer.from(request);
    tooDeep[tooDeep.length - 1] = 17;
    expect(() => decodeTreeRequest(tooDeep)).toThrow(/depth/);
    // More leaves than one request may ask for: 9 trees of 2^16 leaves.
    const greedy = encodeTreeRequest({ kind: 'trees', tableId: 't', ranges: Array.from({ length: 9 }, () => ({ range: { start: 0n, end: 1n << 40n }, depth: 16 })) });
    expect(() => decodeTreeRequest(greedy)).toThrow(/leaves/);
    expect(() => encodeTreeRequest({ kind: 'estimate', tableId: 't', ranges: Array.from({ length: MAX_RANGES_PER_REQUEST + 1 }, () => RANGE) })).toThrow(CorruptDataError);
  });
});
