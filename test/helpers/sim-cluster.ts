/**
 * An in-process cluster over a `SimNetwork` (sim-network.ts): N nodes, each with its own
 * storage engine and schema in a test directory, the replica verbs, a `StorageProxy` and a
 * `QueryProcessor`, so tests speak CQL to any coordinator (`cluster.node(i).execute(…)`) while
 * the network drops, delays and partitions the replicas' messages.
 *
 * Cassandra concepts exercised: the coordinator's Majority Quorum and blocking read repair
 * (src/coordinator), over a ring with SimpleStrategy placement. Patterns: Joshi's in-process
 * `Cluster` test kit (tickloom); STYLE.md §4.
 *
 * What is real and what is not:
 * - Real: storage engines (commit log in `periodic` mode, memtables, SSTables), schema
 *   managers, replica verbs, StorageProxy, QueryProcessor, Hybrid Clocks, the event loop's
 *   timers (the coordinators' timeouts).
 * - Simulated: the network (sim-network.ts); the ring (fixed, one evenly spaced token per
 *   node, all in `dc1`/`r1`); the failure detector (each node's `isAlive` is a per-node set of
 *   suspects the test controls with `markDown` / `markUp`, so "the network lost it" and "the
 *   coordinator believes it is down" are separate knobs); schema agreement (a DDL runs on node
 *   0, then every other node imports node 0's schema rows, as a schema pull would do).
 *
 * Invariant: ALL assembly of one node happens in `assembleNode` below; when StorageProxy or
 * the replica verbs take new options, that function is the only one to change.
 *
 * Bounds: `nodes` in [1, MAX_SIM_NODES]; timeouts are the caller's (keep them small: 200–300 ms).
 */
import path from 'node:path';
import { loadConfig } from '../../src/config/load-config.js';
import { registerReplicaVerbs, canonicalPartition } from '../../src/coordinator/replica-verbs.js';
import { StorageProxy } from '../../src/coordinator/storage-proxy.js';
import { LocalDataPath } from '../../src/cql/data-path.js';
import { QueryProcessor } from '../../src/cql/query-processor.js';
import type { ConsistencyLevel, CqlRequest, CqlResult, RowsResult } from '../../src/cql/request.js';
import { openStorage } from '../../src/node.js';
import { Verb } from '../../src/messaging/verbs.js';
import { TokenMetadata, TOKEN_SPACE, type Endpoint } from '../../src/ring/token-metadata.js';
import type { Clock, Scheduler } from '../../src/runtime/clock.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { systemClock, systemScheduler } from '../../src/runtime/system.js';
import type { SchemaManager } from '../../src/schema/schema-manager.js';
import { exportSchema, importSchema } from '../../src/schema/schema-sync.js';
import type { Partition } from '../../src/storage/data/types.js';
import type { StorageEngine } from '../../src/storage/engine/storage-engine.js';
import type { TableStore } from '../../src/storage/engine/table-store.js';
import { silentLogger, type Logger } from '../../src/util/logger.js';
import { HybridClock } from '../../src/versioning/hybrid-clock.js';
import { SimNetwork, type LinkFaults, type SimMessaging } from './sim-network.js';

export const MAX_SIM_NODES = 64;
/** The keyspace and table `SimCluster.start` creates (`k text PRIMARY KEY, v int`). */
export const SIM_KEYSPACE = 'ks';
export const SIM_TABLE = 'kv';
const SCAN_PAGE_ROWS = 10_000;

/** Options of the table `start` creates, as CQL table options. */
export interface SimTableParams {
  readonly conflictResolution?: 'lww' | 'siblings';
  readonly readRepair?: 'BLOCKING' | 'NONE';
  /** 'NONE', 'Nms' or 'Np'; default 'NONE' (no latency samples exist here). */
  readonly speculativeRetry?: string;
}

export interface SimClusterOptions {
  /** A directory of the test's own (`useTmpDir`); node i lives in `<dataDir>/node<i>`. */
  readonly dataDir: string;
  /** Default 3. */
  readonly nodes?: number;
  /** Replication factor of `ks` (SimpleStrategy); default 3. */
  readonly rf?: number;
  /** Options of `ks.kv`; null: create no keyspace or table at all. Default: `{}`. */
  readonly tableParams?: SimTableParams | null;
  /** Seeds the network's fault choices and the nodes' randomness. Default 1. */
  readonly seed?: number;
  /** Default 250. */
  readonly writeRequestTimeoutMs?: number;
  /** Default 250. */
  readonly readRequestTimeoutMs?: number;
  /** Faults of every link at start (default: reliable, 0–1 ms). */
  readonly defaultFaults?: LinkFaults;
  readonly logger?: Logger;
}

/** Everything one node is assembled from. */
export interface SimNodeSpec {
  readonly index: number;
  readonly endpoint: Endpoint;
  readonly hostId: string;
  readonly dataDir: string;
  readonly messaging: SimMessaging;
  readonly ring: () => TokenMetadata;
  /** This node's failure-detector verdict on `endpoint`. */
  readonly isAlive: (endpoint: Endpoint) => boolean;
  readonly datacenter: string;
  readonly writeRequestTimeoutMs: number;
  readonly readRequestTimeoutMs: number;
  readonly seed: number;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
}

/** One row of a replica's local contents, every Buffer as hex, for `toEqual` comparisons. */
export interface RowSnapshot {
  readonly clustering: string;
  readonly liveness: unknown;
  readonly deletion: unknown;
  readonly complexDeletions: unknown;
  readonly cells: readonly { column: string; path: string | null; value: string | null; ts: number; ttl: number; ldt: number }[];
  /** The row's version-vector blob (hex); null when the row has none. */
  readonly version: string | null;
}

export interface PartitionSnapshot {
  readonly token: string;
  readonly key: string;
  readonly header: unknown;
  readonly rows: readonly RowSnapshot[];
}

export interface SimNode {
  readonly index: number;
  readonly endpoint: Endpoint;
  readonly hostId: string;
  readonly engine: StorageEngine;
  readonly schema: SchemaManager;
  readonly proxy: StorageProxy;
  readonly processor: QueryProcessor;
  readonly messaging: SimMessaging;
  /** Runs one statement with this node as coordinator (keyspace `ks` unless the request says otherwise). */
  execute(query: string, params?: CqlRequest['params'], consistency?: ConsistencyLevel, options?: Partial<CqlRequest>): Promise<CqlResult>;
  /** `execute` for a SELECT: its rows. */
  rows(query: string, params?: CqlRequest['params'], consistency?: ConsistencyLevel, options?: Partial<CqlRequest>): Promise<RowsResult['rows']>;
  /** Runs a statement against this node's local replica only (no coordinator, no network). */
  executeLocally(query: string, params?: CqlRequest['params'], options?: Partial<CqlRequest>): Promise<CqlResult>;
  /** The local table store of `keyspace.table` (throws when the table is unknown here). */
  store(keyspace?: string, table?: string): TableStore;
  /** Every partition this replica holds locally for the table, in ring order. */
  snapshot(keyspace?: string, table?: string): PartitionSnapshot[];
  close(): Promise<void>;
}

function hostIdOf(index: number): string {
  return `00000000-0000-4000-8000-${(index + 1).toString(16).padStart(12, '0')}`;
}

/** Node i's internode endpoint, a `host:port` like a ring endpoint (`parseEndpoint` reads it). */
export function simEndpoint(index: number): Endpoint {
  return `127.0.0.${index + 1}:7000`;
}

/** One token per node, evenly spaced over the Murmur3 token space. */
function tokenOf(index: number, nodes: number): bigint {
  return -(2n ** 63n) + (TOKEN_SPACE / BigInt(nodes)) * BigInt(index) + TOKEN_SPACE / BigInt(2 * nodes);
}

function withClause(params: SimTableParams): string {
  const options = [`speculative_retry = '${params.speculativeRetry ?? 'NONE'}'`];
  if (params.conflictResolution !== undefined) options.push(`conflict_resolution = '${params.conflictResolution}'`);
  if (params.readRepair !== undefined) options.push(`read_repair = '${params.readRepair}'`);
  return ` WITH ${options.join(' AND ')}`;
}

const hex = (b: Buffer | undefined | null): string | null => (b === undefined || b === null ? null : b.toString('hex'));

function snapshotOf(partition: Partition): PartitionSnapshot {
  const p = canonicalPartition(partition);
  return {
    token: p.token.toString(),
    key: p.key.toString('hex'),
    header: JSON.parse(JSON.stringify({ deletion: p.deletion ?? null, rangeTombstones: p.rangeTombstones }, (_k, v: unknown) => (isBufferJson(v) ? Buffer.from(v.data).toString('hex') : v))),
    rows: p.rows.map((row) => ({
      clustering: row.clustering.toString('hex'),
      liveness: row.liveness ?? null,
      deletion: row.deletion ?? null,
      complexDeletions: row.complexDeletions ?? null,
      cells: row.cells.map((c) => ({ column: c.column, path: hex(c.path), value: hex(c.value), ts: c.ts, ttl: c.ttl, ldt: c.ldt })),
      version: hex(row.version),
    })),
  };
}

function isBufferJson(v: unknown): v is { type: 'Buffer'; data: number[] } {
  return typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data);
}

/** Every partition of `store`, page by page; a partition split across pages is joined again. */
function scanAll(store: TableStore): PartitionSnapshot[] {
  const out: PartitionSnapshot[] = [];
  let resume = null;
  for (;;) {
    const page = store.scanRange({ startToken: null, endToken: null, resume, pageRows: SCAN_PAGE_ROWS });
    for (const partition of page.partitions) {
      const snap = snapshotOf(partition);
      const last = out.at(-1);
      if (last !== undefined && last.key === snap.key && last.token === snap.token) out[out.length - 1] = { ...last, rows: [...last.rows, ...snap.rows] };
      else out.push(snap);
    }
    if (page.next === null) return out;
    resume = page.next;
  }
}

// ---- the one place a simulated node is built ----
/**
 * Builds one node from its spec, as src/node.ts `startNode` does, minus HTTP and gossip:
 * storage and schema recovered from `dataDir`, a Hybrid Clock that moves past every timestamp
 * the replica receives, the replica verbs on the simulated messaging, a StorageProxy and a
 * QueryProcessor over it (plus a local-only QueryProcessor for inspecting the replica).
 */
export async function assembleNode(spec: SimNodeSpec): Promise<SimNode> {
  const settings = loadConfig({
    overrides: [
      `data_dir=${spec.dataDir}`,
      'commitlog_sync=periodic',
      `write_request_timeout_ms=${spec.writeRequestTimeoutMs}`,
      `read_request_timeout_ms=${spec.readRequestTimeoutMs}`,
      `datacenter=${spec.datacenter}`,
    ],
  });
  const random = new SeededRandom(spec.seed);
  const { engine, schema } = await openStorage(settings, spec.logger, { clock: spec.clock, random });
  const writeClock = new HybridClock(spec.clock);
  registerReplicaVerbs(spec.messaging, engine, spec.logger, (micros) => void writeClock.observe(micros));
  const proxy = new StorageProxy({
    messaging: spec.messaging,
    engine,
    ring: spec.ring,
    replicationOf: (keyspace) => schema.current.keyspace(keyspace)?.replication,
    isAlive: spec.isAlive,
    self: spec.endpoint,
    hostId: spec.hostId,
    tableById: (id) => schema.current.tableById(id),
    datacenter: spec.datacenter,
    writeRequestTimeoutMs: spec.writeRequestTimeoutMs,
    readRequestTimeoutMs: spec.readRequestTimeoutMs,
    clock: spec.clock,
    scheduler: spec.scheduler,
    logger: spec.logger,
  });
  // A coordinator that is not a replica forwards writes to one that is (version vectors).
  spec.messaging.registerHandler(Verb.VERSIONED_WRITE, (_from, payload) => proxy.serveVersionedWrite(payload));
  const processor = new QueryProcessor({ schema, dataPath: proxy, clock: spec.clock, random, defaultConsistency: 'ONE', writeClock });
  const localProcessor = new QueryProcessor({ schema, dataPath: new LocalDataPath(engine), clock: spec.clock, random: random.fork(), defaultConsistency: 'ONE', writeClock });
  const store = (keyspace = SIM_KEYSPACE, table = SIM_TABLE): TableStore => {
    const metadata = schema.current.table(keyspace, table);
    const found = metadata === undefined ? undefined : engine.table(metadata.id);
    if (found === undefined) throw new Error(`node ${spec.index} has no table ${keyspace}.${table}`);
    return found;
  };
  const execute = (query: string, params?: CqlRequest['params'], consistency: ConsistencyLevel = 'ONE', options: Partial<CqlRequest> = {}) =>
    processor.execute({ query, params, keyspace: SIM_KEYSPACE, consistency, ...options });
  return {
    index: spec.index,
    endpoint: spec.endpoint,
    hostId: spec.hostId,
    engine,
    schema,
    proxy,
    processor,
    messaging: spec.messaging,
    execute,
    async rows(query, params, consistency, options) {
      const result = await execute(query, params, consistency, options);
      if (result.kind !== 'rows') throw new Error(`expected rows, got ${result.kind}`);
      return result.rows;
    },
    executeLocally: (query, params, options = {}) => localProcessor.execute({ query, params, keyspace: SIM_KEYSPACE, ...options }),
    store,
    snapshot: (keyspace, table) => scanAll(store(keyspace, table)),
    close: () => engine.close({ flush: false }),
  };
}

export class SimCluster {
  /** Per node: the endpoints its failure detector convicts. */
  private readonly suspects: Set<Endpoint>[];

  private constructor(
    readonly network: SimNetwork,
    readonly nodes: readonly SimNode[],
    readonly ring: TokenMetadata,
    suspects: Set<Endpoint>[],
  ) {
    this.suspects = suspects;
  }

  static async start(options: SimClusterOptions): Promise<SimCluster> {
    const count = options.nodes ?? 3;
    if (!Number.isInteger(count) || count < 1 || count > MAX_SIM_NODES) throw new RangeError(`nodes must be in [1, ${MAX_SIM_NODES}]: ${count}`);
    const seed = options.seed ?? 1;
    const network = new SimNetwork({ seed, ...(options.defaultFaults !== undefined ? { defaultFaults: options.defaultFaults } : {}) });
    const endpoints = Array.from({ length: count }, (_, i) => simEndpoint(i));
    const ring = TokenMetadata.build(endpoints.map((endpoint, i) => ({ endpoint, datacenter: 'dc1', rack: 'r1', tokens: [tokenOf(i, count)] })));
    const suspects = endpoints.map(() => new Set<Endpoint>());
    const nodes: SimNode[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const hostId = hostIdOf(i);
        nodes.push(
          await assembleNode({
            index: i,
            endpoint: endpoints[i]!,
            hostId,
            dataDir: path.join(options.dataDir, `node${i}`),
            messaging: network.attach(endpoints[i]!, hostId),
            ring: () => ring,
            isAlive: (endpoint) => !suspects[i]!.has(endpoint),
            datacenter: 'dc1',
            writeRequestTimeoutMs: options.writeRequestTimeoutMs ?? 250,
            readRequestTimeoutMs: options.readRequestTimeoutMs ?? 250,
            seed: seed * 1000 + i,
            clock: systemClock,
            scheduler: systemScheduler,
            logger: options.logger ?? silentLogger,
          }),
        );
      }
    } catch (err) {
      network.close();
      await Promise.all(nodes.map((n) => n.close()));
      throw err;
    }
    const cluster = new SimCluster(network, nodes, ring, suspects);
    const params = options.tableParams === undefined ? {} : options.tableParams;
    if (params !== null) {
      await cluster.schema(`CREATE KEYSPACE ${SIM_KEYSPACE} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': ${options.rf ?? 3}}`);
      await cluster.schema(`CREATE TABLE ${SIM_KEYSPACE}.${SIM_TABLE} (k text PRIMARY KEY, v int)${withClause(params)}`);
    }
    return cluster;
  }

  node(index: number): SimNode {
    const node = this.nodes[index];
    if (node === undefined) throw new RangeError(`no node ${index} in a cluster of ${this.nodes.length}`);
    return node;
  }

  endpoints(): Endpoint[] {
    return this.nodes.map((n) => n.endpoint);
  }

  /**
   * Runs a DDL statement on node 0, then brings every other node to node 0's schema (its
   * schema rows imported, as a schema pull does), so table ids agree everywhere.
   */
  async schema(ddl: string): Promise<CqlResult> {
    const first = this.node(0);
    const result = await first.processor.execute({ query: ddl, keyspace: null });
    const rows = exportSchema(first.engine);
    for (const node of this.nodes.slice(1)) await node.schema.change(() => importSchema(node.engine, rows));
    return result;
  }

  /** The failure detectors of `observers` (default: every other node) convict `target`. */
  markDown(target: Endpoint, observers: readonly Endpoint[] = this.endpoints()): void {
    for (const n of this.nodes) if (n.endpoint !== target && observers.includes(n.endpoint)) this.suspects[n.index]!.add(target);
  }

  /** The failure detectors of `observers` (default: every node) see `target` up again. */
  markUp(target: Endpoint, observers: readonly Endpoint[] = this.endpoints()): void {
    for (const n of this.nodes) if (observers.includes(n.endpoint)) this.suspects[n.index]!.delete(target);
  }

  /** Every node's failure detector sees every node up. */
  markAllUp(): void {
    for (const s of this.suspects) s.clear();
  }

  /** Every replica's local contents of the table, per node (index order). */
  snapshots(keyspace = SIM_KEYSPACE, table = SIM_TABLE): PartitionSnapshot[][] {
    return this.nodes.map((n) => n.snapshot(keyspace, table));
  }

  /** Stops the network (pending requests fail), then closes every engine. */
  async stop(): Promise<void> {
    this.network.close();
    await Promise.all(this.nodes.map((n) => n.close()));
  }
}
