/**
 * The gossip driver: runs the pure `Gossiper` on the node's clock and scheduler, carries its
 * messages over the internode `MessagingService`, and turns its events into what the rest of
 * the node needs (liveness, peers' HTTP addresses, schema agreement).
 *
 * STYLE §1 in practice: the gossiper decides, this class does the I/O. Every
 * `gossip_interval_ms` it calls `tick(now)`, then sends what `drain()` returned; every gossip
 * message received goes through `receive()` and the same drain.
 *
 * Schema agreement (#4 §4): a local schema change is pushed at once to every live peer
 * (SCHEMA_PUSH) and announced in the SCHEMA application state; a node that sees a peer announce
 * a version other than its own pulls that peer's schema (SCHEMA_PULL) and merges it. Merging is
 * last-write-wins over the schema rows, so pulls in both directions converge on one version.
 * At most one pull per peer is in flight.
 *
 * Ring views (SPEC 3.3 `/v1/status`, `/v1/ring`, `/v1/endpoints`): the ring is rebuilt from
 * gossip only when an endpoint's generation or its TOKENS, DC, RACK or STATUS version changed,
 * and effective ownership is memoised per replication for that ring (at most
 * MAX_MEMOISED_REPLICATIONS of them), so status requests and metric scrapes stay cheap.
 * `ClusterRingView` (ring-view.ts) adds the schema: a keyspace's replication, a table's partition key.
 *
 * Node states (#7 §2; Cassandra's `StorageService` BOOT/NORMAL/LEAVING/LEFT and removenode):
 * this node announces its STATUS (`initialStatus`, then `setStatus`), and the dead nodes it
 * removes in its REMOVALS state (`markRemoving`/`markRemoved`/`cancelRemoval`). How every node
 * reads them is membership/membership-view.ts: the ring holds NORMAL, LEAVING and removing
 * nodes; JOINING ones are listed but only pending; LEFT and removed ones vanish from the views
 * and are never UP here. `pendingRanges()` is rebuilt, like the ring, only when the view's key
 * changes. Removed endpoints are evicted from gossip (the gossiper's `removeEndpoint`: out of
 * the failure detector, quarantined for a minute so peers that still know them do not bring
 * them back), again whenever gossip brings back a removed incarnation. LEFT endpoints stay in
 * gossip (a LEFT node restarting gets a new generation and replaces its state cleanly) but
 * are dropped from the views and the phi metrics.
 *
 * A graceful stop announces shutdown (STATUS `shutdown`) except when this node is JOINING or
 * LEFT: that announcement would overwrite the STATUS peers place the node by, so, like
 * Cassandra's "silent shutdown states", such a node just stops gossiping and peers convict it.
 */
import type { Settings } from '../config/settings.js';
import { Verb } from '../messaging/verbs.js';
import type { MessagingService } from '../messaging/messaging-service.js';
import { parseEndpoint, peerKey, type PeerAddress, type PeerInfo } from '../messaging/peer.js';
import type { Cancellable, Clock, Scheduler } from '../runtime/clock.js';
import type { Random } from '../runtime/random.js';
import type { Logger } from '../util/logger.js';
import { encodeGossipMessage, decodeGossipMessage } from './gossip/gossip-codec.js';
import { ApplicationStateKey, STATUS_JOINING, STATUS_LEFT, STATUS_NORMAL } from './gossip/endpoint-state.js';
import { Gossiper, type GossipEvent } from './gossip/gossiper.js';
import type { GossipMessage } from './gossip/messages.js';
import { encodeTokens } from './gossip/tokens.js';
import { membershipView, type MembershipView, type NodeView } from './membership/membership-view.js';
import { PendingRanges } from './membership/pending-ranges.js';
import { encodeRemovals, withRemoval, type RemovalEntry } from './membership/removals.js';
import type { EndpointReplica, RingEntry, StatusReport } from './status-report.js';
import { InvalidRequest } from '../errors.js';
import { RingPlacement } from '../ring/ring-placement.js';
import { replicasFor } from '../ring/replication-strategy.js';
import type { Endpoint, TokenMetadata } from '../ring/token-metadata.js';
import type { Replication } from '../schema/schema.js';

const SCHEMA_PULL_TIMEOUT_MS = 5000;
const SHUTDOWN_FLUSH_MS = 200;
/** LOAD (bytes on disk) is re-announced every this many gossip rounds, as Cassandra does every minute. */
const LOAD_UPDATE_ROUNDS = 50;

/** What the driver needs from the node's schema (kept narrow so tests can fake it). */
export interface SchemaExchange {
  version(): string;
  /** This node's schema rows, encoded. */
  export(): Uint8Array;
  /** Merges a peer's schema rows; resolves with the new local version. */
  import(bytes: Uint8Array): Promise<string>;
}

export interface ClusterServiceOptions {
  readonly settings: Settings;
  readonly hostId: string;
  readonly tokens: readonly bigint[];
  readonly generation: number;
  readonly httpUrl: string;
  readonly messaging: MessagingService;
  readonly schema: SchemaExchange;
  readonly loadBytes: () => number;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly random: Random;
  readonly logger: Logger;
  /** The STATUS announced at start: JOINING for a node that bootstraps. Default NORMAL. */
  readonly initialStatus?: 'NORMAL' | 'JOINING';
}

/** What this node announces as its place in the ring. */
export type LocalStatus = 'NORMAL' | 'JOINING' | 'LEAVING' | 'LEFT';

/** The membership view and what is memoised on it, rebuilt when the view's key changes. */
interface RingSnapshot {
  readonly view: MembershipView;
  readonly placement: RingPlacement;
  pending: PendingRanges | null;
}

const VERB_OF: Record<GossipMessage['kind'], number> = { syn: Verb.GOSSIP_SYN, ack: Verb.GOSSIP_ACK, ack2: Verb.GOSSIP_ACK2, shutdown: Verb.GOSSIP_SHUTDOWN };

export { parseEndpoint };


export class ClusterService {
  readonly self: string;
  private readonly gossiper: Gossiper;
  private timer: Cancellable | null = null;
  private stopped = false;
  private readonly pulling = new Set<string>();
  private readonly listeners: ((e: GossipEvent) => void)[] = [];
  private announcedStatus: LocalStatus;
  /** The removals this node announces (REMOVALS), oldest first. */
  private removals: RemovalEntry[] = [];
  /** Set by every gossip event and local state change: the next query rebuilds the view. */
  private ringStale = true;
  private ringCache: RingSnapshot | null = null;

  constructor(private readonly o: ClusterServiceOptions) {
    this.self = peerKey(o.messaging.address);
    this.announcedStatus = o.initialStatus ?? STATUS_NORMAL;
    const s = o.settings;
    this.gossiper = new Gossiper({
      self: this.self,
      clusterName: s.cluster_name,
      generation: o.generation,
      seeds: s.seeds,
      gossipIntervalMs: s.gossip_interval_ms,
      phiConvictThreshold: s.phi_convict_threshold,
      random: o.random,
      applicationStates: {
        [ApplicationStateKey.STATUS]: this.announcedStatus,
        [ApplicationStateKey.HOST_ID]: o.hostId,
        [ApplicationStateKey.DC]: s.datacenter,
        [ApplicationStateKey.RACK]: s.rack,
        [ApplicationStateKey.TOKENS]: encodeTokens(o.tokens),
        [ApplicationStateKey.HTTP_ADDRESS]: o.httpUrl,
        [ApplicationStateKey.INTERNODE_ADDRESS]: this.self,
        [ApplicationStateKey.SCHEMA]: o.schema.version(),
        [ApplicationStateKey.LOAD]: String(o.loadBytes()),
      },
    });
    for (const verb of [Verb.GOSSIP_SYN, Verb.GOSSIP_ACK, Verb.GOSSIP_ACK2, Verb.GOSSIP_SHUTDOWN]) {
      o.messaging.registerHandler(verb, (from, payload) => this.onGossip(from, payload));
    }
    o.messaging.registerHandler(Verb.SCHEMA_PULL, () => o.schema.export());
    o.messaging.registerHandler(Verb.SCHEMA_PUSH, async (from, payload) => {
      await this.mergeSchema(peerKey(from.address), payload);
    });
  }

  onEvent(listener: (e: GossipEvent) => void): void {
    this.listeners.push(listener);
  }

  start(): void {
    let rounds = 0;
    const loop = (): void => {
      if (this.stopped) return;
      if (++rounds % LOAD_UPDATE_ROUNDS === 0) this.updateLoad();
      this.gossiper.tick(this.o.clock.nowMs());
      this.flush();
      this.timer = this.o.scheduler.after(this.o.settings.gossip_interval_ms, loop);
    };
    loop();
  }

  /**
   * Announces the shutdown to every live peer, then stops gossiping. A JOINING or LEFT node
   * stops silently (see the header): its STATUS must stay what peers place it by.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    const silent = this.announcedStatus === STATUS_JOINING || this.announcedStatus === STATUS_LEFT;
    if (!silent) {
      this.gossiper.shutdown();
      this.flush();
    }
    this.stopped = true;
    this.timer?.cancel();
    if (silent) return;
    // Give the one-way SHUTDOWN frames a moment to reach the sockets before messaging stops.
    await new Promise<void>((resolve) => this.o.scheduler.after(SHUTDOWN_FLUSH_MS, resolve));
  }

  // ---- this node's place in the ring, and removals ----

  /** What this node announces as its STATUS. */
  localStatus(): LocalStatus {
    return this.announcedStatus;
  }

  /** Announces this node's new STATUS (TOKENS stay announced): JOINING → NORMAL, NORMAL → LEAVING → LEFT. */
  setStatus(status: LocalStatus): void {
    if (this.announcedStatus === status) return;
    this.o.logger.info({ from: this.announcedStatus, to: status }, 'node status changed');
    this.announcedStatus = status;
    if (this.stopped) return;
    this.gossiper.setApplicationState(ApplicationStateKey.STATUS, status);
    this.ringStale = true;
  }

  /** Announces that this node removes the DOWN node `endpoint` (its ranges get pending endpoints). */
  markRemoving(endpoint: Endpoint): void {
    this.announceRemoval(endpoint, 'removing');
  }

  /** Announces that `endpoint` is removed: every node drops it from the ring and evicts it from gossip. */
  markRemoved(endpoint: Endpoint): void {
    this.announceRemoval(endpoint, 'removed');
    this.evictRemoved();
    this.flush();
  }

  /** Withdraws a removal that failed: the node counts as a plain (DOWN) member again. */
  cancelRemoval(endpoint: Endpoint): void {
    const kept = this.removals.filter((e) => e.endpoint !== endpoint);
    if (kept.length === this.removals.length) return;
    this.removals = kept;
    this.publishRemovals();
  }

  /** The endpoint gossip knows under `hostId` (its latest incarnation), if any. */
  endpointOf(hostId: string): Endpoint | undefined {
    let found: { endpoint: Endpoint; generation: number } | undefined;
    for (const endpoint of this.gossiper.endpoints()) {
      const state = this.gossiper.endpointState(endpoint);
      if (state?.applicationStates.get(ApplicationStateKey.HOST_ID)?.value !== hostId) continue;
      if (found === undefined || state.heartBeat.generation > found.generation) found = { endpoint, generation: state.heartBeat.generation };
    }
    return found?.endpoint;
  }

  private announceRemoval(endpoint: Endpoint, state: RemovalEntry['state']): void {
    if (endpoint === this.self) throw new InvalidRequest('A node cannot remove itself: use decommission');
    const known = this.gossiper.endpointState(endpoint);
    const hostId = known?.applicationStates.get(ApplicationStateKey.HOST_ID)?.value;
    const previous = this.removals.find((e) => e.endpoint === endpoint);
    // Once evicted, a removal keeps the incarnation it named.
    const generation = previous?.generation ?? known?.heartBeat.generation;
    const id = previous?.hostId ?? hostId;
    if (generation === undefined || id === undefined || id === '') throw new InvalidRequest(`Unknown endpoint ${endpoint}: gossip has no state for it`);
    const next = withRemoval(this.removals, { endpoint, hostId: id, generation, state });
    if (next === null) throw new InvalidRequest('Too many removals in progress on this node: wait for one to finish');
    this.removals = next;
    this.publishRemovals();
  }

  private publishRemovals(): void {
    if (this.stopped) return;
    this.gossiper.setApplicationState(ApplicationStateKey.REMOVALS, encodeRemovals(this.removals));
    this.ringStale = true;
  }

  /** Forgets every endpoint some node announced as removed (not this node: it is the authority on itself). */
  private evictRemoved(): void {
    if (this.stopped) return;
    for (const endpoint of this.snapshot().view.removed) {
      if (endpoint === this.self) continue;
      this.o.logger.info({ peer: endpoint }, 'removed node evicted from gossip');
      this.gossiper.removeEndpoint(endpoint, this.o.clock.nowMs());
      this.ringStale = true;
    }
  }

  private onGossip(from: PeerInfo, payload: Uint8Array): void {
    if (this.stopped) return;
    let message: GossipMessage;
    try {
      message = decodeGossipMessage(payload);
    } catch (err) {
      this.o.logger.warn({ err, peer: peerKey(from.address) }, 'undecodable gossip message dropped');
      return;
    }
    this.gossiper.receive(peerKey(from.address), message, this.o.clock.nowMs());
    this.flush();
  }

  /** Sends and reports what the gossiper produced, until it has nothing more (an eviction produces a `removed` event). */
  private flush(): void {
    for (let effects = this.gossiper.drain(); effects.length > 0; effects = this.gossiper.drain()) {
      let mayRemove = false;
      for (const effect of effects) {
        if (effect.kind === 'send') {
          this.o.messaging.sendOneWay(parseEndpoint(effect.to), VERB_OF[effect.message.kind], encodeGossipMessage(effect.message));
          continue;
        }
        this.ringStale = true;
        this.onGossipEvent(effect);
        for (const l of this.listeners) l(effect);
        mayRemove ||= effect.kind === 'joined' || effect.kind === 'restarted' || (effect.kind === 'changed' && effect.key === ApplicationStateKey.REMOVALS);
      }
      if (mayRemove) this.evictRemoved();
    }
  }

  private onGossipEvent(e: GossipEvent): void {
    if (e.kind === 'up' || e.kind === 'down') this.o.logger.info({ peer: e.endpoint, reason: e.kind === 'down' ? e.reason : undefined }, `peer ${e.kind.toUpperCase()}`);
    if (e.kind === 'joined' || e.kind === 'restarted' || e.kind === 'up' || (e.kind === 'changed' && e.key === ApplicationStateKey.SCHEMA)) {
      const theirs = this.gossiper.endpointState(e.endpoint)?.applicationStates.get(ApplicationStateKey.SCHEMA)?.value;
      if (theirs !== undefined && theirs !== this.o.schema.version() && this.gossiper.isUp(e.endpoint)) void this.pullSchema(e.endpoint);
    }
  }

  private async pullSchema(endpoint: string): Promise<void> {
    if (this.pulling.has(endpoint) || this.stopped) return;
    this.pulling.add(endpoint);
    try {
      const bytes = await this.o.messaging.request(parseEndpoint(endpoint), Verb.SCHEMA_PULL, new Uint8Array(0), SCHEMA_PULL_TIMEOUT_MS);
      await this.mergeSchema(endpoint, bytes);
    } catch (err) {
      this.o.logger.warn({ err, peer: endpoint }, 'schema pull failed; will retry on the next schema announcement');
    } finally {
      this.pulling.delete(endpoint);
    }
  }

  private async mergeSchema(endpoint: string, bytes: Uint8Array): Promise<void> {
    const before = this.o.schema.version();
    const after = await this.o.schema.import(bytes);
    if (after !== before) this.o.logger.info({ peer: endpoint, version: after }, 'schema merged from peer');
  }

  /** Call after a local schema change: announce it and push it to every live peer at once. */
  schemaChanged(version: string): void {
    if (this.stopped) return;
    this.gossiper.setApplicationState(ApplicationStateKey.SCHEMA, version);
    const payload = this.o.schema.export();
    for (const peer of this.gossiper.liveEndpoints()) {
      if (peer !== this.self) this.o.messaging.sendOneWay(parseEndpoint(peer), Verb.SCHEMA_PUSH, payload);
    }
  }

  updateLoad(): void {
    if (!this.stopped) this.gossiper.setApplicationState(ApplicationStateKey.LOAD, String(this.o.loadBytes()));
  }

  /** The failure detector's verdict; a LEFT or removed endpoint is never UP. */
  isUp(endpoint: string): boolean {
    if (endpoint === this.self) return true;
    return this.gossiper.isUp(endpoint) && !this.fresh().view.gone.has(endpoint);
  }

  gossipInfo() {
    return this.gossiper.gossipInfo(this.o.clock.nowMs());
  }

  /**
   * Every known node with its ownership: the share of the ring it holds a replica of under
   * `replication` when given (`Owns (effective)`), else the share it is the primary replica of.
   * LEFT and removed nodes are not listed; a JOINING one is, owning nothing (null).
   */
  status(replication?: Replication): StatusReport {
    const { view, placement } = this.snapshot();
    const owns = placement.owns(replication);
    return {
      cluster_name: this.o.settings.cluster_name,
      local: this.o.hostId,
      nodes: view.nodes.map((n) => ({ ...n, owns: owns.get(n.internode) ?? null })),
    };
  }

  /** The ring as gossip describes it now (for placement by other components): what reads use. */
  ringMetadata(): TokenMetadata {
    // The coordinator asks on every request: rebuild only after gossip reported a change
    // (an event) or this node changed its own states, not on every call.
    return this.fresh().placement.ring;
  }

  /** Same as `ringMetadata()`: the ring of NORMAL, LEAVING and removing nodes. */
  currentRing(): TokenMetadata {
    return this.ringMetadata();
  }

  /** The ring once every change under way completes (joining nodes in, leaving and removed ones out). */
  futureRing(): TokenMetadata {
    return this.pendingRanges().future;
  }

  /** The pending ranges of the changes under way; cheap when nothing moves (one check per write). */
  pendingRanges(): PendingRanges {
    const snapshot = this.fresh();
    snapshot.pending ??= PendingRanges.compute({ current: snapshot.placement.ring, joining: snapshot.view.joining, leaving: snapshot.view.leaving });
    return snapshot.pending;
  }

  /** The datacenter gossip announces for `endpoint` (joining nodes included). */
  datacenterOf(endpoint: Endpoint): string | undefined {
    return this.gossiper.endpointState(endpoint)?.applicationStates.get(ApplicationStateKey.DC)?.value;
  }

  /** One entry per ring token in ring order, with its node's ownership (effective under `replication` when given). */
  ring(replication?: Replication): RingEntry[] {
    const { view, placement } = this.snapshot();
    const owns = placement.owns(replication);
    const byEndpoint = new Map(view.nodes.map((n) => [n.internode, n]));
    const ring = placement.ring;
    return ring.tokens.map((token, i) => {
      const n = byEndpoint.get(ring.owners[i]!)!;
      return {
        token: token.toString(),
        host_id: n.host_id,
        address: n.address,
        internode: n.internode,
        datacenter: n.datacenter,
        rack: n.rack,
        status: n.status,
        state: n.state,
        load_bytes: n.load_bytes,
        owns: owns.get(n.internode) ?? null,
      };
    });
  }

  /** The replicas of `token` under `replication`, in preference order. */
  replicas(token: bigint, replication: Replication): EndpointReplica[] {
    const { view, placement } = this.snapshot();
    const byEndpoint = new Map<string, NodeView>(view.nodes.map((n) => [n.internode, n]));
    return replicasFor(token, replication, placement.ring).map((endpoint) => {
      const n = byEndpoint.get(endpoint)!;
      return { host_id: n.host_id, address: n.address, datacenter: n.datacenter, rack: n.rack, up: n.status === 'UP' };
    });
  }

  /** The snapshot as of the last gossip change: rebuilt only when something changed since. */
  private fresh(): RingSnapshot {
    if (this.ringStale || this.ringCache === null) this.snapshot();
    return this.ringCache!;
  }

  /**
   * Every known node as gossip describes it now, and the ring they form. The ring (and what is
   * memoised on it: ownership, pending ranges) is rebuilt only when the view's key moved.
   */
  private snapshot(): RingSnapshot {
    const view = membershipView(this.gossiper.gossipInfo(this.o.clock.nowMs()));
    this.ringStale = false;
    if (view.undecodableRemovals.length > 0) this.o.logger.debug({ peers: view.undecodableRemovals }, 'undecodable REMOVALS ignored');
    if (this.ringCache?.placement.key !== view.key) {
      this.ringCache = { view, placement: new RingPlacement(view.key, view.ring), pending: null };
      return this.ringCache;
    }
    // Same ring: keep the memoised placement and pending ranges, take the new liveness and loads.
    this.ringCache = { view, placement: this.ringCache.placement, pending: this.ringCache.pending };
    return this.ringCache;
  }

  /** phi per peer, for metrics (LEFT and removed endpoints left out). */
  phis(): Map<string, number> {
    const gone = this.fresh().view.gone;
    const phis = this.gossiper.phis(this.o.clock.nowMs());
    for (const endpoint of gone) phis.delete(endpoint);
    return phis;
  }
}
