/**
 * Logged batches across three in-process nodes (test/helpers/batchlog-cluster.ts): real storage
 * engines, the batch log, the replica verbs and a replicated write path, over an in-memory
 * network on manual time. A "dead" coordinator is one whose write never happens after BATCH_STORE.
 * Nothing sleeps: waits are conditions with deadlines.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BatchlogFullError, decodeBatch, encodeBatch } from '../../src/batchlog/batchlog-store.js';
import { writeLoggedBatch } from '../../src/batchlog/logged-batch.js';
import type { Mutation } from '../../src/cql/data-path.js';
import type { ConsistencyLevel } from '../../src/cql/request.js';
import { WriteFailure, WriteTimeout } from '../../src/errors.js';
import { Verb } from '../../src/messaging/verbs.js';
import {
  mutation,
  REPLAY_AFTER_MS,
  startBatchlogCluster,
  WRITE_TIMEOUT_MS,
  type BatchlogTestCluster,
} from '../helpers/batchlog-cluster.js';
import { useTmpDir } from '../helpers/tmpdir.js';

const dir = useTmpDir('ringtail-batchlog-');
let cluster: BatchlogTestCluster | null = null;

afterEach(async () => {
  await cluster?.close();
  cluster = null;
});

async function start(size = 3, options: Parameters<typeof startBatchlogCluster>[2] = {}): Promise<BatchlogTestCluster> {
  cluster = await startBatchlogCluster(dir(), size, options);
  return cluster;
}

/** Waits, turn by turn, until `check` passes; fails after `timeoutMs` of real time. */
async function eventually(check: () => void, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

const TS = 1_700_000_000_000_000;
const BATCH: Mutation[] = [mutation('a', 'va', TS), mutation('b', 'vb', TS + 1)];

const crashed = (): Promise<void> => Promise.reject(new Error('coordinator died before applying the batch'));

describe('logged batches through the batch log', () => {
  it('stores the batch on the two other nodes before applying it, then removes it', async () => {
    const c = await start();
    const [a, b, d] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0], typeof c.nodes[0]];
    const heldWhileWriting: number[] = [];
    const write = (mutations: readonly Mutation[], consistency: ConsistencyLevel): Promise<void> => {
      heldWhileWriting.push(...c.nodes.map((n) => n.batchlog.stats().batches));
      return a.write(mutations, consistency);
    };
    const result = await writeLoggedBatch(BATCH, 'ALL', c.depsFor(a, { write }));
    expect(heldWhileWriting).toEqual([0, 1, 1]);
    expect([...result.endpoints].sort()).toEqual([b.endpoint, d.endpoint]);
    expect(c.network.sentOf(Verb.BATCH_STORE).map((m) => m.to).sort()).toEqual([b.endpoint, d.endpoint]);
    for (const node of c.nodes) {
      expect(node.read('a')).toEqual({ value: 'va', ts: TS });
      expect(node.read('b')).toEqual({ value: 'vb', ts: TS + 1 });
    }
    await result.removal;
    expect(c.nodes.map((n) => n.batchlog.stats().batches)).toEqual([0, 0, 0]);
    expect([b.batchlog.stats().removed, d.batchlog.stats().removed]).toEqual([1, 1]);
    expect(a.counters).toMatchObject({ logged: 1, removeFailures: 0 });
  });

  it('a batch whose coordinator dies after BATCH_STORE is applied by another node after the timeout, then removed; a second replay changes nothing', async () => {
    const c = await start();
    const [a, b, d] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0], typeof c.nodes[0]];
    await expect(writeLoggedBatch(BATCH, 'QUORUM', c.depsFor(a, { write: crashed }))).rejects.toThrow('coordinator died');
    c.network.down.add(a.endpoint);
    for (const node of c.nodes) expect([node.read('a'), node.read('b')]).toEqual([null, null]);
    expect([b.batchlog.stats().batches, d.batchlog.stats().batches]).toEqual([1, 1]);

    // Too young: its coordinator could still be writing it.
    expect(await b.replayer.replayDue()).toEqual({ replayed: 0, failed: 0 });
    c.time.advanceMs(REPLAY_AFTER_MS);
    expect(await b.replayer.replayDue()).toEqual({ replayed: 1, failed: 0 });
    expect(b.batchlog.stats().batches).toBe(0);
    await eventually(() => {
      for (const node of [b, d]) {
        expect(node.read('a')).toEqual({ value: 'va', ts: TS });
        expect(node.read('b')).toEqual({ value: 'vb', ts: TS + 1 });
      }
    });

    // A newer write lands after the replay; the other endpoint's replay must not undo it.
    await d.write([mutation('a', 'newer', TS + 10)], 'QUORUM');
    d.replayer.start();
    c.time.advanceMs(1000);
    await eventually(() => expect(d.replayer.stats()).toMatchObject({ rounds: 1, replayed: 1, failed: 0 }));
    expect(d.batchlog.stats().batches).toBe(0);
    await eventually(() => {
      for (const node of [b, d]) {
        expect(node.read('a')).toEqual({ value: 'newer', ts: TS + 10 });
        expect(node.read('b')).toEqual({ value: 'vb', ts: TS + 1 });
      }
    });
  });

  it('keeps the batch log through engine restarts (commit-log replay, then SSTables)', async () => {
    const c = await start();
    const [a, b] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0]];
    await expect(writeLoggedBatch(BATCH, 'QUORUM', c.depsFor(a, { write: crashed }))).rejects.toThrow();
    const [entry] = b.batchlog.due(Number.MAX_SAFE_INTEGER, 10);
    const before = b.batchlog.read(entry!.id)!;

    await c.restart(b, { flush: false });
    expect(b.batchlog.stats().batches).toBe(1);
    expect(b.batchlog.due(Number.MAX_SAFE_INTEGER, 10)).toEqual([entry]);
    expect(encodeBatch(b.batchlog.read(entry!.id)!)).toEqual(encodeBatch(before));

    await c.restart(b, { flush: true });
    await c.restart(b, { flush: false });
    expect(b.batchlog.due(Number.MAX_SAFE_INTEGER, 10)).toEqual([entry]);

    c.network.down.add(a.endpoint);
    c.time.advanceMs(REPLAY_AFTER_MS);
    expect(await b.replayer.replayDue()).toEqual({ replayed: 1, failed: 0 });
    expect(b.read('a')).toEqual({ value: 'va', ts: TS });
    await c.restart(b, { flush: false });
    expect(b.batchlog.stats().batches).toBe(0);
  });

  it('answers WriteTimeout BATCH_LOG when the batch-log endpoints are silent, and applies nothing', async () => {
    const c = await start();
    const [a, b, d] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0], typeof c.nodes[0]];
    c.network.silent.add(b.endpoint);
    c.network.silent.add(d.endpoint);
    let writes = 0;
    const pending = writeLoggedBatch(BATCH, 'QUORUM', c.depsFor(a, { write: async () => void writes++ }));
    const outcome = pending.catch((err: unknown) => err);
    c.time.advanceMs(WRITE_TIMEOUT_MS);
    const err = await outcome;
    expect(err).toBeInstanceOf(WriteTimeout);
    expect((err as WriteTimeout).fields()).toEqual({ consistency: 'TWO', received: 0, block_for: 2, write_type: 'BATCH_LOG' });
    expect(writes).toBe(0);
    expect(a.counters.batchlogTimeouts).toBe(1);
  });

  it('one silent endpoint of two is still a BATCH_LOG timeout; the copy that was stored is removed', async () => {
    const c = await start();
    const [a, b, d] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0], typeof c.nodes[0]];
    c.network.silent.add(d.endpoint);
    let writes = 0;
    const outcome = writeLoggedBatch(BATCH, 'QUORUM', c.depsFor(a, { write: async () => void writes++ })).catch((err: unknown) => err);
    await eventually(() => expect(b.batchlog.stats().stored).toBe(1));
    c.time.advanceMs(WRITE_TIMEOUT_MS);
    const err = await outcome;
    expect((err as WriteTimeout).fields()).toMatchObject({ received: 1, block_for: 2, write_type: 'BATCH_LOG' });
    expect(writes).toBe(0);
    await eventually(() => expect(b.batchlog.stats()).toMatchObject({ batches: 0, removed: 1 }));
  });

  it('a full batch log refuses the store: WriteFailure, nothing applied', async () => {
    const c = await start(3, { limits: { maxBatches: 10, maxBytes: 64 } });
    const a = c.nodes[0]!;
    let writes = 0;
    const err = await writeLoggedBatch(BATCH, 'ONE', c.depsFor(a, { write: async () => void writes++ })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WriteFailure);
    expect(writes).toBe(0);
    expect(c.nodes.some((n) => n.batchlog.stats().refused > 0)).toBe(true);
    await expect(c.nodes[1]!.batchlog.store(decodeBatch(encodeBatch({ id: Buffer.alloc(16, 1), writtenAtMs: 1, mutations: [mutation('c', 'x'.repeat(100), TS)].map((m) => ({ tableId: m.table.id, update: m.update })) })))).rejects.toThrow(BatchlogFullError);
  });

  it('a node alone in its datacenter keeps the batch in its own log', async () => {
    const c = await start(1);
    const a = c.nodes[0]!;
    const held: number[] = [];
    const write = (mutations: readonly Mutation[], consistency: ConsistencyLevel): Promise<void> => {
      held.push(a.batchlog.stats().batches);
      return a.write(mutations, consistency);
    };
    const result = await writeLoggedBatch(BATCH, 'ONE', c.depsFor(a, { write }));
    expect(result.endpoints).toEqual([a.endpoint]);
    expect(held).toEqual([1]);
    await result.removal;
    expect(a.batchlog.stats()).toMatchObject({ batches: 0, stored: 1, removed: 1 });
    expect(c.network.sent).toEqual([]);
    expect(a.read('a')).toEqual({ value: 'va', ts: TS });
  });
});
