/**
 * Hint replay against the real store on a temp dir and an in-memory network whose target
 * records what it receives, on manual time: order, deletion after the ack, stops and retries,
 * expiry, the rate limit and the in-flight bound.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HintDispatcher, type HintDispatcherOptions } from '../../../src/hints/hint-dispatcher.js';
import { encodeHintPayload, hintRecordBytes } from '../../../src/hints/hint-format.js';
import { HintStore } from '../../../src/hints/hint-store.js';
import { Verb } from '../../../src/messaging/verbs.js';
import { silentLogger } from '../../../src/util/logger.js';
import { InMemoryNetwork, ManualTime, until } from '../../helpers/hints-cluster.js';
import { useTmpDir } from '../../helpers/tmpdir.js';

const TARGET = '33333333-3333-4333-8333-333333333333';
const TARGET_ENDPOINT = '127.0.0.2:7000';
const SELF = '127.0.0.1:7000';

interface Rig {
  time: ManualTime;
  network: InMemoryNetwork;
  store: HintStore;
  dispatcher: HintDispatcher;
  received: number[];
}

async function rig(dir: string, options: Partial<HintDispatcherOptions> = {}): Promise<Rig> {
  const time = new ManualTime();
  const network = new InMemoryNetwork(time);
  const received: number[] = [];
  network.messagingFor(TARGET_ENDPOINT).registerHandler(Verb.HINT, (_from, payload) => {
    received.push(Buffer.from(payload).readUInt32LE(0));
  });
  const store = await HintStore.open({ dir: join(dir, 'hints'), sync: 'group', clock: time, scheduler: time, logger: silentLogger, segmentSizeBytes: 1024 });
  const dispatcher = new HintDispatcher({
    store,
    messaging: network.messagingFor(SELF),
    clock: time,
    scheduler: time,
    logger: silentLogger,
    bytesPerSecond: 1 << 30,
    requestTimeoutMs: 1000,
    retryBackoff: { initialMs: 500, maxMs: 4000 },
    ...options,
  });
  return { time, network, store, dispatcher, received };
}

function mutationOf(i: number, bytes = 40): Buffer {
  const b = Buffer.alloc(bytes, 7);
  b.writeUInt32LE(i, 0);
  return b;
}

async function storeHints(r: Rig, count: number, tableId = 't', from = 0): Promise<void> {
  for (let i = 0; i < count; i++) {
    expect(await r.store.append(TARGET, { createdAtMs: r.time.nowMs(), tableId, mutation: mutationOf(from + i) })).toBe(true);
  }
}

const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

describe('HintDispatcher', () => {
  const tmp = useTmpDir('ringtail-hint-dispatch-');

  it('replays oldest first when the target comes UP and deletes each hint after its ack', async () => {
    const r = await rig(tmp());
    await storeHints(r, 40);
    r.dispatcher.onUp(TARGET, TARGET_ENDPOINT);
    await until('all hints delivered', () => r.store.pendingHints(TARGET) === 0, r.time);
    expect(r.received).toEqual(range(40));
    expect(r.store.stats().targets.get(TARGET)).toMatchObject({ replayed: 40, pendingHints: 0, pendingBytes: 0, segments: 0 });
    expect(r.network.maxConcurrent).toBeLessThanOrEqual(8);
    await r.dispatcher.stop();
    await r.store.close();
  });

  it('sends nothing while the target is down', async () => {
    const r = await rig(tmp());
    await storeHints(r, 3);
    r.dispatcher.poke(TARGET);
    r.dispatcher.onUp(TARGET, TARGET_ENDPOINT);
    r.dispatcher.onDown(TARGET);
    await r.dispatcher.idle();
    r.dispatcher.poke(TARGET);
    await r.dispatcher.idle();
    expect(r.received).toEqual([]);
    expect(r.store.pendingHints(TARGET)).toBe(3);
    // Back UP: everything goes.
    r.dispatcher.onUp(TARGET, TARGET_ENDPOINT);
    await until('all hints delivered', () => r.store.pendingHints(TARGET) === 0, r.time);
    expect(r.received).toEqual([0, 1, 2]);
    await r.dispatcher.stop();
    await r.store.close();
  });

  it('stops at a failure, keeps the undelivered hints, and retries after a backoff', async () => {
    const r = await rig(tmp(), { maxInFlight: 1 });
    await storeHints(r, 5);
    r.network.failing.add(TARGET_ENDPOINT);
    r.dispatcher.onUp(TARGET, TARGET_ENDPOINT);
    await until('a failed dispatch', () => r.dispatcher.stats().failures === 1, r.time);
    expect(r.store.pendingHints(TARGET)).toBe(5);
    r.network.failing.delete(TARGET_ENDPOINT);
    const failedAtMs = r.time.nowMs();
    await until('the retry delivered everything', () => r.store.pendingHints(TARGET) === 0, r.time, { stepMs: 50 });
    expect(r.time.nowMs() - failedAtMs).toBeGreaterThanOrEqual(450);
    expect(r.received).toEqual(range(5));
    await r.dispatcher.stop();
    await r.store.close();
  });

  it('resends, in order, hints whose ack was lost (the target applies them twice)', async () => {
    const r = await rig(tmp(), { maxInFlight: 2 });
    await storeHints(r, 3);
    r.network.loseResponses.add(TARGET_ENDPOINT);
    r.dispatcher.onUp(TARGET, TARGET_ENDPOINT);
    await until('a timed-out dispatch', () => r.dispatcher.stats().failures === 1, r.time);
    r.network.loseResponses.delete(TARGET_ENDPOINT);
    await until('redelivery', () => r.store.pendingHints(TARGET) === 0, r.time, { stepMs: 100 });
    expect(r.received.slice(0, 2)).toEqual([0, 1]);
    expect(r.received.slice(-3)).toEqual([0, 1, 2]);
    await r.dispatcher.stop();
    await r.store.close();
  });

  it('drops expired hints and hints of dropped tables without sending them', async () => {
    const grace = new Map<string, number>([['short', 60], ['long', 864_000]]);
    const r = await rig(tmp(), { gcGraceSecondsOf: (id) => grace.get(id) });
    await storeHints(r, 2, 'short', 0);
    await storeHints(r, 2, 'long', 10);
    await storeHints(r, 2, 'gone', 20);
    await storeHints(r, 1, 'long', 30);
    r.time.advanceMs(61_000);
    r.dispatcher.onUp(TARGET, TARGET_ENDPOINT);
    await until('all hints handled', () => r.store.pendingHints(TARGET) === 0, r.time);
    expect(r.received).toEqual([10, 11, 30]);
    expect(r.store.stats().targets.get(TARGET)).toMatchObject({ replayed: 3, expired: 2, dropped: 2 });
    await r.dispatcher.stop();
    await r.store.close();
  });

  it('holds replay to the configured bytes per second', async () => {
    const bytesPerSecond = 2000;
    const r = await rig(tmp(), { bytesPerSecond });
    await storeHints(r, 60, 't');
    r.dispatcher.onUp(TARGET, TARGET_ENDPOINT);
    await until('all hints delivered', () => r.store.pendingHints(TARGET) === 0, r.time, { stepMs: 20, maxSteps: 10_000 });
    const hints = r.network.deliveriesOf(Verb.HINT);
    expect(hints).toHaveLength(60);
    // Measured from the first send: manual time also moves while the page is read from disk.
    const startMs = hints[0]!.atMs;
    // What the bucket counts per hint: the framed record.
    const recordBytes = hintRecordBytes(encodeHintPayload({ createdAtMs: r.time.nowMs(), tableId: 't', mutation: mutationOf(0) }).length);
    for (const [i, d] of hints.entries()) {
      const allowed = bytesPerSecond + (bytesPerSecond * (d.atMs - startMs)) / 1000;
      expect((i + 1) * recordBytes).toBeLessThanOrEqual(allowed + recordBytes);
    }
    // 60 × 61 B at 2000 B/s after a 2000 B burst: about 0.83 s, and not much more.
    const tookMs = hints.at(-1)!.atMs - startMs;
    expect(tookMs).toBeGreaterThanOrEqual(((60 * recordBytes - bytesPerSecond) / bytesPerSecond) * 1000 - 20);
    expect(tookMs).toBeLessThan(1500);
    await r.dispatcher.stop();
    await r.store.close();
  });

  it('stops a rate-limited replay when the target goes down, without counting a failure', async () => {
    const r = await rig(tmp(), { bytesPerSecond: 500 });
    await storeHints(r, 30);
    r.dispatcher.onUp(TARGET, TARGET_ENDPOINT);
    await until('the burst went out', () => r.received.length >= 5, r.time);
    r.dispatcher.onDown(TARGET);
    await r.dispatcher.idle();
    const sent = r.received.length;
    expect(sent).toBeLessThan(30);
    expect(r.store.pendingHints(TARGET)).toBe(30 - sent);
    r.time.advanceMs(60_000);
    await r.dispatcher.idle();
    expect(r.received.length).toBe(sent);
    expect(r.dispatcher.stats().failures).toBe(0);
    await r.dispatcher.stop();
    await r.store.close();
  });

  it('a new UP during a dispatch runs one more pass instead of a second dispatch', async () => {
    const r = await rig(tmp(), { maxInFlight: 1 });
    await storeHints(r, 10);
    r.dispatcher.onUp(TARGET, TARGET_ENDPOINT);
    r.dispatcher.onUp(TARGET, TARGET_ENDPOINT);
    r.dispatcher.poke(TARGET);
    await until('all hints delivered', () => r.store.pendingHints(TARGET) === 0, r.time);
    await r.dispatcher.idle();
    expect(r.network.maxConcurrent).toBe(1);
    expect(r.received).toEqual(range(10));
    await r.dispatcher.stop();
    await r.store.close();
  });
});
