import fc from 'fast-check';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32OfU32LE, encodeRecord, readRecord, recordSizeBytes, writeRecord } from '../../../src/storage/commitlog/segment-format.js';

function u32le(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0);
  return b;
}

describe('commit-log record framing', () => {
  it('crc32OfU32LE equals zlib crc32 of the 4 little-endian bytes', () => {
    for (const v of [0, 1, 255, 256, 0x7fffffff, 0x80000000, 0xffffffff]) expect(crc32OfU32LE(v)).toBe(crc32(u32le(v)));
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), (v) => {
        expect(crc32OfU32LE(v)).toBe(crc32(u32le(v)));
      }),
      { numRuns: 5000 },
    );
  });

  it('writeRecord frames in place exactly as encodeRecord does, and readRecord reads it back', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 2000 }), fc.nat({ max: 64 }), (bytes, at) => {
        const payload = Buffer.from(bytes);
        const out = Buffer.alloc(at + recordSizeBytes(payload.length) + 3, 0xaa);
        const end = writeRecord(out, at, payload);
        expect(end).toBe(at + recordSizeBytes(payload.length));
        expect(out.subarray(at, end).equals(encodeRecord(payload))).toBe(true);
        expect(out.subarray(0, at).every((b) => b === 0xaa) && out.subarray(end).every((b) => b === 0xaa)).toBe(true);
        const back = readRecord(out.subarray(0, end), at);
        expect(back.kind === 'record' && back.payload.equals(payload) && back.nextOffset === end).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('writeRecord refuses an empty payload and one that does not fit', () => {
    expect(() => writeRecord(Buffer.alloc(64), 0, Buffer.alloc(0))).toThrow(RangeError);
    expect(() => writeRecord(Buffer.alloc(20), 0, Buffer.alloc(9))).toThrow(RangeError);
    expect(writeRecord(Buffer.alloc(20), 0, Buffer.alloc(8))).toBe(20);
  });
});
