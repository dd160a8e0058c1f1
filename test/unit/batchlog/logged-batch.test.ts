/**
 * The coordinator's steps with fakes: a messaging double whose answers the test scripts, a
 * recording local batch log, and a write function that succeeds or fails on demand.
 */
import { describe, expect, it } from 'vitest';
import type { Batch } from '../../../src/batchlog/batchlog-store.js';
import { decodeBatch } from '../../../src/batchlog/batchlog-store.js';
import { decodeBatchRemove } from '../../../src/batchlog/batchlog-verbs.js';
import { newLoggedBatchCounters, writeLoggedBatch, type LoggedBatchDeps } from '../../../src/batchlog/logged-batch.js';
import type { Mutation } from '../../../src/cql/data-path.js';
import { InvalidRequest, Unavailable, WriteFailure, WriteTimeout } from '../../../src/errors.js';
import { RemoteError } from '../../../src/messaging/errors.js';
import { Verb } from '../../../src/messaging/verbs.js';
import { SeededRandom } from '../../../src/runtime/random.js';
import { silentLogger } from '../../../src/util/logger.js';
import { ManualTime, mutation } from '../../helpers/batchlog-cluster.js';

const TWO_PARTITIONS: Mutation[] = [mutation('a', '1', 1), mutation('b', '2', 2)];

interface Fixture {
  deps: LoggedBatchDeps;
  requests: { to: string; verb: number; payload: Uint8Array }[];
  local: { stored: Batch[]; removed: Buffer[] };
  writes: Mutation[][];
  time: ManualTime;
}

function fixture(options: { members?: string[]; answer?: (to: string, verb: number) => Promise<Uint8Array>; write?: () => Promise<void> } = {}): Fixture {
  const time = new ManualTime();
  const requests: Fixture['requests'] = [];
  const local: Fixture['local'] = { stored: [], removed: [] };
  const writes: Mutation[][] = [];
  const members = options.members ?? ['h:1', 'h:2', 'h:3'];
  const deps: LoggedBatchDeps = {
    messaging: {
      request: (peer, verb, payload) => {
        const to = `${peer.host}:${peer.port}`;
        requests.push({ to, verb, payload });
        return options.answer?.(to, verb) ?? Promise.resolve(new Uint8Array(0));
      },
    },
    localStore: {
      store: async (batch) => void local.stored.push(batch),
      remove: async (id) => {
        local.removed.push(id);
        return true;
      },
    },
    self: 'h:1',
    datacenter: 'dc1',
    rack: 'r1',
    members: () => members.map((endpoint, i) => ({ endpoint, datacenter: 'dc1', rack: `r${i + 1}` })),
    isAlive: () => true,
    writeRequestTimeoutMs: 100,
    write: async (mutations) => {
      writes.push([...mutations]);
      await options.write?.();
    },
    clock: time,
    scheduler: time,
    random: new SeededRandom(3),
    logger: silentLogger,
    counters: newLoggedBatchCounters(),
  };
  return { deps, requests, local, writes, time };
}

describe('writeLoggedBatch', () => {
  it('writes a single-partition batch directly, without the log', async () => {
    const f = fixture();
    const result = await writeLoggedBatch([mutation('a', '1', 1), mutation('a', '2', 2)], 'ONE', f.deps);
    expect(result.batchId).toBeNull();
    expect(f.requests).toEqual([]);
    expect(f.writes).toHaveLength(1);
  });

  it('sends the same batch to both endpoints, writes, then removes it by id', async () => {
    const f = fixture();
    const result = await writeLoggedBatch(TWO_PARTITIONS, 'QUORUM', f.deps);
    await result.removal;
    const stores = f.requests.filter((r) => r.verb === Verb.BATCH_STORE);
    const removes = f.requests.filter((r) => r.verb === Verb.BATCH_REMOVE);
    expect(stores.map((r) => r.to).sort()).toEqual(['h:2', 'h:3']);
    const batch = decodeBatch(stores[0]!.payload);
    expect(Buffer.from(stores[1]!.payload)).toEqual(Buffer.from(stores[0]!.payload));
    expect(batch.writtenAtMs).toBe(f.time.nowMs());
    expect(batch.mutations.map((m) => m.update.key.toString())).toEqual(['a', 'b']);
    expect(removes.map((r) => decodeBatchRemove(r.payload))).toEqual([batch.id, batch.id]);
    expect(result.batchId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(f.deps.counters).toEqual({ logged: 1, batchlogTimeouts: 0, batchlogFailures: 0, removeFailures: 0 });
  });

  it('an error answer to BATCH_STORE is a WriteFailure at once; nothing is written and the stored copy is removed', async () => {
    const f = fixture({ answer: (to, verb) => (verb === Verb.BATCH_STORE && to === 'h:3' ? Promise.reject(new RemoteError('batch log full', { host: 'h', port: 3 }, verb)) : Promise.resolve(new Uint8Array(0))) });
    const err = await writeLoggedBatch(TWO_PARTITIONS, 'QUORUM', f.deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WriteFailure);
    expect((err as WriteFailure).fields()).toMatchObject({ consistency: 'TWO', block_for: 2, failures: 1 });
    expect(f.writes).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(f.requests.filter((r) => r.verb === Verb.BATCH_REMOVE).map((r) => r.to).sort()).toEqual(['h:2', 'h:3']);
    expect(f.deps.counters!.batchlogFailures).toBe(1);
  });

  it('a write timeout after the log is a WriteTimeout of type BATCH, and the entries stay for replay', async () => {
    const timeout = new WriteTimeout({ consistency: 'QUORUM', received: 1, blockFor: 2, writeType: 'UNLOGGED_BATCH' });
    const f = fixture({ write: () => Promise.reject(timeout) });
    const err = await writeLoggedBatch(TWO_PARTITIONS, 'QUORUM', f.deps).catch((e: unknown) => e);
    expect((err as WriteTimeout).fields()).toEqual({ consistency: 'QUORUM', received: 1, block_for: 2, write_type: 'BATCH' });
    expect(f.requests.filter((r) => r.verb === Verb.BATCH_REMOVE)).toEqual([]);
  });

  it('an Unavailable write sent nothing: the entries are removed and the error returned', async () => {
    const f = fixture({ write: () => Promise.reject(new Unavailable('QUORUM', 2, 1)) });
    await expect(writeLoggedBatch(TWO_PARTITIONS, 'QUORUM', f.deps)).rejects.toBeInstanceOf(Unavailable);
    await new Promise((resolve) => setImmediate(resolve));
    expect(f.requests.filter((r) => r.verb === Verb.BATCH_REMOVE)).toHaveLength(2);
  });

  it('checks availability before logging anything', async () => {
    const f = fixture();
    const deps = { ...f.deps, checkAvailable: () => { throw new Unavailable('ALL', 3, 2); } };
    await expect(writeLoggedBatch(TWO_PARTITIONS, 'ALL', deps)).rejects.toBeInstanceOf(Unavailable);
    expect(f.requests).toEqual([]);
  });

  it('keeps the batch in its own log when alone, without messages', async () => {
    const f = fixture({ members: ['h:1'] });
    const result = await writeLoggedBatch(TWO_PARTITIONS, 'ONE', f.deps);
    await result.removal;
    expect(result.endpoints).toEqual(['h:1']);
    expect(f.local.stored).toHaveLength(1);
    expect(f.local.removed).toEqual([f.local.stored[0]!.id]);
    expect(f.requests).toEqual([]);
  });

  it('a failed removal is counted and harmless', async () => {
    const f = fixture({ answer: (_to, verb) => (verb === Verb.BATCH_REMOVE ? Promise.reject(new Error('gone')) : Promise.resolve(new Uint8Array(0))) });
    const result = await writeLoggedBatch(TWO_PARTITIONS, 'ONE', f.deps);
    await result.removal;
    expect(f.deps.counters!.removeFailures).toBe(2);
  });

  it('refuses batches with more mutations than the format holds', async () => {
    const f = fixture();
    const many = Array.from({ length: 65_536 }, (_, i) => TWO_PARTITIONS[i % 2]!);
    await expect(writeLoggedBatch(many, 'ONE', f.deps)).rejects.toBeInstanceOf(InvalidRequest);
  });
});
