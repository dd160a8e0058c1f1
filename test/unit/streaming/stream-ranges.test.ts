/**
 * Ring ranges to stream spans, and the streaming verbs' payloads: wrapping ranges split at the
 * end of the ring, overlapping ones joined, spans in ring order; push requests and results
 * round-trip and malformed ones are refused.
 */
import { describe, expect, it } from 'vitest';
import { MAX_TOKEN, MIN_TOKEN } from '../../../src/storage/data/keys.js';
import {
  decodeApplyRequest,
  decodePushRequest,
  decodeStreamResult,
  encodeApplyRequest,
  encodePushRequest,
  encodeStreamResult,
} from '../../../src/streaming/stream-messages.js';
import { formatRanges, rangeContains, rangeSpans } from '../../../src/streaming/stream-ranges.js';
import { CorruptDataError } from '../../../src/util/bytes.js';

const BEFORE_MIN = MIN_TOKEN - 1n;

describe('rangeSpans', () => {
  it.each([
    ['a plain range', [{ start: 10n, end: 20n }], [{ start: 10n, end: 20n }]],
    ['a wrapping range splits at the end of the ring', [{ start: 100n, end: -100n }], [{ start: BEFORE_MIN, end: -100n }, { start: 100n, end: MAX_TOKEN }]],
    ['start = end is the whole ring', [{ start: 5n, end: 5n }], [{ start: BEFORE_MIN, end: MAX_TOKEN }]],
    ['a range ending at MAX_TOKEN does not wrap', [{ start: 0n, end: MAX_TOKEN }], [{ start: 0n, end: MAX_TOKEN }]],
    ['a range from MAX_TOKEN wraps to the start only', [{ start: MAX_TOKEN, end: 3n }], [{ start: BEFORE_MIN, end: 3n }]],
    ['overlapping and touching ranges join', [{ start: 30n, end: 40n }, { start: 10n, end: 20n }, { start: 20n, end: 25n }, { start: 35n, end: 50n }], [{ start: 10n, end: 25n }, { start: 30n, end: 50n }]],
    ['a range inside another disappears', [{ start: 0n, end: 100n }, { start: 10n, end: 20n }], [{ start: 0n, end: 100n }]],
    ['nothing', [], []],
  ])('%s', (_name, ranges, spans) => {
    expect(rangeSpans(ranges)).toEqual(spans);
  });

  it('covers exactly the tokens of the ranges', () => {
    const ranges = [{ start: 1000n, end: -1000n }, { start: -50n, end: 50n }, { start: 40n, end: 60n }];
    const spans = rangeSpans(ranges);
    const probes = [MIN_TOKEN, MIN_TOKEN + 1n, -1001n, -1000n, -999n, -51n, -50n, -49n, 0n, 50n, 60n, 61n, 999n, 1000n, 1001n, MAX_TOKEN];
    for (const token of probes) {
      const inRanges = ranges.some((r) => rangeContains(r, token));
      const inSpans = spans.some((s) => token > s.start && token <= s.end);
      expect([token, inSpans]).toEqual([token, inRanges]);
    }
  });

  it('formats ranges for messages, eliding long lists', () => {
    expect(formatRanges([{ start: 1n, end: 2n }])).toBe('(1, 2]');
    expect(formatRanges(Array.from({ length: 10 }, (_, i) => ({ start: BigInt(i), end: BigInt(i + 1) })), 2)).toBe('(0, 1], (1, 2], … 8 more');
  });
});

describe('stream messages', () => {
  it('round-trip a push request, a result and an apply request', () => {
    const request = { tableId: 'a-table', target: '127.0.0.2:7000', ranges: [{ start: MIN_TOKEN, end: MAX_TOKEN }, { start: 5n, end: -5n }] };
    expect(decodePushRequest(encodePushRequest(request))).toEqual(request);
    const result = { rows: 12, partitions: 3, bytes: 2 ** 40, pages: 7 };
    expect(decodeStreamResult(encodeStreamResult(result))).toEqual(result);
    const page = Buffer.from([1, 2, 3]);
    expect(decodeApplyRequest(encodeApplyRequest('t', page))).toEqual({ tableId: 't', page });
  });

  it('refuse malformed payloads', () => {
    const request = encodePushRequest({ tableId: 't', target: 'h:1', ranges: [{ start: 1n, end: 2n }] });
    expect(() => decodePushRequest(request.subarray(0, request.length - 1))).toThrow(CorruptDataError);
    expect(() => decodePushRequest(Buffer.concat([request, Buffer.from([0])]))).toThrow(CorruptDataError);
    expect(() => decodePushRequest(Buffer.concat([Buffer.from([2]), request.subarray(1)]))).toThrow(/version/);
    expect(() => decodePushRequest(encodePushRequest({ tableId: '', target: 'h:1', ranges: [] }))).toThrow(/table id/);
    expect(() => decodePushRequest(encodePushRequest({ tableId: 't', target: 'x'.repeat(400), ranges: [] }))).toThrow(/target/);
    // A range count far beyond the bytes present.
    const lying = Buffer.from(request);
    lying[lying.length - 17] = 0x7f;
    expect(() => decodePushRequest(lying)).toThrow(/range count/);
    expect(() => decodeApplyRequest(Buffer.from([1, 0]))).toThrow(/table id/);
    expect(() => decodeStreamResult(Buffer.from([1, 1, 1]))).toThrow(CorruptDataError);
  });
});
