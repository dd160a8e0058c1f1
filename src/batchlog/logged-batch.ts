/**
 * The coordinator side of a logged batch (`BEGIN BATCH … APPLY BATCH` without UNLOGGED): make
 * the batch durable on up to two other nodes, apply it through the normal write path, then
 * drop the batch-log entries. If the coordinator dies in between, a batch-log endpoint's
 * replayer (batchlog-replayer.ts) applies the batch: all of it happens eventually, or none.
 *
 * Cassandra: `StorageProxy.mutateAtomically`, `ReplicaPlans.forBatchlogWrite` and
 * `filterBatchlogEndpoints`, `BatchlogManager.store/remove`. Pattern (Joshi, *Patterns of
 * Distributed Systems*): Write-Ahead Log, kept on other nodes, so the intent outlives its writer.
 *
 * Steps and their outcomes:
 * 1. Choose the batch-log endpoints (`chooseBatchlogEndpoints`): up to two live nodes of this
 *    datacenter other than this one, from other racks first; this node alone when it is the
 *    only node of its datacenter; none alive → `Unavailable` (ONE, 1 required), or this node
 *    for consistency ANY, as Cassandra does. Send BATCH_STORE to each (this node's own log is
 *    written directly) and wait for all of them for `write_request_timeout_ms`: silence →
 *    `WriteTimeout` with `write_type` BATCH_LOG, an error answer (log full, corrupt) →
 *    `WriteFailure`; either way nothing was applied, and the entries that did get stored are
 *    removed at once (best effort; if a removal is lost, the batch is replayed: still atomic).
 * 2. Apply the mutations with the caller's write function at the request's consistency. A
 *    `WriteTimeout` there becomes `write_type` BATCH (the batch log will finish the job); an
 *    `Unavailable` means nothing was sent (StorageProxy checks every mutation before sending),
 *    so the entries are removed and the error returned; any other failure leaves the entries
 *    for the replayer.
 * 3. On success, BATCH_REMOVE to the endpoints, not awaited by the client: a lost removal only
 *    means one idempotent replay later.
 *
 * A batch whose mutations all touch one partition needs no log (`needsBatchlog`): it is one
 * write, atomic on each replica, as in Cassandra.
 *
 * Invariants: the batch is stored on every chosen endpoint before any mutation is sent;
 * removal is only sent once the write succeeded or was never attempted.
 * Bounds: at most MAX_BATCHLOG_ENDPOINTS endpoints; every wait ends at `writeRequestTimeoutMs`.
 */
import { parseEndpoint } from '../cluster/cluster-service.js';
import type { Mutation } from '../cql/data-path.js';
import type { ConsistencyLevel } from '../cql/request.js';
import { InvalidRequest, Unavailable, WriteFailure, WriteTimeout } from '../errors.js';
import { MessageTooLargeError, MessagingError, RemoteError } from '../messaging/errors.js';
import type { MessagingService } from '../messaging/messaging-service.js';
import { Verb } from '../messaging/verbs.js';
import type { Endpoint } from '../ring/token-metadata.js';
import type { Clock, Scheduler } from '../runtime/clock.js';
import type { Random } from '../runtime/random.js';
import { makeRandomUuid, uuidToBytes } from '../schema/timeuuid.js';
import type { Logger } from '../util/logger.js';
import { BATCH_ID_BYTES, batchIdString, encodeBatch, MAX_BATCH_MUTATIONS, type Batch, type BatchlogStore } from './batchlog-store.js';
import { encodeBatchRemove } from './batchlog-verbs.js';

/** Cassandra keeps each batch on two nodes: one survivor of a coordinator crash is enough. */
export const MAX_BATCHLOG_ENDPOINTS = 2;

/** A ring member as the endpoint choice needs it. */
export interface BatchlogMember {
  readonly endpoint: Endpoint;
  readonly datacenter: string;
  readonly rack: string;
}

export interface BatchlogEndpointChoice {
  readonly self: Endpoint;
  readonly datacenter: string;
  readonly rack: string;
  /** Every ring member (this node may or may not be listed). */
  readonly members: readonly BatchlogMember[];
  readonly isAlive: (endpoint: Endpoint) => boolean;
  readonly random: Random;
  /** The batch's consistency level: ANY may fall back to this node's own log. */
  readonly consistency: ConsistencyLevel;
}

// #region pattern:Write-Ahead Log (batch log endpoints)
/**
 * Up to two live nodes of this datacenter, other than this one, to keep the batch: from two
 * different racks other than this node's when there are enough of them (a rack failure then
 * loses at most one copy and not the coordinator's too), else from whatever racks there are.
 */
export function chooseBatchlogEndpoints(o: BatchlogEndpointChoice): Endpoint[] {
  const local = o.members.filter((m) => m.datacenter === o.datacenter && m.endpoint !== o.self);
  // Alone in its datacenter: the only copy it can make is its own.
  if (local.length === 0) return [o.self];
  const byRack = new Map<string, Endpoint[]>();
  let candidates = 0;
  for (const m of [...local].sort((a, b) => (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0))) {
    if (!o.isAlive(m.endpoint) || byRack.get(m.rack)?.includes(m.endpoint) === true) continue;
    if (!byRack.has(m.rack)) byRack.set(m.rack, []);
    byRack.get(m.rack)!.push(m.endpoint);
    candidates++;
  }
  if (candidates === 0) {
    if (o.consistency === 'ANY') return [o.self];
    throw new Unavailable('ONE', 1, 0);
  }
  if (candidates <= MAX_BATCHLOG_ENDPOINTS) return [...byRack.values()].flat();
  const sameRack = byRack.get(o.rack)?.length ?? 0;
  if (candidates - sameRack >= MAX_BATCHLOG_ENDPOINTS) byRack.delete(o.rack);
  if (byRack.size === 1) return shuffled([...byRack.values()][0]!, o.random).slice(0, MAX_BATCHLOG_ENDPOINTS);
  const racks = shuffled([...byRack.keys()].sort(), o.random).slice(0, MAX_BATCHLOG_ENDPOINTS);
  return racks.map((rack) => o.random.pick(byRack.get(rack)!));
}
// #endregion

function shuffled<T>(items: readonly T[], random: Random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.nextInt(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Whether the batch touches more than one partition, the only case that needs the log. */
export function needsBatchlog(mutations: readonly Mutation[]): boolean {
  if (mutations.length < 2) return false;
  const first = mutations[0]!;
  return mutations.some((m) => m.table.keyspace !== first.table.keyspace || m.update.token !== first.update.token || !m.update.key.equals(first.update.key));
}

/** Counters for metrics (plain numbers; the node registers them). */
export interface LoggedBatchCounters {
  /** Batches written through the batch log. */
  logged: number;
  /** Batch-log writes that timed out (BATCH_LOG) or were refused. */
  batchlogTimeouts: number;
  batchlogFailures: number;
  /** Removals that failed (each leaves one replay to do). */
  removeFailures: number;
}

export function newLoggedBatchCounters(): LoggedBatchCounters {
  return { logged: 0, batchlogTimeouts: 0, batchlogFailures: 0, removeFailures: 0 };
}

export interface LoggedBatchDeps<R = unknown> {
  readonly messaging: Pick<MessagingService, 'request'>;
  /** This node's batch log, written directly when this node is an endpoint. */
  readonly localStore: Pick<BatchlogStore, 'store' | 'remove'>;
  readonly self: Endpoint;
  readonly datacenter: string;
  readonly rack: string;
  /** The ring's members now, with their datacenters and racks. */
  readonly members: () => readonly BatchlogMember[];
  readonly isAlive: (endpoint: Endpoint) => boolean;
  readonly writeRequestTimeoutMs: number;
  /** The normal write path (StorageProxy.write). */
  readonly write: (mutations: readonly Mutation[], consistency: ConsistencyLevel) => Promise<R>;
  /** Throws `Unavailable` when the write could not be sent; called before the batch log is written. */
  readonly checkAvailable?: (mutations: readonly Mutation[], consistency: ConsistencyLevel) => void;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly random: Random;
  readonly logger: Logger;
  readonly counters?: LoggedBatchCounters;
}

export interface LoggedBatchResult<R = unknown> {
  /** What the write function returned (e.g. StorageProxy's WriteResult with its warnings). */
  readonly result: R;
  /** The batch id (a UUID string), or null when the batch needed no log. */
  readonly batchId: string | null;
  readonly endpoints: readonly Endpoint[];
  /** Settles (never rejects) once the BATCH_REMOVEs were answered or failed. */
  readonly removal: Promise<void>;
}

const DONE: Promise<void> = Promise.resolve();

/** Applies `mutations` atomically through the batch log (steps in the header). */
export async function writeLoggedBatch<R>(mutations: readonly Mutation[], consistency: ConsistencyLevel, deps: LoggedBatchDeps<R>): Promise<LoggedBatchResult<R>> {
  if (!needsBatchlog(mutations)) {
    const result = await deps.write(mutations, consistency);
    return { result, batchId: null, endpoints: [], removal: DONE };
  }
  if (mutations.length > MAX_BATCH_MUTATIONS) throw new InvalidRequest(`Batch too large: ${mutations.length} mutations, at most ${MAX_BATCH_MUTATIONS}`);
  deps.checkAvailable?.(mutations, consistency);
  const endpoints = chooseBatchlogEndpoints({
    self: deps.self,
    datacenter: deps.datacenter,
    rack: deps.rack,
    members: deps.members(),
    isAlive: deps.isAlive,
    random: deps.random,
    consistency,
  });
  const batch: Batch = {
    id: uuidToBytes(makeRandomUuid(deps.random.nextBytes(BATCH_ID_BYTES))),
    writtenAtMs: deps.clock.nowMs(),
    mutations: mutations.map((m) => ({ tableId: m.table.id, update: m.update })),
  };
  const counters = deps.counters ?? newLoggedBatchCounters();
  const log = deps.logger.child({ component: 'logged-batch', batchId: batchIdString(batch.id) });
  try {
    await storeOnEndpoints(batch, endpoints, deps);
  } catch (err) {
    if (err instanceof WriteTimeout) counters.batchlogTimeouts++;
    else counters.batchlogFailures++;
    void removeFromEndpoints(batch.id, endpoints, deps, counters, log);
    throw err;
  }
  counters.logged++;
  let result: R;
  try {
    result = await deps.write(mutations, consistency);
  } catch (err) {
    if (err instanceof Unavailable) {
      void removeFromEndpoints(batch.id, endpoints, deps, counters, log);
      throw err;
    }
    log.debug({ err }, 'logged batch write failed: the batch log will replay it');
    if (err instanceof WriteTimeout) throw new WriteTimeout({ ...err.info, writeType: 'BATCH' });
    throw err;
  }
  return { result, batchId: batchIdString(batch.id), endpoints, removal: removeFromEndpoints(batch.id, endpoints, deps, counters, log) };
}

/** Whether a failed request is an error answer (or can never succeed) rather than silence. */
function isFailure(error: unknown): boolean {
  if (error instanceof RemoteError || error instanceof MessageTooLargeError) return true;
  return !(error instanceof MessagingError);
}

/**
 * Stores the batch on every endpoint within the write timeout. Settles once: at the first error
 * answer (WriteFailure), when all acked, or when every endpoint answered or went silent and the
 * deadline can no longer change anything (WriteTimeout BATCH_LOG).
 */
function storeOnEndpoints(batch: Batch, endpoints: readonly Endpoint[], deps: LoggedBatchDeps<unknown>): Promise<void> {
  const blockFor = endpoints.length;
  const level = blockFor === 1 ? 'ONE' : 'TWO';
  const payload = encodeBatch(batch);
  return new Promise<void>((resolve, reject) => {
    let received = 0;
    let silent = 0;
    let done = false;
    const finish = (error: Error | null): void => {
      if (done) return;
      done = true;
      timer.cancel();
      if (error === null) resolve();
      else reject(error);
    };
    const timeout = (): WriteTimeout => new WriteTimeout({ consistency: level, received, blockFor, writeType: 'BATCH_LOG' });
    const timer = deps.scheduler.after(deps.writeRequestTimeoutMs, () => finish(timeout()));
    for (const endpoint of endpoints) {
      const sent =
        endpoint === deps.self
          ? deps.localStore.store(batch)
          : deps.messaging.request(parseEndpoint(endpoint), Verb.BATCH_STORE, payload, deps.writeRequestTimeoutMs);
      sent.then(
        () => {
          received++;
          if (received === blockFor) finish(null);
          else if (received + silent === blockFor) finish(timeout());
        },
        (error: unknown) => {
          if (isFailure(error)) {
            deps.logger.debug({ err: error, endpoint }, 'batch log store failed');
            finish(new WriteFailure({ consistency: level, received, blockFor, failures: 1 }));
            return;
          }
          silent++;
          if (received + silent === blockFor) finish(timeout());
        },
      );
    }
  });
}

async function removeFromEndpoints(id: Buffer, endpoints: readonly Endpoint[], deps: LoggedBatchDeps<unknown>, counters: LoggedBatchCounters, log: Logger): Promise<void> {
  const payload = encodeBatchRemove(id);
  await Promise.all(
    endpoints.map(async (endpoint) => {
      try {
        if (endpoint === deps.self) await deps.localStore.remove(id);
        else await deps.messaging.request(parseEndpoint(endpoint), Verb.BATCH_REMOVE, payload, deps.writeRequestTimeoutMs);
      } catch (err) {
        // Harmless: the entry is replayed later, and replay is idempotent.
        counters.removeFailures++;
        log.debug({ err, endpoint }, 'batch log remove failed');
      }
    }),
  );
}
