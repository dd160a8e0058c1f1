/**
 * One TCP socket seen as a stream of frames in both directions: the decoder on the way in,
 * the write batcher on the way out, traffic counters, and one `onClose` however it ends.
 *
 * Invariants
 * - A `FrameError` (from the decoder or from the owner's `onFrame`, for a frame the protocol
 *   does not allow at this point) is reported once through `onCorrupt` and the socket is
 *   destroyed: one bad peer costs one connection, nothing else.
 * - While reading is paused, no frame is delivered, even one already decoded; the socket
 *   itself is paused too, so TCP flow control pushes back on the peer.
 * - `onClose` is called exactly once, after which nothing is delivered or written.
 */
import type { Socket } from 'node:net';
import type { Scheduler } from '../runtime/clock.js';
import { FrameError } from './errors.js';
import { FrameDecoder, type Frame } from './frame.js';
import type { PeerCounters } from './peer-stats.js';
import { WriteBatcher } from './write-batcher.js';

export interface FramedSocketOptions {
  readonly socket: Socket;
  readonly scheduler: Scheduler;
  readonly counters: PeerCounters;
  readonly maxFrameBytes: number;
  readonly maxBatchBytes: number;
  /** Throws `FrameError` for a frame that is well formed but not allowed here. */
  readonly onFrame: (frame: Frame) => void;
  readonly onCorrupt: (error: FrameError) => void;
  readonly onClose: (unsentFrames: number) => void;
  /** The socket drained: the owner may send again. */
  readonly onWritable: () => void;
}

export class FramedSocket {
  readonly decoder: FrameDecoder;
  private readonly batcher: WriteBatcher;
  private countersRef: PeerCounters;
  private paused = false;
  /** True while the delivery loop runs, so a handler resuming reading does not nest a second one. */
  private delivering = false;
  /** Set by `destroy`/`endAfterFlush`: nothing more is delivered or sent from then on. */
  private ending = false;
  private closed = false;
  /** `remoteAddress:remotePort` of the socket, for logs. */
  readonly remote: string;

  constructor(private readonly options: FramedSocketOptions) {
    const { socket } = options;
    this.countersRef = options.counters;
    this.decoder = new FrameDecoder(options.maxFrameBytes);
    this.batcher = new WriteBatcher({
      target: socket,
      scheduler: options.scheduler,
      counters: options.counters,
      maxBatchBytes: options.maxBatchBytes,
      onWritable: options.onWritable,
    });
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // Errors (ECONNRESET, ECONNREFUSED, …) are followed by 'close', which the owner handles.
    socket.on('error', () => {});
    socket.once('close', () => this.onSocketClose());
  }

  get counters(): PeerCounters {
    return this.countersRef;
  }

  /** Moves the connection's traffic counting to its peer's counters (after the handshake). */
  set counters(counters: PeerCounters) {
    this.countersRef = counters;
    this.batcher.counters = counters;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get backlogged(): boolean {
    return this.batcher.backlogged;
  }

  send(frame: Frame): void {
    if (!this.ending && !this.closed) this.batcher.enqueue(frame);
  }

  pauseReading(): void {
    if (this.paused || this.closed) return;
    this.paused = true;
    this.options.socket.pause();
  }

  resumeReading(): void {
    if (!this.paused || this.closed) return;
    this.paused = false;
    // Resumed from inside a handler: the delivery loop on the stack picks up from here.
    if (!this.delivering) this.deliver();
    if (!this.paused && !this.closed) this.options.socket.resume();
  }

  /** Sends what is pending, then closes our side (a refusal reaches the peer before the FIN). */
  endAfterFlush(): void {
    if (this.ending || this.closed) return;
    this.ending = true;
    this.batcher.flush();
    this.options.socket.end();
  }

  destroy(): void {
    this.ending = true;
    this.options.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.ending || this.closed) return;
    this.countersRef.receivedBytes += chunk.length;
    try {
      this.decoder.push(chunk);
    } catch (e) {
      this.corrupt(e);
      return;
    }
    this.deliver();
  }

  private deliver(): void {
    this.delivering = true;
    try {
      while (!this.paused && !this.ending && !this.closed) {
        const frame = this.decoder.next();
        if (frame === null) return;
        this.countersRef.receivedFrames++;
        this.options.onFrame(frame);
      }
    } catch (e) {
      this.corrupt(e);
    } finally {
      this.delivering = false;
    }
  }

  private corrupt(e: unknown): void {
    // Anything but a FrameError is a bug of ours: let it stop the process (STYLE.md §3).
    if (!(e instanceof FrameError)) throw e;
    if (this.ending || this.closed) return;
    this.options.onCorrupt(e);
    this.destroy();
  }

  private onSocketClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.options.onClose(this.batcher.close());
  }
}
