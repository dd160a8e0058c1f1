/**
 * Coalesces the frames one connection sends into few socket writes.
 *
 * Pattern: Request Batch (Joshi). Sending each small frame with its own `socket.write` costs a
 * syscall and a TCP segment per message; under load, gossip acks and replica responses are
 * tens of bytes each. Frames queued during one turn of the event loop are copied into one
 * buffer and written once, on the next turn (after pending I/O callbacks, so the responses of
 * a whole poll phase share the write), or at once when a batch fills up. Large payloads are
 * not copied: their header and payload are written under `cork`, which node turns into a
 * single `writev`. Cassandra's outbound connections flush Netty's channel the same way.
 *
 * Invariants
 * - Frames reach the socket in `enqueue` order.
 * - While the socket has asked us to wait (`write` returned false), nothing is written; the
 *   owner sees `backlogged` and stops feeding us (outbound queue, or reading the peer's
 *   requests), so buffered bytes stay bounded: at most one batch beyond the socket's own
 *   high-water mark, plus what the owner enqueued before it checked `backlogged`.
 * - After `close`, enqueued frames are dropped and counted by the caller.
 *
 * Bounds: one coalesced write is at most `maxBatchBytes`; a frame with a larger payload is
 * written on its own (header + payload, corked).
 */
import type { Scheduler } from '../runtime/clock.js';
import { assert } from '../util/assert.js';
import { HEADER_BYTES, isWellFormed, writeFrameHeader, type Frame } from './frame.js';

/** The part of `net.Socket` a batcher needs (tests pass a fake). */
export interface BatchTarget {
  write(chunk: Uint8Array): boolean;
  cork(): void;
  uncork(): void;
  once(event: 'drain', listener: () => void): unknown;
}

/** What the batcher counts; shared with the peer's statistics. */
export interface WriteCounters {
  /** `socket.write` calls. */
  writes: number;
  sentFrames: number;
  sentBytes: number;
}

export interface WriteBatcherOptions {
  readonly target: BatchTarget;
  readonly scheduler: Scheduler;
  counters: WriteCounters;
  /** One coalesced write holds at most this many bytes. */
  readonly maxBatchBytes: number;
  /** Called when the socket drained after `backlogged` was true: the owner may feed us again. */
  readonly onWritable: () => void;
}

export const DEFAULT_MAX_BATCH_BYTES = 64 * 1024;

export class WriteBatcher {
  private pending: Frame[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;
  private waitingForDrain = false;
  private closed = false;

  constructor(private readonly options: WriteBatcherOptions) {
    assert(options.maxBatchBytes > HEADER_BYTES, 'a batch must hold at least one header');
  }

  set counters(counters: WriteCounters) {
    this.options.counters = counters;
  }

  /** True while the socket is full or a batch is already waiting: the owner should hold back. */
  get backlogged(): boolean {
    return this.waitingForDrain || this.pendingBytes >= this.options.maxBatchBytes;
  }

  get pendingFrames(): number {
    return this.pending.length;
  }

  enqueue(frame: Frame): void {
    assert(isWellFormed(frame), 'a frame we send is well formed');
    if (this.closed) return;
    this.pending.push(frame);
    this.pendingBytes += HEADER_BYTES + frame.payload.length;
    if (this.waitingForDrain) return;
    if (this.pendingBytes >= this.options.maxBatchBytes) {
      this.flush();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      void this.options.scheduler.yieldToIo().then(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
  }

  /** Stops writing; returns how many frames were enqueued but never written. */
  close(): number {
    this.closed = true;
    const dropped = this.pending.length;
    this.pending = [];
    this.pendingBytes = 0;
    return dropped;
  }

  // #region pattern:Request Batch
  /** Writes everything pending: small frames copied into shared buffers, large ones corked. */
  flush(): void {
    if (this.closed || this.waitingForDrain || this.pending.length === 0) return;
    const frames = this.pending;
    const pendingBytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    const { target, counters, maxBatchBytes } = this.options;
    // The usual case, everything in one batch, without building a list of chunks.
    const chunks = pendingBytes <= maxBatchBytes ? [copyFrames(frames, pendingBytes)] : buildChunks(frames, maxBatchBytes);
    let writable = true;
    if (chunks.length > 1) target.cork();
    for (const chunk of chunks) {
      writable = target.write(chunk);
      counters.writes++;
      counters.sentBytes += chunk.length;
    }
    if (chunks.length > 1) target.uncork();
    counters.sentFrames += frames.length;
    if (!writable) this.awaitDrain();
  }
  // #endregion

  private awaitDrain(): void {
    this.waitingForDrain = true;
    this.options.target.once('drain', () => {
      this.waitingForDrain = false;
      if (this.closed) return;
      this.flush();
      if (!this.backlogged) this.options.onWritable();
    });
  }
}

/** `frames` (headers and payloads, `totalBytes` in all) copied into one new buffer. */
function copyFrames(frames: readonly Frame[], totalBytes: number): Buffer {
  const out = Buffer.allocUnsafe(totalBytes);
  let offset = 0;
  for (const frame of frames) {
    writeFrameHeader(out, offset, frame);
    out.set(frame.payload, offset + HEADER_BYTES);
    offset += HEADER_BYTES + frame.payload.length;
  }
  assert(offset === totalBytes, 'pending bytes match the frames');
  return out;
}

/**
 * Runs of frames copied into buffers of at most `maxBatchBytes`; a frame that does not fit in
 * one batch becomes its header and its payload, uncopied.
 */
export function buildChunks(frames: readonly Frame[], maxBatchBytes: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let run: Frame[] = [];
  let runBytes = 0;
  const closeRun = (): void => {
    if (run.length === 0) return;
    chunks.push(copyFrames(run, runBytes));
    run = [];
    runBytes = 0;
  };
  for (const frame of frames) {
    const frameBytes = HEADER_BYTES + frame.payload.length;
    if (frameBytes > maxBatchBytes) {
      closeRun();
      const header = Buffer.allocUnsafe(HEADER_BYTES);
      writeFrameHeader(header, 0, frame);
      chunks.push(header, frame.payload);
      continue;
    }
    if (runBytes + frameBytes > maxBatchBytes) closeRun();
    run.push(frame);
    runBytes += frameBytes;
  }
  closeRun();
  return chunks;
}
