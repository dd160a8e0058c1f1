/**
 * What a membership change streams, from where to where, and running it.
 *
 * A change of the ring (a node joins, leaves or is removed) moves token ranges between
 * replicas; `planRangeMovements` (range-movement.ts) lists, per keyspace replication, every
 * range whose replica set changes and who gains and loses it. This module turns those
 * movements into transfers, one per (table, source, target) with all their ranges, by a
 * source policy per kind of change:
 *
 * - bootstrap: the joining node pulls each range from the replica that loses it (Cassandra's
 *   "consistent range movement"). A write acknowledged at QUORUM before the join is on a
 *   quorum of the old replicas; the new set is the old one minus the loser plus the joining
 *   node, so if the loser held the write the joining node receives it, and if not, the write
 *   is on a quorum of the replicas that stay. Streaming from any other replica could leave it
 *   on a single replica of the new set. When the loser is down, every live old replica sends
 *   (their union holds every QUORUM write) and the plan says it was not the consistent source.
 * - decommission: the leaving node is the loser of every range it moves and pushes each to
 *   the replicas that gain it.
 * - removenode: the loser is dead, so every live old replica sends to the gainers: only their
 *   union is sure to hold every write acknowledged at QUORUM.
 *
 * Transfers run at most `MAX_PARALLEL_TRANSFERS` at a time; each is retried with backoff
 * (streaming is idempotent: a page applied twice merges to the same data) and the whole run
 * fails, naming the transfer, when one still fails: never silently half-done.
 */
import type { Scheduler } from '../../runtime/clock.js';
import type { Endpoint, RingNode, TokenMetadata, TokenRange } from '../../ring/token-metadata.js';
import { TokenMetadata as Ring } from '../../ring/token-metadata.js';
import type { Replication } from '../../schema/schema.js';
import type { StreamResult } from '../../streaming/stream-messages.js';
import type { Logger } from '../../util/logger.js';
import { ringNodesOf } from './pending-ranges.js';
import { planRangeMovements, type RangeMovement } from './range-movement.js';

export const MAX_PARALLEL_TRANSFERS = 2;
export const TRANSFER_ATTEMPTS = 3;
const RETRY_BACKOFF_MS = 1000;

export interface ReplicatedTable {
  readonly id: string;
  /** `keyspace.table`, for logs and errors. */
  readonly name: string;
  readonly replication: Replication;
}

export interface Transfer {
  readonly tableId: string;
  readonly table: string;
  readonly source: Endpoint;
  readonly target: Endpoint;
  readonly ranges: readonly TokenRange[];
}

/** The streaming operation transfers use (StreamService.requestPush; source may be this node). */
export type RequestPush = (source: Endpoint, tableId: string, ranges: readonly TokenRange[], target: Endpoint) => Promise<StreamResult>;

export interface TransferTotals {
  readonly transfers: number;
  readonly ranges: number;
  readonly rows: number;
  readonly partitions: number;
  readonly bytes: number;
  readonly durationMs: number;
}

/** Chooses, for one changed range, which endpoints send it to which. */
export type SourcePolicy = (movement: RangeMovement) => ReadonlyArray<{ readonly source: Endpoint; readonly target: Endpoint }>;

/** The ring with `node` added (a joining node's view of the ring it will be part of). */
export function ringWith(ring: TokenMetadata, node: RingNode): TokenMetadata {
  return Ring.build([...ringNodesOf(ring).filter((n) => n.endpoint !== node.endpoint), node]);
}

/** The ring without `endpoint` (after it leaves or is removed). */
export function ringWithout(ring: TokenMetadata, endpoint: Endpoint): TokenMetadata {
  return Ring.build(ringNodesOf(ring).filter((n) => n.endpoint !== endpoint));
}

export const sourcePolicies = {
  /** `self` joins: pull from the replica losing each range, or from every live old replica. */
  bootstrap(self: Endpoint, isUp: (e: Endpoint) => boolean, onInconsistent: (m: RangeMovement) => void): SourcePolicy {
    return (m) => {
      if (!m.gained.includes(self)) return [];
      const losers = m.lost.filter(isUp);
      if (losers.length > 0) return losers.slice(0, 1).map((source) => ({ source, target: self }));
      onInconsistent(m);
      return m.before.filter((e) => e !== self && isUp(e)).map((source) => ({ source, target: self }));
    };
  },
  /** `self` leaves: push every range it loses to each replica gaining it. */
  decommission(self: Endpoint): SourcePolicy {
    return (m) => (m.lost.includes(self) ? m.gained.map((target) => ({ source: self, target })) : []);
  },
  /** `dead` is removed: every live surviving old replica sends to each gainer. */
  removenode(dead: Endpoint, isUp: (e: Endpoint) => boolean): SourcePolicy {
    return (m) => {
      if (!m.lost.includes(dead)) return [];
      const survivors = m.before.filter((e) => e !== dead && isUp(e));
      return m.gained.flatMap((target) => survivors.filter((s) => s !== target).map((source) => ({ source, target })));
    };
  },
};

/** One transfer per (table, source, target), ranges in ring order. */
export function planTransfers(tables: readonly ReplicatedTable[], before: TokenMetadata, after: TokenMetadata, policy: SourcePolicy): Transfer[] {
  const byReplication = new Map<string, RangeMovement[]>();
  const out: Transfer[] = [];
  for (const table of tables) {
    const key = JSON.stringify(table.replication);
    let movements = byReplication.get(key);
    if (movements === undefined) {
      movements = planRangeMovements(before, after, table.replication);
      byReplication.set(key, movements);
    }
    const grouped = new Map<string, { source: Endpoint; target: Endpoint; ranges: TokenRange[] }>();
    for (const m of movements) {
      for (const { source, target } of policy(m)) {
        const k = `${source}>${target}`;
        if (!grouped.has(k)) grouped.set(k, { source, target, ranges: [] });
        grouped.get(k)!.ranges.push(m.range);
      }
    }
    for (const g of grouped.values()) out.push({ tableId: table.id, table: table.name, ...g });
  }
  return out;
}

export interface RunTransfersOptions {
  readonly requestPush: RequestPush;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly nowMs: () => number;
  /** What the transfers are for, in log lines ("bootstrap", "decommission", …). */
  readonly purpose: string;
}

/** Runs every transfer (bounded parallelism, retries); rejects naming the first that failed for good. */
export async function runTransfers(transfers: readonly Transfer[], o: RunTransfersOptions): Promise<TransferTotals> {
  const started = o.nowMs();
  const totals = { rows: 0, partitions: 0, bytes: 0 };
  const queue = [...transfers];
  let failure: Error | null = null;
  const worker = async (): Promise<void> => {
    for (let t = queue.shift(); t !== undefined && failure === null; t = queue.shift()) {
      try {
        const result = await withRetries(t, o);
        totals.rows += result.rows;
        totals.partitions += result.partitions;
        totals.bytes += result.bytes;
      } catch (err) {
        failure ??= new Error(`${o.purpose}: streaming ${t.table} (${t.ranges.length} ranges) from ${t.source} to ${t.target} failed after ${TRANSFER_ATTEMPTS} attempts: ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(MAX_PARALLEL_TRANSFERS, queue.length) }, worker));
  if (failure !== null) throw failure;
  const ranges = transfers.reduce((n, t) => n + t.ranges.length, 0);
  return { transfers: transfers.length, ranges, ...totals, durationMs: o.nowMs() - started };
}

async function withRetries(t: Transfer, o: RunTransfersOptions): Promise<StreamResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await o.requestPush(t.source, t.tableId, t.ranges, t.target);
      o.logger.info({ purpose: o.purpose, table: t.table, source: t.source, target: t.target, ranges: t.ranges.length, rows: result.rows, bytes: result.bytes }, 'ranges streamed');
      return result;
    } catch (err) {
      if (attempt >= TRANSFER_ATTEMPTS) throw err;
      o.logger.warn({ err, purpose: o.purpose, table: t.table, source: t.source, target: t.target, attempt }, 'streaming ranges failed; retrying');
      await sleep(o.scheduler, RETRY_BACKOFF_MS * attempt);
    }
  }
}

export function sleep(scheduler: Scheduler, ms: number): Promise<void> {
  return new Promise((resolve) => scheduler.after(ms, resolve));
}
