/**
 * A deterministic in-process gossip cluster: N gossipers on virtual time over a simulated
 * network, for tests and benchmarks (STYLE.md §4, FoundationDB-style simulation; Joshi's
 * tickloom `Cluster` kit).
 *
 * One seeded `Random` drives everything (tick phases and jitter, message latency, drops, each
 * node's gossip choices), and events run in (time, sequence) order from one queue, so a seed
 * replays a run exactly. Time is a `ManualClock` moved to each event's time.
 *
 * The network model: every message gets a latency from `latencyMs(random)`; links are FIFO by
 * default (one TCP connection per ordered pair of nodes: a slow message holds back those
 * behind it, as a retransmission does); `dropRate` loses messages; partitions drop messages
 * between groups. Node faults: `kill` (SIGKILL: no ticks, messages to it vanish), `pause` /
 * `resume` (SIGSTOP/SIGCONT or a long stall: ticks stop and messages queue; on resume the
 * overdue tick runs before the queued messages, as Node's event loop runs timers before I/O),
 * `restart` (a new incarnation with a higher generation), `shutdown` (graceful).
 *
 * Bounds: events are bounded by nodes × messages per round × rounds simulated; `runFor` takes
 * an explicit duration and the queue never holds more than `MAX_PENDING_EVENTS` events.
 */
import { ManualClock } from '../../runtime/manual-clock.js';
import { SeededRandom, type Random } from '../../runtime/random.js';
import { assert } from '../../util/assert.js';
import { nextGeneration } from './generation.js';
import { decodeGossipMessage, encodeGossipMessage } from './gossip-codec.js';
import { Gossiper, type GossipEvent, type GossiperOptions } from './gossiper.js';
import type { GossipMessage } from './messages.js';

const MAX_PENDING_EVENTS = 10_000_000;

export interface SimulationOptions {
  readonly seed: number;
  readonly nodes: number;
  /** How many of the first nodes are seeds (default min(3, nodes)). */
  readonly seedCount?: number;
  readonly clusterName?: string;
  readonly gossipIntervalMs?: number;
  readonly phiConvictThreshold?: number;
  /** One-way latency of a message, drawn per message (default 1–5 ms uniform). */
  readonly latencyMs?: (random: Random) => number;
  readonly dropRate?: number;
  /** Each tick comes `gossipIntervalMs + U[0, tickJitterMs)` after the previous (timer drift). Default 5. */
  readonly tickJitterMs?: number;
  /** Default true: per-link FIFO delivery. */
  readonly fifoLinks?: boolean;
  /** Pass every message through the protobuf codec (slower; checks the wire form in the loop). */
  readonly encodeMessages?: boolean;
  readonly startMs?: number;
  /** Extra gossiper options for every node. */
  readonly gossiper?: Partial<GossiperOptions>;
}

export type NodeCondition = 'running' | 'paused' | 'killed';

export interface SimNode {
  readonly id: string;
  readonly index: number;
  readonly clusterName: string;
  gossiper: Gossiper;
  condition: NodeCondition;
  /** Messages that arrived while paused, delivered on resume. */
  backlog: { from: string; message: GossipMessage }[];
  /** Cancels the node's pending tick chain when it is killed or restarted. */
  tickEpoch: number;
}

export interface RecordedEvent {
  readonly atMs: number;
  readonly node: string;
  readonly event: GossipEvent;
}

interface QueuedEvent {
  readonly atMs: number;
  readonly seq: number;
  readonly run: () => void;
}

export function endpointIdOf(index: number): string {
  return `10.0.${Math.floor(index / 250)}.${(index % 250) + 1}:7000`;
}

export class GossipSimulation {
  readonly clock: ManualClock;
  readonly random: SeededRandom;
  readonly nodes: SimNode[] = [];
  readonly events: RecordedEvent[] = [];
  readonly gossipIntervalMs: number;
  messagesSent = 0;
  messagesDropped = 0;
  private readonly options: SimulationOptions;
  private readonly seedIds: string[];
  private readonly queue: QueuedEvent[] = [];
  private seq = 0;
  private readonly linkFreeAtMs = new Map<string, number>();
  private readonly partitionOf = new Map<string, number>();
  private readonly listeners: ((e: RecordedEvent) => void)[] = [];

  constructor(options: SimulationOptions) {
    this.options = options;
    this.clock = new ManualClock(options.startMs ?? 1_700_000_000_000);
    this.random = new SeededRandom(options.seed);
    this.gossipIntervalMs = options.gossipIntervalMs ?? 200;
    const seedCount = options.seedCount ?? Math.min(3, options.nodes);
    this.seedIds = Array.from({ length: seedCount }, (_, i) => endpointIdOf(i));
    for (let i = 0; i < options.nodes; i++) this.addNode();
  }

  get nowMs(): number {
    return this.clock.nowMs();
  }

  /** Adds and starts a node (of another cluster if `clusterName` differs). */
  addNode(overrides: { clusterName?: string; seeds?: string[] } = {}): SimNode {
    const index = this.nodes.length;
    const id = endpointIdOf(index);
    const clusterName = overrides.clusterName ?? this.options.clusterName ?? 'sim';
    const node: SimNode = {
      id,
      index,
      clusterName,
      gossiper: this.newGossiper(id, clusterName, nextGeneration(null, Math.floor(this.nowMs / 1000)), overrides.seeds),
      condition: 'running',
      backlog: [],
      tickEpoch: 0,
    };
    this.nodes.push(node);
    this.scheduleFirstTick(node);
    return node;
  }

  private newGossiper(id: string, clusterName: string, generation: number, seeds?: string[]): Gossiper {
    return new Gossiper({
      self: id,
      clusterName,
      generation,
      seeds: seeds ?? this.seedIds,
      gossipIntervalMs: this.gossipIntervalMs,
      phiConvictThreshold: this.options.phiConvictThreshold ?? 8,
      random: this.random.fork(),
      applicationStates: { HOST_ID: `host-${id}`, STATUS: 'NORMAL', DC: 'dc1', RACK: 'rack1' },
      ...this.options.gossiper,
    });
  }

  node(index: number): SimNode {
    const node = this.nodes[index];
    assert(node !== undefined, `no node ${index}`);
    return node;
  }

  onEvent(listener: (e: RecordedEvent) => void): void {
    this.listeners.push(listener);
  }

  // ---- the event queue ----

  private schedule(atMs: number, run: () => void): void {
    assert(this.queue.length < MAX_PENDING_EVENTS, 'simulation event queue overflow');
    // Whole milliseconds: the ManualClock reads whole ms, and drift-free integer times keep replays exact.
    const event: QueuedEvent = { atMs: Math.ceil(atMs), seq: this.seq++, run };
    const q = this.queue;
    q.push(event);
    let i = q.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(event, q[parent] as QueuedEvent)) break;
      q[i] = q[parent] as QueuedEvent;
      i = parent;
    }
    q[i] = event;
  }

  private pop(): QueuedEvent | undefined {
    const q = this.queue;
    const top = q[0];
    const last = q.pop();
    if (top === undefined || last === undefined || q.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= q.length) break;
      const right = left + 1;
      const child = right < q.length && before(q[right] as QueuedEvent, q[left] as QueuedEvent) ? right : left;
      if (!before(q[child] as QueuedEvent, last)) break;
      q[i] = q[child] as QueuedEvent;
      i = child;
    }
    q[i] = last;
    return top;
  }

  /** Runs `action` at simulated time `atMs` (a scripted fault, a measurement). */
  at(atMs: number, action: () => void): void {
    assert(atMs >= this.nowMs, 'cannot schedule in the past');
    this.schedule(atMs, action);
  }

  /** Runs every event up to `nowMs + durationMs`, then leaves the clock there. */
  runFor(durationMs: number): void {
    this.runUntil(this.nowMs + durationMs);
  }

  runUntil(endMs: number, stop?: () => boolean): void {
    for (;;) {
      const next = this.queue[0];
      if (next === undefined || next.atMs > endMs) break;
      this.pop();
      this.clock.setMs(next.atMs);
      next.run();
      if (stop?.()) return;
    }
    this.clock.setMs(endMs);
  }

  /** Runs until `condition` holds (checked after every event) or `timeoutMs` passes; returns whether it held. */
  runUntilCondition(condition: () => boolean, timeoutMs: number): boolean {
    if (condition()) return true;
    this.runUntil(this.nowMs + timeoutMs, condition);
    return condition();
  }

  // ---- nodes ----

  private scheduleFirstTick(node: SimNode): void {
    this.scheduleTick(node, this.nowMs + this.random.nextFloat() * this.gossipIntervalMs);
  }

  private scheduleTick(node: SimNode, atMs: number): void {
    const epoch = node.tickEpoch;
    this.schedule(atMs, () => {
      if (node.tickEpoch !== epoch || node.condition !== 'running') return;
      node.gossiper.tick(this.nowMs);
      this.flush(node);
      const jitterMs = this.random.nextFloat() * (this.options.tickJitterMs ?? 5);
      this.scheduleTick(node, this.nowMs + this.gossipIntervalMs + jitterMs);
    });
  }

  private flush(node: SimNode): void {
    for (const effect of node.gossiper.drain()) {
      if (effect.kind === 'send') this.send(node.id, effect.to, effect.message);
      else this.record(node.id, effect);
    }
  }

  private record(nodeId: string, event: GossipEvent): void {
    const recorded = { atMs: this.nowMs, node: nodeId, event };
    this.events.push(recorded);
    for (const l of this.listeners) l(recorded);
  }

  private nodeById(id: string): SimNode | undefined {
    return this.nodes.find((n) => n.id === id);
  }

  private send(from: string, to: string, message: GossipMessage): void {
    this.messagesSent++;
    if (this.partitioned(from, to) || this.random.nextFloat() < (this.options.dropRate ?? 0)) {
      this.messagesDropped++;
      return;
    }
    const wire = this.options.encodeMessages ? decodeGossipMessage(encodeGossipMessage(message)) : message;
    const latencyMs = (this.options.latencyMs ?? ((r: Random) => 1 + 4 * r.nextFloat()))(this.random);
    let atMs = this.nowMs + latencyMs;
    if (this.options.fifoLinks ?? true) {
      const link = `${from}>${to}`;
      atMs = Math.max(atMs, this.linkFreeAtMs.get(link) ?? 0);
      this.linkFreeAtMs.set(link, atMs);
    }
    this.schedule(atMs, () => this.deliver(from, to, wire));
  }

  private deliver(from: string, to: string, message: GossipMessage): void {
    const node = this.nodeById(to);
    if (node === undefined || node.condition === 'killed') return;
    if (node.condition === 'paused') {
      node.backlog.push({ from, message });
      return;
    }
    node.gossiper.receive(from, message, this.nowMs);
    this.flush(node);
  }

  kill(index: number): void {
    const node = this.node(index);
    node.condition = 'killed';
    node.backlog = [];
    node.tickEpoch++;
  }

  pause(index: number): void {
    const node = this.node(index);
    assert(node.condition === 'running', 'only a running node can be paused');
    node.condition = 'paused';
  }

  resume(index: number): void {
    const node = this.node(index);
    assert(node.condition === 'paused', 'only a paused node can be resumed');
    node.condition = 'running';
    node.tickEpoch++;
    // The overdue timer first, then the I/O that queued up during the pause.
    this.scheduleTick(node, this.nowMs);
    const backlog = node.backlog;
    node.backlog = [];
    for (const { from, message } of backlog) this.schedule(this.nowMs, () => this.deliver(from, node.id, message));
  }

  /** Starts a killed (or shut down) node again with a higher generation and the same states. */
  restart(index: number): void {
    const node = this.node(index);
    assert(node.condition === 'killed', 'only a killed node can be restarted');
    const generation = nextGeneration(node.gossiper.generation, Math.floor(this.nowMs / 1000));
    node.gossiper = this.newGossiper(node.id, node.clusterName, generation);
    node.condition = 'running';
    node.tickEpoch++;
    this.scheduleFirstTick(node);
  }

  /** Graceful stop: SHUTDOWN goes out, then the node is gone. */
  shutdown(index: number): void {
    const node = this.node(index);
    node.gossiper.shutdown();
    this.flush(node);
    this.kill(index);
  }

  /** Splits the cluster: messages between different groups are dropped (nodes in no group form one more). */
  partition(...groups: number[][]): void {
    this.partitionOf.clear();
    groups.forEach((g, i) => g.forEach((index) => this.partitionOf.set(this.node(index).id, i)));
  }

  heal(): void {
    this.partitionOf.clear();
  }

  private partitioned(a: string, b: string): boolean {
    if (this.partitionOf.size === 0) return false;
    return (this.partitionOf.get(a) ?? -1) !== (this.partitionOf.get(b) ?? -1);
  }

  // ---- observations ----

  running(): SimNode[] {
    return this.nodes.filter((n) => n.condition === 'running');
  }

  /**
   * Every running node knows every running node of its cluster UP, with exactly the
   * application states that node has itself (heartbeats move on all the time, so they are
   * not compared).
   */
  converged(clusterName = this.options.clusterName ?? 'sim'): boolean {
    const members = this.running().filter((n) => n.clusterName === clusterName);
    for (const observer of members) {
      for (const subject of members) {
        if (observer === subject) continue;
        if (!observer.gossiper.isUp(subject.id)) return false;
        const seen = observer.gossiper.endpointState(subject.id);
        const own = subject.gossiper.endpointState(subject.id);
        if (seen === undefined || own === undefined) return false;
        if (seen.heartBeat.generation !== own.heartBeat.generation) return false;
        if (seen.applicationStates.size !== own.applicationStates.size) return false;
        for (const [key, v] of own.applicationStates) if (seen.applicationStates.get(key)?.version !== v.version) return false;
      }
    }
    return true;
  }

  /** When `observer` first reported `subject` with an event of `kind` at or after `sinceMs`. */
  firstEvent(observer: string, subject: string, kind: GossipEvent['kind'], sinceMs: number): RecordedEvent | undefined {
    return this.events.find((e) => e.node === observer && e.event.kind === kind && e.event.endpoint === subject && e.atMs >= sinceMs);
  }
}

function before(a: QueuedEvent, b: QueuedEvent): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
}
