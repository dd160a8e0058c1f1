/**
 * Anti-entropy repair (`ringtail repair`, `POST /v1/admin/repair`): make every replica of every
 * token range hold the same data, comparing them by Merkle trees and streaming only the ranges
 * where they differ. Cassandra: `nodetool repair -full` (`RepairCoordinator`, `RepairSession`,
 * `RepairJob`, `ValidationManager`, `SyncTask`). Pattern: Merkle Tree (Joshi, *Patterns of
 * Distributed Systems*), Dynamo §4.7.
 *
 * Both halves live here:
 * - Replica: MERKLE_TREE_REQUEST (repair-messages.ts). The replica keeps a flushed snapshot of
 *   the table out of compaction (`retainSstables`, released in `finally`) and runs the job in a
 *   validation worker thread (validation-client.ts): partition estimates of ranges, or their
 *   trees at the depths the coordinator chose.
 * - Coordinator (`repair`): the node asked repairs the whole ring, every range of every table of
 *   the keyspace(s) with RF > 1, as `nodetool repair -full` run on every node's primary ranges
 *   would. Per table: (1) the live replicas of each range (fewer than two: skipped, and a DOWN
 *   replica is named in the report); (2) partition estimates from each replica, the largest
 *   picking each range's depth, so every replica builds a tree of the same shape; (3) per batch
 *   of ranges (repair-plan.ts `batchByLeaves`), one tree request per replica, this node's own
 *   answered locally without the network, the replicas one after the other unless
 *   `parallelValidations` (one validation's CPU at a time spares the foreground load), the
 *   trees' inner nodes hashed a slice per event-loop turn; (4) per range, replicas grouped by
 *   identical trees and the differing sub-ranges planned as transfers between groups
 *   (`planRangeSync`); (5) the
 *   transfers run one after the other through streaming (`StreamService.requestPush`), so a
 *   repair adds one stream at a time to the cluster's foreground load.
 *
 * Invariants
 * - At most one repair runs per node at a time: a second `repair` is refused (InvalidRequest).
 * - Every tree of one range has the range and depth the coordinator asked for (the answer is
 *   checked), so trees always compare node by node.
 * - A replica that fails a request (error, timeout) is left out of the rest of that table's
 *   repair and the report lists the failure; the other replicas are still compared and synced.
 *   A failed push is listed too. The repair itself only fails (rejects) on a bug.
 * - Writes during a repair may make trees differ (the snapshots are taken at slightly different
 *   times); the extra rows streamed are harmless, merging being idempotent.
 *
 * Bounds: replica side, MAX_CONCURRENT_VALIDATIONS validations at once and
 * MAX_QUEUED_VALIDATIONS waiting (more are refused); coordinator side, one batch of trees per
 * replica in memory (at most the leaf budget each), requests bounded by the timeouts of
 * limits.ts, at most MAX_REPORTED_FAILURES failures listed.
 */
import { UnknownTableError } from '../coordinator/replica-verbs.js';
import { InvalidRequest } from '../errors.js';
import type { MessagingService } from '../messaging/messaging-service.js';
import { PeerAddressCache, type PeerAddress } from '../messaging/peer.js';
import { Verb } from '../messaging/verbs.js';
import { totalReplicationFactor } from '../ring/replication-strategy.js';
import type { Endpoint, TokenMetadata, TokenRange } from '../ring/token-metadata.js';
import type { Clock, Scheduler } from '../runtime/clock.js';
import { SYSTEM_KEYSPACES, type Replication } from '../schema/schema.js';
import type { StreamService } from '../streaming/stream-service.js';
import type { Logger } from '../util/logger.js';
import {
  checkRepairLimits,
  DEFAULT_ESTIMATE_TIMEOUT_MS,
  DEFAULT_PUSH_TIMEOUT_MS,
  DEFAULT_TREE_REQUEST_TIMEOUT_MS,
  INNER_HASHES_PER_TURN,
  leafBudgetFor,
  MAX_CONCURRENT_VALIDATIONS,
  MAX_QUEUED_VALIDATIONS,
  MAX_RANGES_PER_PUSH,
  MAX_RANGES_PER_REQUEST,
  MAX_REPORTED_FAILURES,
} from './limits.js';
import type { MerkleTree } from './merkle-tree.js';
import {
  decodeAnsweredTree,
  decodeEstimateResponse,
  decodeTreeRequest,
  encodeEstimateResponse,
  encodeTreeRequest,
  encodeTreesResponse,
  splitTreesResponse,
} from './repair-messages.js';
import { batchByLeaves, chooseDepth, depthCapFor, planRangeSync, ringRanges, type ReplicatedRange } from './repair-plan.js';
import { WorkerValidationRunner, type ValidationRunner } from './validation-client.js';
import type { RangeDepth } from './validation.js';

const MIB = 1024 * 1024;

/** The schema as repair reads it (`Schema` fits). */
export interface RepairSchema {
  readonly keyspaces: ReadonlyMap<
    string,
    { readonly name: string; readonly replication: Replication; readonly tables: ReadonlyMap<string, { readonly name: string; readonly id: string }> }
  >;
}

/** A table's storage as a replica needs it (`StorageEngine` fits). */
export interface RepairStorage {
  table(id: string): { retainSstables(): Promise<{ readonly paths: readonly string[]; release(): void }> } | undefined;
}

export interface RepairServiceOptions {
  readonly messaging: Pick<MessagingService, 'registerHandler' | 'request'>;
  readonly storage: RepairStorage;
  readonly streams: Pick<StreamService, 'requestPush'>;
  readonly schema: () => RepairSchema;
  readonly ring: () => TokenMetadata;
  readonly isAlive: (endpoint: Endpoint) => boolean;
  /** This node's endpoint (`host:port`); a function when known only once messaging listens. */
  readonly self: Endpoint | (() => Endpoint);
  /** compaction_throughput_mb_per_s: validation reads are throttled like compaction; 0 = unthrottled. */
  readonly validationThroughputMbPerS: number;
  /** internode_max_message_bytes: a tree answer must fit one frame. */
  readonly maxMessageBytes: number;
  readonly clock: Clock;
  /** Lets I/O in between the trees a coordinator decodes and compares. */
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  /** Worker threads by default; tests may run validations in-thread. */
  readonly validations?: ValidationRunner;
  /**
   * Replicas build their trees of a batch at the same time (Cassandra's parallel repair) when
   * true; one after the other (its sequential repair) by default, so that at any moment one
   * replica of the batch carries the validation load: on a small cluster, or several nodes
   * sharing a machine, that keeps foreground latency down, at the cost of a longer repair.
   */
  readonly parallelValidations?: boolean;
  readonly estimateTimeoutMs?: number;
  readonly treeRequestTimeoutMs?: number;
  readonly pushTimeoutMs?: number;
}

export interface RepairRequest {
  readonly keyspace?: string | undefined;
  readonly table?: string | undefined;
}

/** One table's outcome (snake_case: it is the HTTP answer). */
export interface RepairTableReport {
  readonly keyspace: string;
  readonly table: string;
  readonly ranges_compared: number;
  readonly ranges_mismatched: number;
  readonly ranges_skipped: number;
  readonly rows_streamed: number;
  readonly partitions_streamed: number;
  readonly bytes_streamed: number;
  readonly transfers: number;
  /** Estimates, trees and their comparison. */
  readonly validation_ms: number;
  readonly streaming_ms: number;
  readonly duration_ms: number;
}

export interface RepairReport {
  /** Keyspaces repaired (RF > 1), sorted. */
  readonly keyspaces: string[];
  /** Keyspaces named or found but not repaired, with why (`ks: replication factor 1`). */
  readonly keyspaces_skipped: string[];
  readonly tables: number;
  readonly ranges_compared: number;
  readonly ranges_mismatched: number;
  readonly ranges_skipped: number;
  readonly rows_streamed: number;
  readonly partitions_streamed: number;
  readonly bytes_streamed: number;
  readonly transfers: number;
  /** Replicas the failure detector called DOWN when their ranges were repaired, sorted. */
  readonly replicas_down: string[];
  /** Requests and pushes that failed (at most MAX_REPORTED_FAILURES listed). */
  readonly failures: string[];
  readonly duration_ms: number;
  readonly tables_detail: RepairTableReport[];
}

interface TableTarget {
  readonly keyspace: string;
  readonly table: string;
  readonly tableId: string;
  readonly ranges: readonly ReplicatedRange[];
}

/** A counting semaphore with a bounded queue, for validations on this replica. */
class ValidationSlots {
  private held = 0;
  private readonly waiting: (() => void)[] = [];

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.held >= MAX_CONCURRENT_VALIDATIONS) {
      if (this.waiting.length >= MAX_QUEUED_VALIDATIONS) throw new Error(`too many repair validations waiting (${MAX_QUEUED_VALIDATIONS})`);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.held++;
    }
    try {
      return await job();
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.held--;
    }
  }
}

/** The running totals of one table's repair. */
class TableTally {
  compared = 0;
  mismatched = 0;
  skipped = 0;
  rows = 0;
  partitions = 0;
  bytes = 0;
  transfers = 0;
}

export class RepairService {
  private readonly log: Logger;
  private readonly validations: ValidationRunner;
  private readonly slots = new ValidationSlots();
  private readonly leafBudget: number;
  private readonly addresses = new PeerAddressCache();
  private running = false;
  private closed = false;

  constructor(private readonly o: RepairServiceOptions) {
    checkRepairLimits();
    this.log = o.logger.child({ component: 'repair' });
    this.validations = o.validations ?? new WorkerValidationRunner();
    this.leafBudget = leafBudgetFor(o.maxMessageBytes);
    o.messaging.registerHandler(Verb.MERKLE_TREE_REQUEST, async (from, payload) => {
      try {
        return await this.serve(payload);
      } catch (err) {
        this.log.warn({ err, from: from.hostId }, 'merkle tree request not served');
        throw err;
      }
    });
  }

  private get self(): Endpoint {
    return typeof this.o.self === 'function' ? this.o.self() : this.o.self;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Stops validations in progress (their requests fail) and refuses new ones. */
  async close(): Promise<void> {
    this.closed = true;
    await this.validations.close();
  }

  // ---- the replica's side -------------------------------------------------------------------

  /** Answers one MERKLE_TREE_REQUEST payload (from a peer, or from this node as coordinator). */
  async serve(payload: Uint8Array): Promise<Uint8Array> {
    const request = decodeTreeRequest(payload);
    if (this.closed) throw new Error('the repair service is stopped');
    const table = this.o.storage.table(request.tableId);
    if (table === undefined) throw new UnknownTableError(request.tableId);
    return this.slots.run(async () => {
      const held = await table.retainSstables();
      try {
        if (request.kind === 'estimate') {
          return encodeEstimateResponse(await this.validations.estimate({ paths: held.paths, ranges: request.ranges }));
        }
        const throughputBytesPerS = this.o.validationThroughputMbPerS * MIB;
        const built = await this.validations.build({ paths: held.paths, ranges: request.ranges, throughputBytesPerS });
        this.log.debug({ tableId: request.tableId, ranges: request.ranges.length, entries: built.entries, bytesRead: built.bytesRead }, 'merkle trees built');
        return encodeTreesResponse(built.trees);
      } finally {
        held.release();
      }
    });
  }

  // ---- the coordinator's side ---------------------------------------------------------------

  /**
   * Repairs every table of `keyspace` (every non-system keyspace when absent), or one `table`
   * of it; see the module header. Unknown names and a repair already running are InvalidRequest.
   */
  async repair(request: RepairRequest = {}): Promise<RepairReport> {
    if (this.running) throw new InvalidRequest('a repair is already running on this node');
    if (this.closed) throw new InvalidRequest('the node is stopping');
    const { targets, keyspaces, skipped } = this.selectTables(request);
    this.running = true;
    try {
      return await this.run(targets, keyspaces, skipped);
    } finally {
      this.running = false;
    }
  }

  private selectTables(request: RepairRequest): { targets: TableTarget[]; keyspaces: string[]; skipped: string[] } {
    if (request.table !== undefined && request.keyspace === undefined) throw new InvalidRequest('a table to repair needs its keyspace');
    const schema = this.o.schema();
    let names: string[];
    if (request.keyspace !== undefined) {
      if (SYSTEM_KEYSPACES.has(request.keyspace)) throw new InvalidRequest(`Keyspace '${request.keyspace}' is local to each node: nothing to repair`);
      if (!schema.keyspaces.has(request.keyspace)) throw new InvalidRequest(`Keyspace '${request.keyspace}' does not exist`);
      names = [request.keyspace];
    } else {
      names = [...schema.keyspaces.keys()].filter((k) => !SYSTEM_KEYSPACES.has(k)).sort();
    }
    const ring = this.o.ring();
    const targets: TableTarget[] = [];
    const keyspaces: string[] = [];
    const skipped: string[] = [];
    for (const name of names) {
      const keyspace = schema.keyspaces.get(name)!;
      let tables = [...keyspace.tables.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      if (request.table !== undefined) {
        tables = tables.filter((t) => t.name === request.table);
        if (tables.length === 0) throw new InvalidRequest(`Table '${name}.${request.table}' does not exist`);
      }
      const rf = totalReplicationFactor(keyspace.replication);
      if (rf <= 1) {
        skipped.push(`${name}: replication factor ${rf}`);
        continue;
      }
      keyspaces.push(name);
      const ranges = ringRanges(ring, keyspace.replication);
      for (const t of tables) targets.push({ keyspace: name, table: t.name, tableId: t.id, ranges });
    }
    return { targets, keyspaces, skipped };
  }

  private async run(targets: readonly TableTarget[], keyspaces: string[], keyspacesSkipped: string[]): Promise<RepairReport> {
    const startedMs = this.o.clock.nowMs();
    this.log.info({ keyspaces, tables: targets.length, skipped: keyspacesSkipped }, 'repair started');
    const down = new Set<Endpoint>();
    const failures: string[] = [];
    const details: RepairTableReport[] = [];
    for (const target of targets) details.push(await this.repairTable(target, down, failures));
    const sum = (f: (d: RepairTableReport) => number): number => details.reduce((n, d) => n + f(d), 0);
    const report: RepairReport = {
      keyspaces,
      keyspaces_skipped: keyspacesSkipped,
      tables: details.length,
      ranges_compared: sum((d) => d.ranges_compared),
      ranges_mismatched: sum((d) => d.ranges_mismatched),
      ranges_skipped: sum((d) => d.ranges_skipped),
      rows_streamed: sum((d) => d.rows_streamed),
      partitions_streamed: sum((d) => d.partitions_streamed),
      bytes_streamed: sum((d) => d.bytes_streamed),
      transfers: sum((d) => d.transfers),
      replicas_down: [...down].sort(),
      failures: failures.slice(0, MAX_REPORTED_FAILURES),
      duration_ms: this.o.clock.nowMs() - startedMs,
      tables_detail: details,
    };
    if (failures.length > MAX_REPORTED_FAILURES) report.failures.push(`… and ${failures.length - MAX_REPORTED_FAILURES} more failures`);
    const { tables_detail: _, ...summary } = report;
    if (failures.length > 0 || down.size > 0) this.log.warn(summary, 'repair finished incomplete');
    else this.log.info(summary, 'repair finished');
    return report;
  }

  private async repairTable(target: TableTarget, down: Set<Endpoint>, failures: string[]): Promise<RepairTableReport> {
    const startedMs = this.o.clock.nowMs();
    const tally = new TableTally();
    const failed = new Set<Endpoint>();
    const fail = (what: string) => (endpoint: Endpoint, err: unknown): void => {
      failed.add(endpoint);
      failures.push(`${target.keyspace}.${target.table}: ${what} ${endpoint}: ${err instanceof Error ? err.message : String(err)}`);
      this.log.warn({ err, endpoint, keyspace: target.keyspace, table: target.table }, `repair: ${what} failed`);
    };

    const live = this.liveRanges(target.ranges, down, tally);
    const estimates = await this.estimate(target.tableId, live, fail('estimate from'));
    const depthCap = depthCapFor(this.leafBudget);
    const planned = live.map((r, i) => ({ ...r, depth: chooseDepth(estimates[i] ?? 0, r.range, depthCap) }));
    const transfers = new Map<string, { source: Endpoint; target: Endpoint; ranges: TokenRange[] }>();
    for (const batch of batchByLeaves(planned, this.leafBudget, MAX_RANGES_PER_REQUEST)) {
      const trees = await this.requestTrees(target.tableId, batch, failed, fail('merkle trees from'));
      await this.compareBatch(batch, trees, tally, transfers);
    }
    const validatedMs = this.o.clock.nowMs();
    for (const t of transfers.values()) await this.stream(target, t, tally, failures);

    const detail: RepairTableReport = {
      keyspace: target.keyspace,
      table: target.table,
      ranges_compared: tally.compared,
      ranges_mismatched: tally.mismatched,
      ranges_skipped: tally.skipped,
      rows_streamed: tally.rows,
      partitions_streamed: tally.partitions,
      bytes_streamed: tally.bytes,
      transfers: tally.transfers,
      validation_ms: validatedMs - startedMs,
      streaming_ms: this.o.clock.nowMs() - validatedMs,
      duration_ms: this.o.clock.nowMs() - startedMs,
    };
    this.log.info(detail, 'repair: table done');
    return detail;
  }

  /** The ranges with at least two live replicas (the others are skipped); DOWN replicas go to `down`. */
  private liveRanges(ranges: readonly ReplicatedRange[], down: Set<Endpoint>, tally: TableTally): ReplicatedRange[] {
    const live: ReplicatedRange[] = [];
    for (const r of ranges) {
      const alive = r.replicas.filter((e) => e === this.self || this.o.isAlive(e));
      for (const e of r.replicas) if (!alive.includes(e)) down.add(e);
      if (alive.length < 2) tally.skipped++;
      else live.push({ range: r.range, replicas: alive });
    }
    return live;
  }

  /** Compares the trees of each range of a batch and adds the transfers they call for. */
  private async compareBatch(
    batch: ReadonlyArray<ReplicatedRange>,
    trees: ReadonlyMap<Endpoint, ReadonlyMap<number, MerkleTree>>,
    tally: TableTally,
    transfers: Map<string, { source: Endpoint; target: Endpoint; ranges: TokenRange[] }>,
  ): Promise<void> {
    for (const [i, r] of batch.entries()) {
      const answered = r.replicas.flatMap((endpoint) => {
        const tree = trees.get(endpoint)?.get(i);
        return tree === undefined ? [] : [{ endpoint, tree }];
      });
      if (answered.length < 2) {
        tally.skipped++;
        continue;
      }
      tally.compared++;
      const sync = planRangeSync(answered);
      if (sync.groups.length > 1) tally.mismatched++;
      for (const t of sync.transfers) {
        const key = `${t.source} ${t.target}`;
        const entry = transfers.get(key) ?? { source: t.source, target: t.target, ranges: [] };
        entry.ranges.push(...t.ranges);
        transfers.set(key, entry);
      }
      // Walking the trees of a range costs up to a comparison per node: let I/O in.
      await this.o.scheduler.yieldToIo();
    }
  }

  /** One transfer, in pushes of at most MAX_RANGES_PER_PUSH ranges; the first failure ends it. */
  private async stream(target: TableTarget, t: { source: Endpoint; target: Endpoint; ranges: readonly TokenRange[] }, tally: TableTally, failures: string[]): Promise<void> {
    for (let i = 0; i < t.ranges.length; i += MAX_RANGES_PER_PUSH) {
      const ranges = t.ranges.slice(i, i + MAX_RANGES_PER_PUSH);
      try {
        const result = await this.o.streams.requestPush(t.source, target.tableId, ranges, t.target, this.o.pushTimeoutMs ?? DEFAULT_PUSH_TIMEOUT_MS);
        tally.rows += result.rows;
        tally.partitions += result.partitions;
        tally.bytes += result.bytes;
        tally.transfers++;
      } catch (err) {
        failures.push(`${target.keyspace}.${target.table}: streaming ${ranges.length} ranges from ${t.source} to ${t.target}: ${err instanceof Error ? err.message : String(err)}`);
        this.log.warn({ err, source: t.source, target: t.target, keyspace: target.keyspace, table: target.table }, 'repair: stream failed');
        return;
      }
    }
  }

  /** The largest partition estimate of each range among its replicas (0 when none answered). */
  private async estimate(tableId: string, ranges: readonly ReplicatedRange[], onFailure: (endpoint: Endpoint, err: unknown) => void): Promise<number[]> {
    const best = ranges.map(() => 0);
    await Promise.all(
      [...indexByEndpoint(ranges)].map(async ([endpoint, indexes]) => {
        try {
          for (let i = 0; i < indexes.length; i += MAX_RANGES_PER_REQUEST) {
            const chunk = indexes.slice(i, i + MAX_RANGES_PER_REQUEST);
            const payload = encodeTreeRequest({ kind: 'estimate', tableId, ranges: chunk.map((k) => ranges[k]!.range) });
            const answer = await this.ask(endpoint, payload, this.o.estimateTimeoutMs ?? DEFAULT_ESTIMATE_TIMEOUT_MS);
            decodeEstimateResponse(answer, chunk.length).forEach((partitions, j) => {
              best[chunk[j]!] = Math.max(best[chunk[j]!]!, partitions);
            });
          }
        } catch (err) {
          onFailure(endpoint, err);
        }
      }),
    );
    return best;
  }

  /** Per endpoint, its trees of the batch by index in the batch; failed endpoints are left out. */
  private async requestTrees(
    tableId: string,
    batch: ReadonlyArray<ReplicatedRange & RangeDepth>,
    failed: Set<Endpoint>,
    onFailure: (endpoint: Endpoint, err: unknown) => void,
  ): Promise<Map<Endpoint, Map<number, MerkleTree>>> {
    const out = new Map<Endpoint, Map<number, MerkleTree>>();
    const requests = [...indexByEndpoint(batch)]
      .filter(([endpoint]) => !failed.has(endpoint))
      .map(([endpoint, indexes]) => async (): Promise<void> => {
        try {
          out.set(endpoint, await this.fetchTrees(endpoint, tableId, batch, indexes));
        } catch (err) {
          onFailure(endpoint, err);
        }
      });
    if (this.o.parallelValidations === true) await Promise.all(requests.map((request) => request()));
    else for (const request of requests) await request();
    return out;
  }

  /** One replica's trees of the ranges `indexes` of `batch`, by index in the batch. */
  private async fetchTrees(endpoint: Endpoint, tableId: string, batch: ReadonlyArray<RangeDepth>, indexes: readonly number[]): Promise<Map<number, MerkleTree>> {
    const requested = indexes.map((i) => ({ range: batch[i]!.range, depth: batch[i]!.depth }));
    const answer = await this.ask(endpoint, encodeTreeRequest({ kind: 'trees', tableId, ranges: requested }), this.o.treeRequestTimeoutMs ?? DEFAULT_TREE_REQUEST_TIMEOUT_MS);
    const trees = new Map<number, MerkleTree>();
    for (const [j, bytes] of splitTreesResponse(answer, requested.length).entries()) {
      const tree = decodeAnsweredTree(bytes, requested[j]!);
      // Inner nodes cost a hash each: a slice per event-loop turn.
      while (!tree.hashInnerNodes(INNER_HASHES_PER_TURN)) await this.o.scheduler.yieldToIo();
      trees.set(indexes[j]!, tree);
    }
    return trees;
  }

  private ask(endpoint: Endpoint, payload: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    if (endpoint === this.self) return this.serve(payload);
    return this.o.messaging.request(this.addressOf(endpoint), Verb.MERKLE_TREE_REQUEST, payload, timeoutMs);
  }

  private addressOf(endpoint: Endpoint): PeerAddress {
    return this.addresses.get(endpoint);
  }

}

/** Per endpoint, the indexes of the ranges it replicates, in order. */
function indexByEndpoint(ranges: ReadonlyArray<ReplicatedRange>): Map<Endpoint, number[]> {
  const out = new Map<Endpoint, number[]>();
  ranges.forEach((r, i) => {
    for (const endpoint of r.replicas) {
      const list = out.get(endpoint);
      if (list === undefined) out.set(endpoint, [i]);
      else list.push(i);
    }
  });
  return out;
}
