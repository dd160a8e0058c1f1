/** The hint segment header and record payload: round trips and refusal of bad bytes. */
import { describe, expect, it } from 'vitest';
import {
  HINT_SEGMENT_HEADER_BYTES,
  decodeHintPayload,
  decodeHintSegmentHeader,
  encodeHintPayload,
  encodeHintSegmentHeader,
  hintSegmentFileName,
  parseHintSegmentFileName,
} from '../../../src/hints/hint-format.js';
import { CorruptDataError } from '../../../src/util/bytes.js';

describe('hint format', () => {
  it('round-trips a segment header and its file name', () => {
    const header = encodeHintSegmentHeader(1_700_000_000_123);
    expect(header.length).toBe(HINT_SEGMENT_HEADER_BYTES);
    expect(decodeHintSegmentHeader(header)).toEqual({ ok: true, segmentId: 1_700_000_000_123 });
    expect(parseHintSegmentFileName(hintSegmentFileName(42))).toEqual({ formatVersion: 1, segmentId: 42 });
    expect(parseHintSegmentFileName('CommitLog-1-42.log')).toBeNull();
  });

  it('refuses a header with a bad magic, version or length', () => {
    const header = encodeHintSegmentHeader(7);
    expect(decodeHintSegmentHeader(header.subarray(0, 10))).toMatchObject({ ok: false });
    const badMagic = Buffer.from(header);
    badMagic[0] = 0x58;
    expect(decodeHintSegmentHeader(badMagic)).toEqual({ ok: false, reason: 'bad magic' });
    const badVersion = Buffer.from(header);
    badVersion.writeUInt16LE(9, 4);
    expect(decodeHintSegmentHeader(badVersion)).toEqual({ ok: false, reason: 'unknown format version 9' });
  });

  it('round-trips a hint payload and refuses trailing or truncated bytes', () => {
    const mutation = Buffer.from([1, 2, 3, 4, 5]);
    const payload = encodeHintPayload({ createdAtMs: 1_700_000_000_000, tableId: 'table-1', mutation });
    const decoded = decodeHintPayload(payload);
    expect(decoded.createdAtMs).toBe(1_700_000_000_000);
    expect(decoded.tableId).toBe('table-1');
    expect(Buffer.from(decoded.mutation)).toEqual(mutation);
    expect(() => decodeHintPayload(Buffer.concat([payload, Buffer.from([0])]))).toThrow(CorruptDataError);
    expect(() => decodeHintPayload(payload.subarray(0, payload.length - 1))).toThrow(CorruptDataError);
    expect(() => encodeHintPayload({ createdAtMs: 1, tableId: '', mutation })).toThrow(RangeError);
  });
});
