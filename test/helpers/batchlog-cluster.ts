/**
 * In-process nodes for the batch-log tests: each with its own storage engine on a temp dir, the
 * batch log, the replica verbs (MUTATION) and a small replicated write path (every node is a
 * replica of everything: MUTATION to each live node, answered at the level's count of acks),
 * wired through an in-memory messaging double on one manual time source (clock and timers move
 * only in `time.advanceMs`). The write path is the test's own so these tests do not depend on
 * StorageProxy's options; the node wires StorageProxy.write in its place.
 *
 * The network knows which nodes are `down` (the failure detector says so, and requests to
 * them go unanswered) and which are only `silent` (believed alive, never answer): a request
 * nobody answers fails with RequestTimeoutError at its own timeout, as the real one does.
 */
import path from 'node:path';
import { registerBatchlogVerbs } from '../../src/batchlog/batchlog-verbs.js';
import { BatchlogReplayer } from '../../src/batchlog/batchlog-replayer.js';
import { BatchlogStore, type BatchlogLimits } from '../../src/batchlog/batchlog-store.js';
import { newLoggedBatchCounters, type LoggedBatchCounters, type LoggedBatchDeps } from '../../src/batchlog/logged-batch.js';
import { parseEndpoint } from '../../src/cluster/cluster-service.js';
import { encodeMutation, registerReplicaVerbs } from '../../src/coordinator/replica-verbs.js';
import type { Mutation } from '../../src/cql/data-path.js';
import type { ConsistencyLevel } from '../../src/cql/request.js';
import { Unavailable, WriteFailure, WriteTimeout } from '../../src/errors.js';
import { RemoteError, RequestTimeoutError } from '../../src/messaging/errors.js';
import { Verb } from '../../src/messaging/verbs.js';
import type { MessageHandler, MessagingService } from '../../src/messaging/messaging-service.js';
import type { PeerAddress } from '../../src/messaging/peer.js';
import { murmur3Token } from '../../src/ring/murmur3.js';
import { TokenMetadata, type Endpoint } from '../../src/ring/token-metadata.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { DEFAULT_TABLE_PARAMS } from '../../src/schema/schema-options.js';
import type { TableMetadata } from '../../src/schema/schema.js';
import type { Partition, PartitionUpdate } from '../../src/storage/data/types.js';
import { StorageEngine } from '../../src/storage/engine/storage-engine.js';
import type { TableStore } from '../../src/storage/engine/table-store.js';
import { silentLogger } from '../../src/util/logger.js';
import { ManualTime } from './manual-time.js';

export const WRITE_TIMEOUT_MS = 2000;
export const REPLAY_AFTER_MS = 5000;

export type TestMessaging = Pick<MessagingService, 'registerHandler' | 'request'>;

export interface SentMessage {
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly verb: number;
}

export class InMemoryNetwork {
  readonly handlers = new Map<Endpoint, Map<number, MessageHandler>>();
  readonly down = new Set<Endpoint>();
  readonly silent = new Set<Endpoint>();
  readonly sent: SentMessage[] = [];

  constructor(private readonly time: ManualTime) {}

  messagingFor(self: Endpoint): TestMessaging {
    const own = new Map<number, MessageHandler>();
    this.handlers.set(self, own);
    return {
      registerHandler: (verb, handler) => {
        own.set(verb, handler);
      },
      request: (peer, verb, payload, timeoutMs) => this.request(self, peer, verb, payload, timeoutMs),
    };
  }

  private request(from: Endpoint, peer: PeerAddress, verb: number, payload: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const to = `${peer.host}:${peer.port}`;
    this.sent.push({ from, to, verb });
    if (this.down.has(to) || this.silent.has(to) || this.down.has(from)) {
      return new Promise((_resolve, reject) => this.time.after(timeoutMs, () => reject(new RequestTimeoutError(peer, verb, timeoutMs))));
    }
    const handler = this.handlers.get(to)?.get(verb);
    if (handler === undefined) return Promise.reject(new RemoteError(`no handler for verb ${verb}`, peer, verb));
    // A copy, as a socket would deliver: the receiver never shares the sender's buffer.
    const delivered = Uint8Array.from(payload);
    const [host, port] = from.split(':');
    return (async () => {
      try {
        const answer = await handler({ hostId: from, address: { host: host!, port: Number(port) } }, delivered);
        return answer ?? new Uint8Array(0);
      } catch (err) {
        throw new RemoteError(err instanceof Error ? err.message : String(err), peer, verb);
      }
    })();
  }

  sentOf(verb: number): SentMessage[] {
    return this.sent.filter((m) => m.verb === verb);
  }
}

export const TABLE: TableMetadata = {
  keyspace: 'ks',
  name: 't',
  id: '7c0a1b2e-0000-4000-8000-0000000000b1',
  columns: [
    { name: 'k', type: { kind: 'native', name: 'text' }, kind: 'partition_key', position: 0, descending: false },
    { name: 'v', type: { kind: 'native', name: 'text' }, kind: 'regular', position: -1, descending: false },
  ],
  params: { ...DEFAULT_TABLE_PARAMS, speculativeRetry: 'NONE' },
  droppedColumns: {},
} as unknown as TableMetadata;

export function update(key: string, value: string, ts: number): PartitionUpdate {
  const k = Buffer.from(key);
  return {
    token: murmur3Token(k),
    key: k,
    rangeTombstones: [],
    rows: [{ clustering: Buffer.alloc(0), cells: [{ column: 'v', value: Buffer.from(value), ts, ttl: 0, ldt: 0 }] }],
  };
}

export function mutation(key: string, value: string, ts: number): Mutation {
  return { table: TABLE, update: update(key, value, ts) };
}

/** The `v` cell of a partition: its value and write timestamp, or null. */
export function cellOf(partition: Partition | null): { value: string; ts: number } | null {
  const cell = partition?.rows[0]?.cells.find((c) => c.column === 'v');
  if (cell === undefined || cell.value === null) return null;
  return { value: cell.value.toString(), ts: cell.ts };
}

export interface BatchlogTestNode {
  readonly endpoint: Endpoint;
  readonly dir: string;
  readonly messaging: TestMessaging;
  engine: StorageEngine;
  table: TableStore;
  batchlog: BatchlogStore;
  /** This node coordinating a plain replicated write (what StorageProxy.write does in a node). */
  readonly write: (mutations: readonly Mutation[], consistency: ConsistencyLevel) => Promise<void>;
  replayer: BatchlogReplayer;
  readonly counters: LoggedBatchCounters;
  /** `v` of `key` in this node's replica. */
  read(key: string): { value: string; ts: number } | null;
}

export interface BatchlogTestCluster {
  readonly time: ManualTime;
  readonly network: InMemoryNetwork;
  readonly nodes: BatchlogTestNode[];
  /** What `writeLoggedBatch` needs to coordinate on `node`. */
  depsFor(node: BatchlogTestNode, overrides?: Partial<LoggedBatchDeps>): LoggedBatchDeps;
  /** Closes a node's engine and opens it again on its data (commit-log replay included). */
  restart(node: BatchlogTestNode, options?: { flush?: boolean }): Promise<void>;
  close(): Promise<void>;
}

export const endpointOf = (i: number): Endpoint => `127.0.0.${i + 1}:7000`;

async function openStorage(dir: string, time: ManualTime, limits?: BatchlogLimits): Promise<{ engine: StorageEngine; table: TableStore; batchlog: BatchlogStore }> {
  const engine = await StorageEngine.open({
    dataDir: dir,
    commitlogSync: 'batch',
    commitlogSyncPeriodMs: 1000,
    commitlogSyncGroupWindowMs: 1,
    commitlogSegmentSizeMb: 1,
    memtableFlushThresholdMb: 64,
    compactionThroughputMbPerS: 0,
    clock: time,
  });
  // As a node starts: system tables, replay them, then the user tables, replay again.
  const batchlog = BatchlogStore.open(engine, { clock: time, logger: silentLogger, ...(limits !== undefined ? { limits } : {}) });
  await engine.replayCommitLog({ moreTablesToCome: true });
  await batchlog.load();
  const table = engine.openTable({ id: TABLE.id, keyspace: TABLE.keyspace, name: TABLE.name, gcGraceSeconds: 864000, compaction: { enabled: false } });
  await engine.replayCommitLog();
  return { engine, table, batchlog };
}

export async function startBatchlogCluster(baseDir: string, size: number, options: { limits?: BatchlogLimits } = {}): Promise<BatchlogTestCluster> {
  const time = new ManualTime();
  const network = new InMemoryNetwork(time);
  const ring = TokenMetadata.build(
    Array.from({ length: size }, (_, i) => ({ endpoint: endpointOf(i), datacenter: 'dc1', rack: `r${i + 1}`, tokens: [BigInt(i) * 3_000_000_000_000_000_000n - 3_000_000_000_000_000_000n] })),
  );
  const isAlive = (endpoint: Endpoint): boolean => !network.down.has(endpoint);
  const random = new SeededRandom(5);
  const nodes: BatchlogTestNode[] = [];

  const buildReplayer = (node: BatchlogTestNode): BatchlogReplayer =>
    new BatchlogReplayer({
      store: node.batchlog,
      write: (mutations, consistency) => node.write(mutations, consistency),
      tableById: (id) => (id === TABLE.id ? TABLE : undefined),
      clock: time,
      scheduler: time,
      logger: silentLogger,
      replayAfterMs: REPLAY_AFTER_MS,
    });

  const endpoints = Array.from({ length: size }, (_, i) => endpointOf(i));
  const replicatedWrite = async (node: BatchlogTestNode, mutations: readonly Mutation[], consistency: ConsistencyLevel): Promise<void> => {
    const blockFor = consistency === 'ALL' ? size : consistency === 'QUORUM' ? Math.floor(size / 2) + 1 : consistency === 'TWO' ? 2 : 1;
    const live = endpoints.filter((e) => e === node.endpoint || isAlive(e));
    if (live.length < blockFor) throw new Unavailable(consistency, blockFor, live.length);
    const writeType = mutations.length > 1 ? 'UNLOGGED_BATCH' : 'SIMPLE';
    await Promise.all(
      mutations.map(
        (m) =>
          new Promise<void>((resolve, reject) => {
            let received = 0;
            let failures = 0;
            const timer = time.after(WRITE_TIMEOUT_MS, () => reject(new WriteTimeout({ consistency, received, blockFor, writeType })));
            for (const e of live) {
              const sent =
                e === node.endpoint
                  ? node.table.apply(m.update)
                  : node.messaging.request(parseEndpoint(e), Verb.MUTATION, encodeMutation(m.table.id, m.update), WRITE_TIMEOUT_MS);
              sent.then(
                () => {
                  if (++received < blockFor) return;
                  timer.cancel();
                  resolve();
                },
                () => {
                  if (live.length - ++failures >= blockFor) return;
                  timer.cancel();
                  reject(new WriteFailure({ consistency, received, blockFor, failures }));
                },
              );
            }
          }),
      ),
    );
  };

  for (let i = 0; i < size; i++) {
    const endpoint = endpointOf(i);
    const dir = path.join(baseDir, `node${i + 1}`);
    const messaging = network.messagingFor(endpoint);
    const storage = await openStorage(dir, time, options.limits);
    const node: BatchlogTestNode = {
      endpoint,
      dir,
      messaging,
      ...storage,
      write: (mutations, consistency) => replicatedWrite(node, mutations, consistency),
      replayer: null as unknown as BatchlogReplayer,
      counters: newLoggedBatchCounters(),
      read(key) {
        const k = Buffer.from(key);
        return cellOf(this.table.readPartition(murmur3Token(k), k));
      },
    };
    node.replayer = buildReplayer(node);
    // The handlers read the node's current engine, so they survive a restart.
    registerReplicaVerbs(messaging, { table: (id) => node.engine.table(id) }, silentLogger);
    registerBatchlogVerbs(messaging, { store: (batch) => node.batchlog.store(batch), remove: (id) => node.batchlog.remove(id) }, silentLogger);
    nodes.push(node);
  }

  return {
    time,
    network,
    nodes,
    depsFor: (node, overrides = {}) => ({
      messaging: node.messaging,
      localStore: { store: (batch) => node.batchlog.store(batch), remove: (id) => node.batchlog.remove(id) },
      self: node.endpoint,
      datacenter: 'dc1',
      rack: `r${nodes.indexOf(node) + 1}`,
      members: () => ring.endpoints().map((endpoint) => ({ endpoint, ...ring.location(endpoint)! })),
      isAlive: (endpoint) => endpoint === node.endpoint || isAlive(endpoint),
      writeRequestTimeoutMs: WRITE_TIMEOUT_MS,
      write: (mutations, consistency) => node.write(mutations, consistency),
      clock: time,
      scheduler: time,
      random,
      logger: silentLogger,
      counters: node.counters,
      ...overrides,
    }),
    restart: async (node, restartOptions = {}) => {
      await node.replayer.stop();
      await node.engine.close({ flush: restartOptions.flush ?? false });
      Object.assign(node, await openStorage(node.dir, time, options.limits));
      node.replayer = buildReplayer(node);
    },
    close: async () => {
      for (const node of nodes) {
        await node.replayer.stop();
        await node.engine.close({ flush: false });
      }
    },
  };
}

export { ManualTime };
