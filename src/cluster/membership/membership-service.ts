/**
 * Membership changes (SPEC 6.8, issue #7 §2), driven from the node that changes or, for
 * removenode, from any live node: Cassandra's bootstrap, decommission and removenode.
 *
 * - bootstrap: the node gossips JOINING with its tokens (pending ranges: coordinators send it
 *   every new write of the ranges it will own), waits `ring_delay_ms` so every coordinator has
 *   seen that, streams its future ranges from the replicas losing them, then the caller marks
 *   it bootstrapped and announces NORMAL (reads move to it).
 * - decommission: the node checks the rest of the ring can hold every keyspace's replication,
 *   announces LEAVING (its ranges get pending endpoints), waits `ring_delay_ms`, pushes each
 *   range to the replicas gaining it, announces LEFT and waits for gossip to carry that; the
 *   caller then stops the node for good.
 * - removenode: for a DOWN node, a live node announces that it removes it (pending ranges, as
 *   for leaving), waits `ring_delay_ms`, has every surviving replica send the dead node's
 *   ranges to their new replicas, then announces it removed.
 *
 * Which ranges move from where is `transfers.ts`. Invariants: one change at a time per node
 * (a second request is refused); a failed change is reported with its cause and the node's
 * state is put back (LEAVING → NORMAL, removing → not removed), never left half-done silently;
 * a bootstrap that fails leaves the node not bootstrapped, so a restart bootstraps again.
 */
import { InvalidRequest } from '../../errors.js';
import type { Clock, Scheduler } from '../../runtime/clock.js';
import type { Endpoint, Location, TokenMetadata } from '../../ring/token-metadata.js';
import { SYSTEM_KEYSPACES, type Replication, type Schema } from '../../schema/schema.js';
import type { Logger } from '../../util/logger.js';
import type { LocalStatus } from '../cluster-service.js';
import { planTransfers, ringWith, ringWithout, runTransfers, sleep, sourcePolicies, type ReplicatedTable, type RequestPush, type SourcePolicy, type TransferTotals } from './transfers.js';


/** What membership needs from gossip (ClusterService). */
export interface MembershipCluster {
  ringMetadata(): TokenMetadata;
  isUp(endpoint: Endpoint): boolean;
  setStatus(status: LocalStatus): void;
  markRemoving(endpoint: Endpoint): void;
  markRemoved(endpoint: Endpoint): void;
  /** Forgets a removal that failed, so the node counts as a plain DOWN member again. */
  cancelRemoval(endpoint: Endpoint): void;
  /** The endpoint gossip knows under `hostId`. */
  endpointOf(hostId: string): Endpoint | undefined;
}

export interface MembershipOptions {
  readonly self: Endpoint;
  readonly location: Location;
  readonly tokens: readonly bigint[];
  readonly cluster: MembershipCluster;
  readonly requestPush: RequestPush;
  /** Every table of a replicated (non-system) keyspace, with its keyspace's replication. */
  readonly tables: () => readonly ReplicatedTable[];
  readonly ringDelayMs: number;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
}

/** The answer of decommission and removenode (snake_case JSON, like the other admin answers). */
export interface MembershipReport {
  readonly operation: 'bootstrap' | 'decommission' | 'removenode';
  readonly endpoint: Endpoint;
  readonly transfers: number;
  readonly ranges: number;
  readonly rows_streamed: number;
  readonly bytes_streamed: number;
  readonly duration_ms: number;
}

type Operation = MembershipReport['operation'];

export class MembershipService {
  private running: Operation | null = null;

  constructor(private readonly o: MembershipOptions) {}

  /** The change in progress on this node, if any. */
  get operation(): Operation | null {
    return this.running;
  }

  /** Streams this JOINING node's future ranges to it; the caller then announces NORMAL. */
  bootstrap(): Promise<MembershipReport> {
    return this.exclusive('bootstrap', async () => {
      const { self } = this.o;
      this.o.logger.info({ ringDelayMs: this.o.ringDelayMs }, 'bootstrap: JOINING; waiting ring_delay_ms for every coordinator to learn the pending ranges');
      await sleep(this.o.scheduler, this.o.ringDelayMs);
      const before = this.o.cluster.ringMetadata();
      if (before.size === 0) throw new Error('bootstrap: no ring to join (no NORMAL node is known)');
      const after = ringWith(before, { endpoint: self, ...this.o.location, tokens: this.o.tokens });
      const policy = sourcePolicies.bootstrap(self, (e) => this.o.cluster.isUp(e), (m) =>
        this.o.logger.warn({ range: { start: String(m.range.start), end: String(m.range.end) }, losing: m.lost }, 'bootstrap: the replica losing this range is DOWN; streaming it from every live replica instead'),
      );
      return this.stream('bootstrap', self, before, after, policy);
    });
  }

  /** Moves this node's ranges to their new replicas and announces LEFT; the caller then stops the node. */
  decommission(): Promise<MembershipReport> {
    return this.exclusive('decommission', async () => {
      const { self, cluster } = this.o;
      const before = cluster.ringMetadata();
      if (!before.endpoints().includes(self)) throw new InvalidRequest('This node is not a NORMAL member of the ring: nothing to decommission');
      const after = ringWithout(before, self);
      this.checkReplicationFits(after, 'decommission');
      const policy = sourcePolicies.decommission(self);
      const down = [...new Set(planTransfers(this.o.tables(), before, after, policy).map((t) => t.target))].filter((e) => !cluster.isUp(e));
      if (down.length > 0) throw new InvalidRequest(`Cannot decommission: ${down.join(', ')} would receive ranges but ${down.length === 1 ? 'is' : 'are'} DOWN`);
      cluster.setStatus('LEAVING');
      try {
        await sleep(this.o.scheduler, this.o.ringDelayMs);
        const report = await this.stream('decommission', self, before, after, policy);
        cluster.setStatus('LEFT');
        // Let gossip carry LEFT to every node before this one stops answering.
        await sleep(this.o.scheduler, this.o.ringDelayMs);
        return report;
      } catch (err) {
        cluster.setStatus('NORMAL');
        throw err;
      }
    });
  }

  /** Re-replicates the ranges of the DOWN node `hostId` from the survivors, then removes it. */
  removeNode(hostId: string): Promise<MembershipReport> {
    return this.exclusive('removenode', async () => {
      const { self, cluster } = this.o;
      const dead = cluster.endpointOf(hostId);
      if (dead === undefined) throw new InvalidRequest(`Host ID not found: ${hostId}`);
      if (dead === self) throw new InvalidRequest('Cannot remove self: use decommission');
      if (cluster.isUp(dead)) throw new InvalidRequest(`Node ${dead} is alive and owns this ID: use decommission to remove it from the ring`);
      const before = cluster.ringMetadata();
      if (!before.endpoints().includes(dead)) throw new InvalidRequest(`Node ${dead} is not a member of the ring`);
      const after = ringWithout(before, dead);
      this.checkReplicationFits(after, 'removenode');
      cluster.markRemoving(dead);
      try {
        await sleep(this.o.scheduler, this.o.ringDelayMs);
        const report = await this.stream('removenode', dead, before, after, sourcePolicies.removenode(dead, (e) => cluster.isUp(e)));
        cluster.markRemoved(dead);
        return report;
      } catch (err) {
        cluster.cancelRemoval(dead);
        throw err;
      }
    });
  }

  private async exclusive(operation: Operation, run: () => Promise<MembershipReport>): Promise<MembershipReport> {
    if (this.running !== null) throw new InvalidRequest(`A ${this.running} is already running on this node`);
    this.running = operation;
    try {
      return await run();
    } finally {
      this.running = null;
    }
  }

  private async stream(operation: Operation, endpoint: Endpoint, before: TokenMetadata, after: TokenMetadata, policy: SourcePolicy): Promise<MembershipReport> {
    const transfers = planTransfers(this.o.tables(), before, after, policy);
    this.o.logger.info({ operation, endpoint, transfers: transfers.length }, `${operation}: streaming`);
    const totals: TransferTotals = await runTransfers(transfers, {
      requestPush: this.o.requestPush,
      scheduler: this.o.scheduler,
      logger: this.o.logger,
      nowMs: () => this.o.clock.nowMs(),
      purpose: operation,
    });
    const mbPerS = totals.durationMs > 0 ? totals.bytes / 1048576 / (totals.durationMs / 1000) : 0;
    this.o.logger.info({ operation, endpoint, ...totals, mbPerS: Number(mbPerS.toFixed(2)) }, `${operation}: streaming done`);
    return {
      operation,
      endpoint,
      transfers: totals.transfers,
      ranges: totals.ranges,
      rows_streamed: totals.rows,
      bytes_streamed: totals.bytes,
      duration_ms: totals.durationMs,
    };
  }

  /** Refuses a change after which some keyspace would have fewer nodes than replicas. */
  private checkReplicationFits(after: TokenMetadata, operation: Operation): void {
    const seen = new Set<string>();
    for (const table of this.o.tables()) {
      const key = JSON.stringify(table.replication);
      if (seen.has(key)) continue;
      seen.add(key);
      const missing = shortfall(table.replication, after);
      if (missing !== null) throw new InvalidRequest(`Cannot ${operation}: ${missing} (keyspace of ${table.name})`);
    }
  }
}

/** Why `ring` cannot hold `replication`'s replicas, or null when it can. */
function shortfall(replication: Replication, ring: TokenMetadata): string | null {
  if (replication.class === 'SimpleStrategy') {
    const nodes = ring.endpoints().length;
    return nodes < replication.replicationFactor ? `replication factor ${replication.replicationFactor} needs ${replication.replicationFactor} nodes, ${nodes} would remain` : null;
  }
  const dcs = ring.datacenters();
  for (const [dc, rf] of Object.entries(replication.datacenters)) {
    const nodes = dcs.get(dc)?.endpoints ?? 0;
    if (rf > 0 && nodes < rf) return `replication factor ${rf} in ${dc} needs ${rf} nodes there, ${nodes} would remain`;
  }
  return null;
}

/** Every table of a non-system keyspace with its keyspace's replication: what membership changes move. */
export function replicatedTables(schema: Schema): ReplicatedTable[] {
  return [...schema.tables()].flatMap((t) => {
    const keyspace = SYSTEM_KEYSPACES.has(t.keyspace) ? undefined : schema.keyspace(t.keyspace);
    return keyspace === undefined ? [] : [{ id: t.id, name: `${t.keyspace}.${t.name}`, replication: keyspace.replication }];
  });
}
