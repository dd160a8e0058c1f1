/**
 * The gossiper: cluster membership and node state by gossip, with phi-accrual failure
 * detection, as a pure state machine.
 *
 * Patterns (Joshi): Gossip Dissemination (every round, exchange digests with a random peer and
 * trade the newer states), HeartBeat (every round a node bumps its own heartbeat version; seeing
 * it rise, first- or second-hand, is the sign of life the failure detector is fed with),
 * Generation Clock (a higher generation replaces a restarted node's state). Cassandra:
 * `Gossiper` (`GossipTask.run`, `doStatusCheck`, `markAlive`/`markDead`, `markAsShutdown`) and
 * the SYN/ACK/ACK2 verb handlers.
 *
 * Shape (STYLE.md §1, after etcd's raft): inputs are `tick(nowMs)`, `receive(from, message,
 * nowMs)` and local calls (`setApplicationState`, `shutdown`, `removeEndpoint`); outputs are
 * buffered `GossipEffect`s (messages to send, membership events) that the driver takes with
 * `drain()` after every input. No I/O, no timers, no ambient clock or randomness: same state,
 * same inputs, same `Random` ⇒ same effects, which is what makes the simulation replayable.
 *
 * Deviations from Cassandra, each argued where it is coded: two live peers per round instead
 * of one (`tick`); an ACK also pushes endpoints the SYN did not mention (`onSyn`); no ECHO
 * round-trip before marking a node UP (a heartbeat rise is enough); failure detection on time
 * that excludes our own pauses (`creditLocalPause`).
 *
 * The driver calls `tick` every `gossipIntervalMs`, delivers messages with `receive` (`from` is
 * the sender's endpoint id as the internode handshake established it), persists the generation
 * before constructing the gossiper, and sends what `drain` returns (best effort: gossip repairs
 * lost messages in later rounds).
 *
 * Liveness rules
 * - A remote endpoint is UP (in `live`) or DOWN (in `unreachable`); self is neither and always up.
 * - A newly learnt endpoint starts DOWN and comes UP at the first rise of its heartbeat version
 *   (first- or second-hand): its state alone proves only that it ran at some point, so a dead
 *   node's state relayed by a peer never shows it UP.
 * - Every heartbeat rise feeds the failure detector and marks the endpoint UP, unless its STATUS
 *   is `shutdown` (it said goodbye in this generation: only a new generation brings it back).
 * - Each tick, every UP endpoint whose phi exceeds `phiConvictThreshold` is marked DOWN. phi
 *   is computed on "active" time, which stands still while this node itself is paused (a late
 *   tick reveals the pause): the heartbeats peers sent meanwhile are queued behind our stall,
 *   unread, so that silence is not theirs.
 * - SHUTDOWN from an endpoint marks it DOWN at once and pins its STATUS to `shutdown` with the
 *   highest version, so no older gossip revives it; the pinned state spreads to peers that
 *   missed the message.
 *
 * Bounds: at most `maxEndpoints` endpoints (more are dropped and counted); a SYN lists at most
 * that many digests; ACK/ACK2 carry at most MAX_STATES_PER_MESSAGE states within
 * MAX_GOSSIP_MESSAGE_BYTES (what does not fit goes in a later round); a tick sends at most
 * `fanout` + 2 SYNs (fanout ≤ 8); pending effects are bounded by what one input can produce
 * (asserted).
 */
import type { Random } from '../../runtime/random.js';
import { assert } from '../../util/assert.js';
import { FailureDetector } from '../failure/failure-detector.js';
import { defaultPhiAccrualOptions, type PhiAccrualOptions } from '../failure/phi-accrual.js';
import {
  APPLICATION_STATE_KEY_PATTERN,
  ApplicationStateKey,
  STATUS_SHUTDOWN,
  digestOf,
  estimatedStateBytes,
  mergeEndpointState,
  newEndpointState,
  reconcileDigest,
  stateForRequest,
  withApplicationState,
  withHeartBeatVersion,
  type EndpointState,
  type EndpointStateEntry,
  type GossipDigest,
} from './endpoint-state.js';
import {
  MAX_APPLICATION_STATE_VALUE_BYTES,
  MAX_CLUSTER_NAME_LENGTH,
  MAX_ENDPOINT_ID_LENGTH,
  MAX_GOSSIP_ENDPOINTS,
  MAX_GOSSIP_MESSAGE_BYTES,
  MAX_STATES_PER_MESSAGE,
} from './limits.js';
import type { GossipAck, GossipAck2, GossipMessage, GossipShutdown, GossipSyn } from './messages.js';

export interface GossiperOptions {
  /** This node's endpoint id (`host:port` of its internode address). */
  readonly self: string;
  readonly clusterName: string;
  /** This incarnation's generation (generation.ts), already persisted by the driver. */
  readonly generation: number;
  /** Seed endpoint ids; self may be among them. */
  readonly seeds: readonly string[];
  readonly gossipIntervalMs: number;
  readonly phiConvictThreshold: number;
  readonly random: Random;
  /** Application states to announce from the start (e.g. HOST_ID, DC, RACK, TOKENS, STATUS). */
  readonly applicationStates?: Readonly<Record<string, string>>;
  /** Distinct live peers gossiped to per round (Cassandra: 1). Default 2, see `tick`. */
  readonly fanout?: number;
  /** Default MAX_GOSSIP_ENDPOINTS. */
  readonly maxEndpoints?: number;
  /** Default `defaultPhiAccrualOptions(gossipIntervalMs)`. */
  readonly failureDetector?: PhiAccrualOptions;
  /**
   * A tick later than `gossipIntervalMs + localPauseToleranceMs` after the previous one reveals
   * a local pause; the lateness beyond the tolerance is not counted as peers' silence.
   * Default: half an interval.
   */
  readonly localPauseToleranceMs?: number;
  /** A removed endpoint's state is ignored this long, so gossip does not resurrect it. Default 60 s (Cassandra's QUARANTINE_DELAY). */
  readonly quarantineMs?: number;
}

export type DownReason = 'convicted' | 'shutdown';

export type GossipEvent =
  | { readonly kind: 'joined'; readonly endpoint: string; readonly state: EndpointState }
  | { readonly kind: 'restarted'; readonly endpoint: string; readonly state: EndpointState; readonly previousGeneration: number }
  | { readonly kind: 'changed'; readonly endpoint: string; readonly key: string; readonly value: string; readonly version: number }
  | { readonly kind: 'up'; readonly endpoint: string }
  | { readonly kind: 'down'; readonly endpoint: string; readonly reason: DownReason }
  | { readonly kind: 'removed'; readonly endpoint: string };

export type GossipEffect = { readonly kind: 'send'; readonly to: string; readonly message: GossipMessage } | GossipEvent;

/** One row of `gossipinfo` (SPEC 2.3). */
export interface EndpointInfo {
  readonly endpoint: string;
  readonly isSelf: boolean;
  readonly generation: number;
  readonly heartBeatVersion: number;
  readonly applicationStates: Readonly<Record<string, { readonly value: string; readonly version: number }>>;
  readonly up: boolean;
  /** 0 for self and for endpoints never heard from. */
  readonly phi: number;
}

export interface GossiperStats {
  readonly ticks: number;
  readonly synsSent: number;
  readonly messagesReceived: number;
  /** SYNs from another cluster, ignored. */
  readonly ignoredWrongCluster: number;
  /** SHUTDOWNs naming another endpoint than their sender, or an unknown/older generation. */
  readonly ignoredShutdowns: number;
  /** New endpoints not adopted because `maxEndpoints` was reached. */
  readonly droppedEndpoints: number;
  /** Remote states of an older generation, or a generation absurdly far ahead. */
  readonly staleStates: number;
  /** States that did not fit in one ACK/ACK2 (sent in a later round). */
  readonly deferredStates: number;
  /** Ticks that came late because this node was paused. */
  readonly localPauses: number;
  /** Total local pause time not counted as peers' silence. */
  readonly localPausedMs: number;
  readonly convictions: number;
}

/** Highest version: pins a shut-down endpoint's STATUS and heartbeat for the rest of its generation. */
const PINNED_VERSION = Number.MAX_SAFE_INTEGER;
/** Effects one input may produce per endpoint: joined/restarted, up/down, and one `changed` per key. */
const EFFECTS_PER_ENDPOINT = 40;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class Gossiper {
  readonly self: string;
  private readonly options: GossiperOptions;
  private readonly maxEndpoints: number;
  private readonly localPauseToleranceMs: number;
  private readonly quarantineMs: number;
  private readonly seeds: readonly string[];
  private readonly seedSet: ReadonlySet<string>;
  private readonly random: Random;
  private readonly fanout: number;
  private readonly failureDetector: FailureDetector;

  /** Every endpoint we know, self included. */
  private readonly states = new Map<string, EndpointState>();
  private readonly live = new Set<string>();
  /** DOWN endpoints → when they went down (or were first learnt). */
  private readonly unreachable = new Map<string, number>();
  private readonly quarantine = new Map<string, number>();
  /** The one per-node counter behind our heartbeat and application state versions. */
  private lastVersion = 0;
  private lastTickMs: number | null = null;
  /** Local pause time so far: the failure detector runs on `nowMs - pausedMs` (see `activeMs`). */
  private pausedMs = 0;
  private stopped = false;
  private effects: GossipEffect[] = [];
  private readonly counters: Mutable<GossiperStats> = {
    ticks: 0,
    synsSent: 0,
    messagesReceived: 0,
    ignoredWrongCluster: 0,
    ignoredShutdowns: 0,
    droppedEndpoints: 0,
    staleStates: 0,
    deferredStates: 0,
    localPauses: 0,
    localPausedMs: 0,
    convictions: 0,
  };

  constructor(options: GossiperOptions) {
    assert(options.self.length > 0 && options.self.length <= MAX_ENDPOINT_ID_LENGTH, `bad endpoint id: ${options.self}`);
    assert(options.clusterName.length > 0 && options.clusterName.length <= MAX_CLUSTER_NAME_LENGTH, 'bad cluster name');
    assert(options.gossipIntervalMs > 0, 'gossipIntervalMs must be positive');
    this.options = options;
    this.self = options.self;
    this.maxEndpoints = options.maxEndpoints ?? MAX_GOSSIP_ENDPOINTS;
    assert(this.maxEndpoints >= 1 && this.maxEndpoints <= MAX_GOSSIP_ENDPOINTS, `maxEndpoints out of range: ${this.maxEndpoints}`);
    this.localPauseToleranceMs = options.localPauseToleranceMs ?? options.gossipIntervalMs / 2;
    this.quarantineMs = options.quarantineMs ?? 60_000;
    this.seeds = [...new Set(options.seeds)].filter((s) => s !== options.self);
    this.seedSet = new Set(this.seeds);
    this.random = options.random;
    this.fanout = options.fanout ?? 2;
    assert(Number.isInteger(this.fanout) && this.fanout >= 1 && this.fanout <= 8, `fanout out of range: ${this.fanout}`);
    this.failureDetector = new FailureDetector({
      phiConvictThreshold: options.phiConvictThreshold,
      maxEndpoints: this.maxEndpoints,
      detector: options.failureDetector ?? defaultPhiAccrualOptions(options.gossipIntervalMs),
    });
    let own = newEndpointState(options.generation, 0);
    for (const [key, value] of Object.entries(options.applicationStates ?? {})) {
      checkLocalApplicationState(key, value);
      own = withApplicationState(own, key, value, ++this.lastVersion);
    }
    this.states.set(this.self, own);
  }

  get generation(): number {
    return this.options.generation;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  // #region pattern:Gossip Dissemination
  /** One gossip round (every `gossipIntervalMs`). */
  tick(nowMs: number): void {
    if (this.stopped) return;
    this.creditLocalPause(nowMs);
    this.counters.ticks++;
    this.beatHeart();

    const syn: GossipSyn = { kind: 'syn', clusterName: this.options.clusterName, digests: this.digests() };
    // Cassandra's GossipTask: random live peers; maybe an unreachable one (so a healed node is
    // found again), with probability unreachable / (live + 1); maybe a seed (so partitions heal
    // through the seeds and a lone node finds the cluster). Cassandra picks one live peer; we
    // pick `fanout` (2) distinct ones: a heartbeat then reaches everyone in about half the
    // rounds and arrives more regularly, which is what keeps detection within 3 s beyond a
    // handful of nodes (numbers in failure/phi-accrual.ts), for 2 exchanges per node per round.
    let gossipedToSeed = false;
    const live = [...this.live];
    for (let i = 0; i < Math.min(this.fanout, live.length); i++) {
      const j = i + this.random.nextInt(live.length - i);
      const peer = live[j] as string;
      live[j] = live[i] as string;
      live[i] = peer;
      this.sendSyn(peer, syn);
      gossipedToSeed ||= this.seedSet.has(peer);
    }
    if (this.unreachable.size > 0 && this.random.nextFloat() < this.unreachable.size / (this.live.size + 1)) {
      this.sendSyn(this.random.pick([...this.unreachable.keys()]), syn);
    }
    if (!gossipedToSeed || this.live.size < this.seeds.length) this.maybeGossipToSeed(syn);

    this.convictSilentEndpoints(nowMs);
    this.expireQuarantine(nowMs);
  }

  private maybeGossipToSeed(syn: GossipSyn): void {
    if (this.seeds.length === 0) return;
    if (this.live.size === 0) {
      this.sendSyn(this.random.pick(this.seeds), syn);
      return;
    }
    const probability = this.seeds.length / (this.live.size + this.unreachable.size);
    if (this.random.nextFloat() <= probability) this.sendSyn(this.random.pick(this.seeds), syn);
  }

  private sendSyn(to: string, syn: GossipSyn): void {
    this.counters.synsSent++;
    this.emit({ kind: 'send', to, message: syn });
  }

  /** A message from a peer. `from` is the sender's endpoint id. */
  receive(from: string, message: GossipMessage, nowMs: number): void {
    if (this.stopped) return;
    this.counters.messagesReceived++;
    switch (message.kind) {
      case 'syn':
        this.onSyn(from, message);
        return;
      case 'ack':
        this.onAck(from, message, nowMs);
        return;
      case 'ack2':
        this.applyStates(message.states, nowMs);
        return;
      case 'shutdown':
        this.onShutdown(from, message, nowMs);
        return;
    }
  }

  /** SYN → ACK: ask for what the peer has newer, send what it lacks (also endpoints it did not list). */
  private onSyn(from: string, syn: GossipSyn): void {
    if (syn.clusterName !== this.options.clusterName) {
      this.counters.ignoredWrongCluster++;
      return;
    }
    const requests: GossipDigest[] = [];
    const sends: EndpointStateEntry[] = [];
    const mentioned = new Set<string>();
    for (const digest of syn.digests) {
      mentioned.add(digest.endpoint);
      const local = this.states.get(digest.endpoint);
      const { request, send } = reconcileDigest(local, digest);
      // We are the authority on ourselves; a quarantined endpoint stays forgotten.
      if (request !== undefined && this.wants(digest.endpoint, local)) requests.push(request);
      if (send !== undefined) sends.push({ endpoint: digest.endpoint, state: send });
    }
    // Not in Cassandra: push endpoints the peer did not mention, so a new node learns the
    // whole cluster in its first exchange instead of waiting to be gossiped to.
    for (const [endpoint, state] of this.states) if (!mentioned.has(endpoint)) sends.push({ endpoint, state });
    const ack: GossipAck = { kind: 'ack', digests: requests, states: this.packStates(sends, requests.length) };
    if (ack.digests.length > 0 || ack.states.length > 0) this.emit({ kind: 'send', to: from, message: ack });
  }

  /** Whether to ask a peer about an endpoint: never about ourselves (we are the authority), a quarantined one, or a new one we have no room for. */
  private wants(endpoint: string, local: EndpointState | undefined): boolean {
    if (endpoint === this.self || this.quarantine.has(endpoint)) return false;
    return local !== undefined || this.states.size < this.maxEndpoints;
  }

  /** ACK → apply the deltas, answer the requests with ACK2. */
  private onAck(from: string, ack: GossipAck, nowMs: number): void {
    this.applyStates(ack.states, nowMs);
    const sends: EndpointStateEntry[] = [];
    for (const request of ack.digests) {
      const state = stateForRequest(this.states.get(request.endpoint), request);
      if (state !== null) sends.push({ endpoint: request.endpoint, state });
    }
    if (sends.length === 0) return;
    const ack2: GossipAck2 = { kind: 'ack2', states: this.packStates(sends, 0) };
    this.emit({ kind: 'send', to: from, message: ack2 });
  }
  // #endregion

  /** Keeps ACK/ACK2 within the message bounds; the rest waits for a later round. */
  private packStates(entries: EndpointStateEntry[], digestCount: number): EndpointStateEntry[] {
    let budgetBytes = MAX_GOSSIP_MESSAGE_BYTES - 1024 - digestCount * (32 + 3 * MAX_ENDPOINT_ID_LENGTH);
    const packed: EndpointStateEntry[] = [];
    for (const entry of entries) {
      const bytes = estimatedStateBytes(entry.endpoint, entry.state);
      if (packed.length === MAX_STATES_PER_MESSAGE || bytes > budgetBytes) {
        this.counters.deferredStates++;
        continue;
      }
      budgetBytes -= bytes;
      packed.push(entry);
    }
    return packed;
  }

  private applyStates(entries: readonly EndpointStateEntry[], nowMs: number): void {
    for (const { endpoint, state } of entries) {
      // Nobody knows us better than we do (Cassandra skips its own address too).
      if (endpoint === this.self || this.quarantine.has(endpoint)) continue;
      this.applyState(endpoint, state, nowMs);
    }
  }

  private applyState(endpoint: string, remote: EndpointState, nowMs: number): void {
    const result = mergeEndpointState(this.states.get(endpoint), remote);
    switch (result.kind) {
      case 'new':
        if (this.states.size >= this.maxEndpoints) {
          this.counters.droppedEndpoints++;
          return;
        }
        this.states.set(endpoint, result.state);
        this.unreachable.set(endpoint, nowMs);
        this.failureDetector.report(endpoint, this.activeMs(nowMs));
        this.emit({ kind: 'joined', endpoint, state: result.state });
        return;
      case 'restarted':
        this.states.set(endpoint, result.state);
        this.failureDetector.remove(endpoint);
        this.failureDetector.report(endpoint, this.activeMs(nowMs));
        this.emit({ kind: 'restarted', endpoint, state: result.state, previousGeneration: result.previousGeneration });
        if (isDeadState(result.state)) this.markDown(endpoint, 'shutdown', nowMs);
        return;
      case 'updated':
        this.states.set(endpoint, result.state);
        for (const key of result.changedKeys) {
          const v = result.state.applicationStates.get(key);
          if (v !== undefined) this.emit({ kind: 'changed', endpoint, key, value: v.value, version: v.version });
        }
        if (isDeadState(result.state)) {
          this.markDown(endpoint, 'shutdown', nowMs);
        } else if (result.heartBeatAdvanced) {
          this.onHeartBeat(endpoint, nowMs);
        }
        return;
      case 'stale':
      case 'generation-too-far-ahead':
        this.counters.staleStates++;
        return;
      case 'unchanged':
        return;
    }
  }

  // #region pattern:HeartBeat
  /** Our own heartbeat: one version from the per-node counter every round. */
  private beatHeart(): void {
    const own = this.states.get(this.self) as EndpointState;
    this.states.set(this.self, withHeartBeatVersion(own, ++this.lastVersion));
  }

  /** A peer's heartbeat version rose, first- or second-hand: a sign of life. */
  private onHeartBeat(endpoint: string, nowMs: number): void {
    this.failureDetector.report(endpoint, this.activeMs(nowMs));
    this.markUp(endpoint);
  }

  /**
   * A late tick means this node was stalled (event loop, GC, SIGSTOP): heartbeats that peers
   * sent meanwhile sit unread behind the stall. That time is ours, not the peers' silence, so
   * the failure detector runs on "active" time, which stands still during local pauses
   * (Cassandra skips convictions after a local pause of 5 s; this also covers short pauses
   * that follow each other, and a peer pausing right after we did).
   */
  private creditLocalPause(nowMs: number): void {
    if (this.lastTickMs !== null) {
      const latenessMs = nowMs - this.lastTickMs - this.options.gossipIntervalMs;
      if (latenessMs > this.localPauseToleranceMs) {
        const creditMs = latenessMs - this.localPauseToleranceMs;
        this.pausedMs += creditMs;
        this.counters.localPauses++;
        this.counters.localPausedMs += creditMs;
      }
    }
    this.lastTickMs = nowMs;
  }

  /** The failure detector's clock: `nowMs` minus the local pauses so far. */
  private activeMs(nowMs: number): number {
    return nowMs - this.pausedMs;
  }

  /** Marks DOWN every live endpoint whose silence is past the phi threshold. */
  private convictSilentEndpoints(nowMs: number): void {
    for (const endpoint of [...this.live]) {
      if (this.failureDetector.isConvicted(endpoint, this.activeMs(nowMs))) {
        this.counters.convictions++;
        this.markDown(endpoint, 'convicted', nowMs);
      }
    }
  }
  // #endregion

  private markUp(endpoint: string): void {
    if (this.live.has(endpoint)) return;
    this.unreachable.delete(endpoint);
    this.live.add(endpoint);
    this.emit({ kind: 'up', endpoint });
  }

  private markDown(endpoint: string, reason: DownReason, nowMs: number): void {
    if (!this.live.has(endpoint)) return;
    this.live.delete(endpoint);
    this.unreachable.set(endpoint, nowMs);
    this.emit({ kind: 'down', endpoint, reason });
  }

  /** SHUTDOWN: the sender is going away; believe it at once (Cassandra's `markAsShutdown`). */
  private onShutdown(from: string, message: GossipShutdown, nowMs: number): void {
    const local = this.states.get(message.endpoint);
    if (message.endpoint !== from || message.endpoint === this.self || local === undefined || local.heartBeat.generation !== message.generation) {
      this.counters.ignoredShutdowns++;
      return;
    }
    let pinned = withHeartBeatVersion(local, Math.max(local.heartBeat.version, PINNED_VERSION));
    const status = pinned.applicationStates.get(ApplicationStateKey.STATUS);
    if (status === undefined || status.version < PINNED_VERSION) {
      pinned = withApplicationState(pinned, ApplicationStateKey.STATUS, STATUS_SHUTDOWN, PINNED_VERSION);
      this.emit({ kind: 'changed', endpoint: from, key: ApplicationStateKey.STATUS, value: STATUS_SHUTDOWN, version: PINNED_VERSION });
    }
    this.states.set(from, pinned);
    this.markDown(from, 'shutdown', nowMs);
  }

  private expireQuarantine(nowMs: number): void {
    for (const [endpoint, untilMs] of this.quarantine) if (nowMs >= untilMs) this.quarantine.delete(endpoint);
  }

  // ---- local inputs ----

  /** Sets one of our own application states, with the next version of our counter. */
  setApplicationState(key: string, value: string): void {
    assert(!this.stopped, 'the gossiper is stopped');
    checkLocalApplicationState(key, value);
    const own = this.states.get(this.self) as EndpointState;
    this.states.set(this.self, withApplicationState(own, key, value, ++this.lastVersion));
  }

  /**
   * Graceful stop: STATUS becomes `shutdown`, every live peer is told (SHUTDOWN), and the
   * gossiper stops ticking and answering. The driver sends the drained messages, then closes.
   */
  shutdown(): void {
    if (this.stopped) return;
    this.setApplicationState(ApplicationStateKey.STATUS, STATUS_SHUTDOWN);
    const message: GossipShutdown = { kind: 'shutdown', endpoint: this.self, generation: this.options.generation };
    for (const peer of this.live) this.emit({ kind: 'send', to: peer, message });
    this.stopped = true;
  }

  /**
   * Forgets an endpoint (removenode, or a node that left for good), quarantining it so gossip
   * from peers that still know it does not bring it back before they forget it too.
   */
  removeEndpoint(endpoint: string, nowMs: number): void {
    assert(endpoint !== this.self, 'cannot remove self');
    if (!this.states.has(endpoint)) return;
    this.states.delete(endpoint);
    this.live.delete(endpoint);
    this.unreachable.delete(endpoint);
    this.failureDetector.remove(endpoint);
    this.quarantine.set(endpoint, nowMs + this.quarantineMs);
    this.emit({ kind: 'removed', endpoint });
  }

  /** The buffered effects, oldest first; the buffer is emptied. */
  drain(): GossipEffect[] {
    const out = this.effects;
    this.effects = [];
    return out;
  }

  private emit(effect: GossipEffect): void {
    assert(this.effects.length < EFFECTS_PER_ENDPOINT * this.maxEndpoints + 64, 'gossip effects not drained');
    this.effects.push(effect);
  }

  // ---- queries ----

  digests(): GossipDigest[] {
    return [...this.states].map(([endpoint, state]) => digestOf(endpoint, state));
  }

  endpointState(endpoint: string): EndpointState | undefined {
    return this.states.get(endpoint);
  }

  endpoints(): string[] {
    return [...this.states.keys()];
  }

  isUp(endpoint: string): boolean {
    return endpoint === this.self ? !this.stopped : this.live.has(endpoint);
  }

  liveEndpoints(): string[] {
    return [...this.live];
  }

  unreachableEndpoints(): string[] {
    return [...this.unreachable.keys()];
  }

  /** phi of every remote endpoint heard from (metrics: phi per peer). */
  phis(nowMs: number): Map<string, number> {
    return this.failureDetector.phis(this.activeMs(nowMs));
  }

  phi(endpoint: string, nowMs: number): number {
    return this.failureDetector.phi(endpoint, this.activeMs(nowMs));
  }

  /** `gossipinfo`: every endpoint, sorted by id. */
  gossipInfo(nowMs: number): EndpointInfo[] {
    return [...this.states.keys()].sort().map((endpoint) => {
      const state = this.states.get(endpoint) as EndpointState;
      const applicationStates: Record<string, { value: string; version: number }> = {};
      for (const [key, v] of [...state.applicationStates].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        applicationStates[key] = { value: v.value, version: v.version };
      }
      return {
        endpoint,
        isSelf: endpoint === this.self,
        generation: state.heartBeat.generation,
        heartBeatVersion: state.heartBeat.version,
        applicationStates,
        up: this.isUp(endpoint),
        phi: endpoint === this.self ? 0 : this.failureDetector.phi(endpoint, this.activeMs(nowMs)),
      };
    });
  }

  stats(): GossiperStats {
    return { ...this.counters };
  }
}

function isDeadState(state: EndpointState): boolean {
  return state.applicationStates.get(ApplicationStateKey.STATUS)?.value === STATUS_SHUTDOWN;
}

function checkLocalApplicationState(key: string, value: string): void {
  assert(APPLICATION_STATE_KEY_PATTERN.test(key), `bad application state key: ${key}`);
  assert(Buffer.byteLength(value, 'utf8') <= MAX_APPLICATION_STATE_VALUE_BYTES, `application state ${key} too long`);
}
