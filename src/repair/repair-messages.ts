/**
 * Message formats of MERKLE_TREE_REQUEST (verb 136), version 1. A coordinator asks a replica
 * of a table either for partition estimates of token ranges (to choose tree depths every
 * replica then shares) or for the Merkle trees of ranges at given depths. Cassandra: the
 * `ValidationRequest` / `ValidationResponse` of a repair session.
 *
 *   request            := version:u8(=1) kind:u8 tableId:string count:uvarint range*count
 *     kind 1 estimate:    range := start:8 end:8
 *     kind 2 trees:       range := start:8 end:8 depth:u8
 *   estimate response  := version:u8(=1) count:uvarint partitions:uvarint*count
 *   trees response     := version:u8(=1) count:uvarint tree:lbytes*count      (merkle-tree.ts)
 *
 * Tokens are 8 bytes in the storage encoding (keys.ts `encodeToken`); answers list the ranges
 * in the request's order. A replica that cannot serve a request (unknown table, a corrupt
 * message, too many validations queued) throws, so the coordinator gets an error answer.
 *
 * Bounds (decoding rejects more, unknown kinds and trailing bytes with `CorruptDataError`):
 * at most MAX_RANGES_PER_REQUEST ranges; a table id at most MAX_TABLE_ID_BYTES; depths at most
 * MAX_MERKLE_DEPTH and within the range's size; all trees of a request together at most
 * MAX_LEAVES_PER_REQUEST leaves.
 */
import { MAX_TABLE_ID_BYTES } from '../coordinator/replica-verbs.js';
import { rangeSize, type TokenRange } from '../ring/token-metadata.js';
import { decodeToken, encodeToken } from '../storage/data/keys.js';
import { ByteReader, ByteWriter, CorruptDataError } from '../util/bytes.js';
import { MAX_LEAVES_PER_REQUEST, MAX_RANGES_PER_REQUEST } from './limits.js';
import { MAX_MERKLE_DEPTH, MerkleTree } from './merkle-tree.js';
import type { RangeDepth } from './validation.js';

export const REPAIR_MESSAGE_VERSION = 1;
const KIND_ESTIMATE = 1;
const KIND_TREES = 2;

export type TreeRequest =
  | { readonly kind: 'estimate'; readonly tableId: string; readonly ranges: readonly TokenRange[] }
  | { readonly kind: 'trees'; readonly tableId: string; readonly ranges: readonly RangeDepth[] };

function writeRange(w: ByteWriter, range: TokenRange): void {
  w.bytes(encodeToken(range.start)).bytes(encodeToken(range.end));
}

function readRange(r: ByteReader): TokenRange {
  return { start: decodeToken(r.bytes(8)), end: decodeToken(r.bytes(8)) };
}

function checkCount(count: number): void {
  if (count > MAX_RANGES_PER_REQUEST) throw new CorruptDataError(`${count} ranges exceed ${MAX_RANGES_PER_REQUEST} per request`);
}

function finished(r: ByteReader, what: string): void {
  if (r.remaining !== 0) throw new CorruptDataError(`${r.remaining} trailing bytes after ${what}`);
}

export function encodeTreeRequest(request: TreeRequest): Buffer {
  checkCount(request.ranges.length);
  const w = new ByteWriter(64 + request.ranges.length * 17);
  w.u8(REPAIR_MESSAGE_VERSION).u8(request.kind === 'estimate' ? KIND_ESTIMATE : KIND_TREES).string(request.tableId).uvarint(request.ranges.length);
  if (request.kind === 'estimate') {
    for (const range of request.ranges) writeRange(w, range);
  } else {
    for (const { range, depth } of request.ranges) {
      writeRange(w, range);
      w.u8(depth);
    }
  }
  return w.toBuffer();
}

export function decodeTreeRequest(payload: Uint8Array): TreeRequest {
  const r = new ByteReader(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
  const version = r.u8();
  if (version !== REPAIR_MESSAGE_VERSION) throw new CorruptDataError(`unknown repair message version ${version}`);
  const kind = r.u8();
  if (kind !== KIND_ESTIMATE && kind !== KIND_TREES) throw new CorruptDataError(`unknown tree request kind ${kind}`);
  const tableId = r.string();
  if (Buffer.byteLength(tableId) > MAX_TABLE_ID_BYTES) throw new CorruptDataError('table id too long');
  const count = r.uvarint();
  checkCount(count);
  if (kind === KIND_ESTIMATE) {
    const ranges: TokenRange[] = [];
    for (let i = 0; i < count; i++) ranges.push(readRange(r));
    finished(r, 'an estimate request');
    return { kind: 'estimate', tableId, ranges };
  }
  const ranges: RangeDepth[] = [];
  let leaves = 0;
  for (let i = 0; i < count; i++) {
    const range = readRange(r);
    const depth = r.u8();
    if (depth > MAX_MERKLE_DEPTH || 1n << BigInt(depth) > rangeSize(range.start, range.end)) throw new CorruptDataError(`bad merkle depth ${depth}`);
    leaves += 1 << depth;
    if (leaves > MAX_LEAVES_PER_REQUEST) throw new CorruptDataError(`trees of more than ${MAX_LEAVES_PER_REQUEST} leaves requested`);
    ranges.push({ range, depth });
  }
  finished(r, 'a tree request');
  return { kind: 'trees', tableId, ranges };
}

export function encodeEstimateResponse(partitions: readonly number[]): Buffer {
  const w = new ByteWriter(8 + partitions.length * 4);
  w.u8(REPAIR_MESSAGE_VERSION).uvarint(partitions.length);
  for (const p of partitions) w.uvarint(p);
  return w.toBuffer();
}

export function decodeEstimateResponse(payload: Uint8Array, expectedCount: number): number[] {
  const r = new ByteReader(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
  const version = r.u8();
  if (version !== REPAIR_MESSAGE_VERSION) throw new CorruptDataError(`unknown repair message version ${version}`);
  const count = r.uvarint();
  if (count !== expectedCount) throw new CorruptDataError(`${count} estimates for ${expectedCount} ranges`);
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(r.uvarint());
  finished(r, 'an estimate response');
  return out;
}

export function encodeTreesResponse(trees: readonly Uint8Array[]): Buffer {
  const w = new ByteWriter(16 + trees.reduce((n, t) => n + t.length + 4, 0));
  w.u8(REPAIR_MESSAGE_VERSION).uvarint(trees.length);
  for (const tree of trees) w.lbytes(tree);
  return w.toBuffer();
}

/**
 * The encoded trees of a response, in order, without decoding them (a coordinator decodes one
 * at a time between event-loop turns: rebuilding inner nodes costs a hash per node).
 */
export function splitTreesResponse(payload: Uint8Array, expectedCount: number): Buffer[] {
  const r = new ByteReader(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
  const version = r.u8();
  if (version !== REPAIR_MESSAGE_VERSION) throw new CorruptDataError(`unknown repair message version ${version}`);
  const count = r.uvarint();
  if (count !== expectedCount) throw new CorruptDataError(`${count} trees for ${expectedCount} ranges`);
  const trees: Buffer[] = [];
  for (let i = 0; i < count; i++) trees.push(r.lbytes());
  finished(r, 'a trees response');
  return trees;
}

/** One tree of a response, checked against what was asked: same range, same depth. */
export function decodeAnsweredTree(bytes: Buffer, requested: RangeDepth): MerkleTree {
  const tree = MerkleTree.decode(bytes);
  const { range, depth } = requested;
  if (tree.range.start !== range.start || tree.range.end !== range.end || tree.depth !== depth) {
    throw new CorruptDataError(`a tree of (${tree.range.start}, ${tree.range.end}] depth ${tree.depth} answers (${range.start}, ${range.end}] depth ${depth}`);
  }
  return tree;
}

/** The trees of a response, checked against the request: same ranges, same depths, same order. */
export function decodeTreesResponse(payload: Uint8Array, requested: readonly RangeDepth[]): MerkleTree[] {
  return splitTreesResponse(payload, requested.length).map((bytes, i) => decodeAnsweredTree(bytes, requested[i]!));
}
