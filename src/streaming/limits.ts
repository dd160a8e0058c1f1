/**
 * Every bound and default of streaming in one place (STYLE.md §3).
 *
 * Cassandra's equivalents: `stream_throughput_outbound` (our `stream_throughput_mb_per_s`),
 * the streaming chunk size, and the number of concurrent stream sessions a node runs.
 * Memory per outgoing session is bounded by pages: at most MAX_PAGES_UNACKED pages wait between
 * the reader thread and the sender, at most MAX_PAGES_IN_FLIGHT are on the wire, and one more
 * is being cut in the worker, so a session holds about 5 pages (5 MiB by default).
 */
import { MAX_RING_TOKENS } from '../ring/token-metadata.js';
import { assert } from '../util/assert.js';

const MIB = 1024 * 1024;

/**
 * A page holds entries up to this many bytes; a single entry larger than that (one huge row)
 * travels alone in its own page.
 */
export const MAX_STREAM_PAGE_BYTES = MIB;
/** Smallest page a caller may ask for (tests use small pages to split partitions). */
export const MIN_STREAM_PAGE_BYTES = 64;
/** Pages the reader thread may hand over before the consumer acknowledges the oldest. */
export const MAX_PAGES_UNACKED = 2;
/** STREAM_APPLY requests one push keeps outstanding (the receiver applies them in parallel). */
export const MAX_PAGES_IN_FLIGHT = 2;
/** Pushes this node runs at once; more wait their turn. */
export const MAX_CONCURRENT_SESSIONS = 2;
/** Pushes that may wait for a turn; more are refused at once (a caller bug, or a storm). */
export const MAX_QUEUED_SESSIONS = 1024;
/** Ranges one push may name: every vnode range of the largest ring. */
export const MAX_STREAM_RANGES = MAX_RING_TOKENS;
/** An endpoint (`host:port`, IPv6 in brackets) on the wire. */
export const MAX_ENDPOINT_BYTES = 300;
/** Timeout of one STREAM_APPLY (one page applied and made durable by the receiver). */
export const DEFAULT_PAGE_TIMEOUT_MS = 60_000;
/** Timeout of a STREAM_PUSH_REQUEST: the whole push, which may move gigabytes. */
export const DEFAULT_PUSH_REQUEST_TIMEOUT_MS = 60 * 60 * 1000;
/** Attempts per page (the first included) before the push fails; a page is idempotent. */
export const DEFAULT_PAGE_ATTEMPTS = 5;
/** Wait before the second attempt of a page; doubles up to the cap. */
export const DEFAULT_PAGE_RETRY_BACKOFF = { initialMs: 500, maxMs: 10_000 } as const;

/**
 * The page size for a node whose frames are at most `maxMessageBytes` and whose commit-log
 * segments are `commitlogSegmentBytes`: a STREAM_APPLY frame (header, table id, page) must fit
 * a frame, so a page takes at most half of one; and every partition of a page becomes one
 * commit-log record on the receiver (at most half a segment, slightly larger than its page
 * bytes), so a page takes at most a quarter segment.
 */
export function streamPageBytesFor(limits: { readonly maxMessageBytes: number; readonly commitlogSegmentBytes: number }): number {
  const bound = Math.min(MAX_STREAM_PAGE_BYTES, Math.floor(limits.maxMessageBytes / 2), Math.floor(limits.commitlogSegmentBytes / 4));
  return Math.max(MIN_STREAM_PAGE_BYTES, bound);
}

export function checkPageBytes(pageBytes: number): void {
  assert(
    Number.isSafeInteger(pageBytes) && pageBytes >= MIN_STREAM_PAGE_BYTES && pageBytes <= MAX_STREAM_PAGE_BYTES,
    `stream page size must be in [${MIN_STREAM_PAGE_BYTES}, ${MAX_STREAM_PAGE_BYTES}], got ${pageBytes}`,
  );
}
