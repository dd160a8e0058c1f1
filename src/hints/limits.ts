/**
 * Every bound and default of hinted handoff in one place (STYLE.md §3), with the relations
 * between them checked once, at start-up (`checkHintLimits`).
 *
 * Cassandra's equivalents: `max_hints_file_size` (segment size), `max_hints_size_per_host` /
 * total hint disk space (our one node-wide budget, `max_hints_size_mb`), `hints_flush_period`
 * and the 10 s dispatch schedule of `HintsDispatchTrigger`, `max_hints_delivery_threads`
 * (our in-flight window per target).
 */
import { assert } from '../util/assert.js';

const MIB = 1024 * 1024;

/** Default disk budget for all hints of a node, when `max_hints_size_mb` is not configured. */
export const DEFAULT_MAX_HINTS_SIZE_BYTES = 1024 * MIB;
/** A segment is sealed once the next record would take it past this size. */
export const DEFAULT_HINT_SEGMENT_SIZE_BYTES = 4 * MIB;
export const MIN_HINT_SEGMENT_SIZE_BYTES = 256;
/** Same bound as one commit-log payload (half a segment), and never more than a frame allows. */
export const MAX_HINT_SEGMENT_SIZE_BYTES = 256 * MIB;
/** Hints of a table the lookup does not know about expire after Cassandra's default gc_grace (10 days). */
export const DEFAULT_HINT_TTL_SECONDS = 864_000;
/** 'periodic' sync: the longest a stored hint waits for its fsync. */
export const DEFAULT_HINT_SYNC_PERIOD_MS = 1000;
/** Every UP target with pending hints is visited this often (hints of timed-out live replicas). */
export const DEFAULT_HINT_DISPATCH_INTERVAL_MS = 10_000;
/** Hints sent to one target before the oldest must be acknowledged. */
export const DEFAULT_HINT_MAX_INFLIGHT = 8;
export const MAX_HINT_MAX_INFLIGHT = 128;
/** Hints read from disk per page of a dispatch (and the byte cap of one page below). */
export const DEFAULT_HINT_PAGE_HINTS = 128;
export const MAX_HINT_PAGE_HINTS = 4096;
export const HINT_PAGE_MAX_BYTES = 4 * MIB;
/** Retry after a failed dispatch: doubles from the first to the cap. */
export const DEFAULT_HINT_RETRY_BACKOFF = { initialMs: 1000, maxMs: 60_000 } as const;
/** Expired segments are looked for this often. */
export const DEFAULT_HINT_EXPIRY_SWEEP_MS = 60_000;
/** Hint targets a node keeps state for: at most every other node of a gossip-sized cluster. */
export const MAX_HINT_TARGETS = 1024;
/** A host id is a directory name: UUID-like, nothing that could escape `<data_dir>/hints`. */
export const HOST_ID_PATTERN = /^[0-9A-Za-z][0-9A-Za-z_-]{0,63}$/;

export interface HintLimits {
  readonly maxTotalBytes: number;
  readonly segmentSizeBytes: number;
}

export function checkHintLimits(limits: HintLimits): void {
  const { maxTotalBytes, segmentSizeBytes } = limits;
  assert(
    Number.isSafeInteger(segmentSizeBytes) && segmentSizeBytes >= MIN_HINT_SEGMENT_SIZE_BYTES && segmentSizeBytes <= MAX_HINT_SEGMENT_SIZE_BYTES,
    `hint segment size must be in [${MIN_HINT_SEGMENT_SIZE_BYTES}, ${MAX_HINT_SEGMENT_SIZE_BYTES}], got ${segmentSizeBytes}`,
  );
  // One full segment must fit the budget, or a single busy target could never be hinted at all.
  assert(Number.isSafeInteger(maxTotalBytes) && maxTotalBytes >= segmentSizeBytes, `hint budget ${maxTotalBytes} B must hold at least one segment (${segmentSizeBytes} B)`);
}
