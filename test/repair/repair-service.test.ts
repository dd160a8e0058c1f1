/**
 * Repair between three in-process replicas: storage engines on real disks, real messaging on
 * 127.0.0.1 (port 0), real streaming and real validation worker threads. One replica misses
 * rows, one holds stale values, one misses deletions; a repair coordinated by one of them
 * makes the three hold the same data (same merged entries, byte for byte), reports what it
 * compared and streamed, and a second repair finds nothing to do. Needs the worker scripts
 * built (`npm run build`).
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidRequest } from '../../src/errors.js';
import { MessagingService } from '../../src/messaging/messaging-service.js';
import { peerKey } from '../../src/messaging/peer.js';
import { murmur3Token } from '../../src/ring/murmur3.js';
import { TokenMetadata, TOKEN_SPACE } from '../../src/ring/token-metadata.js';
import { systemClock, systemScheduler } from '../../src/runtime/system.js';
import type { Replication } from '../../src/schema/schema.js';
import type { PartitionUpdate } from '../../src/storage/data/types.js';
import { MIN_TOKEN } from '../../src/storage/data/keys.js';
import type { StorageEngine } from '../../src/storage/engine/storage-engine.js';
import type { TableStore } from '../../src/storage/engine/table-store.js';
import { mergedEntries } from '../../src/storage/sstable/merged-entries.js';
import { SstableReader } from '../../src/storage/sstable/sstable-reader.js';
import { StreamService } from '../../src/streaming/stream-service.js';
import { loopbackMessaging } from '../helpers/loopback-messaging.js';
import { silentLogger } from '../../src/util/logger.js';
import { RepairService, type RepairReport, type RepairSchema } from '../../src/repair/repair-service.js';
import { openEngine, TABLE } from '../helpers/engine.js';
import { b, cell, del, row } from '../helpers/rows.js';
import { useTmpDir } from '../helpers/tmpdir.js';

const tmp = useTmpDir('ringtail-repair-');
const TOKENS_PER_NODE = 4;
const NODES = 3;

interface Node {
  readonly name: string;
  readonly engine: StorageEngine;
  readonly table: TableStore;
  readonly messaging: MessagingService;
  readonly repair: RepairService;
  readonly endpoint: string;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Cluster {
  readonly nodes: Node[];
  readonly down: Set<string>;
}

/** Tokens spread evenly, interleaved between nodes: node k owns every NODES-th slot. */
function tokensOf(k: number): bigint[] {
  const slots = BigInt(NODES * TOKENS_PER_NODE);
  return Array.from({ length: TOKENS_PER_NODE }, (_, j) => MIN_TOKEN + ((BigInt(j * NODES + k) + 1n) * TOKEN_SPACE) / (slots + 1n));
}

async function startCluster(replication: Replication, options: { parallelValidations?: boolean } = {}): Promise<Cluster> {
  const down = new Set<string>();
  const started: { name: string; engine: StorageEngine; table: TableStore; messaging: MessagingService; streams: StreamService }[] = [];
  for (let k = 0; k < NODES; k++) {
    const name = `node${k + 1}`;
    const { engine, table } = await openEngine(path.join(tmp(), name), { commitlogSync: 'group' });
    cleanups.push(() => engine.close({ flush: false }));
    const messaging = loopbackMessaging('repair-test', `host-${name}`);
    const streams = new StreamService({ engine, messaging, self: () => peerKey(messaging.address), logger: silentLogger, throughputBytesPerS: 0, scheduler: systemScheduler, pageBytes: 8192 });
    await messaging.start();
    cleanups.push(() => messaging.stop());
    started.push({ name, engine, table, messaging, streams });
  }
  const ring = TokenMetadata.build(started.map((n, k) => ({ endpoint: peerKey(n.messaging.address), datacenter: 'dc1', rack: 'r1', tokens: tokensOf(k) })));
  const schema: RepairSchema = {
    keyspaces: new Map([[TABLE.keyspace, { name: TABLE.keyspace, replication, tables: new Map([[TABLE.name, { name: TABLE.name, id: TABLE.id }]]) }]]),
  };
  const nodes = started.map((n) => {
    const endpoint = peerKey(n.messaging.address);
    const repair = new RepairService({
      messaging: n.messaging,
      storage: n.engine,
      streams: n.streams,
      schema: () => schema,
      ring: () => ring,
      isAlive: (e) => !down.has(e),
      self: endpoint,
      validationThroughputMbPerS: 0,
      maxMessageBytes: 4 * 1024 * 1024,
      clock: systemClock,
      scheduler: systemScheduler,
      logger: silentLogger,
      parallelValidations: options.parallelValidations,
    });
    cleanups.push(() => repair.close());
    return { name: n.name, engine: n.engine, table: n.table, messaging: n.messaging, repair, endpoint };
  });
  return { nodes, down };
}

const NOW_SEC = 1_700_000_000;
const PARTITIONS = 1200;

function partition(i: number, rows: ReturnType<typeof row>[], extra: Partial<PartitionUpdate> = {}): PartitionUpdate {
  const key = b(`key-${i}`);
  return { token: murmur3Token(key), key, rangeTombstones: [], rows, ...extra };
}

function baseRows(i: number): ReturnType<typeof row>[] {
  return Array.from({ length: 1 + (i % 3) }, (_, r) => row(`c${r}`, [cell('v', `value-${i}-${r}`, 1000 + i)], { liveness: { ts: 1000 + i, ttl: 0, expiresAt: 0 } }));
}

/** What every replica received, flushed in two SSTables plus a memtable remainder. */
async function writeCommon(table: TableStore): Promise<void> {
  const third = PARTITIONS / 3;
  for (let start = 0; start < PARTITIONS; start += third) {
    await Promise.all(Array.from({ length: third }, (_, j) => table.apply(partition(start + j, baseRows(start + j)))));
    if (start + third < PARTITIONS) await table.flush();
  }
}

/** Merged entries of the whole table, as comparable strings. */
async function canonical(table: TableStore): Promise<string[]> {
  const retained = await table.retainSstables();
  const readers = retained.paths.map((p) => new SstableReader(p));
  try {
    return [...mergedEntries(readers)].map((e) => [e.kind, e.pkey.toString('hex'), e.kind === 'row' ? e.ck.toString('hex') : '', e.bytes.toString('hex')].join(' '));
  } finally {
    for (const r of readers) r.close();
    retained.release();
  }
}

const rowCount = (entries: string[]): number => entries.filter((e) => e.startsWith('row ')).length;
const SIMPLE_RF3: Replication = { class: 'SimpleStrategy', replicationFactor: 3 };

describe('repair service', () => {
  it('makes three diverged replicas identical, reports the mismatches, and then finds none', async () => {
    const { nodes } = await startCluster(SIMPLE_RF3);
    const [a, bNode, c] = nodes as [Node, Node, Node];
    for (const n of nodes) await writeCommon(n.table);
    // node3 missed 10 partitions of new rows (it was down).
    const missed = Array.from({ length: 10 }, (_, j) => partition(1000 + j, [row('c0', [cell('v', `late-${j}`, 5000)])]));
    for (const u of missed) for (const n of [a, bNode]) await n.table.apply(u);
    // node2 missed overwrites: it holds stale values.
    for (let i = 0; i < PARTITIONS; i += 97) for (const n of [a, c]) await n.table.apply(partition(i, [row('c0', [cell('v', `newer-${i}`, 6000)])]));
    // node1 missed deletions: a row deletion and a whole-partition deletion.
    for (let i = 5; i < PARTITIONS; i += 301) {
      for (const n of [bNode, c]) {
        await n.table.apply(partition(i, [row('c0', [], { deletion: del(7000, NOW_SEC) })]));
        await n.table.apply(partition(i + 1, [], { deletion: del(7000, NOW_SEC) }));
      }
    }
    const before = await Promise.all(nodes.map((n) => canonical(n.table)));
    expect(before[0]).not.toEqual(before[1]);
    expect(before[1]).not.toEqual(before[2]);

    const report = await a.repair.repair({ keyspace: TABLE.keyspace });
    const ringRanges = NODES * TOKENS_PER_NODE;
    expect(report).toMatchObject({
      keyspaces: [TABLE.keyspace],
      tables: 1,
      ranges_compared: ringRanges,
      ranges_skipped: 0,
      replicas_down: [],
      failures: [],
    });
    expect(report.ranges_mismatched).toBeGreaterThan(0);
    expect(report.ranges_mismatched).toBeLessThanOrEqual(ringRanges);
    // At least every missed row reached node3; only part of the table moved (a differing leaf
    // streams its few partitions, in both directions).
    const after = await Promise.all(nodes.map((n) => canonical(n.table)));
    expect(after[1]).toEqual(after[0]);
    expect(after[2]).toEqual(after[0]);
    expect(report.rows_streamed).toBeGreaterThanOrEqual(missed.length);
    expect(report.rows_streamed).toBeLessThan(rowCount(after[0]!) / 2);
    expect(report.bytes_streamed).toBeGreaterThan(0);
    expect(report.tables_detail).toEqual([expect.objectContaining({ keyspace: TABLE.keyspace, table: TABLE.name, ranges_compared: ringRanges })]);
    // The newest facts won everywhere: node3 has the late rows, node2 the new values, node1 the deletions.
    const joined = after[0]!.join('\n');
    expect(joined).toContain(Buffer.from('late-0').toString('hex'));
    expect(joined).toContain(Buffer.from('newer-0').toString('hex'));

    const again = await bNode.repair.repair({});
    expect(again).toMatchObject({ ranges_compared: ringRanges, ranges_mismatched: 0, rows_streamed: 0, transfers: 0, failures: [] });
    expect(await canonical(c.table)).toEqual(after[0]);
  });

  it('compares the live replicas and names a DOWN one; ranges with one live replica are skipped', async () => {
    const { nodes, down } = await startCluster(SIMPLE_RF3);
    const [a, bNode, c] = nodes as [Node, Node, Node];
    for (const n of nodes) await writeCommon(n.table);
    await a.table.apply(partition(5000, [row('c0', [cell('v', 'only-on-a', 9000)])]));
    down.add(c.endpoint);
    const report = await a.repair.repair({ keyspace: TABLE.keyspace, table: TABLE.name });
    expect(report).toMatchObject({ ranges_compared: NODES * TOKENS_PER_NODE, ranges_mismatched: 1, ranges_skipped: 0, replicas_down: [c.endpoint], failures: [] });
    expect(report.rows_streamed).toBeGreaterThanOrEqual(1);
    expect(await canonical(bNode.table)).toEqual(await canonical(a.table));
    expect(await canonical(c.table)).not.toEqual(await canonical(a.table));

    down.add(bNode.endpoint);
    const alone = await a.repair.repair({});
    expect(alone).toMatchObject({ ranges_compared: 0, ranges_skipped: NODES * TOKENS_PER_NODE, replicas_down: [bNode.endpoint, c.endpoint].sort(), rows_streamed: 0 });
  });

  it('runs one repair at a time, refuses unknown names, and skips keyspaces of RF 1', async () => {
    const { nodes } = await startCluster(SIMPLE_RF3);
    const a = nodes[0]!;
    for (const n of nodes) await writeCommon(n.table);
    const first = a.repair.repair({});
    await expect(a.repair.repair({})).rejects.toThrow(InvalidRequest);
    await expect(a.repair.repair({})).rejects.toThrow('a repair is already running');
    expect((await first).failures).toEqual([]);
    await expect(a.repair.repair({ keyspace: 'nope' })).rejects.toThrow("Keyspace 'nope' does not exist");
    await expect(a.repair.repair({ keyspace: TABLE.keyspace, table: 'nope' })).rejects.toThrow('does not exist');
    await expect(a.repair.repair({ keyspace: 'system' })).rejects.toThrow(InvalidRequest);

    const single = await startCluster({ class: 'SimpleStrategy', replicationFactor: 1 });
    const report: RepairReport = await single.nodes[0]!.repair.repair({});
    expect(report).toMatchObject({ keyspaces: [], keyspaces_skipped: [`${TABLE.keyspace}: replication factor 1`], tables: 0, ranges_compared: 0 });
  });

  it('reports a replica whose tree request fails and still syncs the others (replicas validating in parallel)', async () => {
    const { nodes } = await startCluster(SIMPLE_RF3, { parallelValidations: true });
    const [a, bNode, c] = nodes as [Node, Node, Node];
    for (const n of nodes) await writeCommon(n.table);
    await a.table.apply(partition(7000, [row('c0', [cell('v', 'only-on-a', 9000)])]));
    await c.engine.dropTable(TABLE.id);
    const report = await a.repair.repair({});
    expect(report.failures).toHaveLength(1);
    expect(report.failures[0]).toMatch(new RegExp(`estimate from ${c.endpoint}: .*unknown table`));
    expect(report).toMatchObject({ ranges_compared: NODES * TOKENS_PER_NODE, ranges_mismatched: 1 });
    expect(await canonical(bNode.table)).toEqual(await canonical(a.table));
  });
});
