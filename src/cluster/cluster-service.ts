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
 */
import type { Settings } from '../config/settings.js';
import { Verb } from '../messaging/verbs.js';
import type { MessagingService } from '../messaging/messaging-service.js';
import type { PeerAddress, PeerInfo } from '../messaging/peer.js';
import type { Cancellable, Clock, Scheduler } from '../runtime/clock.js';
import type { Random } from '../runtime/random.js';
import type { Logger } from '../util/logger.js';
import { encodeGossipMessage, decodeGossipMessage } from './gossip/gossip-codec.js';
import { ApplicationStateKey, STATUS_SHUTDOWN } from './gossip/endpoint-state.js';
import { Gossiper, type GossipEvent } from './gossip/gossiper.js';
import type { GossipMessage } from './gossip/messages.js';
import { encodeTokens, decodeTokens } from './gossip/tokens.js';
import type { EndpointReplica, NodeStatus, RingEntry, StatusReport } from './status-report.js';
import { RingPlacement } from '../ring/ring-placement.js';
import { replicasFor } from '../ring/replication-strategy.js';
import { TokenMetadata } from '../ring/token-metadata.js';
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
}

const VERB_OF: Record<GossipMessage['kind'], number> = { syn: Verb.GOSSIP_SYN, ack: Verb.GOSSIP_ACK, ack2: Verb.GOSSIP_ACK2, shutdown: Verb.GOSSIP_SHUTDOWN };

export function parseEndpoint(endpoint: string): PeerAddress {
  const i = endpoint.lastIndexOf(':');
  const host = endpoint.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(endpoint.slice(i + 1)) };
}

function endpointOf(address: PeerAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

export class ClusterService {
  readonly self: string;
  private readonly gossiper: Gossiper;
  private timer: Cancellable | null = null;
  private stopped = false;
  private readonly pulling = new Set<string>();
  private readonly listeners: ((e: GossipEvent) => void)[] = [];

  constructor(private readonly o: ClusterServiceOptions) {
    this.self = endpointOf(o.messaging.address);
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
        [ApplicationStateKey.STATUS]: 'NORMAL',
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
      await this.mergeSchema(endpointOf(from.address), payload);
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

  /** Announces the shutdown to every live peer, then stops gossiping. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.gossiper.shutdown();
    this.flush();
    this.stopped = true;
    this.timer?.cancel();
    // Give the one-way SHUTDOWN frames a moment to reach the sockets before messaging stops.
    await new Promise<void>((resolve) => this.o.scheduler.after(SHUTDOWN_FLUSH_MS, resolve));
  }

  private onGossip(from: PeerInfo, payload: Uint8Array): void {
    if (this.stopped) return;
    let message: GossipMessage;
    try {
      message = decodeGossipMessage(payload);
    } catch (err) {
      this.o.logger.warn({ err, peer: endpointOf(from.address) }, 'undecodable gossip message dropped');
      return;
    }
    this.gossiper.receive(endpointOf(from.address), message, this.o.clock.nowMs());
    this.flush();
  }

  private flush(): void {
    for (const effect of this.gossiper.drain()) {
      if (effect.kind === 'send') {
        this.o.messaging.sendOneWay(parseEndpoint(effect.to), VERB_OF[effect.message.kind], encodeGossipMessage(effect.message));
        continue;
      }
      this.ringStale = true;
      this.onGossipEvent(effect);
      for (const l of this.listeners) l(effect);
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

  isUp(endpoint: string): boolean {
    return endpoint === this.self || this.gossiper.isUp(endpoint);
  }

  gossipInfo() {
    return this.gossiper.gossipInfo(this.o.clock.nowMs());
  }

  /**
   * Every known node with its ownership: the share of the ring it holds a replica of under
   * `replication` when given (`Owns (effective)`), else the share it is the primary replica of.
   */
  status(replication?: Replication): StatusReport {
    const { nodes, placement } = this.snapshot();
    const owns = placement.owns(replication);
    return {
      cluster_name: this.o.settings.cluster_name,
      local: this.o.hostId,
      nodes: nodes.map((n) => ({ ...n, owns: owns.get(n.internode) ?? null })),
    };
  }

  /** The ring as gossip describes it now (for placement by other components). */
  ringMetadata(): TokenMetadata {
    // The coordinator asks on every request: rebuild only after gossip reported a change
    // (an event), not on every call.
    if (this.ringStale || this.ringCache === null) {
      this.snapshot();
      this.ringStale = false;
    }
    return this.ringCache!.ring;
  }

  private ringStale = true;

  /** One entry per ring token in ring order, with its node's ownership (effective under `replication` when given). */
  ring(replication?: Replication): RingEntry[] {
    const { nodes, placement } = this.snapshot();
    const owns = placement.owns(replication);
    const byEndpoint = new Map(nodes.map((n) => [n.internode, n]));
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
    const { nodes, placement } = this.snapshot();
    const byEndpoint = new Map(nodes.map((n) => [n.internode, n]));
    return replicasFor(token, replication, placement.ring).map((endpoint) => {
      const n = byEndpoint.get(endpoint)!;
      return { host_id: n.host_id, address: n.address, datacenter: n.datacenter, rack: n.rack, up: n.status === 'UP' };
    });
  }

  private ringCache: RingPlacement | null = null;

  /** Every known node as gossip describes it now, and the ring they form. */
  private snapshot(): { nodes: Omit<NodeStatus, 'owns'>[]; placement: RingPlacement } {
    const infos = this.gossiper.gossipInfo(this.o.clock.nowMs());
    const nodes = infos.map((info) => {
      const app = (key: string): string => info.applicationStates[key]?.value ?? '';
      const http = app(ApplicationStateKey.HTTP_ADDRESS);
      const status = app(ApplicationStateKey.STATUS);
      return {
        host_id: app(ApplicationStateKey.HOST_ID),
        name: info.endpoint,
        internode: info.endpoint,
        address: parseEndpoint(info.endpoint).host,
        http,
        datacenter: app(ApplicationStateKey.DC),
        rack: app(ApplicationStateKey.RACK),
        status: info.isSelf || (info.up && status !== STATUS_SHUTDOWN) ? 'UP' : 'DOWN',
        state: status === 'JOINING' || status === 'LEAVING' || status === 'MOVING' ? status : 'NORMAL',
        load_bytes: Number(app(ApplicationStateKey.LOAD)) || 0,
        tokens: app(ApplicationStateKey.TOKENS) === '' ? [] : decodeTokens(app(ApplicationStateKey.TOKENS)).map(String),
        schema_version: app(ApplicationStateKey.SCHEMA),
        generation: info.generation,
        phi: info.phi,
      } satisfies Omit<NodeStatus, 'owns'>;
    });
    // The ring changes only with what places tokens: rebuild it (and forget the memoised
    // ownership) when an endpoint's generation or one of those states' versions moved.
    const placingKeys = [ApplicationStateKey.TOKENS, ApplicationStateKey.DC, ApplicationStateKey.RACK, ApplicationStateKey.STATUS];
    const key = infos.map((info) => [info.endpoint, info.generation, ...placingKeys.map((k) => info.applicationStates[k]?.version ?? -1)].join(':')).join(',');
    if (this.ringCache?.key !== key) this.ringCache = new RingPlacement(key, TokenMetadata.fromStatus(nodes));
    return { nodes, placement: this.ringCache };
  }

  /** phi per peer, for metrics. */
  phis(): Map<string, number> {
    return this.gossiper.phis(this.o.clock.nowMs());
  }
}
