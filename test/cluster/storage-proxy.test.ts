/**
 * The replicated data path in one process: three "nodes", each with its own storage engine on a
 * temp dir, a real MessagingService on 127.0.0.1 (port 0) serving the replica verbs, and a
 * StorageProxy coordinating over a fixed three-token ring with RF 3. Liveness is a test-owned
 * set, so "down" (failure detector) and "silent" (messaging stopped) are separate knobs.
 * Nothing sleeps: tests wait for conditions with deadlines.
 */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  canonicalPartition,
  decodeDataResponse,
  decodeMutation,
  decodeReadCommand,
  encodeDataResponse,
  encodeMutation,
  encodeReadCommand,
  partitionDigest,
  registerReplicaVerbs,
} from '../../src/coordinator/replica-verbs.js';
import { StorageProxy } from '../../src/coordinator/storage-proxy.js';
import { ReadFailure, ReadTimeout, Unavailable, WriteFailure, WriteTimeout } from '../../src/errors.js';
import { Verb } from '../../src/messaging/verbs.js';
import { MessagingService } from '../../src/messaging/messaging-service.js';
import { TokenMetadata, type Endpoint } from '../../src/ring/token-metadata.js';
import { systemClock, systemScheduler } from '../../src/runtime/system.js';
import { DEFAULT_TABLE_PARAMS } from '../../src/schema/schema-options.js';
import type { Replication, TableMetadata, TableParams } from '../../src/schema/schema.js';
import type { Partition, PartitionUpdate, RangeTombstone } from '../../src/storage/data/types.js';
import type { StorageEngine } from '../../src/storage/engine/storage-engine.js';
import type { TableStore } from '../../src/storage/engine/table-store.js';
import { CorruptDataError } from '../../src/util/bytes.js';
import { silentLogger } from '../../src/util/logger.js';
import { openEngine } from '../helpers/engine.js';
import { useTmpDir } from '../helpers/tmpdir.js';

const TABLE_ID = '7c0a1b2e-0000-4000-8000-000000000005';
const REPLICATION: Replication = { class: 'SimpleStrategy', replicationFactor: 3 };
const TOKENS = [-3_000_000_000_000_000_000n, 0n, 3_000_000_000_000_000_000n];

/** Tables by id, as each node's schema would know them (a forwarded write names its table by id). */
const knownTables = new Map<string, TableMetadata>();

function tableMetadata(params: Partial<TableParams> = {}, id = TABLE_ID): TableMetadata {
  const table = {
    keyspace: 'ks',
    name: 't',
    id,
    columns: [
      { name: 'k', type: { kind: 'native', name: 'text' }, kind: 'partition_key', position: 0, descending: false },
      { name: 'v', type: { kind: 'native', name: 'text' }, kind: 'regular', position: -1, descending: false },
    ],
    params: { ...DEFAULT_TABLE_PARAMS, speculativeRetry: 'NONE', ...params },
    droppedColumns: {},
  } as TableMetadata;
  knownTables.set(id, table);
  return table;
}

const TABLE = tableMetadata();

function update(key: string, value: string, ts: number, token = 42n): PartitionUpdate {
  return {
    token,
    key: Buffer.from(key),
    rangeTombstones: [],
    rows: [{ clustering: Buffer.alloc(0), cells: [{ column: 'v', value: Buffer.from(value), ts, ttl: 0, ldt: 0 }] }],
  };
}

function valueOf(partition: Partition | null): string | null {
  const cell = partition?.rows[0]?.cells.find((c) => c.column === 'v');
  return cell?.value?.toString() ?? null;
}

interface TestNode {
  readonly endpoint: Endpoint;
  readonly engine: StorageEngine;
  readonly store: TableStore;
  readonly messaging: MessagingService;
  proxy: StorageProxy;
}

interface Cluster {
  readonly nodes: TestNode[];
  readonly down: Set<Endpoint>;
  /** Rebuilds node i's proxy with other options (proximity, timeouts). */
  rebuild(i: number, options?: ProxyTuning): void;
}

interface ProxyTuning {
  readonly writeRequestTimeoutMs?: number;
  readonly readRequestTimeoutMs?: number;
  readonly proximity?: (endpoint: Endpoint) => number;
}

const tmp = useTmpDir('ringtail-proxy-');
let cluster: Cluster;

async function startCluster(): Promise<Cluster> {
  const started: Omit<TestNode, 'proxy'>[] = [];
  for (let i = 0; i < 3; i++) {
    const { engine, table: store } = await openEngine(path.join(tmp(), `node${i}`), { commitlogSync: 'periodic' }, { id: TABLE_ID, keyspace: 'ks', name: 't' });
    const messaging = new MessagingService({
      clusterName: 'proxy-test',
      hostId: `00000000-0000-4000-8000-00000000000${i}`,
      listenHost: '127.0.0.1',
      port: 0,
      secret: '',
      maxMessageBytes: 1024 * 1024,
      queueMaxMessages: 10_000,
      maxInflightRequests: 1024,
      scheduler: systemScheduler,
      logger: silentLogger,
      reconnectBackoff: { initialMs: 20, maxMs: 200 },
    });
    registerReplicaVerbs(messaging, engine, silentLogger);
    const address = await messaging.start();
    started.push({ endpoint: `127.0.0.1:${address.port}`, engine, store, messaging });
  }
  const ring = TokenMetadata.build(started.map((n, i) => ({ endpoint: n.endpoint, datacenter: 'dc1', rack: 'r1', tokens: [TOKENS[i]!] })));
  const down = new Set<Endpoint>();
  const nodes = started.map((n) => ({ ...n }) as TestNode);
  const rebuild = (i: number, tuning: ProxyTuning = {}): void => {
    const n = nodes[i]!;
    n.proxy = new StorageProxy({
      messaging: n.messaging,
      engine: n.engine,
      ring: () => ring,
      replicationOf: (keyspace) => (keyspace === 'ks' ? REPLICATION : undefined),
      isAlive: (endpoint) => !down.has(endpoint),
      self: n.endpoint,
      hostId: `00000000-0000-4000-8000-00000000000${i}`,
      tableById: (id) => knownTables.get(id),
      datacenter: 'dc1',
      writeRequestTimeoutMs: tuning.writeRequestTimeoutMs ?? 2000,
      readRequestTimeoutMs: tuning.readRequestTimeoutMs ?? 2000,
      clock: systemClock,
      scheduler: systemScheduler,
      logger: silentLogger,
      ...(tuning.proximity !== undefined ? { proximity: tuning.proximity } : {}),
    });
  };
  for (let i = 0; i < nodes.length; i++) {
    rebuild(i);
    nodes[i]!.messaging.registerHandler(Verb.VERSIONED_WRITE, (_from, payload) => nodes[i]!.proxy.serveVersionedWrite(payload));
  }
  return { nodes, down, rebuild };
}

/** Proximity that prefers the given endpoints in order (unlisted ones last). */
function preferring(...endpoints: Endpoint[]): (endpoint: Endpoint) => number {
  return (endpoint) => {
    const i = endpoints.indexOf(endpoint);
    return i < 0 ? endpoints.length : i;
  };
}

async function waitFor(condition: () => boolean, deadlineMs = 5000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met before the deadline');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

const localValue = (n: TestNode, key = 'k1', token = 42n): string | null => valueOf(n.store.readPartition(token, Buffer.from(key)));

describe('StorageProxy over three in-process nodes (RF 3)', () => {
  beforeEach(async () => {
    cluster = await startCluster();
  });

  afterEach(async () => {
    await Promise.all(cluster.nodes.map((n) => n.messaging.stop()));
    await Promise.all(cluster.nodes.map((n) => n.engine.close()));
  });

  it('a QUORUM write reaches all three replicas and a QUORUM read on another node returns it', async () => {
    const [a, b] = cluster.nodes;
    await a!.proxy.write([{ table: TABLE, update: update('k1', 'hello', 1000) }], 'QUORUM');
    await waitFor(() => cluster.nodes.every((n) => localValue(n) === 'hello'));
    const read = await b!.proxy.readPartition(TABLE, 42n, Buffer.from('k1'), {}, 'QUORUM');
    expect(valueOf(read)).toBe('hello');
    expect(b!.proxy.stats().digestMismatches).toBe(0);
    expect(await b!.proxy.readPartition(TABLE, 42n, Buffer.from('absent'), {}, 'ALL')).toBeNull();
  });

  it('with one node down, QUORUM writes and reads succeed and ALL is Unavailable before anything is sent', async () => {
    const [a, b, c] = cluster.nodes;
    await c!.messaging.stop();
    cluster.down.add(c!.endpoint);
    await a!.proxy.write([{ table: TABLE, update: update('k1', 'v1', 1000) }], 'QUORUM');
    expect(valueOf(await b!.proxy.readPartition(TABLE, 42n, Buffer.from('k1'), {}, 'QUORUM'))).toBe('v1');

    const write = await caught(a!.proxy.write([{ table: TABLE, update: update('k2', 'v2', 1000, 43n) }], 'ALL'));
    expect(write).toBeInstanceOf(Unavailable);
    expect((write as Unavailable).fields()).toEqual({ consistency: 'ALL', required: 3, alive: 2 });
    // Nothing was sent: not even the coordinator's own replica holds the write.
    expect(localValue(a!, 'k2', 43n)).toBeNull();
    const read = await caught(b!.proxy.readPartition(TABLE, 42n, Buffer.from('k1'), {}, 'ALL'));
    expect(read).toBeInstanceOf(Unavailable);
    expect((read as Unavailable).fields()).toEqual({ consistency: 'ALL', required: 3, alive: 2 });
  });

  it('a replica that is believed up but never answers makes ALL time out with the SPEC fields', async () => {
    const [a, , c] = cluster.nodes;
    await c!.messaging.stop();
    cluster.rebuild(0, { writeRequestTimeoutMs: 300, readRequestTimeoutMs: 300 });
    const write = await caught(a!.proxy.write([{ table: TABLE, update: update('k1', 'v1', 1000) }], 'ALL'));
    expect(write).toBeInstanceOf(WriteTimeout);
    expect((write as WriteTimeout).fields()).toEqual({ consistency: 'ALL', received: 2, block_for: 3, write_type: 'SIMPLE' });
    // The live replicas did apply it (a timeout is not a rollback).
    expect(localValue(a!)).toBe('v1');

    const batch = await caught(
      a!.proxy.write(
        [
          { table: TABLE, update: update('k3', 'x', 1000, 44n) },
          { table: TABLE, update: update('k4', 'y', 1000, 45n) },
        ],
        'ALL',
      ),
    );
    expect((batch as WriteTimeout).fields()).toMatchObject({ write_type: 'UNLOGGED_BATCH', block_for: 3 });

    const read = await caught(a!.proxy.readPartition(TABLE, 42n, Buffer.from('k1'), {}, 'ALL'));
    expect(read).toBeInstanceOf(ReadTimeout);
    expect((read as ReadTimeout).fields()).toEqual({ consistency: 'ALL', received: 2, block_for: 3, data_present: true });
  });

  it('a QUORUM read whose digest replica is silent succeeds by speculating to the third replica', async () => {
    const [a, , c] = cluster.nodes;
    await a!.proxy.write([{ table: TABLE, update: update('k1', 'v1', 1000) }], 'ALL');
    await c!.messaging.stop();
    // The silent node is the preferred digest replica; the table speculates after 50 ms.
    cluster.rebuild(0, { readRequestTimeoutMs: 2000, proximity: preferring(a!.endpoint, c!.endpoint) });
    const speculating = tableMetadata({ speculativeRetry: '50ms' });
    const read = await a!.proxy.readPartition(speculating, 42n, Buffer.from('k1'), {}, 'QUORUM');
    expect(valueOf(read)).toBe('v1');
    expect(a!.proxy.stats().speculativeReads).toBe(1);
  });

  it('a stale remote replica is found by a digest mismatch and repaired before the read answers', async () => {
    const [a, b, c] = cluster.nodes;
    await Promise.all(cluster.nodes.map((n) => n.store.apply(update('k1', 'old', 1000))));
    // The newer write reaches A and B only, bypassing C.
    await a!.store.apply(update('k1', 'new', 2000));
    await b!.store.apply(update('k1', 'new', 2000));
    cluster.rebuild(0, { proximity: preferring(a!.endpoint, c!.endpoint) });
    const read = await a!.proxy.readPartition(TABLE, 42n, Buffer.from('k1'), {}, 'QUORUM');
    expect(valueOf(read)).toBe('new');
    expect(a!.proxy.stats()).toMatchObject({ digestMismatches: 1, readRepairs: 1 });
    // Blocking read repair: C holds the newest value as soon as the read has answered.
    expect(localValue(c!)).toBe('new');
    const again = await a!.proxy.readPartition(TABLE, 42n, Buffer.from('k1'), {}, 'QUORUM');
    expect(valueOf(again)).toBe('new');
    expect(a!.proxy.stats().digestMismatches).toBe(1);
  });

  it('a stale coordinator-local replica returns the newest data and is repaired locally', async () => {
    const [a, b, c] = cluster.nodes;
    await a!.store.apply(update('k1', 'new', 2000));
    await b!.store.apply(update('k1', 'new', 2000));
    // C (the coordinator) misses the row entirely; it reads its own data and digests from A.
    cluster.rebuild(2, { proximity: preferring(c!.endpoint, a!.endpoint) });
    const read = await c!.proxy.readPartition(TABLE, 42n, Buffer.from('k1'), {}, 'QUORUM');
    expect(valueOf(read)).toBe('new');
    expect(localValue(c!)).toBe('new');
    expect(c!.proxy.stats().readRepairs).toBe(1);
  });

  it("with read_repair = 'NONE' the merge is returned but the stale replica is left alone", async () => {
    const [a, b, c] = cluster.nodes;
    await a!.store.apply(update('k1', 'new', 2000));
    await b!.store.apply(update('k1', 'new', 2000));
    cluster.rebuild(2, { proximity: preferring(c!.endpoint, a!.endpoint) });
    const read = await c!.proxy.readPartition(tableMetadata({ readRepair: 'NONE' }), 42n, Buffer.from('k1'), {}, 'QUORUM');
    expect(valueOf(read)).toBe('new');
    expect(localValue(c!)).toBeNull();
  });

  it('ONE reads ask only the closest replica: its own data, stale or not, or a remote one', async () => {
    const [a, b, c] = cluster.nodes;
    await a!.store.apply(update('k1', 'v1', 1000));
    await b!.store.apply(update('k1', 'v1', 1000));
    expect(await c!.proxy.readPartition(TABLE, 42n, Buffer.from('k1'), {}, 'ONE')).toBeNull();
    expect(c!.proxy.stats().digestMismatches).toBe(0);
    cluster.rebuild(2, { proximity: preferring(b!.endpoint) });
    expect(valueOf(await c!.proxy.readPartition(TABLE, 42n, Buffer.from('k1'), {}, 'ONE'))).toBe('v1');
    // LOCAL_ONE is the same here (one datacenter).
    expect(valueOf(await c!.proxy.readPartition(TABLE, 42n, Buffer.from('k1'), {}, 'LOCAL_ONE'))).toBe('v1');
  });

  it('a merge across replicas honours the slice: reversed order and limit', async () => {
    const [a, b, c] = cluster.nodes;
    const row = (ck: number, value: string, ts: number) => ({
      clustering: Buffer.from([ck]),
      cells: [{ column: 'v', value: Buffer.from(value), ts, ttl: 0, ldt: 0 }],
    });
    const partition = (rows: ReturnType<typeof row>[]): PartitionUpdate => ({ token: 7n, key: Buffer.from('p'), rangeTombstones: [], rows });
    await a!.store.apply(partition([row(1, 'a1', 10), row(3, 'a3', 10)]));
    await c!.store.apply(partition([row(2, 'c2', 10), row(3, 'c3', 20)]));
    cluster.rebuild(0, { proximity: preferring(a!.endpoint, c!.endpoint) });
    const read = await a!.proxy.readPartition(TABLE, 7n, Buffer.from('p'), { reversed: true, limit: 2 }, 'QUORUM');
    expect(read!.rows.map((r) => r.cells[0]!.value!.toString())).toEqual(['c3', 'c2']);
    void b;
  });

  it('system keyspaces are node-local: any level is met by the local engine alone', async () => {
    const [a, b, c] = cluster.nodes;
    cluster.down.add(b!.endpoint);
    cluster.down.add(c!.endpoint);
    const local = { ...TABLE, keyspace: 'system_schema' } as TableMetadata;
    await a!.proxy.write([{ table: local, update: update('k1', 'mine', 1000) }], 'ALL');
    expect(valueOf(await a!.proxy.readPartition(local, 42n, Buffer.from('k1'), {}, 'ALL'))).toBe('mine');
    expect(localValue(b!)).toBeNull();
  });

  it('a table unknown to the replicas comes back as WriteFailure / ReadFailure', async () => {
    const [a] = cluster.nodes;
    const missing = tableMetadata({}, '7c0a1b2e-0000-4000-8000-0000000000ff');
    const write = await caught(a!.proxy.write([{ table: missing, update: update('k1', 'v', 1000) }], 'QUORUM'));
    expect(write).toBeInstanceOf(WriteFailure);
    expect((write as WriteFailure).fields()).toMatchObject({ consistency: 'QUORUM', received: 0, block_for: 2 });
    // The coordinator is the replica that versions the write: it cannot, so nothing is sent.
    expect((write as WriteFailure).fields().failures).toBe(1);
    const read = await caught(a!.proxy.readPartition(missing, 42n, Buffer.from('k1'), {}, 'ONE'));
    expect(read).toBeInstanceOf(ReadFailure);
    expect((read as ReadFailure).fields()).toEqual({ consistency: 'ONE', received: 0, block_for: 1, failures: 1 });
    // A remote replica's error counts the same way as a local one.
    cluster.rebuild(0, { proximity: preferring(cluster.nodes[1]!.endpoint) });
    const remote = await caught(cluster.nodes[0]!.proxy.readPartition(missing, 42n, Buffer.from('k1'), {}, 'ONE'));
    expect(remote).toBeInstanceOf(ReadFailure);
  });
});

describe('replica message formats', () => {
  const rt = (start: number, end: number, ts: number): RangeTombstone => ({
    start: { prefix: Buffer.from([start]), inclusive: true },
    end: { prefix: Buffer.from([end]), inclusive: false },
    deletion: { ts, ldt: 5 },
  });

  it('round-trips read commands, mutations and data responses', () => {
    const command = {
      tableId: TABLE_ID,
      token: -9_000_000_000_000_000_000n,
      key: Buffer.from('key'),
      slice: { start: { prefix: Buffer.from([1, 2]), inclusive: true }, end: { prefix: Buffer.from([9]), inclusive: false }, reversed: true, limit: 10 },
    };
    expect(decodeReadCommand(encodeReadCommand(command))).toEqual(command);
    const plain = { tableId: TABLE_ID, token: 5n, key: Buffer.from('k'), slice: {} };
    expect(decodeReadCommand(encodeReadCommand(plain))).toEqual({ ...plain, slice: { start: null, end: null, reversed: false } });
    const u = update('k1', 'v', 1234);
    const m = decodeMutation(encodeMutation(TABLE_ID, u));
    expect(m.tableId).toBe(TABLE_ID);
    expect(valueOf(m.update)).toBe('v');
    expect(decodeDataResponse(encodeDataResponse(null))).toBeNull();
    expect(valueOf(decodeDataResponse(encodeDataResponse(u)))).toBe('v');
  });

  it('digests are equal for equal data whatever the order of range tombstones, and differ otherwise', () => {
    const base: Partition = { token: 1n, key: Buffer.from('p'), rangeTombstones: [rt(1, 2, 10), rt(3, 4, 11)], rows: [] };
    const swapped: Partition = { ...base, rangeTombstones: [rt(3, 4, 11), rt(1, 2, 10)] };
    expect(partitionDigest(base).equals(partitionDigest(swapped))).toBe(true);
    expect(canonicalPartition(swapped).rangeTombstones).toEqual(base.rangeTombstones);
    expect(partitionDigest(base).equals(partitionDigest({ ...base, rangeTombstones: [rt(1, 2, 10)] }))).toBe(false);
    expect(partitionDigest(null)).toHaveLength(16);
  });

  it('refuses garbage with CorruptDataError', () => {
    const good = encodeReadCommand({ tableId: TABLE_ID, token: 1n, key: Buffer.from('k'), slice: { limit: 3 } });
    expect(() => decodeReadCommand(Buffer.from([2, ...good.subarray(1)]))).toThrow(CorruptDataError);
    expect(() => decodeReadCommand(good.subarray(0, good.length - 1))).toThrow(CorruptDataError);
    expect(() => decodeReadCommand(Buffer.concat([good, Buffer.from([0])]))).toThrow(CorruptDataError);
    expect(() => decodeMutation(Buffer.from([1, 0xff, 0xff, 0xff, 0xff, 0x0f]))).toThrow(CorruptDataError);
    expect(() => decodeDataResponse(Buffer.from([1, 1, 2, 3]))).toThrow(CorruptDataError);
  });
});
