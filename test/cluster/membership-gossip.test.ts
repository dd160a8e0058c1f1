/**
 * Node states through gossip (#7 §2): JOINING → NORMAL, LEAVING → LEFT and removing → removed
 * reach every node, and every node builds the same ring and pending ranges from them.
 *
 * Two layers:
 * - a seeded gossip simulation (src/cluster/gossip/simulation.ts: pure gossipers on virtual
 *   time, lossy network) where nodes announce STATUS and REMOVALS, and every node's
 *   `membershipView` of its own gossip state is compared;
 * - ClusterService itself over an in-memory network on manual time: `initialStatus`,
 *   `setStatus`, `markRemoving`/`markRemoved`/`cancelRemoval`, the views (`status`,
 *   `ringMetadata`, `pendingRanges`, `isUp`, `phis`), eviction of removed nodes, and the silent
 *   stop of JOINING and LEFT nodes.
 *
 * Seeds derive from MEMBERSHIP_SEED (default below) and are printed on failure.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterService, type LocalStatus } from '../../src/cluster/cluster-service.js';
import { ApplicationStateKey } from '../../src/cluster/gossip/endpoint-state.js';
import { GossipSimulation, type SimNode } from '../../src/cluster/gossip/simulation.js';
import { encodeTokens } from '../../src/cluster/gossip/tokens.js';
import { membershipView, type MembershipView } from '../../src/cluster/membership/membership-view.js';
import { PendingRanges } from '../../src/cluster/membership/pending-ranges.js';
import { decodeRemovals, encodeRemovals, type RemovalEntry } from '../../src/cluster/membership/removals.js';
import { loadConfig } from '../../src/config/load-config.js';
import { InvalidRequest } from '../../src/errors.js';
import type { MessageHandler } from '../../src/messaging/inbound-connection.js';
import type { MessagingService } from '../../src/messaging/messaging-service.js';
import type { PeerAddress, PeerInfo } from '../../src/messaging/peer.js';
import { Verb } from '../../src/messaging/verbs.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { TOKEN_SPACE } from '../../src/ring/token-metadata.js';
import type { Replication } from '../../src/schema/schema.js';
import { CorruptDataError } from '../../src/util/bytes.js';
import { ManualTime } from '../helpers/manual-time.js';

const BASE_SEED = Number(process.env.MEMBERSHIP_SEED ?? 7007);
const RF3: Replication = { class: 'SimpleStrategy', replicationFactor: 3 };

/** Node i's tokens: two per node, spread so every node owns something. */
function tokensOf(index: number): bigint[] {
  const step = TOKEN_SPACE / 16n;
  return [-(2n ** 63n) + step * BigInt(index) + 1n, step * BigInt(index) + 7n];
}

// ---- the pure view in a simulated cluster --------------------------------------------------------

function viewOf(n: SimNode, s: GossipSimulation): MembershipView {
  return membershipView(n.gossiper.gossipInfo(s.nowMs));
}

/** Every running node's view satisfies `check`, within `timeoutMs` of simulated time. */
function converge(s: GossipSimulation, check: (v: MembershipView, n: SimNode) => boolean, timeoutMs = 30_000): void {
  const ok = s.runUntilCondition(() => s.running().every((n) => check(viewOf(n, s), n)), timeoutMs);
  expect(ok, `seed ${BASE_SEED}: views did not converge`).toBe(true);
}

function ringEndpoints(v: MembershipView): string[] {
  return v.ring.endpoints();
}

describe('node states through a simulated gossip cluster', () => {
  function cluster(seed: number, nodes: number, joining: number[] = []): GossipSimulation {
    const s = new GossipSimulation({ seed, nodes, latencyMs: (r) => 1 + 9 * r.nextFloat(), dropRate: 0.02 });
    for (const n of s.nodes) {
      n.gossiper.setApplicationState(ApplicationStateKey.TOKENS, encodeTokens(tokensOf(n.index)));
      if (joining.includes(n.index)) n.gossiper.setApplicationState(ApplicationStateKey.STATUS, 'JOINING');
    }
    return s;
  }

  it('JOINING → NORMAL: pending on every node while joining, then on every ring', () => {
    const s = cluster(BASE_SEED, 5, [4]);
    const joiner = s.node(4).id;
    converge(s, (v) => v.nodes.length === 5 && v.joining.length === 1);
    for (const n of s.running()) {
      const v = viewOf(n, s);
      expect(ringEndpoints(v)).not.toContain(joiner);
      expect(v.joining.map((j) => j.endpoint)).toEqual([joiner]);
      expect(v.nodes.find((x) => x.internode === joiner)).toMatchObject({ state: 'JOINING', status: 'UP', tokens: tokensOf(4).map(String) });
      const pending = PendingRanges.compute({ current: v.ring, joining: v.joining, leaving: v.leaving });
      expect(pending.future.endpoints()).toContain(joiner);
      expect(pending.pendingEndpoints(tokensOf(4)[0]!, RF3)).toEqual([joiner]);
    }
    s.node(4).gossiper.setApplicationState(ApplicationStateKey.STATUS, 'NORMAL');
    converge(s, (v) => ringEndpoints(v).includes(joiner) && v.joining.length === 0);
    const rings = s.running().map((n) => viewOf(n, s).ring);
    for (const ring of rings) {
      expect(ring.tokens).toEqual(rings[0]!.tokens);
      expect(ring.owners).toEqual(rings[0]!.owners);
    }
  });

  it('a JOINING node that dies stops being pending: only UP joining nodes attract writes', () => {
    const s = cluster(BASE_SEED + 1, 4, [3]);
    converge(s, (v) => v.joining.length === 1);
    s.kill(3);
    converge(s, (v, n) => n.index === 3 || v.joining.length === 0);
    for (const n of s.running()) expect(viewOf(n, s).nodes.find((x) => x.internode === s.node(3).id)).toMatchObject({ state: 'JOINING', status: 'DOWN' });
  });

  it('LEAVING → LEFT: leaving everywhere (still on the ring), then gone from every view', () => {
    const s = cluster(BASE_SEED + 2, 5);
    const leaver = s.node(2).id;
    converge(s, (v) => v.nodes.length === 5 && v.nodes.every((x) => x.status === 'UP'));
    s.node(2).gossiper.setApplicationState(ApplicationStateKey.STATUS, 'LEAVING');
    converge(s, (v) => v.leaving.includes(leaver));
    for (const n of s.running()) {
      const v = viewOf(n, s);
      expect(ringEndpoints(v)).toContain(leaver);
      expect(v.nodes.find((x) => x.internode === leaver)?.state).toBe('LEAVING');
      expect(PendingRanges.compute({ current: v.ring, joining: v.joining, leaving: v.leaving }).future.endpoints()).not.toContain(leaver);
    }
    s.node(2).gossiper.setApplicationState(ApplicationStateKey.STATUS, 'LEFT');
    converge(s, (v, n) => n.index === 2 || (v.gone.has(leaver) && !ringEndpoints(v).includes(leaver) && v.nodes.length === 4));
    // It stops for good; the others keep it out (it may linger in gossip).
    s.kill(2);
    s.runFor(10_000);
    for (const n of s.running()) {
      const v = viewOf(n, s);
      expect(v.nodes.map((x) => x.internode)).not.toContain(leaver);
      expect(ringEndpoints(v)).toEqual(s.running().map((r) => r.id).sort());
    }
  });

  it('removing → removed: a dead node is leaving on every node, then out of every ring; a new incarnation is a new node', () => {
    const s = cluster(BASE_SEED + 3, 5);
    const dead = s.node(3);
    converge(s, (v) => v.nodes.every((x) => x.status === 'UP') && v.nodes.length === 5);
    const generation = dead.gossiper.generation;
    s.kill(3);
    converge(s, (v) => v.nodes.find((x) => x.internode === dead.id)?.status === 'DOWN');
    const entry: RemovalEntry = { endpoint: dead.id, hostId: `host-${dead.id}`, generation, state: 'removing' };
    s.node(0).gossiper.setApplicationState(ApplicationStateKey.REMOVALS, encodeRemovals([entry]));
    converge(s, (v) => v.leaving.includes(dead.id));
    for (const n of s.running()) {
      const v = viewOf(n, s);
      expect(ringEndpoints(v)).toContain(dead.id);
      expect(v.nodes.find((x) => x.internode === dead.id)).toMatchObject({ state: 'LEAVING', status: 'DOWN' });
    }
    s.node(0).gossiper.setApplicationState(ApplicationStateKey.REMOVALS, encodeRemovals([{ ...entry, state: 'removed' }]));
    converge(s, (v) => v.removed.includes(dead.id) && !ringEndpoints(v).includes(dead.id) && v.nodes.length === 4);
    // The same address started again (a new generation, announcing its tokens): not removed.
    s.runFor(2000);
    s.restart(3);
    s.node(3).gossiper.setApplicationState(ApplicationStateKey.TOKENS, encodeTokens(tokensOf(3)));
    converge(s, (v) => ringEndpoints(v).includes(dead.id) && v.nodes.find((x) => x.internode === dead.id)?.status === 'UP');
  });
});

describe('the REMOVALS value', () => {
  it('round-trips and refuses malformed or oversized values', () => {
    const entries: RemovalEntry[] = [
      { endpoint: '127.0.0.4:7000', hostId: '6f1c0000-0000-4000-8000-000000000004', generation: 1_700_000_000, state: 'removing' },
      { endpoint: '[::1]:7001', hostId: 'h5', generation: 3, state: 'removed' },
    ];
    expect(decodeRemovals(encodeRemovals(entries))).toEqual(entries);
    expect(decodeRemovals(encodeRemovals([]))).toEqual([]);
    for (const bad of ['', '2', '1;removing,h,1', '1;gone,h,1,e:1', '1;removing,h,0,e:1', '1;removing,h,01,e:1', '1;removing,h,1,e:1;removed,h,2,e:1', `1${';removing,h,1,e:1'.repeat(40)}`]) {
      expect(() => decodeRemovals(bad), bad.slice(0, 40)).toThrow(CorruptDataError);
    }
  });
});

// ---- ClusterService over an in-memory network ----------------------------------------------------

/** Internode messages held until delivered; a "dead" endpoint neither sends nor receives. */
class FakeNetwork {
  private readonly queue: { to: string; from: PeerInfo; verb: number; payload: Uint8Array }[] = [];
  private readonly handlers = new Map<string, Map<number, MessageHandler>>();
  readonly dead = new Set<string>();
  readonly sent: { from: string; to: string; verb: number }[] = [];

  messaging(address: PeerAddress, hostId: string): MessagingService {
    const handlers = new Map<number, MessageHandler>();
    const self = `${address.host}:${address.port}`;
    this.handlers.set(self, handlers);
    const fake = {
      address,
      registerHandler: (verb: number, handler: MessageHandler) => handlers.set(verb, handler),
      sendOneWay: (peer: PeerAddress, verb: number, payload: Uint8Array) => {
        const to = `${peer.host}:${peer.port}`;
        this.sent.push({ from: self, to, verb });
        if (!this.dead.has(self)) this.queue.push({ to, from: { hostId, address }, verb, payload });
        return true;
      },
      request: async () => {
        throw new Error('no requests in this test');
      },
    };
    return fake as unknown as MessagingService;
  }

  async deliverAll(): Promise<void> {
    for (let delivered = 0; this.queue.length > 0; delivered++) {
      expect(delivered).toBeLessThan(100_000);
      const m = this.queue.shift()!;
      if (this.dead.has(m.to)) continue;
      await this.handlers.get(m.to)?.get(m.verb)?.(m.from, m.payload);
    }
  }
}

interface Harness {
  readonly time: ManualTime;
  readonly network: FakeNetwork;
  readonly services: ClusterService[];
  /** Gossip rounds until `condition` holds on every live service (bounded). */
  until(condition: (s: ClusterService, i: number) => boolean, what: string, maxRounds?: number): Promise<void>;
}

let harness: Harness | null = null;

afterEach(async () => {
  const h = harness;
  harness = null;
  if (h === null) return;
  await Promise.all(
    h.services.map(async (s) => {
      const stopped = s.stop();
      h.time.advanceMs(1000);
      await stopped;
    }),
  );
});

function endpointOfIndex(i: number): string {
  return `127.0.0.1:${7001 + i}`;
}

function startServices(statuses: ('NORMAL' | 'JOINING')[]): Harness {
  const time = new ManualTime();
  const network = new FakeNetwork();
  const settings = loadConfig({ overrides: [`seeds=${endpointOfIndex(0)}`, 'cluster_name=membership'] });
  const services = statuses.map((initialStatus, i) => {
    const address = { host: '127.0.0.1', port: 7001 + i };
    return new ClusterService({
      settings,
      hostId: `h${i}`,
      tokens: tokensOf(i),
      generation: 1_700_000_000 + i,
      httpUrl: `http://127.0.0.1:${8001 + i}`,
      messaging: network.messaging(address, `h${i}`),
      schema: { version: () => 'v1', export: () => new Uint8Array(0), import: async () => 'v1' },
      loadBytes: () => 1000,
      clock: time,
      scheduler: time,
      random: new SeededRandom(BASE_SEED + i),
      logger: pino({ level: 'silent' }),
      initialStatus,
    });
  });
  for (const s of services) s.start();
  const interval = settings.gossip_interval_ms;
  const h: Harness = {
    time,
    network,
    services,
    async until(condition, what, maxRounds = 400) {
      for (let round = 0; round < maxRounds; round++) {
        if (services.every((s, i) => network.dead.has(endpointOfIndex(i)) || condition(s, i))) return;
        time.advanceMs(interval);
        await network.deliverAll();
      }
      throw new Error(`not converged after ${maxRounds} gossip rounds: ${what}`);
    },
  };
  harness = h;
  return h;
}

const everyoneUp = (n: number) => (s: ClusterService) => s.status().nodes.length === n && s.status().nodes.every((x) => x.status === 'UP');

describe('ClusterService node states', () => {
  it('a node started JOINING is listed and pending everywhere, on no ring; NORMAL puts it on every ring', async () => {
    const h = startServices(['NORMAL', 'NORMAL', 'NORMAL', 'JOINING']);
    const joiner = h.services[3]!;
    await h.until(everyoneUp(4), 'every node UP');
    expect(joiner.localStatus()).toBe('JOINING');
    for (const s of h.services) {
      expect(s.ringMetadata().endpoints()).not.toContain(joiner.self);
      expect(s.currentRing().endpoints()).toHaveLength(3);
      expect(s.futureRing().endpoints()).toContain(joiner.self);
      const listed = s.status(RF3).nodes.find((n) => n.internode === joiner.self)!;
      expect(listed).toMatchObject({ state: 'JOINING', status: 'UP', owns: null, tokens: tokensOf(3).map(String) });
      expect(s.pendingRanges().isEmpty).toBe(false);
      expect(s.pendingRanges().pendingEndpoints(tokensOf(3)[1]!, RF3)).toEqual([joiner.self]);
      expect(s.datacenterOf(joiner.self)).toBe('dc1');
    }
    joiner.setStatus('NORMAL');
    await h.until((s) => s.ringMetadata().endpoints().includes(joiner.self), 'the joined node on every ring');
    for (const s of h.services) {
      expect(s.pendingRanges().isEmpty).toBe(true);
      expect(s.pendingRanges().pendingEndpoints(tokensOf(3)[1]!, RF3)).toEqual([]);
      expect(s.status(RF3).nodes.find((n) => n.internode === joiner.self)!.owns).toBeGreaterThan(0);
    }
  });

  it('LEAVING keeps the node on the ring with pending replicas for its ranges; LEFT removes it from every view; it stops silently', async () => {
    const h = startServices(['NORMAL', 'NORMAL', 'NORMAL', 'NORMAL']);
    const leaver = h.services[3]!;
    await h.until(everyoneUp(4), 'every node UP');
    leaver.setStatus('LEAVING');
    await h.until((s) => s.status().nodes.find((n) => n.internode === leaver.self)?.state === 'LEAVING', 'LEAVING everywhere');
    for (const s of h.services) {
      expect(s.ringMetadata().endpoints()).toContain(leaver.self);
      expect(s.futureRing().endpoints()).not.toContain(leaver.self);
      // The leaver's own range gets a pending endpoint (the next node clockwise not yet a replica).
      expect(s.pendingRanges().pendingEndpoints(tokensOf(3)[1]!, RF3)).toHaveLength(1);
    }
    leaver.setStatus('LEFT');
    const others = h.services.slice(0, 3);
    await h.until((s, i) => i === 3 || !s.status().nodes.some((n) => n.internode === leaver.self), 'LEFT everywhere');
    for (const s of others) {
      expect(s.ringMetadata().endpoints()).not.toContain(leaver.self);
      expect(s.ring().some((e) => e.internode === leaver.self)).toBe(false);
      expect(s.isUp(leaver.self)).toBe(false);
      expect(s.phis().has(leaver.self)).toBe(false);
      expect(s.pendingRanges().isEmpty).toBe(true);
    }
    // A LEFT node stops without announcing shutdown (that would overwrite LEFT with `shutdown`).
    const sentBefore = h.network.sent.length;
    await leaver.stop();
    expect(h.network.sent.slice(sentBefore).filter((m) => m.verb === Verb.GOSSIP_SHUTDOWN)).toEqual([]);
    h.network.dead.add(leaver.self);
    for (let i = 0; i < 50; i++) {
      h.time.advanceMs(200);
      await h.network.deliverAll();
    }
    for (const s of others) {
      expect(s.gossipInfo().find((e) => e.endpoint === leaver.self)?.applicationStates.STATUS?.value).toBe('LEFT');
      expect(s.status().nodes).toHaveLength(3);
    }
  });

  it('a JOINING node stops silently too; a NORMAL one announces its shutdown', async () => {
    const h = startServices(['NORMAL', 'NORMAL', 'JOINING']);
    await h.until(everyoneUp(3), 'every node UP');
    let sentBefore = h.network.sent.length;
    await h.services[2]!.stop();
    expect(h.network.sent.slice(sentBefore).some((m) => m.verb === Verb.GOSSIP_SHUTDOWN)).toBe(false);
    sentBefore = h.network.sent.length;
    const stopping = h.services[1]!.stop();
    h.time.advanceMs(1000);
    await stopping;
    expect(h.network.sent.slice(sentBefore).some((m) => m.verb === Verb.GOSSIP_SHUTDOWN)).toBe(true);
  });

  it('removenode: removing makes the dead node leaving everywhere, removed takes it out of every view and gossip; a cancelled removal puts it back', async () => {
    const h = startServices(['NORMAL', 'NORMAL', 'NORMAL', 'NORMAL', 'NORMAL']);
    await h.until(everyoneUp(5), 'every node UP');
    const dead = h.services[4]!;
    const remover = h.services[0]!;
    h.network.dead.add(dead.self);
    await h.until((s, i) => i === 4 || !s.isUp(dead.self), 'the dead node DOWN everywhere');
    expect(remover.endpointOf('h4')).toBe(dead.self);
    expect(remover.endpointOf('nobody')).toBeUndefined();
    expect(() => remover.markRemoving(remover.self)).toThrow(InvalidRequest);
    expect(() => remover.markRemoving('10.9.9.9:7000')).toThrow(InvalidRequest);

    const stateOf = (s: ClusterService): string | undefined => s.status().nodes.find((n) => n.internode === dead.self)?.state;
    remover.markRemoving(dead.self);
    await h.until((s, i) => i === 4 || stateOf(s) === 'LEAVING', 'removing everywhere');
    for (const s of h.services.slice(0, 4)) {
      expect(s.ringMetadata().endpoints()).toContain(dead.self);
      expect(s.futureRing().endpoints()).not.toContain(dead.self);
      expect(s.pendingRanges().pendingEndpoints(tokensOf(4)[1]!, RF3)).toHaveLength(1);
    }
    remover.cancelRemoval(dead.self);
    await h.until((s, i) => i === 4 || stateOf(s) === 'NORMAL', 'removal cancelled everywhere');
    expect(remover.pendingRanges().isEmpty).toBe(true);

    remover.markRemoving(dead.self);
    remover.markRemoved(dead.self);
    // The remover forgets it at once; the others once they learn the removal.
    expect(remover.gossipInfo().some((e) => e.endpoint === dead.self)).toBe(false);
    await h.until((s, i) => i === 4 || !s.gossipInfo().some((e) => e.endpoint === dead.self), 'removed and evicted everywhere');
    for (const s of h.services.slice(0, 4)) {
      expect(s.status().nodes).toHaveLength(4);
      expect(s.ringMetadata().endpoints()).not.toContain(dead.self);
      expect(s.pendingRanges().isEmpty).toBe(true);
      expect(s.phis().has(dead.self)).toBe(false);
    }
    // The announcement stays: a node that still held the dead node's state would evict it again.
    const removals = remover.gossipInfo().find((e) => e.endpoint === remover.self)!.applicationStates.REMOVALS!.value;
    expect(decodeRemovals(removals)).toEqual([{ endpoint: dead.self, hostId: 'h4', generation: 1_700_000_004, state: 'removed' }]);
  });

  it('setStatus goes through every state the membership operations use', async () => {
    const h = startServices(['NORMAL', 'NORMAL']);
    await h.until(everyoneUp(2), 'both UP');
    const s = h.services[1]!;
    const seen: LocalStatus[] = [];
    for (const status of ['LEAVING', 'NORMAL', 'LEAVING', 'LEFT'] as const) {
      s.setStatus(status);
      seen.push(s.localStatus());
      await h.until((x) => x === s || x.gossipInfo().find((e) => e.endpoint === s.self)?.applicationStates.STATUS?.value === status, `STATUS ${status}`);
    }
    expect(seen).toEqual(['LEAVING', 'NORMAL', 'LEAVING', 'LEFT']);
  });
});
