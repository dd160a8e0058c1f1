/** The replayer against an in-memory store double and a scripted write function, on manual time. */
import { describe, expect, it } from 'vitest';
import { BatchlogReplayer, defaultReplayAfterMs } from '../../../src/batchlog/batchlog-replayer.js';
import type { Batch, BatchlogEntry, BatchlogStore } from '../../../src/batchlog/batchlog-store.js';
import type { Mutation } from '../../../src/cql/data-path.js';
import { CorruptDataError } from '../../../src/util/bytes.js';
import { silentLogger } from '../../../src/util/logger.js';
import { ManualTime, TABLE, update } from '../../helpers/batchlog-cluster.js';

type StoreDouble = Pick<BatchlogStore, 'due' | 'read' | 'remove' | 'memtableBytes' | 'flush'>;

class MemoryBatchlog implements StoreDouble {
  readonly batches = new Map<string, { batch: Batch | 'corrupt'; storedAtMicros: number }>();
  flushes = 0;
  memtable = 0;

  add(id: number, storedAtMicros: number, tableIds: string[] = [TABLE.id]): Buffer {
    const key = Buffer.alloc(16, id);
    this.batches.set(key.toString('hex'), { batch: { id: key, writtenAtMs: 0, mutations: tableIds.map((tableId, i) => ({ tableId, update: update(`k${id}-${i}`, 'v', 1) })) }, storedAtMicros });
    this.memtable += 100;
    return key;
  }

  due(before: number, max: number): BatchlogEntry[] {
    return [...this.batches.entries()]
      .filter(([, e]) => e.storedAtMicros <= before)
      .sort((a, b) => a[1].storedAtMicros - b[1].storedAtMicros)
      .slice(0, max)
      .map(([k, e]) => ({ id: Buffer.from(k, 'hex'), storedAtMicros: e.storedAtMicros, bytes: 1 }));
  }

  read(id: Buffer): Batch | null {
    const e = this.batches.get(id.toString('hex'));
    if (e === undefined) return null;
    if (e.batch === 'corrupt') throw new CorruptDataError('bad');
    return e.batch;
  }

  async remove(id: Buffer): Promise<boolean> {
    return this.batches.delete(id.toString('hex'));
  }

  memtableBytes(): number {
    return this.memtable;
  }

  async flush(): Promise<void> {
    this.flushes++;
    this.memtable = 0;
  }
}

function setup(options: { fail?: (mutations: readonly Mutation[]) => boolean; maxBatchesPerRound?: number } = {}) {
  const time = new ManualTime();
  const store = new MemoryBatchlog();
  const written: Mutation[][] = [];
  const replayer = new BatchlogReplayer({
    store,
    write: async (mutations, consistency) => {
      expect(consistency).toBe('ONE');
      if (options.fail?.(mutations) === true) throw new Error('replicas unreachable');
      written.push([...mutations]);
    },
    tableById: (id) => (id === TABLE.id ? TABLE : undefined),
    clock: time,
    scheduler: time,
    logger: silentLogger,
    replayAfterMs: 5000,
    intervalMs: 1000,
    flushPeriodMs: 60_000,
    ...(options.maxBatchesPerRound !== undefined ? { maxBatchesPerRound: options.maxBatchesPerRound } : {}),
  });
  return { time, store, written, replayer };
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('BatchlogReplayer', () => {
  it('replays only batches older than the replay age, oldest first, and removes them', async () => {
    const { time, store, written, replayer } = setup();
    const now = time.nowMicros();
    store.add(1, now - 6_000_000);
    store.add(2, now - 9_000_000);
    store.add(3, now - 1_000_000);
    expect(await replayer.replayDue()).toEqual({ replayed: 2, failed: 0 });
    expect(written.map((ms) => ms[0]!.update.key.toString())).toEqual(['k2-0', 'k1-0']);
    expect(written[0]![0]!.table).toBe(TABLE);
    expect([...store.batches.keys()]).toEqual([Buffer.alloc(16, 3).toString('hex')]);
    time.advanceMs(4000);
    expect(await replayer.replayDue()).toEqual({ replayed: 1, failed: 0 });
    expect(replayer.stats()).toMatchObject({ rounds: 2, replayed: 3, failed: 0 });
  });

  it('keeps a batch whose write failed and retries it next round', async () => {
    let failing = true;
    const { time, store, replayer } = setup({ fail: () => failing });
    store.add(1, time.nowMicros() - 10_000_000);
    expect(await replayer.replayDue()).toEqual({ replayed: 0, failed: 1 });
    expect(store.batches.size).toBe(1);
    failing = false;
    expect(await replayer.replayDue()).toEqual({ replayed: 1, failed: 0 });
    expect(store.batches.size).toBe(0);
    expect(replayer.stats()).toMatchObject({ replayed: 1, failed: 1 });
  });

  it('replays at most maxBatchesPerRound batches per round', async () => {
    const { time, store, replayer } = setup({ maxBatchesPerRound: 2 });
    for (let i = 1; i <= 5; i++) store.add(i, time.nowMicros() - 10_000_000 + i);
    expect(await replayer.replayDue()).toEqual({ replayed: 2, failed: 0 });
    expect(store.batches.size).toBe(3);
  });

  it('leaves out mutations of dropped tables, and removes undecodable entries', async () => {
    const { time, store, written, replayer } = setup();
    store.add(1, time.nowMicros() - 10_000_000, [TABLE.id, 'dropped-table']);
    store.add(2, time.nowMicros() - 10_000_000, ['dropped-table']);
    const corrupt = store.add(3, time.nowMicros() - 10_000_000);
    store.batches.get(corrupt.toString('hex'))!.batch = 'corrupt';
    await replayer.replayDue();
    expect(written).toHaveLength(1);
    expect(written[0]!.map((m) => m.update.key.toString())).toEqual(['k1-0']);
    expect(store.batches.size).toBe(0);
    expect(replayer.stats()).toMatchObject({ replayed: 2, skippedMutations: 2, corrupt: 1 });
  });

  it('runs a round every interval once started, never two at once, and stops', async () => {
    const { time, store, replayer } = setup();
    replayer.start();
    store.add(1, time.nowMicros());
    time.advanceMs(1000);
    await until(() => replayer.stats().rounds === 1 && time.pendingTimers === 1);
    expect(store.batches.size).toBe(1);
    // Each round schedules the next only when it ends: one interval of time per round.
    for (let i = 0; i < 10 && replayer.stats().replayed === 0; i++) {
      time.advanceMs(1000);
      await until(() => time.pendingTimers === 1);
    }
    expect(replayer.stats()).toMatchObject({ rounds: 5, replayed: 1 });
    await replayer.stop();
    const rounds = replayer.stats().rounds;
    time.advanceMs(10_000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(replayer.stats().rounds).toBe(rounds);
  });

  it('flushes the batch-log table every flush period while it holds data', async () => {
    const { time, store, replayer } = setup();
    store.add(1, time.nowMicros());
    await replayer.replayDue();
    expect(store.flushes).toBe(0);
    time.advanceMs(60_000);
    await replayer.replayDue();
    expect(store.flushes).toBe(1);
    time.advanceMs(60_000);
    await replayer.replayDue();
    expect(store.flushes).toBe(1);
  });

  it('waits twice the write timeout plus a margin by default', () => {
    expect(defaultReplayAfterMs(2000)).toBe(5000);
  });
});
