/**
 * Test doubles for hinted handoff: one manual time line (clock + timers that fire only in
 * `advanceMs`), an in-memory messaging network that knows which nodes are down and records
 * every HINT it delivers, and `until`, which waits for a condition by alternating real event-loop
 * turns (file I/O completes there) with small steps of manual time, up to a bounded number.
 */
import { RemoteError, RequestTimeoutError } from '../../src/messaging/errors.js';
import type { MessageHandler, MessagingService } from '../../src/messaging/messaging-service.js';
import type { PeerAddress } from '../../src/messaging/peer.js';
import { ManualTime } from './manual-time.js';

/** A few real event-loop turns: lets file I/O and promise chains settle. */
export async function turns(count = 5): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Waits until `condition()` holds: each step runs a few real turns, then moves manual time by
 * `stepMs`. Throws after `maxSteps` steps (the deadline), naming `what`.
 */
export async function until(what: string, condition: () => boolean, time: ManualTime, options: { stepMs?: number; maxSteps?: number } = {}): Promise<void> {
  const stepMs = options.stepMs ?? 10;
  const maxSteps = options.maxSteps ?? 3000;
  for (let step = 0; step < maxSteps; step++) {
    if (condition()) return;
    await turns();
    if (condition()) return;
    time.advanceMs(stepMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}

export type TestMessaging = Pick<MessagingService, 'registerHandler' | 'request'>;

export interface Delivery {
  readonly from: string;
  readonly to: string;
  readonly verb: number;
  readonly bytes: number;
  /** A copy of the request payload. */
  readonly payload: Buffer;
  readonly atMs: number;
  /** The receiver's handler answered (it may still have been lost: see `loseResponses`). */
  readonly answered: boolean;
}

/**
 * Nodes are named by endpoint (`host:port`). A request to a node in `down` is never answered
 * (it fails at its timeout, as a real one does); with `loseResponses` set for a node, its
 * handler runs but the answer is lost (the request times out): the sender cannot tell the two apart.
 */
export class InMemoryNetwork {
  readonly handlers = new Map<string, Map<number, MessageHandler>>();
  readonly down = new Set<string>();
  readonly loseResponses = new Set<string>();
  /** Requests whose handler failed with an error (the reply is a RemoteError). */
  readonly failing = new Set<string>();
  readonly deliveries: Delivery[] = [];
  maxConcurrent = 0;
  private concurrent = 0;

  constructor(private readonly time: ManualTime) {}

  messagingFor(self: string): TestMessaging {
    const own = new Map<number, MessageHandler>();
    this.handlers.set(self, own);
    return {
      registerHandler: (verb, handler) => {
        own.set(verb, handler);
      },
      request: (peer, verb, payload, timeoutMs) => this.request(self, peer, verb, payload, timeoutMs),
    };
  }

  deliveriesOf(verb: number, to?: string): Delivery[] {
    return this.deliveries.filter((d) => d.verb === verb && (to === undefined || d.to === to));
  }

  private timeout(peer: PeerAddress, verb: number, timeoutMs: number): Promise<never> {
    return new Promise((_resolve, reject) => this.time.after(timeoutMs, () => reject(new RequestTimeoutError(peer, verb, timeoutMs))));
  }

  private async request(from: string, peer: PeerAddress, verb: number, payload: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const to = `${peer.host}:${peer.port}`;
    this.concurrent++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
    try {
      if (this.down.has(to)) {
        this.deliveries.push({ from, to, verb, bytes: payload.length, payload: Buffer.from(payload), atMs: this.time.nowMs(), answered: false });
        return await this.timeout(peer, verb, timeoutMs);
      }
      if (this.failing.has(to)) throw new RemoteError('injected failure', peer, verb);
      const handler = this.handlers.get(to)?.get(verb);
      if (handler === undefined) throw new RemoteError(`no handler for verb ${verb}`, peer, verb);
      let answer: Uint8Array | void;
      try {
        answer = await handler({ hostId: from, address: { host: from.split(':')[0]!, port: Number(from.split(':')[1]) } }, Uint8Array.from(payload));
      } catch (err) {
        throw new RemoteError(err instanceof Error ? err.message : String(err), peer, verb);
      }
      this.deliveries.push({ from, to, verb, bytes: payload.length, payload: Buffer.from(payload), atMs: this.time.nowMs(), answered: true });
      if (this.loseResponses.has(to)) return await this.timeout(peer, verb, timeoutMs);
      return answer ?? new Uint8Array(0);
    } finally {
      this.concurrent--;
    }
  }
}

export { ManualTime };
