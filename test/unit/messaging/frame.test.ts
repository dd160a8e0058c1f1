import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { FrameError } from '../../../src/messaging/errors.js';
import {
  encodeFrame,
  FRAME_FORMAT_VERSION,
  FrameDecoder,
  FrameKind,
  HEADER_BYTES,
  isWellFormed,
  type Frame,
} from '../../../src/messaging/frame.js';

const MAX_FRAME_BYTES = 1024;

function frame(kind: FrameKind, verb: number, requestId: number, payload: string | Uint8Array): Frame {
  return { kind, verb, requestId, payload: typeof payload === 'string' ? Buffer.from(payload) : payload };
}

/** Feeds `chunks` and drains the decoder after each one. */
function decodeAll(decoder: FrameDecoder, chunks: Uint8Array[]): Frame[] {
  const frames: Frame[] = [];
  for (const chunk of chunks) {
    decoder.push(chunk);
    for (let f = decoder.next(); f !== null; f = decoder.next()) frames.push(f);
  }
  return frames;
}

function plain(f: Frame): { kind: number; verb: number; requestId: number; payload: string } {
  return { kind: f.kind, verb: f.verb, requestId: f.requestId, payload: Buffer.from(f.payload).toString('hex') };
}

const sample: Frame[] = [
  frame(FrameKind.REQUEST, 16, 1, 'hello'),
  frame(FrameKind.RESPONSE, 16, 1, 'hello back'),
  frame(FrameKind.ONE_WAY, 32, 0, ''),
  frame(FrameKind.ERROR_RESPONSE, 0xffff, 0xffff_ffff, 'boom'),
];

describe('frame layout', () => {
  it('writes the documented header: version, flags, verb, request id, payload length (big-endian)', () => {
    const bytes = encodeFrame(frame(FrameKind.REQUEST, 0x0102, 0x03040506, 'xyz'));
    expect([...bytes]).toEqual([FRAME_FORMAT_VERSION, 0x01, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0, 0, 0, 3, 0x78, 0x79, 0x7a]);
    expect(HEADER_BYTES).toBe(12);
  });

  it('accepts only the four flag values, and request id 0 exactly on one-way frames', () => {
    expect(sample.every(isWellFormed)).toBe(true);
    expect(isWellFormed(frame(FrameKind.ONE_WAY, 1, 5, ''))).toBe(false);
    expect(isWellFormed(frame(FrameKind.REQUEST, 1, 0, ''))).toBe(false);
    expect(isWellFormed({ ...frame(FrameKind.REQUEST, 1, 1, ''), kind: 0x03 as FrameKind })).toBe(false);
    expect(isWellFormed(frame(FrameKind.REQUEST, 0x10000, 1, ''))).toBe(false);
  });
});

/** A header that passes every check but the length most of the time, so frames span chunks. */
const arbPlausibleHeader = fc
  .record({
    kind: fc.constantFrom(...Object.values(FrameKind)),
    requestId: fc.integer({ min: 1, max: 0xffff_ffff }),
    payloadBytes: fc.oneof(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 0xffff_ffff })),
  })
  .map(({ kind, requestId, payloadBytes }) => {
    const header = Buffer.alloc(HEADER_BYTES);
    header[0] = FRAME_FORMAT_VERSION;
    header[1] = kind;
    header.writeUInt32BE(kind === FrameKind.ONE_WAY ? 0 : requestId, 4);
    header.writeUInt32BE(payloadBytes, 8);
    return new Uint8Array(header);
  });

describe('FrameDecoder', () => {
  it('decodes frames split at every possible byte boundary', () => {
    const bytes = Buffer.concat(sample.map(encodeFrame));
    for (let cut = 0; cut <= bytes.length; cut++) {
      const frames = decodeAll(new FrameDecoder(MAX_FRAME_BYTES), [bytes.subarray(0, cut), bytes.subarray(cut)]);
      expect(frames.map(plain)).toEqual(sample.map(plain));
    }
  });

  it('decodes a stream fed one byte at a time', () => {
    const bytes = Buffer.concat(sample.map(encodeFrame));
    const chunks = [...bytes].map((b) => Uint8Array.of(b));
    expect(decodeAll(new FrameDecoder(MAX_FRAME_BYTES), chunks).map(plain)).toEqual(sample.map(plain));
  });

  it('returns a payload lying within one chunk as a view of that chunk, without copying', () => {
    const chunk = encodeFrame(frame(FrameKind.REQUEST, 7, 9, 'payload'));
    const [decoded] = decodeAll(new FrameDecoder(MAX_FRAME_BYTES), [chunk]);
    expect(decoded!.payload.buffer).toBe(chunk.buffer);
  });

  it('accepts a frame of exactly the limit and rejects one byte more as soon as its header arrives', () => {
    const atLimit = encodeFrame(frame(FrameKind.ONE_WAY, 1, 0, Buffer.alloc(MAX_FRAME_BYTES - HEADER_BYTES)));
    expect(decodeAll(new FrameDecoder(MAX_FRAME_BYTES), [atLimit])).toHaveLength(1);
    const over = encodeFrame(frame(FrameKind.ONE_WAY, 1, 0, Buffer.alloc(MAX_FRAME_BYTES - HEADER_BYTES + 1)));
    const decoder = new FrameDecoder(MAX_FRAME_BYTES);
    expect(() => decodeAll(decoder, [over.subarray(0, HEADER_BYTES)])).toThrow(/exceeds the limit/);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('rejects a length field near 2^32 without allocating it', () => {
    const header = Buffer.from([FRAME_FORMAT_VERSION, FrameKind.ONE_WAY, 0, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    expect(() => decodeAll(new FrameDecoder(MAX_FRAME_BYTES), [header])).toThrow(FrameError);
  });

  it.each([
    ['an unknown format version', [2, FrameKind.REQUEST, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0], /format version 2/],
    ['unknown flags', [1, 0x03, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0], /flags 0x3/],
    ['no flags', [1, 0x00, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0], /flags 0x0/],
    ['a one-way frame with a request id', [1, FrameKind.ONE_WAY, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0], /request id 1/],
    ['a request without a request id', [1, FrameKind.REQUEST, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0], /request id 0/],
  ])('rejects %s with a FrameError', (_what, header, message) => {
    expect(() => decodeAll(new FrameDecoder(MAX_FRAME_BYTES), [Buffer.from(header)])).toThrow(message);
  });

  it('stays failed after an error: later pushes and reads throw the same error', () => {
    const decoder = new FrameDecoder(MAX_FRAME_BYTES);
    const good = encodeFrame(sample[0]!);
    expect(() => decodeAll(decoder, [Buffer.from([9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9])])).toThrow(FrameError);
    expect(() => decoder.push(good)).toThrow(FrameError);
    expect(() => decoder.next()).toThrow(FrameError);
  });

  it('raises its limit for the frames after the handshake', () => {
    const decoder = new FrameDecoder(64);
    const big = encodeFrame(frame(FrameKind.REQUEST, 1, 1, Buffer.alloc(100)));
    decoder.setMaxFrameBytes(MAX_FRAME_BYTES);
    expect(decodeAll(decoder, [big])).toHaveLength(1);
    expect(() => new FrameDecoder(HEADER_BYTES)).toThrow(RangeError);
  });

  it('never throws anything but FrameError on random bytes, and never buffers or allocates over the limit', () => {
    const limit = 256;
    const allocations: number[] = [];
    const realAllocUnsafe = Buffer.allocUnsafe.bind(Buffer);
    const spy = vi.spyOn(Buffer, 'allocUnsafe').mockImplementation((size: number) => {
      allocations.push(size);
      return realAllocUnsafe(size);
    });
    try {
      fc.assert(
      fc.property(fc.array(fc.oneof(fc.uint8Array({ minLength: 0, maxLength: 300 }), arbPlausibleHeader), { maxLength: 12 }), (chunks) => {
        const decoder = new FrameDecoder(limit);
        try {
          for (const chunk of chunks) {
            decoder.push(chunk);
            for (let f = decoder.next(); f !== null; f = decoder.next()) {
              expect(HEADER_BYTES + f.payload.length).toBeLessThanOrEqual(limit);
            }
            // Once drained, less than one frame's worth of bytes is held.
            expect(decoder.bufferedBytes).toBeLessThan(limit);
          }
        } catch (e) {
          expect(e).toBeInstanceOf(FrameError);
        }
      }),
      { numRuns: 500 },
      );
    } finally {
      spy.mockRestore();
    }
    expect(allocations.length).toBeGreaterThan(0);
    expect(Math.max(...allocations)).toBeLessThanOrEqual(limit);
  });

  it('on corrupted valid streams, yields well-formed frames up to the damage, then only FrameError', () => {
    const arbFrame = fc
      .record({
        kind: fc.constantFrom(...Object.values(FrameKind)),
        verb: fc.integer({ min: 0, max: 0xffff }),
        requestId: fc.integer({ min: 1, max: 0xffff_ffff }),
        payload: fc.uint8Array({ maxLength: 80 }),
      })
      .map((f): Frame => (f.kind === FrameKind.ONE_WAY ? { ...f, requestId: 0 } : f));
    const limit = 128;
    fc.assert(
      fc.property(
        fc.array(arbFrame, { minLength: 1, maxLength: 6 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        (frames, flips, cuts) => {
          const bytes = Buffer.concat(frames.map(encodeFrame));
          for (const [at, value] of flips) bytes[at % bytes.length] = value;
          const points = [...new Set(cuts.map((c) => c % bytes.length))].sort((a, b) => a - b);
          const chunks = [0, ...points].map((start, i) => bytes.subarray(start, points[i] ?? bytes.length));
          const decoder = new FrameDecoder(limit);
          try {
            for (const f of decodeAll(decoder, chunks)) {
              expect(isWellFormed(f)).toBe(true);
              expect(HEADER_BYTES + f.payload.length).toBeLessThanOrEqual(limit);
            }
          } catch (e) {
            expect(e).toBeInstanceOf(FrameError);
          }
          expect(decoder.bufferedBytes).toBeLessThan(limit);
        },
      ),
      { numRuns: 500 },
    );
  });
});
