/**
 * Token ranges as a stream reads them: the ring ranges `(start, end]` a caller names (wrapping
 * when `start >= end`, the whole ring when equal) become non-wrapping spans in ring order,
 * overlapping and touching ones joined, so that a merged walk of each span in turn visits every
 * partition of the ranges exactly once, in (token, key) order.
 *
 * A span's `start` may be `MIN_TOKEN - 1n`: "from the first token on", which is how
 * `mergedEntries` spells a range that includes MIN_TOKEN itself (the empty key's token).
 * Pure; O(R log R) for R ranges.
 */
import type { TokenRange } from '../ring/token-metadata.js';
import { MAX_TOKEN, MIN_TOKEN } from '../storage/data/keys.js';

/** `(start, end]` with `start < end`; `start` is at least `MIN_TOKEN - 1n`, `end` at most MAX_TOKEN. */
export interface TokenSpan {
  readonly start: bigint;
  readonly end: bigint;
}

const BEFORE_MIN = MIN_TOKEN - 1n;

/** Whether `token` lies in the ring range `(start, end]` (wrapping when start >= end). */
export function rangeContains(range: TokenRange, token: bigint): boolean {
  if (range.start < range.end) return token > range.start && token <= range.end;
  return token > range.start || token <= range.end;
}

/** The non-wrapping pieces of one ring range (one or two; none when empty). */
function piecesOf(range: TokenRange): TokenSpan[] {
  if (range.start < range.end) return [{ start: range.start, end: range.end }];
  const pieces: TokenSpan[] = [];
  if (range.start < MAX_TOKEN) pieces.push({ start: range.start, end: MAX_TOKEN });
  pieces.push({ start: BEFORE_MIN, end: range.end });
  return pieces;
}

/** The spans covering `ranges`, sorted by start, disjoint and not touching. */
export function rangeSpans(ranges: readonly TokenRange[]): TokenSpan[] {
  const pieces = ranges.flatMap(piecesOf).sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const spans: { start: bigint; end: bigint }[] = [];
  for (const piece of pieces) {
    const last = spans[spans.length - 1];
    if (last !== undefined && piece.start <= last.end) {
      if (piece.end > last.end) last.end = piece.end;
    } else {
      spans.push({ start: piece.start, end: piece.end });
    }
  }
  return spans;
}

/** `(a, b], (c, d]` for logs and errors. */
export function formatRanges(ranges: readonly TokenRange[], max = 8): string {
  const shown = ranges.slice(0, max).map((r) => `(${r.start}, ${r.end}]`);
  if (ranges.length > max) shown.push(`… ${ranges.length - max} more`);
  return shown.join(', ');
}
