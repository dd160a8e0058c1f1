/**
 * Membership changes alone (src/cluster/membership/transfers.ts, membership-service.ts): what
 * bootstrap, decommission and removenode stream from where, retries, refusals, and the gossip
 * states they announce, over a fake cluster and a fake stream. Time is instant: every wait
 * (ring delay, retry backoff) passes on the next event-loop turn.
 */
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import type { LocalStatus } from '../../../src/cluster/cluster-service.js';
import { MembershipService, type MembershipCluster } from '../../../src/cluster/membership/membership-service.js';
import { planTransfers, ringWith, ringWithout, runTransfers, sourcePolicies, TRANSFER_ATTEMPTS, type RequestPush, type Transfer } from '../../../src/cluster/membership/transfers.js';
import { replicasFor } from '../../../src/ring/replication-strategy.js';
import { TokenMetadata, type Endpoint, type TokenRange } from '../../../src/ring/token-metadata.js';
import type { Cancellable, Scheduler } from '../../../src/runtime/clock.js';
import type { Replication } from '../../../src/schema/schema.js';

const logger = pino({ level: 'silent' });
const instant: Scheduler = {
  after(_ms: number, fn: () => void): Cancellable {
    const t = setImmediate(fn);
    return { cancel: () => clearImmediate(t) };
  },
  yieldToIo: () => new Promise((resolve) => setImmediate(resolve)),
};
let fakeMs = 0;
const clock = { nowMs: () => (fakeMs += 5), nowMicros: () => fakeMs * 1000 };

const RF3: Replication = { class: 'SimpleStrategy', replicationFactor: 3 };
const TABLES = [{ id: 't1', name: 'ks.t1', replication: RF3 }];

/** Node i owns tokens i*1000 + k*100_000 for k < 4 (4 vnodes each, interleaved). */
function node(i: number, dc = 'dc1') {
  return { endpoint: `10.0.0.${i}:7000`, datacenter: dc, rack: 'r1', tokens: [0, 1, 2, 3].map((k) => BigInt(i * 1000 + k * 100_000)) };
}
const ring = (...ids: number[]) => TokenMetadata.build(ids.map((i) => node(i)));
const ep = (i: number): Endpoint => `10.0.0.${i}:7000`;

/** True when `token` lies in one of `ranges` ((start, end], wrapping). */
function covered(token: bigint, ranges: readonly TokenRange[]): boolean {
  return ranges.some(({ start, end }) => (start < end ? token > start && token <= end : token > start || token <= end));
}

/** Sample tokens: every ring token and its neighbours, and points in between. */
function sampleTokens(r: TokenMetadata): bigint[] {
  return r.tokens.flatMap((t) => [t - 1n, t, t + 1n, t + 50n]);
}

describe('planTransfers', () => {
  it('bootstrap: the joining node pulls exactly its future ranges, each from the replica that loses it', () => {
    const before = ring(1, 2, 3, 4);
    const after = ringWith(before, node(5));
    const transfers = planTransfers(TABLES, before, after, sourcePolicies.bootstrap(ep(5), () => true, () => {
      throw new Error('every loser is up');
    }));
    expect(transfers.every((t) => t.target === ep(5) && t.tableId === 't1')).toBe(true);
    for (const token of sampleTokens(after)) {
      const willReplicate = replicasFor(token, RF3, after).includes(ep(5));
      const sources = transfers.filter((t) => covered(token, t.ranges)).map((t) => t.source);
      if (!willReplicate) {
        expect(sources).toEqual([]);
        continue;
      }
      const lost = replicasFor(token, RF3, before).filter((e) => !replicasFor(token, RF3, after).includes(e));
      expect(sources).toEqual(lost);
    }
  });

  it('bootstrap: when the losing replica is down, every live old replica sends, and the plan says so', () => {
    const before = ring(1, 2, 3, 4);
    const after = ringWith(before, node(5));
    const inconsistent: TokenRange[] = [];
    const transfers = planTransfers(TABLES, before, after, sourcePolicies.bootstrap(ep(5), (e) => e !== ep(2), (m) => inconsistent.push(m.range)));
    expect(inconsistent.length).toBeGreaterThan(0);
    expect(transfers.some((t) => t.source === ep(2))).toBe(false);
    for (const range of inconsistent) {
      const sources = transfers.filter((t) => t.ranges.includes(range)).map((t) => t.source).sort();
      const live = replicasFor(range.end, RF3, before).filter((e) => e !== ep(2)).sort();
      expect(sources).toEqual(live);
    }
  });

  it('decommission: the leaving node pushes each range it loses to every replica gaining it', () => {
    const before = ring(1, 2, 3, 4, 5);
    const after = ringWithout(before, ep(3));
    const transfers = planTransfers(TABLES, before, after, sourcePolicies.decommission(ep(3)));
    expect(transfers.every((t) => t.source === ep(3))).toBe(true);
    for (const token of sampleTokens(before)) {
      const gained = replicasFor(token, RF3, after).filter((e) => !replicasFor(token, RF3, before).includes(e));
      expect(transfers.filter((t) => covered(token, t.ranges)).map((t) => t.target).sort()).toEqual(gained.sort());
    }
  });

  it('removenode: every live surviving replica sends the dead node\'s ranges to each gainer', () => {
    const before = ring(1, 2, 3, 4, 5);
    const after = ringWithout(before, ep(4));
    const transfers = planTransfers(TABLES, before, after, sourcePolicies.removenode(ep(4), (e) => e !== ep(4)));
    expect(transfers.some((t) => t.source === ep(4) || t.target === ep(4))).toBe(false);
    for (const token of sampleTokens(before)) {
      const was = replicasFor(token, RF3, before);
      const gained = replicasFor(token, RF3, after).filter((e) => !was.includes(e));
      const expected = gained.flatMap((g) => was.filter((e) => e !== ep(4)).map((s) => `${s}>${g}`)).sort();
      expect(transfers.filter((t) => covered(token, t.ranges)).map((t) => `${t.source}>${t.target}`).sort()).toEqual(expected);
    }
  });
});

describe('runTransfers', () => {
  const transfer = (source: number, target: number): Transfer => ({ tableId: 't1', table: 'ks.t1', source: ep(source), target: ep(target), ranges: [{ start: 0n, end: 10n }] });
  const options = (requestPush: RequestPush) => ({ requestPush, scheduler: instant, logger, nowMs: () => clock.nowMs(), purpose: 'test' });

  it('retries a failed transfer and sums what every transfer streamed', async () => {
    let failuresLeft = TRANSFER_ATTEMPTS - 1;
    const calls: string[] = [];
    const totals = await runTransfers([transfer(1, 5), transfer(2, 5), transfer(3, 5)], options(async (source) => {
      calls.push(source);
      if (source === ep(2) && failuresLeft-- > 0) throw new Error('connection reset');
      return { rows: 10, partitions: 2, bytes: 1000, pages: 1 };
    }));
    expect(totals).toMatchObject({ transfers: 3, ranges: 3, rows: 30, partitions: 6, bytes: 3000 });
    expect(calls.filter((c) => c === ep(2))).toHaveLength(TRANSFER_ATTEMPTS);
  });

  it('fails, naming the transfer, when one keeps failing', async () => {
    const started: string[] = [];
    const run = runTransfers([transfer(1, 5), transfer(2, 5), transfer(3, 5), transfer(4, 5)], options(async (source) => {
      started.push(source);
      if (source === ep(1)) throw new Error('disk full');
      return { rows: 1, partitions: 1, bytes: 1, pages: 1 };
    }));
    await expect(run).rejects.toThrow(`test: streaming ks.t1 (1 ranges) from ${ep(1)} to ${ep(5)} failed after ${TRANSFER_ATTEMPTS} attempts: disk full`);
    expect(started.filter((s) => s === ep(1))).toHaveLength(TRANSFER_ATTEMPTS);
  });
});

class FakeCluster implements MembershipCluster {
  statuses: LocalStatus[] = [];
  removals: string[] = [];
  down = new Set<Endpoint>();
  constructor(public ring: TokenMetadata) {}
  ringMetadata(): TokenMetadata {
    return this.ring;
  }
  isUp(endpoint: Endpoint): boolean {
    return !this.down.has(endpoint);
  }
  setStatus(status: LocalStatus): void {
    this.statuses.push(status);
  }
  markRemoving(endpoint: Endpoint): void {
    this.removals.push(`removing ${endpoint}`);
  }
  markRemoved(endpoint: Endpoint): void {
    this.removals.push(`removed ${endpoint}`);
  }
  cancelRemoval(endpoint: Endpoint): void {
    this.removals.push(`cancelled ${endpoint}`);
  }
  endpointOf(hostId: string): Endpoint | undefined {
    return /^host-(\d+)$/.test(hostId) ? ep(Number(hostId.slice(5))) : undefined;
  }
}

function service(self: number, cluster: FakeCluster, requestPush: RequestPush, tables = TABLES) {
  return new MembershipService({
    self: ep(self),
    location: { datacenter: 'dc1', rack: 'r1' },
    tokens: node(self).tokens,
    cluster,
    requestPush,
    tables: () => tables,
    ringDelayMs: 1000,
    clock,
    scheduler: instant,
    logger,
  });
}

const pushed = async () => ({ rows: 5, partitions: 1, bytes: 500, pages: 1 });

describe('MembershipService', () => {
  it('decommission announces LEAVING, streams, then announces LEFT, and reports what moved', async () => {
    const cluster = new FakeCluster(ring(1, 2, 3, 4));
    const pushes: string[] = [];
    const report = await service(2, cluster, async (s, _t, _r, target) => {
      pushes.push(`${s}>${target}`);
      return pushed();
    }).decommission();
    expect(cluster.statuses).toEqual(['LEAVING', 'LEFT']);
    expect(pushes.length).toBeGreaterThan(0);
    expect(pushes.every((p) => p.startsWith(`${ep(2)}>`))).toBe(true);
    expect(report).toMatchObject({ operation: 'decommission', endpoint: ep(2), transfers: pushes.length, rows_streamed: 5 * pushes.length, bytes_streamed: 500 * pushes.length });
  });

  it('refuses a decommission that would leave fewer nodes than replicas, before announcing anything', async () => {
    const cluster = new FakeCluster(ring(1, 2, 3));
    await expect(service(2, cluster, pushed).decommission()).rejects.toThrow('Cannot decommission: replication factor 3 needs 3 nodes, 2 would remain');
    expect(cluster.statuses).toEqual([]);
  });

  it('refuses a decommission while a replica that would gain ranges is DOWN', async () => {
    const cluster = new FakeCluster(ring(1, 2, 3, 4, 5));
    cluster.down.add(ep(4));
    await expect(service(2, cluster, pushed).decommission()).rejects.toThrow(/Cannot decommission: .*DOWN/);
    expect(cluster.statuses).toEqual([]);
  });

  it('puts the node back to NORMAL when streaming fails, and says why', async () => {
    const cluster = new FakeCluster(ring(1, 2, 3, 4));
    await expect(service(2, cluster, async () => {
      throw new Error('target refused');
    }).decommission()).rejects.toThrow(/decommission: streaming ks\.t1 .* failed after 3 attempts: target refused/);
    expect(cluster.statuses).toEqual(['LEAVING', 'NORMAL']);
  });

  it('runs one change at a time', async () => {
    const cluster = new FakeCluster(ring(1, 2, 3, 4));
    const membership = service(2, cluster, pushed);
    const first = membership.decommission();
    await expect(membership.removeNode('host-9')).rejects.toThrow('A decommission is already running on this node');
    await first;
  });

  it('removenode: refuses unknown, live and own host ids; removes a DOWN node after streaming from the survivors', async () => {
    const cluster = new FakeCluster(ring(1, 2, 3, 4, 5));
    const membership = service(1, cluster, pushed);
    await expect(membership.removeNode('nobody')).rejects.toThrow('Host ID not found: nobody');
    await expect(membership.removeNode('host-1')).rejects.toThrow('Cannot remove self');
    await expect(membership.removeNode('host-4')).rejects.toThrow(/is alive and owns this ID/);
    cluster.down.add(ep(4));
    const sources = new Set<string>();
    const report = await service(1, cluster, async (s) => {
      sources.add(s);
      return pushed();
    }).removeNode('host-4');
    expect(cluster.removals).toEqual([`removing ${ep(4)}`, `removed ${ep(4)}`]);
    expect(sources.has(ep(4))).toBe(false);
    expect(report).toMatchObject({ operation: 'removenode', endpoint: ep(4) });
  });

  it('removenode that fails cancels the removal', async () => {
    const cluster = new FakeCluster(ring(1, 2, 3, 4, 5));
    cluster.down.add(ep(4));
    await expect(service(1, cluster, async () => {
      throw new Error('stream broke');
    }).removeNode('host-4')).rejects.toThrow('stream broke');
    expect(cluster.removals).toEqual([`removing ${ep(4)}`, `cancelled ${ep(4)}`]);
  });

  it('bootstrap streams the joining node\'s future ranges to it', async () => {
    const cluster = new FakeCluster(ring(1, 2, 3, 4));
    const targets = new Set<string>();
    const report = await service(5, cluster, async (_s, _t, _r, target) => {
      targets.add(target);
      return pushed();
    }).bootstrap();
    expect([...targets]).toEqual([ep(5)]);
    expect(report.transfers).toBeGreaterThan(0);
  });

  it('bootstrap without a ring to join fails', async () => {
    await expect(service(5, new FakeCluster(TokenMetadata.EMPTY), pushed).bootstrap()).rejects.toThrow('no ring to join');
  });
});
