/**
 * The storage engine end to end on a real disk, with real worker threads: the write path
 * through the commit log, flushes, reads merging memtables and SSTables, range scans,
 * restarts, truncation and compaction.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/runtime/manual-clock.js';
import { isRowLive } from '../../src/storage/data/reconcile.js';
import type { Partition } from '../../src/storage/data/types.js';
import type { StorageEngine } from '../../src/storage/engine/storage-engine.js';
import { openEngine } from '../helpers/engine.js';
import { b, bound, cell, del, rangeTombstone, row, update, values } from '../helpers/rows.js';
import { useTmpDir } from '../helpers/tmpdir.js';

const tmp = useTmpDir('ringtail-engine-');
const engines: StorageEngine[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close({ flush: false });
});

async function open(...args: Parameters<typeof openEngine> extends [string, ...infer R] ? R : never) {
  const opened = await openEngine(tmp(), ...args);
  engines.push(opened.engine);
  return opened;
}

async function restart(engine: StorageEngine, flush: boolean, ...args: Parameters<typeof openEngine> extends [string, ...infer R] ? R : never) {
  await engine.close({ flush });
  engines.splice(engines.indexOf(engine), 1);
  return open(...args);
}

const NOW = Math.floor(Date.now() / 1000);
const liveRows = (p: Partition | null): string[] =>
  (p?.rows ?? []).filter((r) => isRowLive(r, NOW + 1)).map((r) => r.clustering.toString());

describe('storage engine', () => {
  it('reads its own writes from the memtable, then from an SSTable, merging both by timestamp', async () => {
    const { table } = await open();
    await table.apply(update(10n, 'p', [row('r1', [cell('a', 'one', 1), cell('b', 'old', 1)])]));
    expect(values(table.readPartition(10n, b('p'))!.rows[0])).toEqual({ a: 'one', b: 'old' });
    await table.flush();
    expect(table.stats()).toMatchObject({ sstableCount: 1, memtableBytes: 0 });
    await table.apply(update(10n, 'p', [row('r1', [cell('b', 'new', 2), cell('a', 'stale', 0)])]));
    expect(values(table.readPartition(10n, b('p'))!.rows[0])).toEqual({ a: 'one', b: 'new' });
    expect(table.readPartition(11n, b('p'))).toBeNull();
    expect(table.readPartition(10n, b('q'))).toBeNull();
  });

  it('serves clustering slices forwards and backwards, with limits that count live rows only', async () => {
    const { table } = await open();
    const rows = ['a', 'b', 'c', 'd', 'e'].map((c) => row(c, [cell('v', c, 1)]));
    await table.apply(update(1n, 'p', rows.slice(0, 3)));
    await table.flush();
    await table.apply(update(1n, 'p', rows.slice(3)));
    await table.apply(update(1n, 'p', [row('b', [], { deletion: del(5) })]));
    expect(liveRows(table.readPartition(1n, b('p')))).toEqual(['a', 'c', 'd', 'e']);
    expect(liveRows(table.readPartition(1n, b('p'), { start: bound('b', true), end: bound('d', false) }))).toEqual(['c']);
    expect(liveRows(table.readPartition(1n, b('p'), { start: bound('b', false), end: bound('d', true) }))).toEqual(['c', 'd']);
    expect(liveRows(table.readPartition(1n, b('p'), { reversed: true, limit: 3 }))).toEqual(['e', 'd', 'c']);
    // The row tombstone on 'b' is returned (a coordinator needs it) but is not counted.
    const limited = table.readPartition(1n, b('p'), { limit: 2 })!;
    expect(limited.rows.map((r) => r.clustering.toString())).toEqual(['a', 'b', 'c']);
    expect(liveRows(limited)).toEqual(['a', 'c']);
  });

  it('applies range and partition tombstones across memtable and SSTables', async () => {
    const { table } = await open();
    await table.apply(update(1n, 'p', ['a1', 'a2', 'b1', 'b2', 'c1'].map((c) => row(c, [cell('v', c, 10)]))));
    await table.flush();
    await table.apply(update(1n, 'p', [], { rangeTombstones: [rangeTombstone(bound('a', true), bound('b', true), del(10))] }));
    expect(liveRows(table.readPartition(1n, b('p')))).toEqual(['c1']);
    await table.apply(update(1n, 'p', [row('a2', [cell('v', 'back', 11)])]));
    expect(liveRows(table.readPartition(1n, b('p')))).toEqual(['a2', 'c1']);
    await table.flush();
    await table.apply(update(1n, 'p', [], { deletion: del(11) }));
    const p = table.readPartition(1n, b('p'))!;
    expect(liveRows(p)).toEqual([]);
    expect(p.deletion).toEqual(del(11));
  });

  it('expires TTL cells and row markers on the injected clock', async () => {
    const clock = new ManualClock(1_800_000_000_000);
    const { table } = await open({ clock });
    const now = 1_800_000_000;
    await table.apply(update(1n, 'p', [row('r', [cell('v', 'short', 1, { ttl: 10, ldt: now + 10 })], { liveness: { ts: 1, ttl: 10, expiresAt: now + 10 } })]));
    await table.apply(update(1n, 'p', [row('s', [cell('v', 'long', 1, { ttl: 100, ldt: now + 100 })])]));
    const live = (): string[] => (table.readPartition(1n, b('p'))?.rows ?? []).filter((r) => isRowLive(r, Math.floor(clock.nowMs() / 1000))).map((r) => r.clustering.toString());
    expect(live()).toEqual(['r', 's']);
    clock.advanceMs(10_000);
    expect(live()).toEqual(['s']);
    await table.flush();
    clock.advanceMs(90_000);
    expect(live()).toEqual([]);
  });

  it('scans a token range page by page in ring order, resuming anywhere', async () => {
    const { table } = await open();
    const tokens = [-50n, -10n, 0n, 7n, 7n, 40n, 90n];
    for (const [i, token] of tokens.entries()) {
      await table.apply(update(token, `k${i}`, [row('x', [cell('v', `${i}`, 1)]), row('y', [cell('v', `${i}`, 1)])]));
      if (i === 3) await table.flush();
    }
    const seen: string[] = [];
    let resume = null;
    let pages = 0;
    do {
      const page = table.scanRange({ startToken: -10n, endToken: 40n, pageRows: 3, resume });
      for (const p of page.partitions) for (const r of p.rows) seen.push(`${p.token}/${p.key.toString()}/${r.clustering.toString()}`);
      resume = page.next;
      pages++;
    } while (resume !== null && pages < 100);
    // (-10, 40]: start exclusive, end inclusive; token 7 has two keys, ordered by key bytes.
    expect(seen).toEqual(['0/k2/x', '0/k2/y', '7/k3/x', '7/k3/y', '7/k4/x', '7/k4/y', '40/k5/x', '40/k5/y']);
    expect(pages).toBe(3);
    const whole = table.scanRange({ startToken: null, endToken: null, pageRows: 1000 });
    expect(whole.partitions.map((p) => p.token)).toEqual(tokens);
    expect(whole.next).toBeNull();
  });

  it('applies a partition\'s tombstones to rows on every page it spans', async () => {
    const { table } = await open();
    await table.apply(update(5n, 'p', ['a', 'b', 'c', 'd'].map((c) => row(c, [cell('v', c, 1)]))));
    await table.apply(update(5n, 'p', [], { rangeTombstones: [rangeTombstone(bound('c', true), null, del(2))] }));
    await table.flush();
    await table.apply(update(5n, 'p', [row('b2', [cell('v', 'b2', 3)])]));
    const live: string[] = [];
    let resume = null;
    for (let pages = 0; pages < 10; pages++) {
      const page = table.scanRange({ startToken: null, endToken: null, pageRows: 2, resume });
      for (const p of page.partitions) {
        expect(p.rangeTombstones).toHaveLength(1);
        live.push(...liveRows(p));
      }
      resume = page.next;
      if (resume === null) break;
    }
    expect(live).toEqual(['a', 'b', 'b2']);
  });

  it('replays unflushed writes after a restart, and not flushed ones', async () => {
    let { engine, table } = await open();
    await table.apply(update(1n, 'flushed', [row('r', [cell('v', 'a', 1)])]));
    await table.flush();
    await table.apply(update(1n, 'unflushed', [row('r', [cell('v', 'b', 1)])]));
    ({ engine, table } = await restart(engine, false));
    expect(values(table.readPartition(1n, b('unflushed'))!.rows[0])).toEqual({ v: 'b' });
    expect(values(table.readPartition(1n, b('flushed'))!.rows[0])).toEqual({ v: 'a' });
    expect(table.stats().memtablePartitions).toBe(1);
  });

  it('frees commit-log segments once every table flushed their data (low-water mark)', async () => {
    const { engine, table } = await open({ commitlogSegmentSizeMb: 0.25 });
    const big = 'x'.repeat(20_000);
    for (let i = 0; i < 60; i++) await table.apply(update(BigInt(i), `k${i}`, [row('r', [cell('v', big, 1)])]));
    const before = engine.commitLogStats().segments;
    expect(before).toBeGreaterThan(3);
    await table.flush();
    await waitFor(() => engine.commitLogStats().segments <= 1, 'flushed segments deleted');
    for (let i = 0; i < 60; i++) expect(table.readPartition(BigInt(i), b(`k${i}`))).not.toBeNull();
  });

  it('can be reopened at once after close: segment deletions started by flushes are finished', async () => {
    for (let attempt = 0; attempt < 15; attempt++) {
      let { engine, table } = await open({ commitlogSegmentSizeMb: 1 / 1024 });
      for (let i = 0; i < 40; i++) await table.apply(update(1n, 'k', [row(`r${i}`, [cell('v', 'x'.repeat(100), 1)])]));
      ({ engine, table } = await restart(engine, true, { commitlogSegmentSizeMb: 1 / 1024 }));
      expect(liveRows(table.readPartition(1n, b('k')))).toHaveLength(40);
      await engine.close({ flush: false });
      engines.splice(engines.indexOf(engine), 1);
      fs.rmSync(tmp(), { recursive: true, force: true });
      fs.mkdirSync(tmp());
    }
  });

  it('truncates: nothing comes back, not even through commit-log replay', async () => {
    let { engine, table } = await open();
    await table.apply(update(1n, 'a', [row('r', [cell('v', 'x', 1)])]));
    await table.flush();
    await table.apply(update(1n, 'b', [row('r', [cell('v', 'y', 1)])]));
    await table.truncate();
    expect(table.readPartition(1n, b('a'))).toBeNull();
    expect(table.readPartition(1n, b('b'))).toBeNull();
    await table.apply(update(1n, 'c', [row('r', [cell('v', 'z', 1)])]));
    ({ engine, table } = await restart(engine, false));
    expect(table.readPartition(1n, b('a'))).toBeNull();
    expect(table.readPartition(1n, b('b'))).toBeNull();
    expect(table.readPartition(1n, b('c'))).not.toBeNull();
    expect(fs.readdirSync(table.dir).filter((f) => f.endsWith('.db'))).toEqual([]);
  });

  it('compacts four similar SSTables into one in the background and deletes the inputs', async () => {
    const { engine, table } = await open({}, { compaction: { enabled: true, minThreshold: 4 } });
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 50; i++) await table.apply(update(BigInt(i), `k${i}`, [row('r', [cell(`c${round}`, `${round}`, round)])]));
      await table.flush();
    }
    await waitFor(() => table.stats().compactions === 1, 'background compaction');
    await engine.compactionSettled();
    expect(table.stats().sstableCount).toBe(1);
    expect(fs.readdirSync(table.dir).filter((f) => f.endsWith('.db'))).toHaveLength(1);
    for (let i = 0; i < 50; i++) expect(values(table.readPartition(BigInt(i), b(`k${i}`))!.rows[0])).toEqual({ c0: '0', c1: '1', c2: '2', c3: '3' });
  });

  it('purges tombstones past gc_grace in a major compaction, keeping newer data', async () => {
    const clock = new ManualClock(1_800_000_000_000);
    const { table } = await open({ clock }, { gcGraceSeconds: 60 });
    await table.apply(update(1n, 'gone', [row('r', [cell('v', 'x', 1)])]));
    await table.apply(update(1n, 'kept', [row('r', [cell('v', 'y', 1)])]));
    await table.flush();
    await table.apply(update(1n, 'gone', [], { deletion: { ts: 2, ldt: 1_800_000_000 } }));
    await table.flush();
    await table.compact({ major: true });
    expect(table.readPartition(1n, b('gone'))?.deletion).toEqual({ ts: 2, ldt: 1_800_000_000 }); // within gc_grace: kept
    clock.advanceMs(61_000);
    await table.compact({ major: true });
    expect(table.readPartition(1n, b('gone'))).toBeNull();
    expect(values(table.readPartition(1n, b('kept'))!.rows[0])).toEqual({ v: 'y' });
    expect(table.stats().sstableCount).toBe(1);
  });

  it('keeps serving reads and writes while a flush runs, losing nothing', async () => {
    const { table } = await open();
    for (let i = 0; i < 2000; i++) void table.apply(update(BigInt(i), `k${i}`, [row('r', [cell('v', `${i}`, 1)])]));
    const flushing = table.flush();
    const during: Promise<void>[] = [];
    for (let i = 2000; i < 3000; i++) during.push(table.apply(update(BigInt(i), `k${i}`, [row('r', [cell('v', `${i}`, 1)])])));
    expect(table.readPartition(5n, b('k5'))).not.toBeNull();
    await Promise.all([flushing, ...during]);
    for (let i = 0; i < 3000; i += 7) expect(values(table.readPartition(BigInt(i), b(`k${i}`))!.rows[0])).toEqual({ v: `${i}` });
  });

  it('keeps a memtable whose flush failed readable, and retries the flush by itself', async () => {
    const { table } = await open();
    await table.apply(update(1n, 'a', [row('r', [cell('v', 'x', 1)])]));
    fs.rmSync(table.dir, { recursive: true }); // the worker cannot create the SSTable
    await table.flush();
    expect(table.stats()).toMatchObject({ flushes: 0, flushingMemtables: 1 });
    expect(values(table.readPartition(1n, b('a'))!.rows[0])).toEqual({ v: 'x' });
    fs.mkdirSync(table.dir);
    await waitFor(() => table.stats().flushes === 1, 'the retried flush', 5000);
    expect(table.stats()).toMatchObject({ sstableCount: 1, flushingMemtables: 0 });
    expect(values(table.readPartition(1n, b('a'))!.rows[0])).toEqual({ v: 'x' });
  });

  it('deletes leftovers of an interrupted flush or compaction at start-up', async () => {
    let { engine, table } = await open();
    await table.apply(update(1n, 'a', [row('r', [cell('v', 'x', 1)])]));
    await table.flush();
    const dir = table.dir;
    fs.writeFileSync(path.join(dir, 'sst-00000099.db.tmp'), 'half-written');
    fs.writeFileSync(path.join(dir, 'sst-00000099.db.tmp-journal'), 'its journal');
    fs.copyFileSync(path.join(dir, 'sst-00000001.db'), path.join(dir, 'sst-00000098.db')); // complete but never published
    ({ engine, table } = await restart(engine, false));
    expect(fs.readdirSync(dir).sort()).toEqual(['MANIFEST.json', 'sst-00000001.db']);
    expect(table.readPartition(1n, b('a'))).not.toBeNull();
  });
});

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('memory bounds', () => {
  const tmp3 = useTmpDir('ringtail-engine-threshold-');
  it('flushes at memtable_flush_threshold_mb, not before', async () => {
    const { engine, table } = await openEngine(tmp3(), { memtableFlushThresholdMb: 1 });
    try {
      for (let i = 0; i < 20; i++) await table.apply(update(BigInt(i), `k${i}`, [row('r', [cell('v', 'x'.repeat(100), 1)])]));
      expect(table.stats().flushes).toBe(0);
      const value = 'y'.repeat(10_000);
      for (let i = 0; i < 120; i++) await table.apply(update(BigInt(i), `big${i}`, [row('r', [cell('v', value, 1)])]));
      await waitFor(() => table.stats().flushes === 1, 'one flush once past 1 MiB');
    } finally {
      await engine.close({ flush: false });
    }
  });

  const tmp2 = useTmpDir('ringtail-engine-space-');
  it('flushes the largest memtable when all memtables together pass memtable_total_space_mb', async () => {
    const { engine, table } = await openEngine(tmp2(), { memtableTotalSpaceMb: 0.5 });
    try {
      const other = engine.openTable({ id: '5a1d0e4c-0000-4000-8000-00000000000b', keyspace: 'ks', name: 'small', gcGraceSeconds: 10, compaction: { enabled: false } });
      await other.apply(update(1n, 'k', [row('r', [cell('v', 'tiny', 1)])]));
      const value = 'x'.repeat(4000);
      for (let i = 0; i < 200; i++) await table.apply(update(BigInt(i), `k${i}`, [row('r', [cell('v', value, 1)])]));
      await waitFor(() => table.stats().flushes > 0, 'an early flush of the large table');
      expect(other.stats().flushes).toBe(0);
      expect(table.stats().memtableBytes).toBeLessThan(600 * 1024);
    } finally {
      await engine.close({ flush: false });
    }
  });
});
