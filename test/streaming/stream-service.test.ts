/**
 * Streaming between two in-process nodes: two storage engines on real disks (real flush,
 * compaction and stream reader threads) and two real messaging services on 127.0.0.1 (port 0).
 * Node A pushes its rows of some token ranges (one wrapping) to node B; B must then hold
 * exactly A's rows of those ranges, canonically (same merged entries, same bytes), and nothing
 * else. Needs the worker scripts built (`npm run build`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MessagingService } from '../../src/messaging/messaging-service.js';
import { peerKey } from '../../src/messaging/peer.js';
import { murmur3Token } from '../../src/ring/murmur3.js';
import type { TokenRange } from '../../src/ring/token-metadata.js';
import { systemScheduler } from '../../src/runtime/system.js';
import type { PartitionUpdate } from '../../src/storage/data/types.js';
import type { StorageEngine } from '../../src/storage/engine/storage-engine.js';
import type { TableStore } from '../../src/storage/engine/table-store.js';
import { decodeToken } from '../../src/storage/data/keys.js';
import { mergedEntries } from '../../src/storage/sstable/merged-entries.js';
import { SstableReader } from '../../src/storage/sstable/sstable-reader.js';
import { rangeSpans } from '../../src/streaming/stream-ranges.js';
import { readRanges } from '../../src/streaming/stream-reader.js';
import { StreamFailedError, StreamService, type StreamServiceOptions } from '../../src/streaming/stream-service.js';
import { loopbackMessaging } from '../helpers/loopback-messaging.js';
import { silentLogger } from '../../src/util/logger.js';
import { openEngine, TABLE } from '../helpers/engine.js';
import { b, bound, cell, del, rangeTombstone, row } from '../helpers/rows.js';
import { useTmpDir } from '../helpers/tmpdir.js';

const tmp = useTmpDir('ringtail-stream-');

interface Node {
  readonly name: string;
  readonly engine: StorageEngine;
  readonly table: TableStore;
  readonly messaging: MessagingService;
  readonly streams: StreamService;
  readonly endpoint: string;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startNode(name: string, streamOptions: Partial<StreamServiceOptions> = {}, compaction = false): Promise<Node> {
  const { engine, table } = await openEngine(path.join(tmp(), name), { commitlogSync: 'group' }, { compaction: { enabled: compaction } });
  cleanups.push(() => engine.close({ flush: false }));
  const messaging = loopbackMessaging('stream-test', `host-${name}`);
  const streams = new StreamService({
    engine,
    messaging,
    self: () => peerKey(messaging.address),
    logger: silentLogger,
    throughputBytesPerS: 0,
    scheduler: systemScheduler,
    pageBytes: 4096,
    ...streamOptions,
  });
  await messaging.start();
  cleanups.push(() => messaging.stop());
  return { name, engine, table, messaging, streams, endpoint: peerKey(messaging.address) };
}

const NOW_SEC = 1_700_000_000;

/** 120 partitions over the whole ring, written in 3 flushed batches plus a memtable remainder. */
async function writeData(table: TableStore): Promise<void> {
  const writes: PartitionUpdate[][] = [[], [], [], []];
  for (let i = 0; i < 120; i++) {
    const key = b(`key-${i}`);
    const token = murmur3Token(key);
    const rows = Array.from({ length: 1 + (i % 4) }, (_, r) =>
      row(`c${r}`, [cell('v', `value-${i}-${r}-${'x'.repeat(i % 50)}`, 1000 + i), cell('w', `w${r}`, 1000 + i)], { liveness: { ts: 1000 + i, ttl: 0, expiresAt: 0 } }),
    );
    writes[i % 3]!.push({ token, key, rangeTombstones: [], rows });
    // Overwrites, deletions, TTLs and tombstones land in later batches, so the merge matters.
    if (i % 5 === 0) writes[3]!.push({ token, key, rangeTombstones: [], rows: [row('c0', [cell('v', `newer-${i}`, 5000)])] });
    if (i % 7 === 0) writes[3]!.push({ token, key, rangeTombstones: [], rows: [row('c1', [], { deletion: del(6000, NOW_SEC) })] });
    if (i % 11 === 0) writes[3]!.push({ token, key, rangeTombstones: [], rows: [row('c9', [cell('v', 'short-lived', 7000, { ttl: 60, ldt: NOW_SEC + 60 })], { liveness: { ts: 7000, ttl: 60, expiresAt: NOW_SEC + 60 } })] });
    if (i % 13 === 0) writes[3]!.push({ token, key, rows: [], rangeTombstones: [rangeTombstone(bound('c1', true), bound('c3', false), del(8000, NOW_SEC))] });
    if (i === 17) writes[3]!.push({ token, key, rows: [], rangeTombstones: [], deletion: del(9000, NOW_SEC) });
  }
  for (const [n, batch] of writes.entries()) {
    await Promise.all(batch.map((u) => table.apply(u)));
    if (n < 3) await table.flush();
  }
}

/** A table's merged entries within `ranges` (all of it when absent), as comparable strings. */
async function canonical(table: TableStore, ranges?: readonly TokenRange[]): Promise<string[]> {
  const retained = await table.retainSstables();
  const readers = retained.paths.map((p) => new SstableReader(p));
  try {
    const spans = ranges === undefined ? [{ start: undefined, end: undefined }] : rangeSpans(ranges);
    return spans.flatMap((span) =>
      [...mergedEntries(readers, { startToken: span.start, endToken: span.end })].map((e) =>
        [e.kind, e.pkey.toString('hex'), e.kind === 'row' ? e.ck.toString('hex') : '', e.bytes.toString('hex')].join(' '),
      ),
    );
  } finally {
    for (const r of readers) r.close();
    retained.release();
  }
}

const tokenOf = (entry: string): bigint => decodeToken(Buffer.from(entry.split(' ')[1]!, 'hex'));
const rowCount = (entries: string[]): number => entries.filter((e) => e.startsWith('row ')).length;
const partitionCount = (entries: string[]): number => new Set(entries.map((e) => e.split(' ')[1])).size;

const Q = 2n ** 61n;
/** A plain range, a wrapping one over the end of the ring, and one that touches the first. */
const RANGES: TokenRange[] = [
  { start: -3n * Q, end: -Q },
  { start: 3n * Q, end: -3n * Q - Q / 2n },
  { start: -Q, end: 0n },
];

/** Waits (bounded) until `condition()` holds, checking at every event-loop turn. */
async function until(what: string, condition: () => boolean, maxTurns = 20_000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (condition()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('stream service', () => {
  it('pushes exactly the rows of the ranges (one wrapping) from A to B, and a repeated push changes nothing', async () => {
    const a = await startNode('a');
    const bNode = await startNode('b');
    await writeData(a.table);
    const expected = await canonical(a.table, RANGES);
    const outside = (await canonical(a.table)).length - expected.length;
    expect(rowCount(expected)).toBeGreaterThan(40);
    expect(outside).toBeGreaterThan(40);
    expect(expected.some((e) => e.startsWith('header '))).toBe(true);
    // Both sides of the wrapping range hold partitions.
    expect(expected.some((e) => tokenOf(e) > 3n * Q)).toBe(true);
    expect(expected.some((e) => tokenOf(e) <= -3n * Q - Q / 2n)).toBe(true);

    const result = await a.streams.push(TABLE.id, RANGES, bNode.endpoint);
    expect(result.rows).toBe(rowCount(expected));
    expect(result.partitions).toBe(partitionCount(expected));
    expect(result.pages).toBeGreaterThan(1);
    expect(await canonical(bNode.table)).toEqual(expected);
    expect(a.streams.stats()).toMatchObject({ rowsSent: result.rows, bytesSent: result.bytes, sessionsActive: 0, sessionsFailed: 0, sessionsCompleted: 1 });
    expect(bNode.streams.stats()).toMatchObject({ rowsReceived: result.rows, bytesReceived: result.bytes });

    const again = await a.streams.push(TABLE.id, RANGES, bNode.endpoint);
    expect(again).toEqual(result);
    expect(await canonical(bNode.table)).toEqual(expected);
  });

  it('runs a push on another node when asked (STREAM_PUSH_REQUEST), and on itself when the source is itself', async () => {
    const a = await startNode('a');
    const bNode = await startNode('b');
    await writeData(a.table);
    const expected = await canonical(a.table, RANGES.slice(0, 1));
    const viaRequest = await bNode.streams.requestPush(a.endpoint, TABLE.id, RANGES.slice(0, 1), bNode.endpoint, 30_000);
    expect(viaRequest.rows).toBe(rowCount(expected));
    expect(await canonical(bNode.table)).toEqual(expected);

    // Source is self: A pushes to B directly; target is self: B applies its own rows again.
    const direct = await a.streams.requestPush(a.endpoint, TABLE.id, RANGES.slice(0, 1), bNode.endpoint);
    expect(direct).toEqual(viaRequest);
    const toItself = await bNode.streams.push(TABLE.id, RANGES.slice(0, 1), bNode.endpoint);
    expect(toItself.rows).toBe(viaRequest.rows);
    expect(await canonical(bNode.table)).toEqual(expected);
  });

  it('fails with an error naming table, target and ranges after retrying a stopped target', async () => {
    const a = await startNode('a', { pageTimeoutMs: 300, pageAttempts: 3, retryBackoff: { initialMs: 10, maxMs: 20 } });
    const bNode = await startNode('b');
    await writeData(a.table);
    await bNode.messaging.stop();
    const failed = a.streams.push(TABLE.id, RANGES, bNode.endpoint);
    await expect(failed).rejects.toThrow(StreamFailedError);
    await expect(failed).rejects.toThrow(new RegExp(`streaming table ${TABLE.id} ranges \\(${-3n * Q}, ${-Q}\\].* to ${bNode.endpoint} failed: page of \\d+ rows not applied after 3 attempts`));
    expect(a.streams.stats()).toMatchObject({ sessionsFailed: 1, sessionsActive: 0, rowsSent: 0 });
    // The snapshot was released: a compaction may now take every SSTable.
    await a.table.compact({ major: true });
    expect(a.table.stats().sstableCount).toBe(1);
  });

  it('a compaction that replaces the SSTables in the middle of a push does not disturb it', async () => {
    let compaction: Promise<void> | null = null;
    let pagesRead = 0;
    let readPaths: readonly string[] = [];
    // After the first page, let the compaction (begun before the push) finish and publish.
    const slowReader: StreamServiceOptions['readRanges'] = async function* (paths, ranges, options) {
      readPaths = paths;
      for await (const page of readRanges(paths, ranges, options)) {
        yield page;
        if (++pagesRead === 1) await compaction;
      }
    };
    const a = await startNode('a', { readRanges: slowReader }, true);
    const bNode = await startNode('b');
    await writeData(a.table);
    const expected = await canonical(a.table, RANGES);
    const before = fs.readdirSync(a.table.dir).filter((f) => f.endsWith('.db'));
    expect(before.length).toBeGreaterThanOrEqual(3);
    compaction = a.table.compact({ major: true });
    const result = await a.streams.push(TABLE.id, RANGES, bNode.endpoint);
    await compaction;
    expect(pagesRead).toBeGreaterThan(1);
    // The push read the files the compaction replaced while the push was reading them.
    expect(before.every((f) => readPaths.includes(path.join(a.table.dir, f)))).toBe(true);
    expect(result.rows).toBe(rowCount(expected));
    expect(await canonical(bNode.table)).toEqual(expected);
    // Released: the compacted-away files go once the push no longer holds them.
    await until('the replaced SSTables to be deleted', () => before.every((f) => !fs.existsSync(path.join(a.table.dir, f))));
    expect(a.table.stats().sstableCount).toBe(1);
  });

  it('stops reading early and releases the snapshot when a page cannot be applied (unknown table on the target)', async () => {
    const a = await startNode('a', { pageAttempts: 1 });
    const bNode = await startNode('b');
    await writeData(a.table);
    await bNode.engine.dropTable(TABLE.id);
    await expect(a.streams.push(TABLE.id, RANGES, bNode.endpoint)).rejects.toThrow(`unknown table ${TABLE.id}`);
    await expect(bNode.streams.push(TABLE.id, RANGES, a.endpoint)).rejects.toThrow(`unknown table ${TABLE.id}`);
    expect(a.streams.stats().sessionsFailed).toBe(1);
    await a.table.compact({ major: true });
    expect(a.table.stats().sstableCount).toBe(1);
  });
});
