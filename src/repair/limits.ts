/**
 * Every bound and default of anti-entropy repair in one place (STYLE.md §3).
 *
 * Memory on the coordinator: per table, one batch of trees at a time, one MERKLE_TREE_REQUEST
 * answer per replica of at most MAX_LEAVES_PER_REQUEST leaves (16 B each on the wire, 32 B each
 * once decoded with the inner nodes): RF × 16 MiB at the very most, a few MiB for ordinary
 * tables. On a replica: one validation at a time, at most MAX_QUEUED_VALIDATIONS waiting; the
 * validation worker holds the leaves of the trees it builds (≤ 8 MiB) and one leaf's pending
 * bytes (≤ CHAIN_BYTES plus one entry).
 */
import { MAX_RING_TOKENS } from '../ring/token-metadata.js';
import { assert } from '../util/assert.js';
import { HASH_BYTES, MAX_MERKLE_DEPTH } from './merkle-tree.js';

/**
 * A leaf should hold about this many partitions: a differing leaf streams all of its
 * partitions (in both directions), so fewer is less streamed, at 16 bytes per leaf per replica.
 */
export const TARGET_PARTITIONS_PER_LEAF = 2;
/** Leaves of all the trees one MERKLE_TREE_REQUEST may ask for (8 MiB of leaf hashes). */
export const MAX_LEAVES_PER_REQUEST = 1 << 19;
/** Ranges one MERKLE_TREE_REQUEST may name; a replica of more ranges gets several requests. */
export const MAX_RANGES_PER_REQUEST = 16_384;
/** Ranges one stream push names; more differing ranges go in several pushes. */
export const MAX_RANGES_PER_PUSH = 65_536;
/** Validations (tree builds or estimates) a replica runs at once. */
export const MAX_CONCURRENT_VALIDATIONS = 1;
/** Validations that may wait for their turn on a replica; more are refused. */
export const MAX_QUEUED_VALIDATIONS = 16;
/** Timeout of an estimate request: one flush and a read of SSTable metadata. */
export const DEFAULT_ESTIMATE_TIMEOUT_MS = 5 * 60_000;
/** Timeout of a tree request: a full, throttled read of the replica's data of the ranges. */
export const DEFAULT_TREE_REQUEST_TIMEOUT_MS = 2 * 3_600_000;
/** Timeout of one stream push of differing ranges. */
export const DEFAULT_PUSH_TIMEOUT_MS = 2 * 3_600_000;
/** Inner tree nodes the coordinator hashes per event-loop turn (about a millisecond's work). */
export const INNER_HASHES_PER_TURN = 1024;
/** Endpoint → address entries the coordinator caches (the ring's members, unless it churns). */
/** Failures a report lists (one per failed request or push); more are counted only. */
export const MAX_REPORTED_FAILURES = 100;

/**
 * The leaves one request may hold on a node whose frames are at most `maxMessageBytes`: the
 * answer (leaf hashes, bitmaps, headers) takes at most half a frame.
 */
export function leafBudgetFor(maxMessageBytes: number): number {
  const fitting = Math.floor(maxMessageBytes / 2 / (HASH_BYTES + 1));
  return Math.max(1, Math.min(MAX_LEAVES_PER_REQUEST, fitting));
}

export function checkRepairLimits(): void {
  assert(MAX_LEAVES_PER_REQUEST >= 1 << MAX_MERKLE_DEPTH, 'one request must hold one tree of the maximum depth');
  assert(MAX_RANGES_PER_REQUEST <= MAX_RING_TOKENS, 'a request names ring ranges');
  assert(MAX_RANGES_PER_PUSH <= MAX_RING_TOKENS, 'a push names at most the streaming bound of ranges');
}
