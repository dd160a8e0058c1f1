/** The durable hint store on a temp dir: order, deletion, restarts, torn tails, budget, expiry, group fsync. */
import { readdirSync, statSync, truncateSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HintStore, type HintStoreOptions, type StoredHint } from '../../../src/hints/hint-store.js';
import { silentLogger } from '../../../src/util/logger.js';
import { ManualTime, until } from '../../helpers/hints-cluster.js';
import { useTmpDir } from '../../helpers/tmpdir.js';

const HOST_A = '11111111-1111-4111-8111-111111111111';
const HOST_B = '22222222-2222-4222-8222-222222222222';
const TABLE_ID = 't-1';

function mutationOf(i: number, bytes = 40): Buffer {
  const b = Buffer.alloc(bytes, i % 256);
  b.writeUInt32LE(i, 0);
  return b;
}

const indexOf = (hint: StoredHint): number => hint.mutation.readUInt32LE(0);

async function openStore(dir: string, time: ManualTime, options: Partial<HintStoreOptions> = {}): Promise<HintStore> {
  return HintStore.open({ dir: join(dir, 'hints'), sync: 'group', clock: time, scheduler: time, logger: silentLogger, ...options });
}

async function appendAll(store: HintStore, hostId: string, from: number, count: number, time: ManualTime, tableId = TABLE_ID): Promise<boolean[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => store.append(hostId, { createdAtMs: time.nowMs(), tableId, mutation: mutationOf(from + i) })));
}

function segmentFiles(dir: string, hostId: string): string[] {
  try {
    return readdirSync(join(dir, 'hints', hostId)).filter((n) => n.startsWith('Hints-')).sort();
  } catch {
    return [];
  }
}

describe('HintStore', () => {
  const tmp = useTmpDir('ringtail-hints-');

  it('returns hints oldest first and deletes a segment once every hint in it is complete', async () => {
    const time = new ManualTime();
    const store = await openStore(tmp(), time, { segmentSizeBytes: 512 });
    expect(await appendAll(store, HOST_A, 0, 20, time)).toEqual(Array(20).fill(true));
    expect(store.pendingHints(HOST_A)).toBe(20);
    const files = segmentFiles(tmp(), HOST_A);
    expect(files.length).toBeGreaterThan(2);

    const page = await store.read(HOST_A, 100, 1 << 20);
    expect(page.map(indexOf)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    // Reading again without completing returns the same hints: the cursor moves on `complete` only.
    expect((await store.read(HOST_A, 3, 1 << 20)).map(indexOf)).toEqual([0, 1, 2]);

    for (const hint of page.slice(0, 10)) store.complete(hint, 'replayed');
    await store.close();
    expect(segmentFiles(tmp(), HOST_A).length).toBeLessThan(files.length);
    const stats = store.stats().targets.get(HOST_A)!;
    expect(stats).toMatchObject({ stored: 20, replayed: 10, pendingHints: 10 });
  });

  it('deletes every file of a target once all its hints are complete', async () => {
    const time = new ManualTime();
    const store = await openStore(tmp(), time, { segmentSizeBytes: 512 });
    await appendAll(store, HOST_A, 0, 12, time);
    for (const hint of await store.read(HOST_A, 100, 1 << 20)) store.complete(hint, 'replayed');
    await store.close();
    expect(segmentFiles(tmp(), HOST_A)).toEqual([]);
    expect(store.stats().totalBytes).toBe(0);
    expect(store.pendingHints(HOST_A)).toBe(0);
  });

  it('keeps targets apart and limits a page by count and bytes', async () => {
    const time = new ManualTime();
    const store = await openStore(tmp(), time);
    await appendAll(store, HOST_A, 0, 5, time);
    await appendAll(store, HOST_B, 100, 3, time);
    expect((await store.read(HOST_B, 10, 1 << 20)).map(indexOf)).toEqual([100, 101, 102]);
    expect((await store.read(HOST_A, 2, 1 << 20)).map(indexOf)).toEqual([0, 1]);
    // A page of 1 byte still carries one hint.
    expect((await store.read(HOST_A, 10, 1)).map(indexOf)).toEqual([0]);
    expect(store.targetsWithHints().sort()).toEqual([HOST_A, HOST_B]);
    await store.close();
  });

  it('keeps hints across a restart and appends after them in a new segment', async () => {
    const time = new ManualTime();
    let store = await openStore(tmp(), time);
    await appendAll(store, HOST_A, 0, 5, time);
    await store.close();

    store = await openStore(tmp(), time);
    expect(store.pendingHints(HOST_A)).toBe(5);
    await appendAll(store, HOST_A, 5, 2, time);
    expect(segmentFiles(tmp(), HOST_A)).toHaveLength(2);
    expect((await store.read(HOST_A, 100, 1 << 20)).map(indexOf)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    await store.close();
  });

  it('reads a partly delivered segment from its start again after a restart (at least once)', async () => {
    const time = new ManualTime();
    let store = await openStore(tmp(), time);
    await appendAll(store, HOST_A, 0, 4, time);
    const page = await store.read(HOST_A, 2, 1 << 20);
    for (const hint of page) store.complete(hint, 'replayed');
    await store.close();
    store = await openStore(tmp(), time);
    expect((await store.read(HOST_A, 100, 1 << 20)).map(indexOf)).toEqual([0, 1, 2, 3]);
    await store.close();
  });

  it('skips a torn tail left by a crash and keeps the whole records before it', async () => {
    const time = new ManualTime();
    let store = await openStore(tmp(), time);
    await appendAll(store, HOST_A, 0, 5, time);
    await store.close();
    const file = join(tmp(), 'hints', HOST_A, segmentFiles(tmp(), HOST_A)[0]!);
    truncateSync(file, statSync(file).size - 7);

    store = await openStore(tmp(), time);
    expect(store.pendingHints(HOST_A)).toBe(4);
    expect((await store.read(HOST_A, 100, 1 << 20)).map(indexOf)).toEqual([0, 1, 2, 3]);
    // New hints go to a new segment, never after the torn bytes.
    await appendAll(store, HOST_A, 9, 1, time);
    expect((await store.read(HOST_A, 100, 1 << 20)).map(indexOf)).toEqual([0, 1, 2, 3, 9]);
    await store.close();
  });

  it('stops at a corrupt record found at open and drops a file with a torn header', async () => {
    const time = new ManualTime();
    let store = await openStore(tmp(), time);
    await appendAll(store, HOST_A, 0, 3, time);
    await store.close();
    const file = join(tmp(), 'hints', HOST_A, segmentFiles(tmp(), HOST_A)[0]!);
    const bytes = readFileSync(file);
    bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 0xff; // inside the last record's payload
    writeFileSync(file, bytes);
    writeFileSync(join(tmp(), 'hints', HOST_A, 'Hints-1-99999999999999.log'), Buffer.from('RTH'));

    store = await openStore(tmp(), time);
    expect((await store.read(HOST_A, 100, 1 << 20)).map(indexOf)).toEqual([0, 1]);
    expect(segmentFiles(tmp(), HOST_A)).toHaveLength(1);
    await store.close();
  });

  it('refuses hints over the byte budget, counts them, and stores again once space is freed', async () => {
    const time = new ManualTime();
    const store = await openStore(tmp(), time, { segmentSizeBytes: 1024, maxTotalBytes: 1024 });
    const results = await appendAll(store, HOST_A, 0, 30, time);
    const stored = results.filter(Boolean).length;
    expect(stored).toBeGreaterThan(5);
    expect(stored).toBeLessThan(30);
    expect(store.stats()).toMatchObject({ overBudget: true, refusedOverBudget: 30 - stored });
    expect(store.stats().targets.get(HOST_A)).toMatchObject({ stored, dropped: 30 - stored });
    expect(store.stats().totalBytes).toBeLessThanOrEqual(1024);
    expect(store.admits(HOST_A, 10)).toBe(false);

    for (const hint of await store.read(HOST_A, 100, 1 << 20)) store.complete(hint, 'replayed');
    expect(store.stats().overBudget).toBe(false);
    expect(await store.append(HOST_A, { createdAtMs: time.nowMs(), tableId: TABLE_ID, mutation: mutationOf(99) })).toBe(true);
    await store.close();
  });

  it('refuses a hint larger than a segment', async () => {
    const time = new ManualTime();
    const store = await openStore(tmp(), time, { segmentSizeBytes: 512 });
    expect(await store.append(HOST_A, { createdAtMs: time.nowMs(), tableId: TABLE_ID, mutation: Buffer.alloc(600) })).toBe(false);
    expect(store.stats().targets.get(HOST_A)).toMatchObject({ stored: 0, dropped: 1 });
    await store.close();
  });

  it('expires whole segments whose every table says so, counting their hints as expired', async () => {
    const time = new ManualTime();
    const store = await openStore(tmp(), time, { segmentSizeBytes: 512 });
    await appendAll(store, HOST_A, 0, 8, time, 'short');
    time.advanceMs(10_000);
    await appendAll(store, HOST_A, 100, 8, time, 'long');
    const cutoffMs = time.nowMs() - 5_000;
    const ttlOf = (tableId: string): number => (tableId === 'short' ? 1_000 : 1_000_000);
    const expired = store.expire((tableId, newest) => newest + ttlOf(tableId) <= time.nowMs() && newest <= cutoffMs);
    // Only segments holding nothing but 'short' hints go (a segment mixing both stays whole).
    expect(expired).toBeGreaterThan(0);
    const left = (await store.read(HOST_A, 100, 1 << 20)).map(indexOf);
    expect(left.filter((i) => i >= 100)).toEqual(Array.from({ length: 8 }, (_, i) => 100 + i));
    expect(left.length + expired).toBe(16);
    expect(store.stats().targets.get(HOST_A)!.expired).toBe(expired);
    await store.close();
  });

  it('ignores completions of hints whose segment expired meanwhile', async () => {
    const time = new ManualTime();
    const store = await openStore(tmp(), time);
    await appendAll(store, HOST_A, 0, 3, time);
    const page = await store.read(HOST_A, 100, 1 << 20);
    expect(store.expire(() => true)).toBe(3);
    for (const hint of page) store.complete(hint, 'replayed');
    expect(store.stats().targets.get(HOST_A)).toMatchObject({ replayed: 0, expired: 3, pendingHints: 0 });
    await store.close();
  });

  it('shares one fdatasync among the hints appended in one turn (group commit)', async () => {
    const time = new ManualTime();
    const store = await openStore(tmp(), time);
    await appendAll(store, HOST_A, 0, 50, time);
    expect(store.stats().syncs).toBe(1);
    await store.close();
  });

  it('periodic sync acknowledges once written and syncs within the period', async () => {
    const time = new ManualTime();
    const store = await openStore(tmp(), time, { sync: 'periodic', syncPeriodMs: 100 });
    await appendAll(store, HOST_A, 0, 5, time);
    expect(store.stats().syncs).toBe(0);
    await until('a periodic sync', () => store.stats().syncs === 1, time);
    await store.close();
  });

  it('removes a target with all its files', async () => {
    const time = new ManualTime();
    const store = await openStore(tmp(), time);
    await appendAll(store, HOST_A, 0, 3, time);
    await appendAll(store, HOST_B, 0, 3, time);
    await store.removeTarget(HOST_A);
    expect(readdirSync(join(tmp(), 'hints'))).toEqual([HOST_B]);
    expect(store.pendingHints(HOST_A)).toBe(0);
    expect(store.stats().targets.has(HOST_A)).toBe(false);
    await store.close();
  });

  it('refuses hints after close', async () => {
    const time = new ManualTime();
    const store = await openStore(tmp(), time);
    await store.close();
    expect(await store.append(HOST_A, { createdAtMs: 1, tableId: TABLE_ID, mutation: mutationOf(1) })).toBe(false);
  });
});
