/**
 * One node, wired together from its settings. The only place that constructs subsystems
 * (ARCHITECTURE: "one wiring place"); tests build nodes through it too.
 *
 * Start-up order matters for durability: the storage engine opens, the schema tables replay
 * their commit-log records first, the schema they hold says which user tables exist, those
 * open and replay the rest of the log. Then the internode listener starts (with the replica
 * verbs registered), the HTTP endpoint accepts requests through the coordinator
 * (`StorageProxy`, a `DataPath` over the ring), and gossip starts. A node that bootstraps
 * (new, `auto_bootstrap`, not its own seed; or a bootstrap that never finished) first fetches
 * the schema from a seed, starts gossip as JOINING and streams its ranges in the background
 * (`MembershipService.bootstrap`); `/health` says `joining` until it announces NORMAL.
 * A decommissioned node refuses to start on its old data.
 * Stopping reverses it: health turns to `draining`, the shutdown is announced in gossip, HTTP
 * stops accepting and finishes what it has, messaging stops, memtables are flushed, the commit
 * log closes.
 */
import path from 'node:path';
import { Overloaded } from './errors.js';
import type { Settings } from './config/settings.js';
import { LocalDataPath } from './cql/data-path.js';
import { registerReplicaVerbs } from './coordinator/replica-verbs.js';
import { Verb } from './messaging/verbs.js';
import { BatchlogReplayer, defaultReplayAfterMs } from './batchlog/batchlog-replayer.js';
import { BatchlogStore } from './batchlog/batchlog-store.js';
import { registerBatchlogVerbs } from './batchlog/batchlog-verbs.js';
import { PeerDirectory } from './cluster/peer-directory.js';
import { HintsService } from './hints/hints-service.js';
import { registerHintVerbs } from './hints/hint-verbs.js';
import { StreamService } from './streaming/stream-service.js';
import { RepairService } from './repair/repair-service.js';
import { streamPageBytesFor } from './streaming/limits.js';
import { registerStreamMetrics } from './metrics/stream-metrics.js';
import { StorageProxy } from './coordinator/storage-proxy.js';
import { peerKey } from './messaging/peer.js';
import { TokenMetadata } from './ring/token-metadata.js';
import { HybridClock } from './versioning/hybrid-clock.js';
import { QueryProcessor } from './cql/query-processor.js';
import type { SchemaDescription } from './cql/request.js';
import { buildHttpApp } from './http/app.js';
import { createMetricsRegistry } from './metrics/registry.js';
import { registerStorageMetrics } from './metrics/storage-metrics.js';
import type { Clock } from './runtime/clock.js';
import type { Random } from './runtime/random.js';
import { systemClock, systemRandom, systemScheduler } from './runtime/system.js';
import { nowSeconds } from './runtime/clock.js';
import { ClusterService, type SchemaExchange } from './cluster/cluster-service.js';
import { ClusterRingView } from './cluster/ring-view.js';
import { registerClusterMetrics } from './metrics/cluster-metrics.js';
import { registerBatchlogMetrics, registerCoordinatorMetrics, registerHintMetrics } from './metrics/coordinator-metrics.js';
import { GenerationStore } from './cluster/gossip/generation-store.js';
import { loadOrCreateLocalState, writeLocalState } from './cluster/local-state.js';
import { MembershipService, replicatedTables } from './cluster/membership/membership-service.js';
import { fetchSchemaFromSeeds } from './cluster/membership/seed-schema.js';
import { MessagingService, messagingOptionsFromSettings } from './messaging/messaging-service.js';
import { decodeSchema, encodeSchema, exportSchema, importSchema } from './schema/schema-sync.js';
import { keyspaceCql, replicationMap, tableCql } from './schema/describe.js';
import type { Schema } from './schema/schema.js';
import { SchemaManager } from './schema/schema-manager.js';
import { SchemaStore } from './schema/schema-store.js';
import { formatType } from './schema/type-names.js';
import { StorageEngine } from './storage/engine/storage-engine.js';
import type { Logger } from './util/logger.js';

export interface NodeHandle {
  readonly httpUrl: string;
  readonly processor: QueryProcessor;
  stop(): Promise<void>;
}

export interface NodeDependencies {
  readonly clock?: Clock;
  readonly random?: Random;
  /**
   * Ends the node's process (the server command stops the node, then exits with `exitCode`);
   * called after a decommission (0) and when a bootstrap fails (1). Default: stop the node.
   */
  readonly exit?: (exitCode: number, why: string) => void;
}

type Health = 'starting' | 'serving' | 'joining' | 'draining';

/** How long a bootstrapping node keeps asking its seeds for the schema before it gives up. */
const SEED_SCHEMA_TIMEOUT_MS = 60_000;
/** A decommissioned node answers the request, then stops this long after. */
const EXIT_AFTER_LEAVING_MS = 200;

/** The cluster views exist once gossip starts, a moment after HTTP listens. */
function started<T>(view: T | null): T {
  if (view === null) throw new Overloaded('The node is starting: its cluster views are not ready yet');
  return view;
}

export function describeSchema(schema: Schema, clusterName: string): SchemaDescription {
  const keyspaces = [...schema.keyspaces.values()]
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((ks) => ({
      name: ks.name,
      replication: Object.fromEntries(replicationMap(ks)),
      durable_writes: ks.durableWrites,
      cql: keyspaceCql(ks),
      tables: [...ks.tables.values()]
        .sort((a, b) => (a.name < b.name ? -1 : 1))
        .map((t) => ({ name: t.name, id: t.id, columns: t.columns.map((c) => ({ name: c.name, type: formatType(c.type), kind: c.kind })), cql: tableCql(t) })),
    }));
  return { cluster_name: clusterName, partitioner: 'org.apache.cassandra.dht.Murmur3Partitioner', version: schema.version, keyspaces };
}

/** The data side of a node: storage, schema and the CQL processor, without the network. */
export interface LocalDatabase {
  readonly engine: StorageEngine;
  readonly schema: SchemaManager;
  readonly processor: QueryProcessor;
}

/** Storage and schema, recovered: the commit log replayed (schema tables first). */
export async function openStorage(settings: Settings, logger: Logger, deps: NodeDependencies = {}): Promise<{ engine: StorageEngine; schema: SchemaManager; batchlog: BatchlogStore }> {
  const clock = deps.clock ?? systemClock;
  const engine = await StorageEngine.open({
    dataDir: path.resolve(settings.data_dir),
    commitlogSync: settings.commitlog_sync,
    commitlogSyncPeriodMs: settings.commitlog_sync_period_ms,
    commitlogSyncGroupWindowMs: settings.commitlog_sync_group_window_ms,
    commitlogSegmentSizeMb: settings.commitlog_segment_size_mb,
    memtableFlushThresholdMb: settings.memtable_flush_threshold_mb,
    memtableTotalSpaceMb: settings.memtable_total_space_mb,
    compactionThroughputMbPerS: settings.compaction_throughput_mb_per_s,
    clock,
    logger,
  });
  try {
    const store = SchemaStore.open(engine, clock);
    const batchlog = BatchlogStore.open(engine, { clock, logger });
    await engine.replayCommitLog({ moreTablesToCome: true });
    await batchlog.load();
    const schema = new SchemaManager(store, engine, logger);
    schema.openAllTables();
    await engine.replayCommitLog();
    return { engine, schema, batchlog };
  } catch (err) {
    await engine.close({ flush: false });
    throw err;
  }
}

/** One node's data without the network: every consistency level is met by the local replica. */
export async function openLocalDatabase(settings: Settings, logger: Logger, deps: NodeDependencies = {}): Promise<LocalDatabase> {
  const { engine, schema } = await openStorage(settings, logger, deps);
  const processor = new QueryProcessor({
    schema,
    dataPath: new LocalDataPath(engine),
    clock: deps.clock ?? systemClock,
    random: deps.random ?? systemRandom,
    defaultConsistency: settings.default_consistency,
  });
  return { engine, schema, processor };
}

export async function startNode(settings: Settings, logger: Logger, deps: NodeDependencies = {}): Promise<NodeHandle> {
  const clock = deps.clock ?? systemClock;
  const random = deps.random ?? systemRandom;
  let health: Health = 'starting';
  const dataDir = path.resolve(settings.data_dir);
  const { engine, schema, batchlog } = await openStorage(settings, logger, { clock, random });
  // Cassandra's rule: a new node that is not one of its own seeds bootstraps into the ring
  // its seeds know; a seed (or a node told auto_bootstrap=false) starts NORMAL at once.
  const isSeed = settings.seeds.includes(`${settings.listen_address}:${settings.internode_port}`);
  const local = loadOrCreateLocalState(dataDir, settings.num_tokens, random, { willBootstrap: settings.auto_bootstrap && !isSeed && settings.seeds.length > 0 });
  if (local.decommissioned) {
    await engine.close({ flush: false });
    throw new Error(`this node was decommissioned and will not rejoin the ring: start it with a new data_dir (${dataDir} holds its old data)`);
  }
  const bootstrapping = !local.bootstrapped;
  let membership: MembershipService | null = null;
  let handle: NodeHandle | null = null;
  const exit = deps.exit ?? ((): void => void handle?.stop());
  const generation = new GenerationStore(path.join(dataDir, 'system', 'generation')).nextAndPersist(nowSeconds(clock));
  const messaging = new MessagingService(messagingOptionsFromSettings(settings, { hostId: local.hostId, scheduler: systemScheduler, logger, random }));
  let cluster: ClusterService | null = null;
  let ringView: ClusterRingView | null = null;
  let batchlogReplayer: BatchlogReplayer | null = null;
  let hints: HintsService | null = null;
  const peers = new PeerDirectory(clock);
  try {
    // Write timestamps come from a Hybrid Clock that moves past every timestamp a replica
    // receives, so a node with a slow clock never writes "into the past" of what it has seen.
    const writeClock = new HybridClock(clock);
    registerReplicaVerbs(messaging, engine, logger, (micros) => {
      const seen = writeClock.observe(micros);
      if (seen.kind === 'excess-drift') logger.warn({ aheadMicros: seen.aheadMicros }, 'ignored a timestamp too far ahead of this node\'s clock');
    });
    registerBatchlogVerbs(messaging, batchlog, logger);
    registerHintVerbs(messaging, engine, logger, (micros) => writeClock.observe(micros));
    // streams: used by membership and repair
    const streams = new StreamService({
      engine,
      messaging,
      self: () => peerKey(messaging.address),
      logger,
      throughputBytesPerS: settings.stream_throughput_mb_per_s * 1024 * 1024,
      scheduler: systemScheduler,
      clock,
      pageBytes: streamPageBytesFor({ maxMessageBytes: settings.internode_max_message_bytes, commitlogSegmentBytes: settings.commitlog_segment_size_mb * 1024 * 1024 }),
      observeTimestamp: (micros) => writeClock.observe(micros),
    });
    // Anti-entropy repair: MERKLE_TREE_REQUEST as a replica, `repair` as a coordinator (src/repair).
    const repair = new RepairService({
      messaging,
      storage: engine,
      streams,
      schema: () => schema.current,
      ring: () => cluster?.ringMetadata() ?? TokenMetadata.EMPTY,
      isAlive: (endpoint) => cluster?.isUp(endpoint) ?? false,
      self: () => peerKey(messaging.address),
      validationThroughputMbPerS: settings.compaction_throughput_mb_per_s,
      maxMessageBytes: settings.internode_max_message_bytes,
      clock,
      scheduler: systemScheduler,
      logger,
    });
    hints = await HintsService.open({
      dataDir,
      settings,
      messaging,
      clock,
      scheduler: systemScheduler,
      logger,
      maxHintsSizeBytes: settings.max_hints_size_mb * 1024 * 1024,
      sync: settings.commitlog_sync === 'periodic' ? 'periodic' : 'group',
      gcGraceSecondsOf: (id) => schema.current.tableById(id)?.params.gcGraceSeconds,
    });
    const hintsService = hints;
    peers.listen({ up: (hostId, endpoint) => hintsService.onUp(hostId, endpoint), down: (hostId) => hintsService.onDown(hostId) });
    await messaging.start();
    const self = peerKey(messaging.address);
    // Requests are served once HTTP listens, just before gossip starts: until then the ring is
    // this node alone, as the gossiper itself would describe it.
    const dataPath = new StorageProxy({
      messaging,
      engine,
      ring: () => cluster?.ringMetadata() ?? TokenMetadata.build([{ endpoint: self, datacenter: settings.datacenter, rack: settings.rack, tokens: local.tokens }]),
      pendingEndpoints: (token, replication) => cluster?.pendingRanges().pendingEndpoints(token, replication) ?? [],
      datacenterOf: (endpoint) => cluster?.datacenterOf(endpoint),
      replicationOf: (keyspace) => schema.current.keyspace(keyspace)?.replication,
      isAlive: (endpoint) => cluster?.isUp(endpoint) ?? endpoint === self,
      self,
      hostId: local.hostId,
      tableById: (id) => schema.current.tableById(id),
      datacenter: settings.datacenter,
      batchlog: { store: batchlog, rack: settings.rack, random },
      hints: { service: hintsService, peers },
      writeRequestTimeoutMs: settings.write_request_timeout_ms,
      readRequestTimeoutMs: settings.read_request_timeout_ms,
      clock,
      scheduler: systemScheduler,
      logger,
    });
    messaging.registerHandler(Verb.VERSIONED_WRITE, (_from, payload) => dataPath.serveVersionedWrite(payload));
    // Batches whose coordinator died between logging and applying them are replayed from here.
    batchlogReplayer = new BatchlogReplayer({
      store: batchlog,
      write: (mutations, consistency) => dataPath.writeReplayed(mutations, consistency),
      tableById: (id) => schema.current.tableById(id),
      clock,
      scheduler: systemScheduler,
      logger,
      replayAfterMs: defaultReplayAfterMs(settings.write_request_timeout_ms),
    });
    const processor = new QueryProcessor({ schema, dataPath, clock, random, defaultConsistency: settings.default_consistency, writeClock });
    const registry = createMetricsRegistry();
    registerStorageMetrics(registry, engine);
    registerCoordinatorMetrics(registry, dataPath);
    registerBatchlogMetrics(registry, { store: batchlog, replayer: () => batchlogReplayer, proxy: dataPath });
    registerHintMetrics(registry, hintsService);
    registerStreamMetrics(registry, streams);
    const tablesIn = (keyspace?: string, table?: string) => [...schema.current.tables()].filter((t) => (keyspace === undefined || t.keyspace === keyspace) && (table === undefined || t.name === table));
    const app = buildHttpApp(
      {
        cql: processor,
        describeSchema: () => describeSchema(schema.current, settings.cluster_name),
        health: () => health,
        registry,
        maxBodyBytes: settings.http_max_body_bytes,
        defaultConsistency: settings.default_consistency,
        admin: {
          flush: async (keyspace, table) => {
            for (const t of tablesIn(keyspace, table)) await engine.table(t.id)?.flush();
          },
          compact: async (keyspace, table) => {
            for (const t of tablesIn(keyspace, table)) await engine.table(t.id)?.compact({ major: true });
          },
          drain: async () => {
            for (const t of tablesIn()) await engine.table(t.id)?.flush();
          },
          repair: (keyspace, table) => repair.repair({ keyspace, table }),
          membership: {
            decommission: async () => {
              const report = await started(membership).decommission();
              writeLocalState(dataDir, { ...local, bootstrapped: true, decommissioned: true });
              // Answer first, then leave: the process ends once this response is sent.
              systemScheduler.after(EXIT_AFTER_LEAVING_MS, () => exit(0, 'decommissioned'));
              return report;
            },
            removeNode: (hostId) => started(membership).removeNode(hostId),
          },
        },
        cluster: {
          status: (keyspace) => started(ringView).status(keyspace),
          gossip: () => started(cluster).gossipInfo(),
        },
        ring: {
          ring: (keyspace) => started(ringView).ring(keyspace),
          endpoints: (keyspace, table, keys) => started(ringView).endpoints(keyspace, table, keys),
        },
        logger,
      },
      { maxInflightRequests: settings.max_inflight_requests },
    );
    await app.listen({ host: settings.http_address, port: settings.http_port });
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : settings.http_port;
    const httpUrl = `http://${settings.http_address.includes(':') ? `[${settings.http_address}]` : settings.http_address}:${port}`;

    const schemaExchange: SchemaExchange = {
      version: () => schema.current.version,
      export: () => encodeSchema(exportSchema(engine)),
      import: async (bytes) => {
        const updates = decodeSchema(bytes);
        await schema.change(() => importSchema(engine, updates));
        return schema.current.version;
      },
    };
    if (bootstrapping) {
      health = 'joining';
      await fetchSchemaFromSeeds({ messaging, seeds: settings.seeds, schema: schemaExchange, clock, scheduler: systemScheduler, logger, timeoutMs: SEED_SCHEMA_TIMEOUT_MS });
    }
    const service = new ClusterService({
      initialStatus: bootstrapping ? 'JOINING' : 'NORMAL',
      settings,
      hostId: local.hostId,
      tokens: local.tokens,
      generation,
      httpUrl,
      messaging,
      schema: schemaExchange,
      loadBytes: () => engine.tableStats().reduce((n, t) => n + t.sstableBytes, 0) + engine.commitLogStats().bytesOnDisk,
      clock,
      scheduler: systemScheduler,
      random,
      logger,
    });
    cluster = service;
    ringView = new ClusterRingView(service, () => schema.current);
    schema.onChange((s) => service.schemaChanged(s.version));
    service.onEvent((e) => peers.onGossipEvent(e));
    registerClusterMetrics(registry, service, messaging);
    membership = new MembershipService({
      self: service.self,
      location: { datacenter: settings.datacenter, rack: settings.rack },
      tokens: local.tokens,
      cluster: service,
      requestPush: (source, tableId, ranges, target) => streams.requestPush(source, tableId, ranges, target),
      tables: () => replicatedTables(schema.current),
      ringDelayMs: settings.ring_delay_ms,
      clock,
      scheduler: systemScheduler,
      logger,
    });
    service.start();
    batchlogReplayer?.start();
    hintsService.start();
    if (bootstrapping) {
      // Serves as a coordinator meanwhile; /health says 'joining' until the node is NORMAL.
      membership.bootstrap().then(
        (report) => {
          writeLocalState(dataDir, { ...local, bootstrapped: true });
          service.setStatus('NORMAL');
          health = 'serving';
          logger.info(report, 'bootstrap complete: NORMAL');
        },
        (err: unknown) => {
          logger.fatal({ err }, 'bootstrap failed: this node stays out of the ring (restarted, it bootstraps again)');
          exit(1, 'bootstrap failed');
        },
      );
    } else {
      health = 'serving';
    }
    logger.info({ http: httpUrl, internode: service.self, hostId: local.hostId, generation, dataDir, schemaVersion: schema.current.version }, 'node serving');
    let stopping: Promise<void> | null = null;
    return (handle = {
      httpUrl,
      processor,
      stop: () => {
        stopping ??= (async () => {
          health = 'draining';
          await batchlogReplayer?.stop();
          await hintsService.stop();
          streams.stop();
          await repair.close();
          await service.stop();
          await app.close();
          await messaging.stop();
          await engine.close({ flush: true });
          logger.info('node stopped');
        })();
        return stopping;
      },
    });
  } catch (err) {
    await batchlogReplayer?.stop();
    await hints?.stop();
    await cluster?.stop();
    if (messaging.isRunning) await messaging.stop();
    await engine.close({ flush: false });
    throw err;
  }
}
