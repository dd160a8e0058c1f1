/**
 * The coordinator's write path while a node joins (#7 §2): four in-process nodes, each with its
 * own storage engine, a real MessagingService on 127.0.0.1 (port 0) serving the replica verbs,
 * and a StorageProxy. Three of them form the ring (RF 2); the fourth is JOINING, so
 * `pendingEndpoints` (PendingRanges over the real rings) names it for the ranges it will own.
 *
 * Shown: a write of such a range reaches the joining node and waits for blockFor + 1 acks;
 * `Unavailable` counts live natural + pending replicas against that; reads never touch the
 * joining node; a write coordinated by the joining node is versioned by a natural replica and
 * every replica, the joining one included, holds the same versioned row; replayed batch-log
 * writes reach it too. Liveness is a test-owned set; nothing sleeps.
 */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PendingRanges } from '../../src/cluster/membership/pending-ranges.js';
import { canonicalPartition, registerReplicaVerbs } from '../../src/coordinator/replica-verbs.js';
import { StorageProxy } from '../../src/coordinator/storage-proxy.js';
import { Unavailable, WriteTimeout } from '../../src/errors.js';
import { MessagingService } from '../../src/messaging/messaging-service.js';
import { Verb } from '../../src/messaging/verbs.js';
import { replicasFor } from '../../src/ring/replication-strategy.js';
import { TokenMetadata, type Endpoint, type RingNode } from '../../src/ring/token-metadata.js';
import { systemClock, systemScheduler } from '../../src/runtime/system.js';
import { DEFAULT_TABLE_PARAMS } from '../../src/schema/schema-options.js';
import type { Replication, TableMetadata } from '../../src/schema/schema.js';
import type { Partition, PartitionUpdate } from '../../src/storage/data/types.js';
import type { StorageEngine } from '../../src/storage/engine/storage-engine.js';
import type { TableStore } from '../../src/storage/engine/table-store.js';
import { silentLogger } from '../../src/util/logger.js';
import { openEngine } from '../helpers/engine.js';
import { useTmpDir } from '../helpers/tmpdir.js';

const TABLE_ID = '7c0a1b2e-0000-4000-8000-0000000000a7';
const REPLICATION: Replication = { class: 'SimpleStrategy', replicationFactor: 2 };
/** a, b, c on the ring; d joins between b and c. */
const TOKENS = [-3_000_000_000_000_000_000n, 0n, 3_000_000_000_000_000_000n, 1_000_000_000_000_000_000n];
/** In (0, 1e18]: replicas c, a now; d, c once d has joined. */
const TOKEN = 42n;
/** In (1e18, 3e18]: replicas c, a now and after. */
const UNMOVED_TOKEN = 2_000_000_000_000_000_000n;

const TABLE = {
  keyspace: 'ks',
  name: 't',
  id: TABLE_ID,
  columns: [
    { name: 'k', type: { kind: 'native', name: 'text' }, kind: 'partition_key', position: 0, descending: false },
    { name: 'v', type: { kind: 'native', name: 'text' }, kind: 'regular', position: -1, descending: false },
  ],
  params: { ...DEFAULT_TABLE_PARAMS, speculativeRetry: 'NONE' },
  droppedColumns: {},
} as TableMetadata;

function update(key: string, value: string, ts: number, token = TOKEN): PartitionUpdate {
  return {
    token,
    key: Buffer.from(key),
    rangeTombstones: [],
    rows: [{ clustering: Buffer.alloc(0), cells: [{ column: 'v', value: Buffer.from(value), ts, ttl: 0, ldt: 0 }] }],
  };
}

function valueOf(partition: Partition | null): string | null {
  return partition?.rows[0]?.cells.find((c) => c.column === 'v')?.value?.toString() ?? null;
}

interface TestNode {
  readonly name: string;
  readonly endpoint: Endpoint;
  readonly engine: StorageEngine;
  readonly store: TableStore;
  readonly messaging: MessagingService;
  proxy: StorageProxy;
}

interface Cluster {
  readonly nodes: Record<'a' | 'b' | 'c' | 'd', TestNode>;
  readonly down: Set<Endpoint>;
  readonly ring: TokenMetadata;
  /** What every coordinator believes is moving (the join by default). */
  pending: PendingRanges;
  /** Endpoints a coordinator stored a hint for (every coordinator hints, into this list). */
  readonly hinted: Endpoint[];
  rebuild(name: keyof Cluster['nodes'], writeRequestTimeoutMs: number): void;
}

const tmp = useTmpDir('ringtail-pending-');
let cluster: Cluster;

async function startCluster(): Promise<Cluster> {
  const names = ['a', 'b', 'c', 'd'] as const;
  const started: Omit<TestNode, 'proxy'>[] = [];
  for (const [i, name] of names.entries()) {
    const { engine, table: store } = await openEngine(path.join(tmp(), name), { commitlogSync: 'periodic' }, { id: TABLE_ID, keyspace: 'ks', name: 't' });
    const messaging = new MessagingService({
      clusterName: 'pending-test',
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
    started.push({ name, endpoint: `127.0.0.1:${address.port}`, engine, store, messaging });
  }
  const ringNodes: RingNode[] = started.map((n, i) => ({ endpoint: n.endpoint, datacenter: 'dc1', rack: 'r1', tokens: [TOKENS[i]!] }));
  const ring = TokenMetadata.build(ringNodes.slice(0, 3));
  const down = new Set<Endpoint>();
  const nodes = Object.fromEntries(started.map((n) => [n.name, { ...n } as TestNode])) as Cluster['nodes'];
  const c: Cluster = {
    nodes,
    down,
    ring,
    pending: PendingRanges.compute({ current: ring, joining: [ringNodes[3]!], leaving: [] }),
    hinted: [],
    rebuild(name, writeRequestTimeoutMs) {
      const n = nodes[name];
      n.proxy = new StorageProxy({
        messaging: n.messaging,
        engine: n.engine,
        ring: () => ring,
        pendingEndpoints: (token, replication) => c.pending.pendingEndpoints(token, replication),
        datacenterOf: (endpoint) => c.pending.location(endpoint)?.datacenter,
        replicationOf: (keyspace) => (keyspace === 'ks' ? REPLICATION : undefined),
        isAlive: (endpoint) => !down.has(endpoint),
        self: n.endpoint,
        hostId: `host-${name}`,
        tableById: (id) => (id === TABLE_ID ? TABLE : undefined),
        datacenter: 'dc1',
        hints: {
          service: {
            shouldHint: () => true,
            store: async (target) => {
              c.hinted.push(target.endpoint);
              return true;
            },
          },
          peers: { hostIdOf: (endpoint) => `host-of-${endpoint}`, downSinceMs: (endpoint) => (down.has(endpoint) ? 0 : null) },
        },
        writeRequestTimeoutMs,
        readRequestTimeoutMs: 2000,
        clock: systemClock,
        scheduler: systemScheduler,
        logger: silentLogger,
      });
    },
  };
  for (const name of names) {
    c.rebuild(name, 2000);
    nodes[name].messaging.registerHandler(Verb.VERSIONED_WRITE, (_from, payload) => nodes[name].proxy.serveVersionedWrite(payload));
  }
  return c;
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

const local = (n: TestNode, key = 'k1', token = TOKEN): Partition | null => n.store.readPartition(token, Buffer.from(key));

describe('writes while a node joins (RF 2, one joining node)', () => {
  beforeEach(async () => {
    cluster = await startCluster();
  });

  afterEach(async () => {
    await Promise.all(Object.values(cluster.nodes).map((n) => n.messaging.stop()));
    await Promise.all(Object.values(cluster.nodes).map((n) => n.engine.close()));
  });

  it('the rings behind the test: the token moves to d, the other one does not', () => {
    const { a, c, d } = cluster.nodes;
    expect(replicasFor(TOKEN, REPLICATION, cluster.ring)).toEqual([c.endpoint, a.endpoint]);
    expect(cluster.pending.pendingEndpoints(TOKEN, REPLICATION)).toEqual([d.endpoint]);
    expect(cluster.pending.pendingEndpoints(UNMOVED_TOKEN, REPLICATION)).toEqual([]);
  });

  it('a QUORUM write reaches the joining node and waits for blockFor + 1 acks', async () => {
    const { a, b, c, d } = cluster.nodes;
    await b.proxy.write([{ table: TABLE, update: update('k1', 'hello', 1000) }], 'QUORUM');
    // blockFor 2 + 1 pending = every target: each has it as soon as the write returns.
    for (const n of [a, c, d]) expect(valueOf(local(n))).toBe('hello');
    expect(local(b)).toBeNull();
    // A token whose replicas do not change is not sent to the joining node.
    await b.proxy.write([{ table: TABLE, update: update('k2', 'x', 1000, UNMOVED_TOKEN) }], 'ALL');
    expect(valueOf(local(a, 'k2', UNMOVED_TOKEN))).toBe('x');
    expect(local(d, 'k2', UNMOVED_TOKEN)).toBeNull();
  });

  it('a joining node that is believed up but silent makes QUORUM time out with block_for 3', async () => {
    const { a, d } = cluster.nodes;
    await d.messaging.stop();
    // Coordinated by a natural replica, so its own timeout is the one that decides.
    cluster.rebuild('a', 300);
    const error = await caught(a.proxy.write([{ table: TABLE, update: update('k1', 'v', 1000) }], 'QUORUM'));
    expect(error).toBeInstanceOf(WriteTimeout);
    expect((error as WriteTimeout).fields()).toEqual({ consistency: 'QUORUM', received: 2, block_for: 3, write_type: 'SIMPLE' });
    // Without the join, the same write needs only the two natural replicas.
    cluster.pending = PendingRanges.NONE;
    await a.proxy.write([{ table: TABLE, update: update('k1', 'v2', 2000) }], 'QUORUM');
  });

  it('Unavailable counts live natural + pending replicas against blockFor + pending', async () => {
    const { a, b, c, d } = cluster.nodes;
    cluster.down.add(d.endpoint);
    const quorum = await caught(b.proxy.write([{ table: TABLE, update: update('k1', 'v', 1000) }], 'QUORUM'));
    expect(quorum).toBeInstanceOf(Unavailable);
    expect((quorum as Unavailable).fields()).toEqual({ consistency: 'QUORUM', required: 3, alive: 2 });
    expect(local(a)).toBeNull();
    expect(cluster.hinted).toEqual([]);
    // ONE needs 1 + 1: the two natural replicas do; the down joining node gets a hint, like a down natural replica.
    await b.proxy.write([{ table: TABLE, update: update('k1', 'one', 1000) }], 'ONE');
    expect(local(d)).toBeNull();
    await waitFor(() => cluster.hinted.length > 0);
    expect(cluster.hinted).toEqual([d.endpoint]);

    cluster.down.clear();
    cluster.down.add(c.endpoint);
    const second = await caught(b.proxy.write([{ table: TABLE, update: update('k3', 'v', 1000) }], 'QUORUM'));
    expect((second as Unavailable).fields()).toEqual({ consistency: 'QUORUM', required: 3, alive: 2 });
    // ONE with a natural replica down: a and the joining node make the 2 it needs.
    await b.proxy.write([{ table: TABLE, update: update('k3', 'w', 1000) }], 'ONE');
    expect(valueOf(local(a, 'k3'))).toBe('w');
    expect(valueOf(local(d, 'k3'))).toBe('w');
  });

  it('reads use the natural replicas only: ALL succeeds with the joining node silent', async () => {
    const { a, b, d } = cluster.nodes;
    await b.proxy.write([{ table: TABLE, update: update('k1', 'r', 1000) }], 'ALL');
    await d.messaging.stop();
    expect(valueOf(await b.proxy.readPartition(TABLE, TOKEN, Buffer.from('k1'), {}, 'ALL'))).toBe('r');
    expect(valueOf(await a.proxy.readPartition(TABLE, TOKEN, Buffer.from('k1'), {}, 'QUORUM'))).toBe('r');
  });

  it('the joining node as coordinator: a natural replica versions the write, and every replica holds the same row', async () => {
    const { a, c, d } = cluster.nodes;
    await d.proxy.write([{ table: TABLE, update: update('k1', 'from-d', 1000) }], 'QUORUM');
    const rows = [a, c, d].map((n) => canonicalPartition(local(n)!));
    expect(rows[0]!.rows[0]!.version).toBeDefined();
    expect(rows[1]).toEqual(rows[0]);
    expect(rows[2]).toEqual(rows[0]);
  });

  it('a replayed batch-log write goes to the joining node too', async () => {
    const { a, c, d } = cluster.nodes;
    await a.proxy.writeReplayed([{ table: TABLE, update: update('k9', 'replayed', 1000) }], 'QUORUM');
    for (const n of [a, c, d]) expect(valueOf(local(n, 'k9'))).toBe('replayed');
  });
});
