/** The local batch log on a real storage engine in a temp dir, on a manual clock. */
import { afterEach, describe, expect, it } from 'vitest';
import { BATCHLOG_TABLE, BatchlogFullError, BatchlogStore, encodeBatch, type Batch, type BatchlogLimits } from '../../../src/batchlog/batchlog-store.js';
import { murmur3Token } from '../../../src/ring/murmur3.js';
import { StorageEngine } from '../../../src/storage/engine/storage-engine.js';
import { silentLogger } from '../../../src/util/logger.js';
import { ManualTime, TABLE, update } from '../../helpers/batchlog-cluster.js';
import { useTmpDir } from '../../helpers/tmpdir.js';

const dir = useTmpDir('ringtail-batchlog-store-');
let engine: StorageEngine | null = null;

afterEach(async () => {
  await engine?.close({ flush: false });
  engine = null;
});

async function open(time: ManualTime, limits?: BatchlogLimits): Promise<BatchlogStore> {
  engine = await StorageEngine.open({
    dataDir: dir(),
    commitlogSync: 'batch',
    commitlogSyncPeriodMs: 1000,
    commitlogSyncGroupWindowMs: 1,
    commitlogSegmentSizeMb: 1,
    memtableFlushThresholdMb: 64,
    compactionThroughputMbPerS: 0,
    clock: time,
  });
  const store = BatchlogStore.open(engine, { clock: time, logger: silentLogger, ...(limits !== undefined ? { limits } : {}) });
  await engine.replayCommitLog();
  await store.load();
  return store;
}

async function reopen(time: ManualTime, limits?: BatchlogLimits): Promise<BatchlogStore> {
  await engine!.close({ flush: false });
  return open(time, limits);
}

const batch = (id: number, value = 'v'): Batch => ({ id: Buffer.alloc(16, id), writtenAtMs: 5, mutations: [{ tableId: TABLE.id, update: update(`k${id}`, value, 1) }] });

describe('BatchlogStore', () => {
  it('stores, reads, lists due entries oldest first, and removes', async () => {
    const time = new ManualTime();
    const store = await open(time);
    await store.store(batch(1));
    time.advanceMs(10);
    await store.store(batch(2));
    expect(store.read(Buffer.alloc(16, 2))).toEqual(batch(2));
    expect(store.due(time.nowMicros(), 10).map((e) => e.id[0])).toEqual([1, 2]);
    expect(store.due(time.nowMicros() - 5000, 10).map((e) => e.id[0])).toEqual([1]);
    expect(store.due(time.nowMicros(), 1).map((e) => e.id[0])).toEqual([1]);
    expect(await store.remove(Buffer.alloc(16, 1))).toBe(true);
    expect(await store.remove(Buffer.alloc(16, 1))).toBe(false);
    expect(await store.remove(Buffer.alloc(16, 9))).toBe(false);
    expect(store.read(Buffer.alloc(16, 1))).toBeNull();
    expect(store.stats()).toMatchObject({ batches: 1, stored: 2, removed: 1, refused: 0, bytes: encodeBatch(batch(2)).length });
  });

  it('refuses stores past the entry or byte bound, and accepts again after removals', async () => {
    const time = new ManualTime();
    const bytes = encodeBatch(batch(1)).length;
    const store = await open(time, { maxBatches: 2, maxBytes: 10 * bytes });
    await store.store(batch(1));
    await store.store(batch(2));
    await expect(store.store(batch(3))).rejects.toBeInstanceOf(BatchlogFullError);
    // Storing an id again replaces the entry: it takes no new slot.
    await store.store(batch(2));
    await store.remove(Buffer.alloc(16, 1));
    await store.store(batch(3));
    expect(store.stats()).toMatchObject({ batches: 2, refused: 1 });

    const small = await reopen(time, { maxBatches: 100, maxBytes: bytes + 5 });
    expect(small.stats().batches).toBe(2);
    await expect(small.store(batch(4))).rejects.toBeInstanceOf(BatchlogFullError);
  });

  it('keeps entries and their store time across restarts; removals stay removed', async () => {
    const time = new ManualTime();
    let store = await open(time);
    await store.store(batch(1));
    await store.store(batch(2));
    await store.remove(Buffer.alloc(16, 1));
    const due = store.due(Number.MAX_SAFE_INTEGER, 10);
    store = await reopen(time);
    expect(store.due(Number.MAX_SAFE_INTEGER, 10)).toEqual(due);
    expect(store.read(Buffer.alloc(16, 2))).toEqual(batch(2));
    expect(store.stats().batches).toBe(1);
  });

  it('a removal shadows the entry even when the clock went back across a restart', async () => {
    const time = new ManualTime();
    time.advanceMs(10_000);
    let store = await open(time);
    await store.store(batch(1));
    // ManualTime starts at a fixed instant: 10 s behind the stored entry.
    const earlier = new ManualTime();
    store = await reopen(earlier);
    expect(earlier.nowMicros()).toBeLessThan(store.due(Number.MAX_SAFE_INTEGER, 1)[0]!.storedAtMicros);
    expect(await store.remove(Buffer.alloc(16, 1))).toBe(true);
    store = await reopen(earlier);
    expect(store.stats().batches).toBe(0);
  });

  it('drops undecodable entries when loading', async () => {
    const time = new ManualTime();
    await open(time);
    const key = Buffer.alloc(16, 7);
    await engine!.table(BATCHLOG_TABLE.id)!.apply({
      token: murmur3Token(key),
      key,
      rangeTombstones: [],
      rows: [{ clustering: Buffer.alloc(0), liveness: { ts: 1, ttl: 0, expiresAt: 0 }, cells: [{ column: 'batch', value: Buffer.from('garbage'), ts: 1, ttl: 0, ldt: 0 }] }],
    });
    let store = await reopen(time);
    expect(store.stats().batches).toBe(0);
    store = await reopen(time);
    expect(engine!.table(BATCHLOG_TABLE.id)!.readPartition(murmur3Token(key), key)?.rows ?? []).toEqual([]);
    expect(store.stats().batches).toBe(0);
  });
});
