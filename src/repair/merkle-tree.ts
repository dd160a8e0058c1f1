/**
 * A Merkle tree over one token range: the summary two replicas exchange to find, without
 * shipping their data, the sub-ranges where they hold different rows.
 *
 * Pattern: Merkle Tree (Joshi, *Patterns of Distributed Systems*); Dynamo §4.7 (anti-entropy);
 * Cassandra's `MerkleTree` as built by the `Validator` of a repair. Unlike Cassandra's, the
 * tree is perfect (every leaf at `depth`), so two trees of one range and depth have the same
 * shape and compare node by node.
 *
 * Shape: the range `(start, end]` (wrapping when `start >= end`, the whole ring when equal) has
 * `size` tokens, counted modulo 2^64. Its tokens are numbered by offset (`start + 1` is offset
 * 0) and cut into `L = 2^depth` leaves: leaf `i` holds the offsets `o` with
 * `floor(o * L / size) = i`, i.e. the tokens `(start + ceil(i*size/L), start + ceil((i+1)*size/L)]`.
 * Nodes are kept as a heap: the root is node 1, node `n` has children `2n` and `2n + 1`, the
 * leaves are nodes `L .. 2L - 1`. Inner nodes are computed on first use (a replica's worker
 * only encodes leaves; the coordinator compares).
 *
 * Hashes (HASH_BYTES, the first 16 bytes of SHA-256):
 * - a leaf is the hash of the byte stream of its entries, in the order they were added (token
 *   order: the entries are canonical and sorted, see validation.ts). An ordered stream, not an
 *   XOR of per-entry hashes: XOR lets two equal entries cancel, so a leaf holding a pair would
 *   look like an empty one. The stream is hashed in one call when the leaf closes; a leaf whose
 *   pending bytes pass CHAIN_BYTES first has them replaced by their 32-byte SHA-256 (then goes
 *   on appending), which bounds memory and depends only on the bytes, so equal streams still
 *   hash equally. (One one-shot hash per leaf is several times cheaper than a streaming
 *   `Hash` object per leaf, and leaves hold a couple of entries.)
 * - a leaf without entries is EMPTY_LEAF_HASH (all zero bytes), which no stream hashes to in
 *   practice;
 * - an inner node is the hash of its children's hashes, left then right.
 *
 * Invariants: `1 <= L <= size` (no leaf is empty of tokens: an empty `(a, a]` would mean the
 * whole ring); `depth <= MAX_MERKLE_DEPTH`; entries are added with non-decreasing offsets.
 * Pure apart from hashing: no I/O, no clock.
 *
 * Encoding (format version 1), what MERKLE_TREE_REQUEST answers carry:
 *
 *   version:u8(=1) start:8 end:8 depth:u8 entries:uvarint bitmap:ceil(L/8) hashes:16*popcount
 *
 * `start`/`end` are tokens in the storage encoding (keys.ts `encodeToken`); bit `i` of the
 * bitmap (byte `i >> 3`, bit `i & 7`) is set when leaf `i` has entries, and only those leaves'
 * hashes follow, in leaf order: small tables make small trees. Decoding checks the version, the
 * depth against the range, unused bitmap bits, that no listed hash is the empty one, and the
 * exact length; inner nodes are recomputed, never trusted from the wire.
 *
 * Bounds: at most 2^MAX_MERKLE_DEPTH leaves (1 MiB of leaf hashes, 2 MiB with inner nodes).
 */
import { hash as oneShotHash } from 'node:crypto';
import { rangeSize, TOKEN_SPACE, type TokenRange } from '../ring/token-metadata.js';
import { decodeToken, encodeToken, MIN_TOKEN } from '../storage/data/keys.js';
import { assert } from '../util/assert.js';
import { ByteReader, ByteWriter, CorruptDataError } from '../util/bytes.js';

export const MERKLE_FORMAT_VERSION = 1;
/** 2^16 leaves per range at most: a range's tree stays within 2 MiB. */
export const MAX_MERKLE_DEPTH = 16;
export const HASH_BYTES = 16;
export const EMPTY_LEAF_HASH: Buffer = Buffer.alloc(HASH_BYTES);
/** A leaf's pending entry bytes beyond this are folded into their hash (see the header). */
export const CHAIN_BYTES = 64 * 1024;

function sha256(data: Uint8Array): Buffer {
  return oneShotHash('sha256', data, 'buffer') as unknown as Buffer;
}

function truncatedSha256(data: Uint8Array): Buffer {
  return sha256(data).subarray(0, HASH_BYTES);
}

/** `x` moved into the signed token space [MIN_TOKEN, MAX_TOKEN] modulo 2^64. */
export function wrapToken(x: bigint): bigint {
  return ((((x - MIN_TOKEN) % TOKEN_SPACE) + TOKEN_SPACE) % TOKEN_SPACE) + MIN_TOKEN;
}

/** The deepest tree a range admits: every leaf keeps at least one token. */
export function maxDepthFor(range: TokenRange): number {
  const size = rangeSize(range.start, range.end);
  let depth = 0;
  while (depth < MAX_MERKLE_DEPTH && 1n << BigInt(depth + 1) <= size) depth++;
  return depth;
}

function checkShape(range: TokenRange, depth: number): void {
  assert(Number.isInteger(depth) && depth >= 0 && depth <= MAX_MERKLE_DEPTH, `merkle depth ${depth} outside [0, ${MAX_MERKLE_DEPTH}]`);
  assert(1n << BigInt(depth) <= rangeSize(range.start, range.end), `range (${range.start}, ${range.end}] is too small for depth ${depth}`);
}

/** Geometry of one range cut into 2^depth leaves (see the module header). */
class LeafLayout {
  readonly size: bigint;
  readonly leafCount: number;
  private readonly leaves: bigint;

  constructor(
    readonly range: TokenRange,
    readonly depth: number,
  ) {
    checkShape(range, depth);
    this.size = rangeSize(range.start, range.end);
    this.leafCount = 1 << depth;
    this.leaves = BigInt(this.leafCount);
  }

  offsetOf(token: bigint): bigint {
    // Both are tokens, so token - start - 1 lies in (-2^64, 2^64): one correction is enough.
    let offset = token - this.range.start - 1n;
    if (offset < 0n) offset += TOKEN_SPACE;
    assert(offset < this.size, `token ${token} is outside (${this.range.start}, ${this.range.end}]`);
    return offset;
  }

  leafOfOffset(offset: bigint): number {
    return Number((offset * this.leaves) / this.size);
  }

  /** First offset of leaf `i` (`i = leafCount` gives `size`). */
  lowOffset(i: number): bigint {
    return (BigInt(i) * this.size + this.leaves - 1n) / this.leaves;
  }

  /** Leaves `first..last` (inclusive) as one token range. */
  tokensOf(first: number, last: number): TokenRange {
    return { start: wrapToken(this.range.start + this.lowOffset(first)), end: wrapToken(this.range.start + this.lowOffset(last + 1)) };
  }
}

// #region pattern:Merkle Tree
export class MerkleTree {
  private readonly layout: LeafLayout;

  /** Inner nodes `nextInner + 1 .. leafCount - 1` are computed; 0 when all are. */
  private nextInner: number;

  private constructor(
    layout: LeafLayout,
    /** Entries hashed into the tree (what the replica read for this range). */
    readonly entries: number,
    /** The heap of node hashes: node n at n * HASH_BYTES; node 0 unused. */
    private readonly nodes: Buffer,
  ) {
    this.layout = layout;
    this.nextInner = layout.leafCount - 1;
  }

  /** A tree from its leaf hashes (`leafCount * HASH_BYTES` bytes, leaf order). */
  static fromLeaves(range: TokenRange, depth: number, leafHashes: Buffer, entries: number): MerkleTree {
    const layout = new LeafLayout(range, depth);
    const leafCount = layout.leafCount;
    assert(leafHashes.length === leafCount * HASH_BYTES, `expected ${leafCount} leaf hashes`);
    const nodes = Buffer.alloc(2 * leafCount * HASH_BYTES);
    leafHashes.copy(nodes, leafCount * HASH_BYTES);
    return new MerkleTree(layout, entries, nodes);
  }

  /**
   * Computes up to `maxHashes` more inner nodes, bottom-up; true once all are computed. Lets a
   * caller on an event loop spread a big tree's hashing over several turns; reading an inner
   * node computes whatever is left first.
   */
  hashInnerNodes(maxHashes: number = Number.POSITIVE_INFINITY): boolean {
    const nodes = this.nodes;
    for (let done = 0; this.nextInner >= 1 && done < maxHashes; done++, this.nextInner--) {
      const n = this.nextInner;
      truncatedSha256(nodes.subarray(2 * n * HASH_BYTES, (2 * n + 2) * HASH_BYTES)).copy(nodes, n * HASH_BYTES);
    }
    return this.nextInner === 0;
  }

  get range(): TokenRange {
    return this.layout.range;
  }

  get depth(): number {
    return this.layout.depth;
  }

  get leafCount(): number {
    return this.layout.leafCount;
  }

  get root(): Buffer {
    return this.nodeHash(1);
  }

  /** Node `n` of the heap (1 = root; leaves are `leafCount .. 2*leafCount - 1`). */
  nodeHash(n: number): Buffer {
    assert(Number.isInteger(n) && n >= 1 && n < 2 * this.leafCount, `no node ${n}`);
    if (n < this.leafCount && this.nextInner !== 0) this.hashInnerNodes();
    return this.nodes.subarray(n * HASH_BYTES, (n + 1) * HASH_BYTES);
  }

  leafHash(i: number): Buffer {
    return this.nodeHash(this.leafCount + i);
  }

  /** The leaf that holds `token` (which must lie in the range). */
  leafIndexOf(token: bigint): number {
    return this.layout.leafOfOffset(this.layout.offsetOf(token));
  }

  /** The tokens of leaf `i`, `(a, b]`. */
  leafRange(i: number): TokenRange {
    assert(Number.isInteger(i) && i >= 0 && i < this.leafCount, `no leaf ${i}`);
    return this.layout.tokensOf(i, i);
  }

  /** Same range, same depth: the trees can be compared node by node. */
  comparableWith(other: MerkleTree): boolean {
    return this.range.start === other.range.start && this.range.end === other.range.end && this.depth === other.depth;
  }

  encode(): Buffer {
    const leafCount = this.leafCount;
    const bitmap = Buffer.alloc(Math.ceil(leafCount / 8));
    let filled = 0;
    for (let i = 0; i < leafCount; i++) {
      if (this.leafHash(i).equals(EMPTY_LEAF_HASH)) continue;
      bitmap[i >> 3]! |= 1 << (i & 7);
      filled++;
    }
    const w = new ByteWriter(32 + bitmap.length + filled * HASH_BYTES);
    w.u8(MERKLE_FORMAT_VERSION).bytes(encodeToken(this.range.start)).bytes(encodeToken(this.range.end)).u8(this.depth).uvarint(this.entries);
    w.bytes(bitmap);
    for (let i = 0; i < leafCount; i++) if (bitmap[i >> 3]! & (1 << (i & 7))) w.bytes(this.leafHash(i));
    return w.toBuffer();
  }

  /** A tree from `encode`'s bytes; malformed input throws `CorruptDataError`. */
  static decode(bytes: Buffer): MerkleTree {
    const r = new ByteReader(bytes);
    const version = r.u8();
    if (version !== MERKLE_FORMAT_VERSION) throw new CorruptDataError(`unknown merkle tree format ${version}`);
    const range = { start: decodeToken(r.bytes(8)), end: decodeToken(r.bytes(8)) };
    const depth = r.u8();
    if (depth > MAX_MERKLE_DEPTH) throw new CorruptDataError(`merkle depth ${depth} exceeds ${MAX_MERKLE_DEPTH}`);
    if (1n << BigInt(depth) > rangeSize(range.start, range.end)) throw new CorruptDataError(`merkle depth ${depth} too deep for its range`);
    const entries = r.uvarint();
    const leafCount = 1 << depth;
    const bitmap = r.bytes(Math.ceil(leafCount / 8));
    if (leafCount < 8 && bitmap[0]! >> leafCount !== 0) throw new CorruptDataError('merkle bitmap marks leaves beyond the last');
    const leaves = Buffer.alloc(leafCount * HASH_BYTES);
    for (let i = 0; i < leafCount; i++) {
      if (!(bitmap[i >> 3]! & (1 << (i & 7)))) continue;
      const leaf = r.bytes(HASH_BYTES);
      if (leaf.equals(EMPTY_LEAF_HASH)) throw new CorruptDataError(`merkle leaf ${i} is marked filled but has the empty hash`);
      leaf.copy(leaves, i * HASH_BYTES);
    }
    if (r.remaining !== 0) throw new CorruptDataError(`${r.remaining} trailing bytes after a merkle tree`);
    return MerkleTree.fromLeaves(range, depth, leaves, entries);
  }
}

/**
 * Builds a tree from entries given in ring order of their tokens within the range: the leaf
 * being filled collects its entries' bytes (at most CHAIN_BYTES plus one entry, see the
 * header); a later leaf closes it.
 */
export class MerkleTreeBuilder {
  private readonly layout: LeafLayout;
  private readonly leafHashes: Buffer;
  private current = -1;
  private currentEndOffset = -1n;
  private pending: Buffer = Buffer.allocUnsafe(4096);
  private pendingBytes = 0;
  private open = false;
  private lastOffset = -1n;
  private entries = 0;
  private finished = false;

  constructor(range: TokenRange, depth: number) {
    this.layout = new LeafLayout(range, depth);
    this.leafHashes = Buffer.alloc(this.layout.leafCount * HASH_BYTES);
  }

  /** Hashes one entry's bytes into the leaf of `token`. Tokens must not go backwards. */
  add(token: bigint, entryBytes: Uint8Array): void {
    assert(!this.finished, 'the tree is finished');
    const offset = this.layout.offsetOf(token);
    assert(offset >= this.lastOffset, `token ${token} added after a later one`);
    this.lastOffset = offset;
    if (offset >= this.currentEndOffset) {
      this.closeLeaf();
      this.current = this.layout.leafOfOffset(offset);
      this.currentEndOffset = this.layout.lowOffset(this.current + 1);
      this.open = true;
    }
    this.append(entryBytes);
    if (this.pendingBytes > CHAIN_BYTES) this.fold();
    this.entries++;
  }

  private append(bytes: Uint8Array): void {
    const need = this.pendingBytes + bytes.length;
    if (need > this.pending.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, 2 * this.pending.length));
      this.pending.copy(grown, 0, 0, this.pendingBytes);
      this.pending = grown;
    }
    this.pending.set(bytes, this.pendingBytes);
    this.pendingBytes = need;
  }

  /** Replaces the pending bytes by their SHA-256 (the chaining of the module header). */
  private fold(): void {
    const digest = sha256(this.pending.subarray(0, this.pendingBytes));
    this.pendingBytes = 0;
    this.append(digest);
  }

  private closeLeaf(): void {
    if (!this.open) return;
    sha256(this.pending.subarray(0, this.pendingBytes)).copy(this.leafHashes, this.current * HASH_BYTES, 0, HASH_BYTES);
    this.pendingBytes = 0;
    this.open = false;
  }

  finish(): MerkleTree {
    assert(!this.finished, 'the tree is finished');
    this.closeLeaf();
    this.finished = true;
    return MerkleTree.fromLeaves(this.layout.range, this.layout.depth, this.leafHashes, this.entries);
  }
}

/**
 * The sub-ranges where `a` and `b` differ: walk both trees from the root, descend only into
 * nodes whose hashes differ, collect the differing leaves, and join adjacent ones. In ring
 * order from the range's start. Throws when the trees are not comparable (range or depth).
 */
export function differences(a: MerkleTree, b: MerkleTree): TokenRange[] {
  if (!a.comparableWith(b)) {
    throw new CorruptDataError(`merkle trees of (${a.range.start}, ${a.range.end}] depth ${a.depth} and (${b.range.start}, ${b.range.end}] depth ${b.depth} do not compare`);
  }
  const leafCount = a.leafCount;
  const differing: number[] = [];
  const pending = [1];
  while (pending.length > 0) {
    const n = pending.pop()!;
    if (a.nodeHash(n).equals(b.nodeHash(n))) continue;
    if (n >= leafCount) differing.push(n - leafCount);
    else pending.push(2 * n + 1, 2 * n);
  }
  const out: TokenRange[] = [];
  const layout = new LeafLayout(a.range, a.depth);
  for (let i = 0; i < differing.length; ) {
    let j = i;
    while (j + 1 < differing.length && differing[j + 1] === differing[j]! + 1) j++;
    out.push(layout.tokensOf(differing[i]!, differing[j]!));
    i = j + 1;
  }
  return out;
}
// #endregion
