/**
 * Our outbound connection to one peer: every request and one-way message this node sends to
 * the peer travels on this one long-lived TCP connection.
 *
 * Pattern: Single Socket Channel (Joshi). One connection per peer keeps the messages to that
 * peer in order and costs one socket and one handshake, however many callers send. Each node
 * dials its own outbound connection to each peer; the peer answers requests on the connection
 * they came on and never sends requests on it (it has its own outbound connection to us).
 * Requests are pipelined on it (request-pipeline.ts, Request Pipeline) and its frames are
 * coalesced into few writes (write-batcher.ts, Request Batch). Cassandra: `OutboundConnection`.
 *
 * Lifecycle: idle → connecting (TCP connect, then the handshake of handshake.ts) → ready →
 * (socket lost) → backoff → connecting …  A connection is dialled when the first message
 * arrives, and redialled after a loss while messages wait; the delay between attempts starts
 * at `backoff.initialMs`, doubles after every failed attempt up to `backoff.maxMs`, and goes
 * back to `initialMs` after a completed handshake.
 *
 * A request made while the connection is ready and nothing is queued goes straight to the
 * pipeline and the socket (no queue node): the order is the same as if it had been queued.
 *
 * Invariants
 * - Messages leave in the order they were queued. A request waits at the head of the queue
 *   while `maxInflightRequests` requests are in flight (one-way messages behind it wait too).
 * - Every request settles exactly once (request-pipeline.ts); requests in flight when the
 *   socket closes fail with `ConnectionLostError` (a response can only come on that socket);
 *   queued messages survive the loss and go out after the reconnect.
 * - A refused handshake fails every queued message with `HandshakeRefusedError`.
 * - After `close`, every message fails with `MessagingStoppedError` and nothing is dialled.
 *
 * Bounds: `queueMaxMessages` queued messages (more are dropped and counted), `maxInflightRequests`
 * requests in flight, payloads up to `maxMessageBytes - HEADER_BYTES`, one connect plus
 * handshake within `connectTimeoutMs`.
 */
import net from 'node:net';
import type { Cancellable, Scheduler } from '../runtime/clock.js';
import type { Random } from '../runtime/random.js';
import { assert } from '../util/assert.js';
import type { Logger } from '../util/logger.js';
import {
  ConnectionLostError,
  FrameError,
  HandshakeRefusedError,
  MessageDroppedError,
  MessageTooLargeError,
  MessagingStoppedError,
  RemoteError,
  RequestTimeoutError,
} from './errors.js';
import { FramedSocket } from './framed-socket.js';
import { FrameKind, HANDSHAKE_MAX_FRAME_BYTES, HEADER_BYTES, type Frame } from './frame.js';
import {
  checkReply,
  decodeErrorResponse,
  decodeReply,
  encodeConfirm,
  encodeHello,
  makeConfirm,
  makeHello,
  makeRefusalConfirm,
  newNonce,
  peerInfoOf,
  type Hello,
  type LocalIdentity,
} from './handshake.js';
import { LinkedQueue, type QueueNode } from './linked-queue.js';
import { peerKey, type PeerAddress, type PeerInfo } from './peer.js';
import type { PeerCounters } from './peer-stats.js';
import { OutstandingRequest, RequestPipeline } from './request-pipeline.js';
import { Verb } from './verbs.js';

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
}

export interface ConnectionLimits {
  readonly queueMaxMessages: number;
  readonly maxInflightRequests: number;
  readonly maxMessageBytes: number;
  readonly maxBatchBytes: number;
}

/** What the messaging service hears from a connection (it logs, counts and emits events). */
export interface OutboundListener {
  connected(peer: PeerInfo): void;
  disconnected(peer: PeerInfo): void;
  refused(reason: string, remote: string): void;
  corrupt(error: FrameError, remote: string): void;
  handshakeTimedOut(remote: string): void;
}

export interface OutboundConnectionOptions {
  readonly target: PeerAddress;
  readonly identity: LocalIdentity;
  readonly limits: ConnectionLimits;
  readonly connectTimeoutMs: number;
  readonly backoff: BackoffOptions;
  readonly scheduler: Scheduler;
  /** Source of handshake nonces; default the OS CSPRNG. */
  readonly random?: Random;
  readonly logger: Logger;
  readonly counters: PeerCounters;
  readonly listener: OutboundListener;
}

interface QueuedMessage {
  readonly verb: number;
  readonly payload: Uint8Array;
  /** null for a one-way message. */
  readonly request: OutstandingRequest | null;
}

type State = 'idle' | 'connecting' | 'handshaking' | 'ready' | 'backoff' | 'closed';

export class OutboundConnection {
  private state: State = 'idle';
  private readonly queue = new LinkedQueue<QueuedMessage>();
  private readonly pipeline: RequestPipeline;
  private socket: FramedSocket | null = null;
  private timer: Cancellable | null = null;
  private backoffMs: number;
  private attempts = 0;
  private hello: Hello | null = null;
  private connectedPeer: PeerInfo | null = null;

  constructor(private readonly options: OutboundConnectionOptions) {
    const { backoff, limits } = options;
    assert(backoff.initialMs > 0 && backoff.maxMs >= backoff.initialMs, 'backoff: 0 < initialMs <= maxMs');
    assert(limits.queueMaxMessages >= 1, 'queueMaxMessages >= 1');
    assert(limits.maxMessageBytes > HEADER_BYTES, 'maxMessageBytes holds a header');
    this.pipeline = new RequestPipeline(limits.maxInflightRequests);
    this.backoffMs = backoff.initialMs;
  }

  get queued(): number {
    return this.queue.size;
  }

  get inFlight(): number {
    return this.pipeline.size;
  }

  get isConnected(): boolean {
    return this.state === 'ready';
  }

  /** The peer as of the last completed handshake. */
  get peer(): PeerInfo | null {
    return this.connectedPeer;
  }

  request(verb: number, payload: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    assert(Number.isFinite(timeoutMs) && timeoutMs > 0, `request timeout must be positive: ${timeoutMs}`);
    const refusal = this.admissionError(payload);
    if (refusal !== null) return Promise.reject(refusal);
    return new Promise<Uint8Array>((resolve, reject) => {
      const request = new OutstandingRequest(verb, payload, resolve, reject);
      if (this.canSendAtOnce()) {
        // Nothing waits ahead of it: straight into the pipeline, order kept, no queue node.
        request.armTimeout(this.options.scheduler, timeoutMs, () => this.expire(null, request, timeoutMs));
        this.sendRequest(this.socket!, request);
        return;
      }
      const node = this.queue.push({ verb, payload, request });
      request.armTimeout(this.options.scheduler, timeoutMs, () => this.expire(node, request, timeoutMs));
      this.kick();
    });
  }

  /** Whether a request may go to the socket now without overtaking a queued message. */
  private canSendAtOnce(): boolean {
    return this.state === 'ready' && this.queue.size === 0 && this.socket !== null && !this.socket.backlogged && this.pipeline.hasRoom();
  }

  private sendRequest(socket: FramedSocket, request: OutstandingRequest): void {
    const requestId = this.pipeline.add(request);
    socket.send({ kind: FrameKind.REQUEST, verb: request.verb, requestId, payload: request.payload });
  }

  /** False when the message was not accepted (queue full, too large, closed). */
  sendOneWay(verb: number, payload: Uint8Array): boolean {
    if (this.admissionError(payload) !== null) return false;
    this.queue.push({ verb, payload, request: null });
    this.kick();
    return true;
  }

  /** For good: fails everything with `MessagingStoppedError` and closes the socket. */
  close(): void {
    if (this.state === 'closed') return;
    const wasReady = this.state === 'ready';
    this.state = 'closed';
    this.timer?.cancel();
    this.timer = null;
    for (const message of this.queue.drain()) message.request?.reject(new MessagingStoppedError());
    this.pipeline.failAll(() => new MessagingStoppedError());
    this.socket?.destroy();
    if (wasReady && this.connectedPeer !== null) this.options.listener.disconnected(this.connectedPeer);
  }

  private admissionError(payload: Uint8Array): Error | null {
    const { limits, counters, target } = this.options;
    if (this.state === 'closed') return new MessagingStoppedError();
    const maxPayloadBytes = limits.maxMessageBytes - HEADER_BYTES;
    if (payload.length > maxPayloadBytes) return new MessageTooLargeError(payload.length, maxPayloadBytes);
    if (this.queue.size >= limits.queueMaxMessages) {
      counters.dropped++;
      return new MessageDroppedError(target);
    }
    return null;
  }

  /** `node`: where the request waits in the queue; null if it went straight to the pipeline. */
  private expire(node: QueueNode<QueuedMessage> | null, request: OutstandingRequest, timeoutMs: number): void {
    if (request.isSettled) return;
    if (node === null || !this.queue.remove(node)) this.pipeline.take(request.requestId);
    this.options.counters.timeouts++;
    request.reject(new RequestTimeoutError(this.options.target, request.verb, timeoutMs));
    this.dispatch();
  }

  private kick(): void {
    if (this.state === 'idle') this.connect();
    else if (this.state === 'ready') this.dispatch();
  }

  // #region pattern:Single Socket Channel
  /** Sends queued messages, in order, while the pipeline and the socket have room. */
  private dispatch(): void {
    const socket = this.socket;
    if (this.state !== 'ready' || socket === null) return;
    while (this.queue.size > 0 && !socket.backlogged) {
      const head = this.queue.peek()!;
      if (head.request !== null && !this.pipeline.hasRoom()) return;
      this.queue.shift();
      if (head.request === null) {
        socket.send({ kind: FrameKind.ONE_WAY, verb: head.verb, requestId: 0, payload: head.payload });
      } else {
        this.sendRequest(socket, head.request);
      }
    }
  }

  private connect(): void {
    assert(this.state === 'idle', 'connect only from idle');
    const { target, scheduler, limits, counters, connectTimeoutMs } = this.options;
    this.state = 'connecting';
    if (this.attempts++ > 0) counters.reconnects++;
    const raw = net.connect({ host: target.host, port: target.port, noDelay: true, keepAlive: true });
    const socket = new FramedSocket({
      socket: raw,
      scheduler,
      counters,
      maxFrameBytes: Math.min(HANDSHAKE_MAX_FRAME_BYTES, limits.maxMessageBytes),
      maxBatchBytes: limits.maxBatchBytes,
      onFrame: (frame) => this.onFrame(frame),
      onCorrupt: (error) => this.options.listener.corrupt(error, peerKey(target)),
      onClose: (unsent) => this.onClose(socket, unsent),
      onWritable: () => this.dispatch(),
    });
    this.socket = socket;
    this.timer = scheduler.after(connectTimeoutMs, () => {
      this.timer = null;
      this.options.listener.handshakeTimedOut(peerKey(target));
      socket.destroy();
    });
    raw.once('connect', () => {
      if (this.socket !== socket || this.state !== 'connecting') return;
      this.state = 'handshaking';
      this.hello = makeHello(this.options.identity, newNonce(this.options.random));
      socket.send({ kind: FrameKind.ONE_WAY, verb: Verb.HANDSHAKE_HELLO, requestId: 0, payload: encodeHello(this.hello) });
    });
  }

  private onFrame(frame: Frame): void {
    if (this.state === 'handshaking') return this.onHandshakeFrame(frame);
    if (this.state !== 'ready') return;
    if (frame.kind !== FrameKind.RESPONSE && frame.kind !== FrameKind.ERROR_RESPONSE) {
      throw new FrameError(`peer sent a frame with flags 0x${frame.kind.toString(16)} on our outbound connection`);
    }
    const request = this.pipeline.take(frame.requestId);
    if (request === undefined) return; // timed out already: the answer is of no use
    if (request.verb !== frame.verb) {
      request.reject(new ConnectionLostError(this.options.target));
      throw new FrameError(`response to request ${frame.requestId} has verb ${frame.verb}, sent ${request.verb}`);
    }
    if (frame.kind === FrameKind.RESPONSE) request.resolve(frame.payload);
    else request.reject(new RemoteError(decodeErrorResponse(frame.payload), this.options.target, frame.verb));
    this.dispatch();
  }

  private onHandshakeFrame(frame: Frame): void {
    const socket = this.socket!;
    const { identity, listener, limits, target } = this.options;
    if (frame.kind !== FrameKind.ONE_WAY || frame.verb !== Verb.HANDSHAKE_REPLY) {
      throw new FrameError(`expected HelloReply, got verb ${frame.verb} with flags 0x${frame.kind.toString(16)}`);
    }
    const reply = decodeReply(frame.payload);
    const reason = checkReply(identity, this.hello!, reply);
    if (reason !== null) {
      if (reply.refusal === '') {
        socket.send({ kind: FrameKind.ONE_WAY, verb: Verb.HANDSHAKE_CONFIRM, requestId: 0, payload: encodeConfirm(makeRefusalConfirm(reason)) });
      }
      socket.endAfterFlush();
      listener.refused(reason, peerKey(target));
      for (const message of this.queue.drain()) message.request?.reject(new HandshakeRefusedError(target, reason));
      return;
    }
    const confirm = makeConfirm(identity, this.hello!, reply);
    socket.send({ kind: FrameKind.ONE_WAY, verb: Verb.HANDSHAKE_CONFIRM, requestId: 0, payload: encodeConfirm(confirm) });
    this.timer?.cancel();
    this.timer = null;
    socket.decoder.setMaxFrameBytes(limits.maxMessageBytes);
    this.state = 'ready';
    this.backoffMs = this.options.backoff.initialMs;
    this.connectedPeer = peerInfoOf(reply);
    this.options.counters.connects++;
    listener.connected(this.connectedPeer);
    this.dispatch();
  }

  private onClose(socket: FramedSocket, unsentFrames: number): void {
    if (this.socket !== socket) return;
    this.socket = null;
    this.hello = null;
    this.options.counters.dropped += unsentFrames;
    if (this.state === 'closed') return;
    const wasReady = this.state === 'ready';
    this.timer?.cancel();
    this.pipeline.failAll(() => new ConnectionLostError(this.options.target));
    if (wasReady) this.options.listener.disconnected(this.connectedPeer!);
    this.state = 'backoff';
    const delayMs = this.backoffMs;
    this.options.logger.debug({ peer: peerKey(this.options.target), wasReady, retryInMs: delayMs, queued: this.queue.size }, 'outbound connection closed');
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.backoff.maxMs);
    this.timer = this.options.scheduler.after(delayMs, () => {
      this.timer = null;
      if (this.state !== 'backoff') return;
      this.state = 'idle';
      if (this.queue.size > 0) this.connect();
    });
  }
  // #endregion
}
