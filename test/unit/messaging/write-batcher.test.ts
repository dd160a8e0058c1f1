import { describe, expect, it } from 'vitest';
import { FrameDecoder, FrameKind, HEADER_BYTES, type Frame } from '../../../src/messaging/frame.js';
import { WriteBatcher, type BatchTarget, type WriteCounters } from '../../../src/messaging/write-batcher.js';
import { FakeScheduler } from './fake-scheduler.js';

class FakeSocket implements BatchTarget {
  readonly writes: Buffer[] = [];
  corked = 0;
  /** write() returns false (the socket's buffer is full) while this is true. */
  full = false;
  private drainListeners: (() => void)[] = [];

  write(chunk: Uint8Array): boolean {
    this.writes.push(Buffer.from(chunk));
    return !this.full;
  }
  cork(): void {
    this.corked++;
  }
  uncork(): void {}
  once(_event: 'drain', listener: () => void): this {
    this.drainListeners.push(listener);
    return this;
  }
  drain(): void {
    this.full = false;
    const listeners = this.drainListeners;
    this.drainListeners = [];
    for (const l of listeners) l();
  }
  /** Everything written, decoded back into frames. */
  frames(): Frame[] {
    const decoder = new FrameDecoder(1 << 20);
    decoder.push(Buffer.concat(this.writes));
    const out: Frame[] = [];
    for (let f = decoder.next(); f !== null; f = decoder.next()) out.push(f);
    return out;
  }
}

function setup(maxBatchBytes = 1024): { socket: FakeSocket; scheduler: FakeScheduler; batcher: WriteBatcher; counters: WriteCounters; writable: number[] } {
  const socket = new FakeSocket();
  const scheduler = new FakeScheduler();
  const counters: WriteCounters = { writes: 0, sentFrames: 0, sentBytes: 0 };
  const writable: number[] = [];
  const batcher = new WriteBatcher({ target: socket, scheduler, counters, maxBatchBytes, onWritable: () => writable.push(1) });
  return { socket, scheduler, batcher, counters, writable };
}

function oneWay(i: number, payloadBytes = 4): Frame {
  const payload = Buffer.alloc(payloadBytes);
  payload.writeUInt32BE(i, 0);
  return { kind: FrameKind.ONE_WAY, verb: 16, requestId: 0, payload };
}

const seq = (f: Frame): number => Buffer.from(f.payload).readUInt32BE(0);

describe('WriteBatcher (Request Batch)', () => {
  it('writes every frame queued during one turn with a single socket write, on the next turn', async () => {
    const { socket, scheduler, batcher, counters } = setup();
    for (let i = 0; i < 50; i++) batcher.enqueue(oneWay(i));
    expect(socket.writes).toHaveLength(0);
    await scheduler.turn();
    expect(socket.writes).toHaveLength(1);
    expect(socket.frames().map(seq)).toEqual([...Array(50).keys()]);
    expect(counters).toEqual({ writes: 1, sentFrames: 50, sentBytes: 50 * (HEADER_BYTES + 4) });
  });

  it('writes at once when a batch is full, and splits a burst into batches of at most maxBatchBytes', async () => {
    const { socket, scheduler, batcher } = setup(160);
    for (let i = 0; i < 20; i++) batcher.enqueue(oneWay(i)); // 16 bytes each
    expect(socket.writes.length).toBeGreaterThan(0); // 10 frames filled a batch: no waiting
    await scheduler.turn();
    expect(socket.writes.every((w) => w.length <= 160)).toBe(true);
    expect(socket.frames().map(seq)).toEqual([...Array(20).keys()]);
  });

  it('writes a payload larger than a batch without copying it, corked with its header', async () => {
    const { socket, scheduler, batcher } = setup(64);
    const big = oneWay(7, 500);
    batcher.enqueue(oneWay(1));
    batcher.enqueue(big);
    batcher.enqueue(oneWay(2));
    await scheduler.turn();
    expect(socket.corked).toBeGreaterThan(0);
    expect(socket.frames().map(seq)).toEqual([1, 7, 2]);
    expect(socket.writes.some((w) => w.length === 500)).toBe(true);
  });

  it('holds frames while the socket is full and sends them, in order, after it drains', async () => {
    const { socket, scheduler, batcher, writable } = setup();
    socket.full = true;
    batcher.enqueue(oneWay(0));
    await scheduler.turn();
    expect(batcher.backlogged).toBe(true);
    for (let i = 1; i < 5; i++) batcher.enqueue(oneWay(i));
    await scheduler.turn();
    expect(socket.writes).toHaveLength(1);
    socket.drain();
    expect(socket.writes).toHaveLength(2);
    expect(batcher.backlogged).toBe(false);
    expect(writable).toHaveLength(1);
    expect(socket.frames().map(seq)).toEqual([0, 1, 2, 3, 4]);
  });

  it('drops, and reports, what is still pending when closed', async () => {
    const { socket, scheduler, batcher } = setup();
    batcher.enqueue(oneWay(1));
    batcher.enqueue(oneWay(2));
    expect(batcher.close()).toBe(2);
    batcher.enqueue(oneWay(3));
    await scheduler.turn();
    expect(socket.writes).toHaveLength(0);
  });
});
