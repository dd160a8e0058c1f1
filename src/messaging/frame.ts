/**
 * Internode frames: the byte layout on every internode TCP connection, and a decoder that
 * turns socket chunks into frames without trusting a single byte of them.
 *
 * Frame format, version 1 (all integers big-endian, network order):
 *
 *   offset  size  field
 *   0       1     format version: 1
 *   1       1     flags, exactly one of:
 *                   0x01 REQUEST         expects one response with the same request id
 *                   0x02 RESPONSE        the successful answer to a request
 *                   0x04 ONE_WAY         no response; request id is 0
 *                   0x0A ERROR_RESPONSE  (0x08 ERROR | 0x02 RESPONSE) payload is `ErrorResponse`
 *   2       2     verb (verbs.ts)
 *   4       4     request id: 1..2^32-1 for requests and their responses, 0 for one-way frames
 *   8       4     payload length in bytes
 *   12      n     payload: the verb's protobuf message (messaging.proto and the verb's owner)
 *
 * Bounds: HEADER_BYTES + payload length <= the decoder's `maxFrameBytes`
 * (`internode_max_message_bytes` once the handshake is done, HANDSHAKE_MAX_FRAME_BYTES before).
 * Any other version or flags value, or a longer frame, is a `FrameError`: the connection is
 * closed. A new format gets a new version number; peers of different versions do not talk.
 *
 * Memory: the decoder keeps the socket's chunks (views, no copy) until a whole frame is there.
 * It never allocates more than one frame (<= maxFrameBytes) and a 12-byte header at a time;
 * after `next()` returns null, fewer than `maxFrameBytes` bytes are buffered. A payload that
 * lies within one chunk is returned as a view of that chunk.
 */
import { FrameError } from './errors.js';
import { MAX_VERB } from './verbs.js';

export const FRAME_FORMAT_VERSION = 1;
export const HEADER_BYTES = 12;
/** Until the handshake is done, a frame (Hello and its replies) is at most this big. */
export const HANDSHAKE_MAX_FRAME_BYTES = 4096;
export const MAX_REQUEST_ID = 0xffff_ffff;

export const FrameKind = {
  REQUEST: 0x01,
  RESPONSE: 0x02,
  ONE_WAY: 0x04,
  ERROR_RESPONSE: 0x0a,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

const KNOWN_FLAGS: ReadonlySet<number> = new Set(Object.values(FrameKind));
/** Every empty payload (most responses to writes): nothing to write into, so one is shared. */
const EMPTY_PAYLOAD = Buffer.alloc(0);

export interface Frame {
  readonly kind: FrameKind;
  readonly verb: number;
  readonly requestId: number;
  readonly payload: Uint8Array;
}

/** Writes a frame header at `offset` of `target` (which must have HEADER_BYTES from there). */
export function writeFrameHeader(target: Buffer, offset: number, frame: Frame): void {
  target[offset] = FRAME_FORMAT_VERSION;
  target[offset + 1] = frame.kind;
  target.writeUInt16BE(frame.verb, offset + 2);
  target.writeUInt32BE(frame.requestId, offset + 4);
  target.writeUInt32BE(frame.payload.length, offset + 8);
}

/** Header and payload in one new buffer. */
export function encodeFrame(frame: Frame): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + frame.payload.length);
  writeFrameHeader(out, 0, frame);
  out.set(frame.payload, HEADER_BYTES);
  return out;
}

/** Checks what a sender controls; a bad frame here is a bug in the caller, not bad input. */
export function isWellFormed(frame: Frame): boolean {
  return (
    KNOWN_FLAGS.has(frame.kind) &&
    Number.isInteger(frame.verb) && frame.verb >= 0 && frame.verb <= MAX_VERB &&
    Number.isInteger(frame.requestId) && frame.requestId >= 0 && frame.requestId <= MAX_REQUEST_ID &&
    (frame.kind === FrameKind.ONE_WAY) === (frame.requestId === 0)
  );
}

interface PendingHeader {
  readonly kind: FrameKind;
  readonly verb: number;
  readonly requestId: number;
  readonly payloadBytes: number;
}

export class FrameDecoder {
  private readonly chunks: Buffer[] = [];
  /** Bytes of chunks[0] already consumed. */
  private headOffset = 0;
  private buffered = 0;
  private header: PendingHeader | null = null;
  private failure: FrameError | null = null;
  private readonly scratch = Buffer.alloc(HEADER_BYTES);

  constructor(private maxFrameBytes: number) {
    FrameDecoder.checkLimit(maxFrameBytes);
  }

  private static checkLimit(maxFrameBytes: number): void {
    if (!Number.isSafeInteger(maxFrameBytes) || maxFrameBytes <= HEADER_BYTES) {
      throw new RangeError(`maxFrameBytes must be an integer above ${HEADER_BYTES}: ${maxFrameBytes}`);
    }
  }

  /** Bytes received and not yet returned as part of a frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  get limitBytes(): number {
    return this.maxFrameBytes;
  }

  /** Raises (after the handshake) or lowers the frame limit; applies to the next header read. */
  setMaxFrameBytes(maxFrameBytes: number): void {
    FrameDecoder.checkLimit(maxFrameBytes);
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Adds a socket chunk. The decoder keeps a view of it: the caller must not modify it. */
  push(chunk: Uint8Array): void {
    if (this.failure !== null) throw this.failure;
    if (chunk.length === 0) return;
    this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    this.buffered += chunk.length;
  }

  /** The next complete frame, or null until more bytes arrive. Throws `FrameError` for good. */
  next(): Frame | null {
    if (this.failure !== null) throw this.failure;
    if (this.header === null) {
      if (this.buffered < HEADER_BYTES) return null;
      this.header = this.readHeader();
    }
    const header = this.header;
    if (this.buffered < header.payloadBytes) return null;
    this.header = null;
    return { kind: header.kind, verb: header.verb, requestId: header.requestId, payload: this.take(header.payloadBytes) };
  }

  private readHeader(): PendingHeader {
    // Read in place when the header lies in one chunk (the usual case): no view to allocate.
    const first = this.chunks[0]!;
    let bytes: Buffer;
    let at: number;
    if (first.length - this.headOffset >= HEADER_BYTES) {
      bytes = first;
      at = this.headOffset;
      this.buffered -= HEADER_BYTES;
      this.advance(first, HEADER_BYTES);
    } else {
      bytes = this.take(HEADER_BYTES, this.scratch);
      at = 0;
    }
    const version = bytes[at]!;
    const flags = bytes[at + 1]!;
    const verb = bytes.readUInt16BE(at + 2);
    const requestId = bytes.readUInt32BE(at + 4);
    const payloadBytes = bytes.readUInt32BE(at + 8);
    if (version !== FRAME_FORMAT_VERSION) return this.fail(`unknown frame format version ${version}`);
    if (!KNOWN_FLAGS.has(flags)) return this.fail(`unknown frame flags 0x${flags.toString(16)}`);
    const kind = flags as FrameKind;
    if ((kind === FrameKind.ONE_WAY) !== (requestId === 0)) {
      return this.fail(`request id ${requestId} is not allowed on a frame with flags 0x${flags.toString(16)}`);
    }
    if (payloadBytes > this.maxFrameBytes - HEADER_BYTES) {
      return this.fail(`frame of ${HEADER_BYTES + payloadBytes} bytes exceeds the limit of ${this.maxFrameBytes}`);
    }
    return { kind, verb, requestId, payloadBytes };
  }

  private fail(reason: string): never {
    this.failure = new FrameError(reason);
    // Drop what we hold: a poisoned decoder never yields anything again.
    this.chunks.length = 0;
    this.buffered = 0;
    throw this.failure;
  }

  /**
   * Removes `n <= buffered` bytes from the front: a view when they lie in one chunk, otherwise
   * copied into `into` (or a new buffer of exactly `n` bytes).
   */
  private take(n: number, into?: Buffer): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (n === 0 || first === undefined) return EMPTY_PAYLOAD;
    const available = first.length - this.headOffset;
    if (n <= available) {
      const view = first.subarray(this.headOffset, this.headOffset + n);
      this.advance(first, n);
      return view;
    }
    const out = into ?? Buffer.allocUnsafe(n);
    let copied = 0;
    while (copied < n) {
      const chunk = this.chunks[0]!;
      const count = Math.min(n - copied, chunk.length - this.headOffset);
      chunk.copy(out, copied, this.headOffset, this.headOffset + count);
      copied += count;
      this.advance(chunk, count);
    }
    return out;
  }

  private advance(chunk: Buffer, count: number): void {
    this.headOffset += count;
    if (this.headOffset === chunk.length) {
      this.chunks.shift();
      this.headOffset = 0;
    }
  }
}
