/**
 * A simulated internode network for in-process clusters: every node gets a `SimMessaging`
 * (the `request` / `registerHandler` / `sendOneWay` face of `MessagingService`) and the test
 * holds the wires: it can partition groups of nodes, isolate one, take one down, and give each
 * directed link a drop probability and a delay (fixed, or drawn from a seeded RNG).
 *
 * Why: STYLE.md §2 and §4 (leveldb's fault-injecting `Env`, Joshi's tickloom `Cluster` kit with
 * `partitionNodes` / `dropMessages…`): the coordinator's quorum, timeout and read-repair logic
 * is tested against lost, late and cut messages without sockets.
 *
 * Semantics, chosen to match what `StorageProxy` sees from the real service:
 * - Delivery is always asynchronous (a scheduler timer, even for a 0 ms delay), never inside
 *   `request`.
 * - Each directed link is FIFO per message kind (a request channel and a response channel),
 *   as one TCP connection per peer is: a message never overtakes an earlier one on its
 *   channel, so a long delay holds back those behind it.
 * - A message is lost if its link is cut, or either end is down, when it is sent or when it
 *   would arrive; otherwise it is dropped with the link's `dropProbability`. Lost requests and
 *   lost responses are silence: the request rejects with `RequestTimeoutError` after its own
 *   `timeoutMs` (the coordinator counts that as silence, not failure).
 * - A handler that throws (or rejects, or a verb without a handler) answers a `RemoteError`
 *   carrying its message (a replica failure to the coordinator); the error travels back over
 *   the response link like any answer, so it can be lost or delayed too.
 * - Payloads are copied on send, as a wire would: a sender reusing its buffer changes nothing.
 * - Late answers (after the request timed out) are counted and ignored.
 * Time is the real event loop's (the injected `Scheduler`, by default `systemScheduler`),
 * because the coordinators' own timeouts run on it; only the fault choices are seeded, so a
 * run is "deterministic enough": same seed, same fault parameters and the same random stream,
 * consumed in an order that real timing may vary slightly.
 *
 * Bounds: at most `MAX_QUEUED_MESSAGES` messages in flight over the whole network (more throw:
 * a runaway test, not a condition to model); delays at most `MAX_DELAY_MS`.
 */
import type { Endpoint } from '../../src/ring/token-metadata.js';
import { parseEndpoint } from '../../src/cluster/cluster-service.js';
import { MessagingStoppedError, RemoteError, RequestTimeoutError } from '../../src/messaging/errors.js';
import type { MessageHandler, MessagingService } from '../../src/messaging/messaging-service.js';
import { peerKey, type PeerAddress, type PeerInfo } from '../../src/messaging/peer.js';
import { verbName } from '../../src/messaging/verbs.js';
import type { Cancellable, Clock, Scheduler } from '../../src/runtime/clock.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { systemClock, systemScheduler } from '../../src/runtime/system.js';

export const MAX_QUEUED_MESSAGES = 100_000;
export const MAX_DELAY_MS = 60_000;

/** A one-way delay: a fixed number of ms, or uniform in [minMs, maxMs]. */
export type DelaySpec = number | { readonly minMs: number; readonly maxMs: number };

/** Faults of one directed link (from → to). */
export interface LinkFaults {
  /** Probability in [0, 1] that a message on this link is lost. */
  readonly dropProbability?: number;
  readonly delayMs?: DelaySpec;
}

export interface SimNetworkOptions {
  /** Seeds every fault choice (drops, drawn delays). */
  readonly seed: number;
  /** Faults of links without their own (default: no drops, 0–1 ms). */
  readonly defaultFaults?: LinkFaults;
  readonly scheduler?: Scheduler;
  readonly clock?: Clock;
}

/** Counts for assertions and for the report of a randomised run. */
export interface SimNetworkStats {
  readonly sent: number;
  readonly delivered: number;
  /** Lost to `dropProbability`. */
  readonly dropped: number;
  /** Lost to a cut link (partition, isolation) or a down node. */
  readonly cut: number;
  readonly timedOut: number;
  /** Answers that arrived after their request timed out. */
  readonly late: number;
}

type MessageKind = 'request' | 'response';

interface InFlight {
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly arriveAtMs: number;
  readonly arrive: () => void;
}

interface Channel {
  readonly queue: InFlight[];
  timer: Cancellable | null;
  /** Arrival time of the last message queued: FIFO means nothing arrives before it. */
  lastArrivalMs: number;
}

interface PendingRequest {
  readonly timer: Cancellable;
  settle(outcome: { bytes: Uint8Array } | { error: Error }): void;
}

const DEFAULT_FAULTS: Required<LinkFaults> = { dropProbability: 0, delayMs: { minMs: 0, maxMs: 1 } };
const linkKey = (from: Endpoint, to: Endpoint): string => `${from}>${to}`;

function checkFaults(faults: LinkFaults): void {
  const p = faults.dropProbability;
  if (p !== undefined && !(p >= 0 && p <= 1)) throw new RangeError(`dropProbability must be in [0, 1]: ${p}`);
  const d = faults.delayMs;
  if (d === undefined) return;
  const [min, max] = typeof d === 'number' ? [d, d] : [d.minMs, d.maxMs];
  if (!(min >= 0 && min <= max && max <= MAX_DELAY_MS)) throw new RangeError(`delay must satisfy 0 <= min <= max <= ${MAX_DELAY_MS}: ${JSON.stringify(d)}`);
}

export class SimNetwork {
  private readonly random: SeededRandom;
  private readonly scheduler: Scheduler;
  private readonly clock: Clock;
  private readonly nodes = new Map<Endpoint, SimMessaging>();
  private readonly channels = new Map<string, Channel>();
  private readonly linkFaults = new Map<string, LinkFaults>();
  private defaultFaults: Required<LinkFaults>;
  /** Directed links cut by `partition`. */
  private readonly cutLinks = new Set<string>();
  private readonly isolated = new Set<Endpoint>();
  private readonly downNodes = new Set<Endpoint>();
  private readonly pending = new Set<PendingRequest>();
  private queued = 0;
  private closed = false;
  private counters = { sent: 0, delivered: 0, dropped: 0, cut: 0, timedOut: 0, late: 0 };

  constructor(options: SimNetworkOptions) {
    this.random = new SeededRandom(options.seed);
    this.scheduler = options.scheduler ?? systemScheduler;
    this.clock = options.clock ?? systemClock;
    checkFaults(options.defaultFaults ?? {});
    this.defaultFaults = { ...DEFAULT_FAULTS, ...options.defaultFaults };
  }

  /** Attaches a node at `endpoint` (`host:port`, as ring endpoints are) and returns its messaging. */
  attach(endpoint: Endpoint, hostId: string): SimMessaging {
    if (this.nodes.has(endpoint)) throw new Error(`endpoint ${endpoint} is attached already`);
    const messaging = new SimMessaging(this, endpoint, hostId);
    this.nodes.set(endpoint, messaging);
    return messaging;
  }

  endpoints(): Endpoint[] {
    return [...this.nodes.keys()];
  }

  // ---- controls ----

  /** Cuts every link between the two groups, both ways; links inside a group stay. */
  partition(groupA: readonly Endpoint[], groupB: readonly Endpoint[]): void {
    for (const a of groupA) {
      for (const b of groupB) {
        this.cutLinks.add(linkKey(a, b));
        this.cutLinks.add(linkKey(b, a));
      }
    }
  }

  /** Cuts `node` off from every other node (both ways). */
  isolate(node: Endpoint): void {
    this.isolated.add(node);
  }

  /** Undoes every `partition` and `isolate`; link faults and down nodes stay as they are. */
  heal(): void {
    this.cutLinks.clear();
    this.isolated.clear();
  }

  /** The node is gone (crashed or paused): messages to and from it vanish. */
  down(node: Endpoint): void {
    this.downNodes.add(node);
  }

  up(node: Endpoint): void {
    this.downNodes.delete(node);
  }

  /** Sets the faults of the link `from → to`, and of `to → from` unless `oneWay`. */
  setLinkFaults(from: Endpoint, to: Endpoint, faults: LinkFaults, options: { oneWay?: boolean } = {}): void {
    checkFaults(faults);
    this.linkFaults.set(linkKey(from, to), faults);
    if (options.oneWay !== true) this.linkFaults.set(linkKey(to, from), faults);
  }

  /** Faults for every link without its own. */
  setDefaultFaults(faults: LinkFaults): void {
    checkFaults(faults);
    this.defaultFaults = { ...DEFAULT_FAULTS, ...faults };
  }

  /** Back to reliable links (drops and delays of every link and the default reset). */
  clearFaults(): void {
    this.linkFaults.clear();
    this.defaultFaults = { ...DEFAULT_FAULTS };
  }

  isConnected(from: Endpoint, to: Endpoint): boolean {
    if (from === to) return !this.downNodes.has(from);
    return !this.downNodes.has(from) && !this.downNodes.has(to) && !this.isolated.has(from) && !this.isolated.has(to) && !this.cutLinks.has(linkKey(from, to));
  }

  stats(): SimNetworkStats {
    return { ...this.counters };
  }

  /** Stops every delivery and timer; requests still waiting reject with `MessagingStoppedError`. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const channel of this.channels.values()) {
      channel.timer?.cancel();
      channel.timer = null;
      channel.queue.length = 0;
    }
    this.queued = 0;
    for (const request of [...this.pending]) request.settle({ error: new MessagingStoppedError() });
  }

  // ---- the wire (used by SimMessaging) ----

  /** @internal */
  request(from: SimMessaging, peer: PeerAddress, verb: number, payload: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new MessagingStoppedError());
    const to = peerKey(peer);
    const bytes = Buffer.from(payload);
    return new Promise<Uint8Array>((resolve, reject) => {
      let settled = false;
      const request: PendingRequest = {
        timer: this.scheduler.after(timeoutMs, () => {
          if (settled) return;
          this.counters.timedOut++;
          request.settle({ error: new RequestTimeoutError(peer, verb, timeoutMs) });
        }),
        settle: (outcome) => {
          if (settled) return;
          settled = true;
          request.timer.cancel();
          this.pending.delete(request);
          if ('bytes' in outcome) resolve(outcome.bytes);
          else reject(outcome.error);
        },
      };
      this.pending.add(request);
      this.transmit(from.endpoint, to, 'request', () => {
        const target = this.nodes.get(to);
        if (target === undefined) return; // nobody listens there: silence
        void target.serve(from.info, verb, bytes).then((answer) => {
          this.transmit(to, from.endpoint, 'response', () => {
            if (settled) {
              this.counters.late++;
              return;
            }
            request.settle('bytes' in answer ? { bytes: answer.bytes } : { error: new RemoteError(answer.message, parseEndpoint(to), verb) });
          });
        });
      });
    });
  }

  /** @internal */
  sendOneWay(from: SimMessaging, peer: PeerAddress, verb: number, payload: Uint8Array): boolean {
    if (this.closed) return false;
    const to = peerKey(peer);
    const bytes = Buffer.from(payload);
    this.transmit(from.endpoint, to, 'request', () => {
      void this.nodes.get(to)?.serve(from.info, verb, bytes);
    });
    return true;
  }

  /** Queues a message on its channel unless it is lost; `arrive` runs at its arrival. */
  private transmit(from: Endpoint, to: Endpoint, kind: MessageKind, arrive: () => void): void {
    if (this.closed) return;
    this.counters.sent++;
    if (!this.isConnected(from, to)) {
      this.counters.cut++;
      return;
    }
    const faults = this.faultsOf(from, to);
    if (faults.dropProbability > 0 && this.random.nextFloat() < faults.dropProbability) {
      this.counters.dropped++;
      return;
    }
    if (this.queued >= MAX_QUEUED_MESSAGES) throw new Error(`more than ${MAX_QUEUED_MESSAGES} messages in flight: a runaway test`);
    const key = `${linkKey(from, to)}/${kind}`;
    let channel = this.channels.get(key);
    if (channel === undefined) {
      channel = { queue: [], timer: null, lastArrivalMs: 0 };
      this.channels.set(key, channel);
    }
    const arriveAtMs = Math.max(this.clock.nowMs() + this.drawDelayMs(faults.delayMs), channel.lastArrivalMs);
    channel.lastArrivalMs = arriveAtMs;
    channel.queue.push({ from, to, arriveAtMs, arrive });
    this.queued++;
    if (channel.timer === null) this.armChannel(channel);
  }

  private armChannel(channel: Channel): void {
    const head = channel.queue[0];
    if (head === undefined || this.closed) return;
    channel.timer = this.scheduler.after(Math.max(0, head.arriveAtMs - this.clock.nowMs()), () => {
      channel.timer = null;
      // Everything due by now, in order: timers may fire late, never out of order.
      const nowMs = this.clock.nowMs();
      while (channel.queue.length > 0 && channel.queue[0]!.arriveAtMs <= nowMs && !this.closed) {
        const message = channel.queue.shift()!;
        this.queued--;
        this.arrive(message);
      }
      this.armChannel(channel);
    });
  }

  private arrive(message: InFlight): void {
    if (!this.isConnected(message.from, message.to)) {
      this.counters.cut++;
      return;
    }
    this.counters.delivered++;
    message.arrive();
  }

  private faultsOf(from: Endpoint, to: Endpoint): Required<LinkFaults> {
    const own = this.linkFaults.get(linkKey(from, to));
    return own === undefined ? this.defaultFaults : { ...this.defaultFaults, ...own };
  }

  private drawDelayMs(delay: DelaySpec): number {
    if (typeof delay === 'number') return delay;
    return delay.minMs + this.random.nextFloat() * (delay.maxMs - delay.minMs);
  }
}

/** One node's messaging on a `SimNetwork`: the subset of `MessagingService` the data path uses. */
export class SimMessaging implements Pick<MessagingService, 'request' | 'registerHandler' | 'sendOneWay'> {
  private readonly handlers = new Map<number, MessageHandler>();
  /** Who this node is to the handlers of its peers. */
  readonly info: PeerInfo;

  constructor(
    private readonly network: SimNetwork,
    readonly endpoint: Endpoint,
    readonly hostId: string,
  ) {
    this.info = { hostId, address: parseEndpoint(endpoint) };
  }

  /** One handler per verb, as in `MessagingService`. */
  registerHandler(verb: number, handler: MessageHandler): void {
    if (this.handlers.has(verb)) throw new Error(`a handler for ${verbName(verb)} is registered already`);
    this.handlers.set(verb, handler);
  }

  request(peer: PeerAddress, verb: number, payload: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    return this.network.request(this, peer, verb, payload, timeoutMs);
  }

  sendOneWay(peer: PeerAddress, verb: number, payload: Uint8Array): boolean {
    return this.network.sendOneWay(this, peer, verb, payload);
  }

  /** @internal Runs the verb's handler; never rejects: an error becomes the answer's message. */
  async serve(from: PeerInfo, verb: number, payload: Uint8Array): Promise<{ bytes: Uint8Array } | { message: string }> {
    const handler = this.handlers.get(verb);
    if (handler === undefined) return { message: `no handler for verb ${verbName(verb)}` };
    try {
      const answer = await handler(from, payload);
      return { bytes: answer === undefined ? Buffer.alloc(0) : Buffer.from(answer) };
    } catch (err) {
      return { message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
    }
  }
}
