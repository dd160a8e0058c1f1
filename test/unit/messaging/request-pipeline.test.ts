import { describe, expect, it } from 'vitest';
import { LinkedQueue } from '../../../src/messaging/linked-queue.js';
import { OutstandingRequest, RequestPipeline } from '../../../src/messaging/request-pipeline.js';
import { FakeScheduler } from './fake-scheduler.js';

interface Outcome {
  value?: string;
  error?: Error;
  settled: number;
}

function request(verb = 16): { request: OutstandingRequest; outcome: Outcome } {
  const outcome: Outcome = { settled: 0 };
  const r = new OutstandingRequest(
    verb,
    new Uint8Array(0),
    (payload) => {
      outcome.value = Buffer.from(payload).toString();
      outcome.settled++;
    },
    (error) => {
      outcome.error = error;
      outcome.settled++;
    },
  );
  return { request: r, outcome };
}

describe('RequestPipeline', () => {
  it('bounds the requests in flight and matches responses by id, in any order', () => {
    const pipeline = new RequestPipeline(3);
    const sent = [request(), request(), request()];
    const ids = sent.map((s) => pipeline.add(s.request));
    expect(ids).toEqual([1, 2, 3]);
    expect(pipeline.hasRoom()).toBe(false);
    expect(() => pipeline.add(request().request)).toThrow(/hasRoom/);
    pipeline.take(3)!.resolve(Buffer.from('c'));
    pipeline.take(1)!.resolve(Buffer.from('a'));
    expect(pipeline.take(1)).toBeUndefined(); // a duplicate or late response finds nothing
    expect(sent.map((s) => s.outcome.value)).toEqual(['a', undefined, 'c']);
    expect(pipeline.size).toBe(1);
    expect(pipeline.hasRoom()).toBe(true);
  });

  it('skips ids still in flight and wraps after 2^32 - 1, never using 0', () => {
    const pipeline = new RequestPipeline(4);
    const first = request();
    pipeline.add(first.request); // id 1 stays in flight
    (pipeline as unknown as { lastRequestId: number }).lastRequestId = 0xffff_fffe;
    const ids = [request(), request()].map((s) => pipeline.add(s.request));
    expect(ids).toEqual([0xffff_ffff, 2]);
  });

  it('fails every request in flight at once', () => {
    const pipeline = new RequestPipeline(8);
    const sent = [request(), request()];
    for (const s of sent) pipeline.add(s.request);
    pipeline.failAll(() => new Error('connection lost'));
    expect(sent.map((s) => s.outcome.error?.message)).toEqual(['connection lost', 'connection lost']);
    expect(pipeline.size).toBe(0);
  });

  it('settles a request exactly once, and its timeout goes with it', () => {
    const scheduler = new FakeScheduler();
    const { request: r, outcome } = request();
    let expired = 0;
    r.armTimeout(scheduler, 100, () => {
      expired++;
      r.reject(new Error('timeout'));
    });
    r.resolve(Buffer.from('ok'));
    r.reject(new Error('late'));
    scheduler.advanceMs(200);
    expect(outcome).toEqual({ value: 'ok', settled: 1 });
    expect(expired).toBe(0);
    expect(scheduler.pendingTimers).toBe(0);
  });

  it('times a request out when no response comes in time', () => {
    const scheduler = new FakeScheduler();
    const { request: r, outcome } = request();
    r.armTimeout(scheduler, 100, () => r.reject(new Error('timeout')));
    scheduler.advanceMs(99);
    expect(outcome.settled).toBe(0);
    scheduler.advanceMs(1);
    expect(outcome.error?.message).toBe('timeout');
  });

  it('rejects a bound out of range', () => {
    expect(() => new RequestPipeline(0)).toThrow();
    expect(() => new RequestPipeline(1.5)).toThrow();
  });
});

describe('LinkedQueue', () => {
  it('is FIFO and removes a node from the middle in place', () => {
    const queue = new LinkedQueue<number>();
    const nodes = [1, 2, 3, 4].map((v) => queue.push(v));
    expect(queue.remove(nodes[1]!)).toBe(true);
    expect(queue.remove(nodes[1]!)).toBe(false);
    expect(queue.size).toBe(3);
    expect(queue.shift()).toBe(1);
    expect(queue.remove(nodes[3]!)).toBe(true);
    expect(queue.drain()).toEqual([3]);
    expect(queue.size).toBe(0);
    expect(queue.peek()).toBeUndefined();
    queue.push(5);
    expect(queue.drain()).toEqual([5]);
  });
});
