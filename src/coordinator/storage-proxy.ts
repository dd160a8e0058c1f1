/**
 * The coordinator's data path over the ring: a `DataPath` (src/cql/data-path.ts) that sends
 * each write to every live replica and each point read to as many replicas as the consistency
 * level needs, like Cassandra's `StorageProxy`. Any node coordinates.
 *
 * Patterns (Joshi, *Patterns of Distributed Systems*): Majority Quorum (the pure rules of
 * consistency.ts, response-tally.ts and read-plan.ts, driven here) and Request Waiting List
 * (waiting-request.ts: one tally, one deadline and the pending replica requests of one client
 * request). Cassandra: `StorageProxy.mutate`, `AbstractWriteResponseHandler`,
 * `AbstractReadExecutor`, `DigestResolver`/`DataResolver`, `BlockingReadRepair`.
 *
 * Writes (SPEC 6.3): per mutation, the token's replicas under the keyspace's replication; the
 * level's `Requirement`; `Unavailable` for every mutation of the call before anything is sent;
 * then one replica versions the mutation's rows (versioned-write.ts, SPEC 6.6): this node when
 * it is a replica, reading its own state in the same turn as it applies the result; otherwise
 * the closest live replica, to which the write is forwarded (VERSIONED_WRITE) and whose
 * outcome is relayed. The versioned mutation goes to every live replica and the call resolves
 * once each mutation's tally succeeded. A replica's error response counts as a
 * failure (`WriteFailure` as soon as the level is out of reach); silence (timeouts, lost or
 * dropped messages, a stopped peer) counts as nothing, and at `write_request_timeout_ms` the
 * write fails with `WriteTimeout` (`write_type` SIMPLE, or UNLOGGED_BATCH for several
 * mutations). A logged BATCH over several partitions is first stored in the batch log of up to
 * two other nodes (src/batchlog, `write_type` BATCH_LOG on timeout), then written, then
 * removed from the logs; a batch-log node replays it if this coordinator dies in between.
 *
 * Point reads (SPEC 6.3, 6.4): `planRead` picks the closest live replica for the data (this
 * node when it is a replica) and digest requests for the rest of `blockFor`; after the
 * `speculative_retry` delay, a read still waiting asks one more replica. The read answers when
 * the tally succeeded and the data arrived. If a digest differs from the data's, every contacted
 * replica is read in full, the answers are merged with the storage merge rules (the same k-way
 * merge a replica runs over its memtables and SSTables: headers, then rows by clustering with
 * reconciliation and shadowing, then the slice's direction and limit), and under
 * `read_repair = 'BLOCKING'` the merged partition is written (READ_REPAIR) to every replica whose
 * answer differed, and the read waits for those acks before answering, so two successive
 * QUORUM reads never go back in time. A repair not acknowledged by the read deadline is a
 * `ReadTimeout` with `data_present` true; a repair refused with an error is a `ReadFailure`.
 *
 * System keyspaces (`system`, `system_schema`) are node-local, like Cassandra's LocalStrategy:
 * their reads and writes go to the local engine whatever the level.
 *
 * Range reads: `Unavailable` when some token range has too few live replicas for the level;
 * then every live node is asked for the page and the pages are merged (`range-read.ts`).
 *
 * Limitations (documented, for later work):
 * - `scanRange` asks every live node for each page rather than only the replicas the level
 *   needs per range; `truncate` empties the table on every
 *   node and needs them all up, as Cassandra's does.
 * - Hints (src/hints, when configured): a write to a replica believed down, or silent past the
 *   write timeout, is stored as a hint for it; a stored hint counts for ANY. With no live
 *   replica to version it (ANY), the hinted write carries no row version.
 * - No short-read protection: with a `limit`, a replica whose answer was cut short may hide
 *   rows that a shadowed row of another replica made room for; the merge may then return fewer
 *   rows than the limit. The repair writes the whole merged partition rather than a per-replica
 *   difference (idempotent, larger).
 *
 * Pending replicas (#7 §2, Cassandra's pending ranges): while nodes join, leave or are removed,
 * `pendingEndpoints` names the endpoints that will replicate a token once the change completes
 * (src/cluster/membership/pending-ranges.ts). A write goes to the natural replicas *and* those
 * (the live ones; down ones get hints like natural ones), and its `blockFor` grows by the
 * pending count (in the level's datacenter for LOCAL_* and EACH_QUORUM, consistency.ts), so a
 * write acknowledged at QUORUM is on a quorum of the old replica set and of the new one; too few
 * live natural + pending replicas is `Unavailable`. The versioning replica is still a natural
 * one (a pending replica may not hold the row's history yet); pending replicas receive the same
 * versioned update as the others. Logged batches, their replay and hints go through the same
 * target set (`prepareWrite`). Reads only ever use the natural replicas.
 *
 * Costs (issue #5 §5): a write's update is encoded once, for every peer and, as the tail of the
 * same bytes, for this replica's commit log; a read's command is encoded once for every replica
 * it asks; ring endpoints are parsed into messaging addresses once.
 *
 * Invariants: a request settles once (its first outcome wins; later answers are ignored); every
 * timer is cancelled when it settles; nothing is sent for a request that is Unavailable.
 * Bounds: one request per replica per round (at most MAX_REPLICAS_PER_REQUEST), plus one
 * speculative request; every wait is bounded by the request's timeout.
 */
import type { DataPath, Mutation, WriteOptions, WriteResult } from '../cql/data-path.js';
import { LocalDataPath, NO_WARNINGS } from '../cql/data-path.js';
import { isConsistencyLevel, type ConsistencyLevel } from '../cql/request.js';
import { InvalidRequest, ReadFailure, ReadTimeout, toRequestError, Unavailable, WriteFailure, WriteTimeout } from '../errors.js';
import { PeerAddressCache, type PeerAddress } from '../messaging/peer.js';
import type { MessagingService } from '../messaging/messaging-service.js';
import { Verb } from '../messaging/verbs.js';
import { replicasFor } from '../ring/replication-strategy.js';
import type { Endpoint, TokenMetadata } from '../ring/token-metadata.js';
import { nowSeconds, type Clock, type Scheduler } from '../runtime/clock.js';
import { SYSTEM_KEYSPACES, type Replication, type TableMetadata } from '../schema/schema.js';
import type { Partition, PartitionUpdate } from '../storage/data/types.js';
import type { RangeScanPage, RangeScanQuery, SliceQuery } from '../storage/engine/api.js';
import { mergePartition, type PartitionSource } from '../storage/engine/partition-read.js';
import { decodeRangePage, encodeRangeCommand, mergeRangePages } from './range-read.js';
import type { StorageEngine } from '../storage/engine/storage-engine.js';
import type { TableStore } from '../storage/engine/table-store.js';
import { parseCausalContext, type CausalContext } from '../versioning/causal-context.js';
import { versionCount } from '../versioning/row-version.js';
import { decodeVersionedWriteOutcome, decodeVersionedWrite, encodeVersionedWrite, encodeVersionedWriteOutcome, versionUpdate } from './versioned-write.js';
import type { Logger } from '../util/logger.js';
import { checkAvailable, requirementFor, writeTargets, type ReplicaInfo, type Requirement } from './consistency.js';
import { fullDataReadsAfterMismatch, parseSpeculativeRetry, planRead, replicasToRepair, speculativeRequestKind, type ReadPlan } from './read-plan.js';
import {
  applyMutation,
  decodeDataResponse,
  decodeDigestResponse,
  digestOfResponse,
  encodeMutation,
  encodeReadCommand,
  logRecordOfMutation,
  partitionDigest,
  readLocal,
  UnknownTableError,
  type ReadCommand,
} from './replica-verbs.js';
import { ReadLatencyTracker } from './read-latency.js';
import type { BatchlogStore } from '../batchlog/batchlog-store.js';
import type { PeerDirectory } from '../cluster/peer-directory.js';
import type { HintsService } from '../hints/hints-service.js';
import { needsBatchlog, newLoggedBatchCounters, writeLoggedBatch, type LoggedBatchCounters } from '../batchlog/logged-batch.js';
import type { Random } from '../runtime/random.js';
import { ResponseTally, type WriteType } from './response-tally.js';
import { isReplicaFailure, WaitingRequest } from './waiting-request.js';

export interface StorageProxyOptions {
  readonly messaging: Pick<MessagingService, 'request'>;
  /** The local replica's storage; also serves `scanRange` and `truncate` for now. */
  readonly engine: StorageEngine;
  /** The ring now (from gossip: `ClusterService.ringMetadata`). */
  readonly ring: () => TokenMetadata;
  /**
   * The pending endpoints of a token while the ring changes (`ClusterService.pendingRanges()`):
   * written to and waited for, never read from. Default: none.
   */
  readonly pendingEndpoints?: (token: bigint, replication: Replication) => readonly Endpoint[];
  /**
   * The datacenter of an endpoint that is not on the ring yet (a joining node, from gossip),
   * for the per-datacenter levels; default: the ring's, else unknown ('').
   */
  readonly datacenterOf?: (endpoint: Endpoint) => string | undefined;
  /** A keyspace's replication from the current schema; undefined once it is dropped. */
  readonly replicationOf: (keyspace: string) => Replication | undefined;
  /** The failure detector's verdict (`ClusterService.isUp`); this node is always alive to itself. */
  readonly isAlive: (endpoint: Endpoint) => boolean;
  /** This node's ring endpoint (`host:port` of its internode address) and datacenter. */
  readonly self: Endpoint;
  /** This node's host id: its entry in the version vectors of the rows it versions. */
  readonly hostId: string;
  /** A table of the current schema by id (a forwarded write names its table by id). */
  readonly tableById: (id: string) => TableMetadata | undefined;
  /**
   * This node's batch log for logged batches, its rack (batch-log endpoints are chosen on other
   * racks first) and randomness for that choice; without it, logged batches are written unlogged.
   */
  readonly batchlog?: { readonly store: BatchlogStore; readonly rack: string; readonly random: Random };
  /**
   * Hinted handoff (src/hints): a write to a replica that is down, or that does not answer in
   * time, is stored as a hint for it; without it, such a replica just misses the write.
   */
  readonly hints?: {
    readonly service: Pick<HintsService, 'shouldHint' | 'store'>;
    readonly peers: Pick<PeerDirectory, 'hostIdOf' | 'downSinceMs'>;
  };
  readonly datacenter: string;
  readonly writeRequestTimeoutMs: number;
  readonly readRequestTimeoutMs: number;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  /** Lower is closer; default: this node 0, every other 1 (replication order breaks ties). */
  readonly proximity?: (endpoint: Endpoint) => number;
  /**
   * Observed read latency of a table at a percentile, for `speculative_retry = 'Np'`; default:
   * this proxy's own recent point-read latencies per table (read-latency.ts).
   */
  readonly readLatencyPercentileMs?: (tableId: string, percentile: number) => number | undefined;
}

/** Counters for metrics and tests. */
export interface StorageProxyStats {
  readonly digestMismatches: number;
  /** Replicas sent merged data by blocking read repair. */
  readonly readRepairs: number;
  readonly speculativeReads: number;
  /** Rows returned by reads while holding concurrent versions (counted per read). */
  readonly conflictsDetected: number;
}


/** How the versioning replica builds the update it applies and sends. */
interface LocalVersioning {
  readonly store: TableStore;
  readonly build: () => PartitionUpdate;
}

/** At most one conflict log line per interval (with the count since the last one). */
const CONFLICT_LOG_INTERVAL_MS = 10_000;


/** Extra time a coordinator waits for a forwarded write beyond the replica's own write timeout. */
const FORWARD_MARGIN_MS = 1000;

interface PreparedWrite {
  readonly mutation: Mutation;
  readonly replicas: readonly ReplicaInfo[];
  readonly requirement: Requirement;
}

/**
 * A replica's full answer: the partition and the digest of its encoding, computed only when a
 * digest is compared (a read at ONE never hashes anything).
 */
class DataAnswer {
  private hash: Buffer | null = null;

  constructor(
    readonly partition: Partition | null,
    private readonly computeDigest: () => Buffer,
  ) {}

  get digest(): Buffer {
    this.hash ??= this.computeDigest();
    return this.hash;
  }
}

interface DigestRound {
  readonly data: DataAnswer;
  readonly digests: ReadonlyMap<Endpoint, Buffer>;
  readonly speculationSent: boolean;
}

/** What one point read needs through its rounds. */
interface PointRead {
  readonly table: TableMetadata;
  readonly command: ReadCommand;
  readonly requirement: Requirement;
  readonly plan: ReadPlan;
  readonly replicas: readonly ReplicaInfo[];
  readonly deadlineMs: number;
  /** `command` encoded, once for every replica asked (READ_DATA and READ_DIGEST share it). */
  encodedCommand: Buffer | null;
}

export class StorageProxy implements DataPath {
  private readonly local: LocalDataPath;
  private readonly logger: Logger;
  private readonly alive: (endpoint: Endpoint) => boolean;
  private readonly proximity: (endpoint: Endpoint) => number;
  private counters = { digestMismatches: 0, readRepairs: 0, speculativeReads: 0, conflictsDetected: 0 };
  private lastConflictLogMs = Number.NEGATIVE_INFINITY;
  private readonly readLatencies = new ReadLatencyTracker();
  private readonly batchCounters = newLoggedBatchCounters();
  private readonly readLatencyPercentileMs: (tableId: string, percentile: number) => number | undefined;
  private conflictsSinceLog = 0;

  constructor(private readonly o: StorageProxyOptions) {
    this.local = new LocalDataPath(o.engine);
    this.logger = o.logger.child({ component: 'storage-proxy' });
    this.alive = (endpoint) => endpoint === o.self || o.isAlive(endpoint);
    this.proximity = o.proximity ?? ((endpoint) => (endpoint === o.self ? 0 : 1));
    this.readLatencyPercentileMs = o.readLatencyPercentileMs ?? ((tableId, percentile) => this.readLatencies.percentileMs(tableId, percentile));
  }

  stats(): StorageProxyStats {
    return { ...this.counters };
  }

  // ---- writes ----

  async write(mutations: readonly Mutation[], consistency: ConsistencyLevel, options: WriteOptions = {}): Promise<WriteResult> {
    if (mutations.length > 0 && mutations.every((m) => SYSTEM_KEYSPACES.has(m.table.keyspace))) return this.local.write(mutations);
    if (options.logged === true && this.o.batchlog !== undefined && needsBatchlog(mutations)) return this.writeLogged(mutations, consistency, options, this.o.batchlog);
    // Every mutation's availability first: an Unavailable batch sends nothing at all.
    const prepared = mutations.map((m) => this.prepareWrite(m, consistency));
    const writeType: WriteType = mutations.length > 1 ? 'UNLOGGED_BATCH' : 'SIMPLE';
    const contextToken = options.context ?? null;
    const context = contextToken !== null && mutations.some((m) => m.table.params.conflictResolution === 'siblings') ? parseCausalContext(contextToken) : null;
    if (prepared.length === 1) return this.routeWrite(prepared[0]!, writeType, context, contextToken);
    const results = await Promise.all(prepared.map((p) => this.routeWrite(p, writeType, context, contextToken)));
    const warnings = results.flatMap((r) => r.warnings);
    return warnings.length === 0 ? NO_WARNINGS : { warnings };
  }

  /**
   * A logged batch over several partitions (Cassandra's `mutateAtomically`): stored in the
   * batch log of up to two other nodes first, then written as usual, then removed from the
   * logs; if this coordinator dies in between, a batch-log node replays it (src/batchlog).
   */
  private async writeLogged(
    mutations: readonly Mutation[],
    consistency: ConsistencyLevel,
    options: WriteOptions,
    batchlog: NonNullable<StorageProxyOptions['batchlog']>,
  ): Promise<WriteResult> {
    const logged = await writeLoggedBatch(mutations, consistency, {
      messaging: this.o.messaging,
      localStore: batchlog.store,
      self: this.o.self,
      datacenter: this.o.datacenter,
      rack: batchlog.rack,
      members: () => {
        const ring = this.o.ring();
        return ring.endpoints().map((endpoint) => ({ endpoint, datacenter: ring.location(endpoint)?.datacenter ?? '', rack: ring.location(endpoint)?.rack ?? '' }));
      },
      isAlive: this.alive,
      writeRequestTimeoutMs: this.o.writeRequestTimeoutMs,
      write: (m, cl) => this.write(m, cl, { ...options, logged: false }),
      checkAvailable: (m, cl) => {
        for (const mutation of m) this.prepareWrite(mutation, cl);
      },
      clock: this.o.clock,
      scheduler: this.o.scheduler,
      random: batchlog.random,
      logger: this.logger,
      counters: this.batchCounters,
    });
    return logged.result;
  }

  /**
   * The batch-log replayer's write: the mutations as they were logged, to every live replica,
   * without versioning them again. A replay repeats a write that may already have been applied;
   * its cells keep their timestamps, so applying it twice is harmless, and giving its rows new
   * dots would turn one write into two siblings.
   */
  async writeReplayed(mutations: readonly Mutation[], consistency: ConsistencyLevel): Promise<WriteResult> {
    const prepared = mutations.map((m) => this.prepareWrite(m, consistency));
    await Promise.all(prepared.map((p) => this.performWrite(p, 'BATCH', null)));
    return NO_WARNINGS;
  }

  /** Logged-batch counters, for metrics. */
  loggedBatchStats(): Readonly<LoggedBatchCounters> {
    return this.batchCounters;
  }

  /** A write's targets (natural and pending replicas), its level's requirement, and `Unavailable` if too few are alive. */
  private prepareWrite(mutation: Mutation, consistency: ConsistencyLevel): PreparedWrite {
    const replication = this.replicationOf(mutation.table);
    const replicas = this.writeReplicasOf(replication, mutation.update.token);
    const requirement = requirementFor(consistency, replication, replicas, this.o.datacenter, 'write');
    checkAvailable(requirement, replicas, this.alive);
    return { mutation, replicas, requirement };
  }

  /**
   * Where a write's rows get their versions: here when this node is a natural replica, else on
   * the closest live natural replica, which replicates and answers (VERSIONED_WRITE). A pending
   * replica never versions: it may not hold the row's history yet. Without any live natural
   * replica (ANY), the write goes out unversioned (and is hinted).
   */
  private routeWrite(prepared: PreparedWrite, writeType: WriteType, context: CausalContext | null, contextToken: string | null): Promise<WriteResult> {
    const natural = writeTargets(prepared.replicas, this.alive).live.filter((r) => r.pending !== true);
    if (natural.some((r) => r.endpoint === this.o.self)) return this.writeAsVersioningReplica(prepared, writeType, context);
    const versioner = [...natural].sort((a, b) => this.proximity(a.endpoint) - this.proximity(b.endpoint))[0];
    if (versioner === undefined) return this.performWrite(prepared, writeType, null).then(() => NO_WARNINGS);
    return this.forwardWrite(prepared, writeType, versioner.endpoint, contextToken);
  }

  /** This node versions the rows (reading its own state), applies, and replicates. */
  private async writeAsVersioningReplica(prepared: PreparedWrite, writeType: WriteType, context: CausalContext | null): Promise<WriteResult> {
    const { table, update } = prepared.mutation;
    const store = this.o.engine.table(table.id);
    if (store === undefined) {
      // This replica cannot serve the table (dropped, or its schema lags): a replica failure.
      this.logReplicaError('write', this.o.self, new UnknownTableError(table.id));
      const { consistency, blockFor } = prepared.requirement;
      throw new WriteFailure({ consistency, received: 0, blockFor, failures: 1 });
    }
    let warnings: readonly string[] = [];
    const build = (): PartitionUpdate => {
      const versioned = versionUpdate({
        tableId: table.id,
        mode: table.params.conflictResolution,
        update,
        context: table.params.conflictResolution === 'siblings' ? context : null,
        nodeId: this.o.hostId,
        currentVersion: (clustering) => store.readRowVersion(update.token, update.key, clustering),
      });
      warnings = versioned.warnings;
      return versioned.update;
    };
    await this.performWrite(prepared, writeType, { store, build });
    if (warnings.length > 0) this.logger.warn({ table: `${table.keyspace}.${table.name}`, warnings }, 'row with many siblings');
    return warnings.length === 0 ? NO_WARNINGS : { warnings };
  }

  /** Sends the write to `versioner`, a live replica, and relays its outcome. */
  private async forwardWrite(prepared: PreparedWrite, writeType: WriteType, versioner: Endpoint, contextToken: string | null): Promise<WriteResult> {
    const { table, update } = prepared.mutation;
    const { consistency, blockFor } = prepared.requirement;
    const payload = encodeVersionedWrite({ consistency, writeType, context: contextToken ?? '', tableId: table.id, update });
    let answer: Uint8Array;
    try {
      // The replica answers within its own write timeout; the margin covers the two hops.
      answer = await this.o.messaging.request(this.addressOf(versioner), Verb.VERSIONED_WRITE, payload, this.o.writeRequestTimeoutMs + FORWARD_MARGIN_MS);
    } catch (error) {
      this.logReplicaError('write', versioner, error);
      if (isReplicaFailure(error)) throw new WriteFailure({ consistency, received: 0, blockFor, failures: 1 });
      throw new WriteTimeout({ consistency, received: 0, blockFor, writeType });
    }
    const outcome = decodeVersionedWriteOutcome(answer);
    if (!outcome.ok) throw outcome.error;
    return outcome.warnings.length === 0 ? NO_WARNINGS : { warnings: outcome.warnings };
  }

  /**
   * VERSIONED_WRITE on the replica a coordinator chose: version, apply and replicate the write
   * at the coordinator's level, and answer with the outcome (client errors travel as SPEC 3.2
   * JSON so the coordinator can give its client the same error).
   */
  async serveVersionedWrite(payload: Uint8Array): Promise<Uint8Array> {
    const request = decodeVersionedWrite(payload);
    try {
      const table = this.o.tableById(request.tableId);
      if (table === undefined) throw new InvalidRequest(`unknown table ${request.tableId} on the replica (dropped, or the schema has not reached it)`);
      if (!isConsistencyLevel(request.consistency)) throw new InvalidRequest(`Unknown consistency level ${request.consistency}`);
      const prepared = this.prepareWrite({ table, update: request.update }, request.consistency);
      const context = request.context !== '' && table.params.conflictResolution === 'siblings' ? parseCausalContext(request.context) : null;
      const writeType: WriteType = request.writeType === 'UNLOGGED_BATCH' ? 'UNLOGGED_BATCH' : 'SIMPLE';
      const result = await this.writeAsVersioningReplica(prepared, writeType, context);
      return encodeVersionedWriteOutcome({ ok: true, warnings: result.warnings });
    } catch (error) {
      return encodeVersionedWriteOutcome({ ok: false, error: toRequestError(error) });
    }
  }

  // #region pattern:Majority Quorum
  /**
   * Sends the mutation to every live replica and waits for the level. With `versioning`, the
   * update is built (versioned) on this replica in the same turn as it is applied here, and what
   * it built is what the others receive; a build that throws (a refused write) fails the write.
   */
  private performWrite(prepared: PreparedWrite, writeType: WriteType, versioning: LocalVersioning | null): Promise<void> {
    const { live, down } = writeTargets(prepared.replicas, this.alive);
    const tally = new ResponseTally(prepared.requirement, live);
    const request = new WaitingRequest({
      tally,
      timeoutMs: this.o.writeRequestTimeoutMs,
      scheduler: this.o.scheduler,
      ready: () => tally.state() === 'succeeded',
      timeoutError: () => tally.timeoutError('write', writeType),
      failureError: () => tally.failureError('write'),
      onReplicaError: (endpoint, error) => this.logReplicaError('write', endpoint, error),
    });
    const { table } = prepared.mutation;
    // One encoding per write: the payload every peer receives, whose tail is also this
    // replica's commit-log record (replica-verbs.ts).
    const sendToPeers = (update: PartitionUpdate): Buffer | undefined => {
      let payload: Buffer | undefined;
      for (const target of live) {
        if (target.endpoint === this.o.self) continue;
        payload ??= encodeMutation(table.id, update);
        const sent = this.o.messaging.request(this.addressOf(target.endpoint), Verb.MUTATION, payload, this.o.writeRequestTimeoutMs);
        request.track(target.endpoint, sent, noop);
        if (this.o.hints !== undefined) {
          const bytes = payload;
          // Silence (not an error answer) by the write timeout: the replica gets a hint.
          sent.catch((error: unknown) => {
            if (!isReplicaFailure(error)) this.hint(null, target.endpoint, table.id, bytes, null);
          });
        }
      }
      if (this.o.hints !== undefined) {
        for (const target of down) {
          payload ??= encodeMutation(table.id, update);
          this.hint(request, target.endpoint, table.id, payload, this.o.hints.peers.downSinceMs(target.endpoint));
        }
      }
      return payload === undefined ? undefined : logRecordOfMutation(payload);
    };
    if (versioning !== null) {
      let built = false;
      const local = versioning.store.applyWith(versioning.build, (update) => {
        built = true;
        return sendToPeers(update);
      });
      // Refused before anything was sent (too many siblings, …): the client's error, not a replica failure.
      local.catch((error: unknown) => {
        if (!built) request.abort(error instanceof Error ? error : new Error(String(error)));
      });
      request.track(this.o.self, local, noop);
    } else {
      // Sent to the peers first: the local commit-log sync then overlaps their round trips.
      const logRecord = sendToPeers(prepared.mutation.update);
      if (live.some((r) => r.endpoint === this.o.self)) request.track(this.o.self, this.applyLocally(table.id, prepared.mutation.update, logRecord), noop);
    }
    request.evaluate();
    return request.promise;
  }
  // #endregion

  /**
   * Stores a hint of `payload` (the MUTATION bytes) for `endpoint` if hinted handoff allows it
   * (enabled, within the hint window, under the disk budget); a stored hint counts for ANY.
   */
  private hint(request: WaitingRequest | null, endpoint: Endpoint, tableId: string, payload: Buffer, downSinceMs: number | null): void {
    const hints = this.o.hints;
    const hostId = hints?.peers.hostIdOf(endpoint);
    if (hints === undefined || hostId === undefined) return;
    const target = { hostId, endpoint };
    if (!hints.service.shouldHint(target, downSinceMs)) return;
    hints.service.store(target, tableId, payload).then(
      (stored) => {
        if (stored) request?.hinted(endpoint);
      },
      (error: unknown) => this.logger.warn({ err: error, endpoint }, 'could not store a hint'),
    );
  }

  private applyLocally(tableId: string, update: PartitionUpdate, logRecord?: Buffer): Promise<void> {
    return applyMutation(this.o.engine, { tableId, update }, logRecord);
  }

  // ---- point reads ----

  async readPartition(table: TableMetadata, token: bigint, key: Buffer, slice: SliceQuery, consistency: ConsistencyLevel): Promise<Partition | null> {
    if (SYSTEM_KEYSPACES.has(table.keyspace)) return this.local.readPartition(table, token, key, slice);
    const started = this.o.clock.nowMicros();
    const partition = await this.readReplicated(table, token, key, slice, consistency);
    this.readLatencies.record(table.id, (this.o.clock.nowMicros() - started) / 1000);
    if (partition !== null) this.noteConflicts(table, [partition]);
    return partition;
  }

  private async readReplicated(table: TableMetadata, token: bigint, key: Buffer, slice: SliceQuery, consistency: ConsistencyLevel): Promise<Partition | null> {
    const replicas = this.replicasOf(table, token);
    const requirement = requirementFor(consistency, this.replicationOf(table), replicas, this.o.datacenter, 'read');
    const plan = planRead({
      requirement,
      replicas,
      isAlive: this.alive,
      localDc: this.o.datacenter,
      proximity: this.proximity,
      retry: this.speculativeRetryOf(table.params.speculativeRetry),
      latencyPercentileMs: (percentile) => this.readLatencyPercentileMs(table.id, percentile),
      readTimeoutMs: this.o.readRequestTimeoutMs,
    });
    // This node alone answers (ONE/LOCAL_ONE on a local replica, or RF 1 here): no tally, no
    // timer, no digest.
    if (plan.dataReplica === this.o.self && plan.digestReplicas.length === 0 && plan.speculation === null) {
      try {
        return readLocal(this.o.engine, { tableId: table.id, token, key, slice });
      } catch (err) {
        // The same answer a tally gives when its only replica fails.
        this.logReplicaError('read', this.o.self, err);
        throw new ReadFailure({ consistency: requirement.consistency, received: 0, blockFor: requirement.blockFor, failures: 1 });
      }
    }
    const read: PointRead = {
      table,
      command: { tableId: table.id, token, key, slice },
      requirement,
      plan,
      replicas,
      deadlineMs: this.o.clock.nowMs() + this.o.readRequestTimeoutMs,
      encodedCommand: null,
    };
    const first = await this.digestRound(read);
    let mismatch = false;
    for (const digest of first.digests.values()) if (!digest.equals(first.data.digest)) mismatch = true;
    if (!mismatch) return first.data.partition;
    this.counters.digestMismatches++;
    return this.resolveMismatch(read, first.speculationSent);
  }

  /** The data from the closest replica and digests from the others (plus a speculative one). */
  private async digestRound(read: PointRead): Promise<DigestRound> {
    const { plan } = read;
    let data: DataAnswer | null = null;
    const digests = new Map<Endpoint, Buffer>();
    let speculationSent = false;
    const tally = new ResponseTally(read.requirement, [plan.dataReplica, ...plan.digestReplicas].map((e) => this.infoOf(read, e)));
    const request = new WaitingRequest({
      tally,
      timeoutMs: this.remainingMs(read),
      scheduler: this.o.scheduler,
      ready: () => data !== null && tally.state() === 'succeeded',
      timeoutError: () => tally.timeoutError('read', undefined, data !== null),
      failureError: () => tally.failureError('read'),
      onReplicaError: (endpoint, error) => this.logReplicaError('read', endpoint, error),
    });
    // A second full answer (the speculative one and the slow one both arrived) is compared as a digest.
    const onData = (endpoint: Endpoint) => (answer: DataAnswer) => {
      if (data === null) data = answer;
      else digests.set(endpoint, answer.digest);
    };
    const sendDigest = (endpoint: Endpoint): void => request.track(endpoint, this.requestDigest(read, endpoint), (d) => digests.set(endpoint, d));
    request.track(plan.dataReplica, this.requestData(read, plan.dataReplica), onData(plan.dataReplica));
    for (const endpoint of plan.digestReplicas) sendDigest(endpoint);
    const speculation = plan.speculation;
    if (speculation !== null) {
      request.schedule(speculation.afterMs, () => {
        if (data !== null && tally.state() === 'succeeded') return;
        speculationSent = true;
        this.counters.speculativeReads++;
        tally.addTarget(this.infoOf(read, speculation.replica));
        if (speculativeRequestKind(data !== null) === 'data') request.track(speculation.replica, this.requestData(read, speculation.replica), onData(speculation.replica));
        else sendDigest(speculation.replica);
      });
    }
    request.evaluate();
    await request.promise;
    return { data: data!, digests, speculationSent };
  }

  /**
   * Digests differed: full data from every contacted replica, merged; the replicas whose answer
   * differs from the merge are repaired (blocking) before the merge is returned.
   */
  private async resolveMismatch(read: PointRead, speculationSent: boolean): Promise<Partition | null> {
    const endpoints = fullDataReadsAfterMismatch(read.plan, speculationSent);
    const answers = new Map<Endpoint, DataAnswer>();
    const tally = new ResponseTally(read.requirement, endpoints.map((e) => this.infoOf(read, e)));
    const request = new WaitingRequest({
      tally,
      timeoutMs: this.remainingMs(read),
      scheduler: this.o.scheduler,
      ready: () => tally.state() === 'succeeded',
      timeoutError: () => tally.timeoutError('read', undefined, answers.size > 0),
      failureError: () => tally.failureError('read'),
      onReplicaError: (endpoint, error) => this.logReplicaError('read', endpoint, error),
    });
    for (const endpoint of endpoints) request.track(endpoint, this.requestData(read, endpoint), (answer) => answers.set(endpoint, answer));
    request.evaluate();
    await request.promise;
    // The answers of this moment: later ones are neither merged nor repaired (Cassandra alike).
    const responses = [...answers];
    const { token, key, slice } = read.command;
    const merged = mergePartition(token, key, responses.map(([, answer]) => sourceOf(answer.partition)), slice, nowSeconds(this.o.clock));
    const mergedDigest = partitionDigest(merged).toString('hex');
    const stale = replicasToRepair(
      read.table.params.readRepair,
      responses.map(([endpoint, answer]) => ({ endpoint, digest: answer.digest.toString('hex') })),
      mergedDigest,
    );
    if (stale.length > 0 && merged !== null) await this.repair(read, merged, stale);
    return merged;
  }

  /** Blocking read repair: the merged partition to each stale replica; waits for every ack. */
  private repair(read: PointRead, merged: Partition, stale: readonly Endpoint[]): Promise<void> {
    this.counters.readRepairs += stale.length;
    this.logger.debug({ table: `${read.table.keyspace}.${read.table.name}`, stale }, 'read repair');
    const { consistency, blockFor } = read.requirement;
    let outstanding = stale.length;
    const received = (): number => Math.max(0, blockFor - outstanding);
    const payload = encodeMutation(read.table.id, merged);
    const timeoutMs = this.remainingMs(read);
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (error: Error | null): void => {
        if (done) return;
        done = true;
        timer.cancel();
        if (error === null) resolve();
        else reject(error);
      };
      const timer = this.o.scheduler.after(timeoutMs, () => finish(new ReadTimeout({ consistency, received: received(), blockFor, dataPresent: true })));
      for (const endpoint of stale) {
        const outcome =
          endpoint === this.o.self
            ? this.applyLocally(read.table.id, merged)
            : this.o.messaging.request(this.addressOf(endpoint), Verb.READ_REPAIR, payload, timeoutMs);
        outcome.then(
          () => {
            outstanding--;
            if (outstanding === 0) finish(null);
          },
          (error: unknown) => {
            if (!isReplicaFailure(error)) return;
            this.logReplicaError('read repair', endpoint, error);
            finish(new ReadFailure({ consistency, received: received(), blockFor, failures: 1 }));
          },
        );
      }
    });
  }

  /** A full data read from `endpoint`: local when it is this node. */
  private async requestData(read: PointRead, endpoint: Endpoint): Promise<DataAnswer> {
    if (endpoint === this.o.self) {
      const partition = readLocal(this.o.engine, read.command);
      return new DataAnswer(partition, () => partitionDigest(partition));
    }
    const bytes = await this.o.messaging.request(this.addressOf(endpoint), Verb.READ_DATA, this.encodedCommandOf(read), this.remainingMs(read));
    return new DataAnswer(decodeDataResponse(bytes), () => digestOfResponse(bytes));
  }

  private async requestDigest(read: PointRead, endpoint: Endpoint): Promise<Buffer> {
    if (endpoint === this.o.self) return partitionDigest(readLocal(this.o.engine, read.command));
    const bytes = await this.o.messaging.request(this.addressOf(endpoint), Verb.READ_DIGEST, this.encodedCommandOf(read), this.remainingMs(read));
    return decodeDigestResponse(bytes);
  }

  // ---- local only, for now ----

  /**
   * A page of a token range across the ring: every live node is asked for the same page and
   * the answers are merged (`range-read.ts`). A node that fails makes the page a `ReadFailure`.
   */
  async scanRange(table: TableMetadata, query: RangeScanQuery, consistency: ConsistencyLevel): Promise<RangeScanPage> {
    if (SYSTEM_KEYSPACES.has(table.keyspace)) return this.local.scanRange(table, query);
    const page = await this.scanReplicated(table, query, consistency);
    this.noteConflicts(table, page.partitions);
    return page;
  }

  /**
   * Counts the rows a read returns that hold concurrent versions (SPEC 6.6: a metric and a log
   * line; the CQL layer reports them to the client). The log is rate-limited: a hot conflicted
   * row is read over and over until a write resolves it.
   */
  private noteConflicts(table: TableMetadata, partitions: readonly Partition[]): void {
    let rows = 0;
    for (const partition of partitions) for (const row of partition.rows) if (row.version !== undefined && versionCount(row.version) > 1) rows++;
    if (rows === 0) return;
    this.counters.conflictsDetected += rows;
    this.conflictsSinceLog += rows;
    const now = this.o.clock.nowMs();
    if (now - this.lastConflictLogMs < CONFLICT_LOG_INTERVAL_MS) return;
    this.logger.info(
      { table: `${table.keyspace}.${table.name}`, conflictResolution: table.params.conflictResolution, rows: this.conflictsSinceLog },
      'read rows with concurrent versions (conflicts)',
    );
    this.lastConflictLogMs = now;
    this.conflictsSinceLog = 0;
  }

  private async scanReplicated(table: TableMetadata, query: RangeScanQuery, consistency: ConsistencyLevel): Promise<RangeScanPage> {
    const ring = this.o.ring();
    this.checkRangesAvailable(table, ring, consistency);
    const endpoints = ring.endpoints().filter((e) => e === this.o.self || this.o.isAlive(e));
    if (endpoints.length <= 1) return this.local.scanRange(table, query);
    const payload = encodeRangeCommand({ tableId: table.id, query });
    const results = await Promise.allSettled(
      endpoints.map(async (e) =>
        e === this.o.self ? this.local.scanRange(table, query) : decodeRangePage(await this.o.messaging.request(this.addressOf(e), Verb.RANGE_READ, payload, this.o.readRequestTimeoutMs)),
      ),
    );
    const pages: RangeScanPage[] = [];
    let failures = 0;
    for (const r of results) {
      if (r.status === 'fulfilled') pages.push(r.value);
      else {
        failures++;
        this.logReplicaError('range read', '?', r.reason);
      }
    }
    if (failures > 0) {
      // Silence (a timeout) is a ReadTimeout, an error answer a ReadFailure, as for point reads.
      const answered = results.some((r) => r.status === 'rejected' && isReplicaFailure(r.reason));
      if (answered) throw new ReadFailure({ consistency, received: pages.length, blockFor: endpoints.length, failures });
      throw new ReadTimeout({ consistency, received: pages.length, blockFor: endpoints.length, dataPresent: pages.length > 0 });
    }
    return mergeRangePages(pages, nowSeconds(this.o.clock));
  }

  /**
   * A range read asks every live node, which is at least the level everywhere, provided every
   * token range has enough live replicas for the level: otherwise `Unavailable` before
   * anything is sent, as for point reads.
   */
  private checkRangesAvailable(table: TableMetadata, ring: TokenMetadata, consistency: ConsistencyLevel): void {
    const replication = this.replicationOf(table);
    for (let i = 0; i < ring.size; i++) {
      const replicas = replicasFor(ring.rangeAt(i).end, replication, ring).map((endpoint) => ({ endpoint, datacenter: ring.location(endpoint)?.datacenter ?? '' }));
      checkAvailable(requirementFor(consistency, replication, replicas, this.o.datacenter, 'read'), replicas, this.alive);
    }
  }

  /**
   * TRUNCATE empties the table on every node of the ring, as Cassandra does, so it needs every
   * node up (`Unavailable` otherwise, before anything is truncated) and waits for each of them.
   */
  async truncate(table: TableMetadata): Promise<void> {
    if (SYSTEM_KEYSPACES.has(table.keyspace)) return this.local.truncate(table);
    const endpoints = this.o.ring().endpoints();
    const alive = endpoints.filter((e) => e === this.o.self || this.o.isAlive(e));
    if (alive.length < endpoints.length) throw new Unavailable('ALL', endpoints.length, alive.length);
    const payload = Buffer.from(table.id, 'utf8');
    const results = await Promise.allSettled(
      endpoints.map((e) => (e === this.o.self ? this.local.truncate(table) : this.o.messaging.request(this.addressOf(e), Verb.TRUNCATE, payload, this.o.writeRequestTimeoutMs))),
    );
    const failed = results.filter((r) => r.status === 'rejected').length;
    if (failed > 0) throw new WriteFailure({ consistency: 'ALL', received: endpoints.length - failed, blockFor: endpoints.length, failures: failed });
  }

  // ---- helpers ----

  private readonly retryByOption = new Map<string, ReturnType<typeof parseSpeculativeRetry>>();
  private readonly addresses = new PeerAddressCache();

  /** The table's `speculative_retry`, parsed once per distinct text (a handful per cluster). */
  private speculativeRetryOf(text: string): ReturnType<typeof parseSpeculativeRetry> {
    let retry = this.retryByOption.get(text);
    if (retry === undefined) {
      retry = parseSpeculativeRetry(text);
      this.retryByOption.set(text, retry);
    }
    return retry;
  }

  private replicationOf(table: TableMetadata): Replication {
    if (SYSTEM_KEYSPACES.has(table.keyspace)) throw new InvalidRequest(`Keyspace ${table.keyspace} is local to each node and cannot be written with other keyspaces`);
    const replication = this.o.replicationOf(table.keyspace);
    if (replication === undefined) throw new InvalidRequest(`Keyspace ${table.keyspace} does not exist`);
    return replication;
  }

  /** A token's natural replicas: what reads use. */
  private replicasOf(table: TableMetadata, token: bigint): ReplicaInfo[] {
    const ring = this.o.ring();
    return replicasFor(token, this.replicationOf(table), ring).map((endpoint) => ({ endpoint, datacenter: ring.location(endpoint)?.datacenter ?? '' }));
  }

  /** A token's natural replicas, then its pending ones (marked `pending`): what writes use. */
  private writeReplicasOf(replication: Replication, token: bigint): ReplicaInfo[] {
    const ring = this.o.ring();
    const replicas: ReplicaInfo[] = replicasFor(token, replication, ring).map((endpoint) => ({ endpoint, datacenter: ring.location(endpoint)?.datacenter ?? '' }));
    const pending = this.o.pendingEndpoints?.(token, replication);
    if (pending === undefined || pending.length === 0) return replicas;
    for (const endpoint of pending) {
      // A natural replica is never also pending (pending-ranges.ts); listing it twice would count its ack twice.
      if (replicas.some((r) => r.endpoint === endpoint)) continue;
      const datacenter = ring.location(endpoint)?.datacenter ?? this.o.datacenterOf?.(endpoint) ?? '';
      replicas.push({ endpoint, datacenter, pending: true });
    }
    return replicas;
  }

  private encodedCommandOf(read: PointRead): Buffer {
    read.encodedCommand ??= encodeReadCommand(read.command);
    return read.encodedCommand;
  }

  private addressOf(endpoint: Endpoint): PeerAddress {
    return this.addresses.get(endpoint);
  }


  private infoOf(read: PointRead, endpoint: Endpoint): ReplicaInfo {
    const info = read.replicas.find((r) => r.endpoint === endpoint);
    return info ?? { endpoint, datacenter: '' };
  }

  /** Time left before the read's deadline; at least 1 ms so a late round still times out cleanly. */
  private remainingMs(read: PointRead): number {
    return Math.max(1, read.deadlineMs - this.o.clock.nowMs());
  }

  private logReplicaError(operation: string, endpoint: Endpoint, error: unknown): void {
    this.logger.debug({ err: error, endpoint, operation }, 'replica answered with an error');
  }
}

const noop = (): void => undefined;


/** A replica's answer as a source of the storage merge (rows already in the slice's order). */
function sourceOf(partition: Partition | null): PartitionSource {
  if (partition === null) return { header: { rangeTombstones: [] }, rows: [][Symbol.iterator](), close: noop };
  return { header: partition, rows: partition.rows[Symbol.iterator](), close: noop };
}
