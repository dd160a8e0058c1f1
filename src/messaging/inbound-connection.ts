/**
 * A connection a peer opened to us: we run the acceptor's side of the handshake, then serve
 * the peer's requests and one-way messages and answer each request on this same connection
 * (the other half of Single Socket Channel, see connection.ts). Cassandra: `InboundConnectionInitiator`
 * and `InboundMessageHandler`.
 *
 * Invariants
 * - No frame reaches a handler before the handshake completed: until then only the three
 *   handshake frames are accepted, each at most HANDSHAKE_MAX_FRAME_BYTES.
 * - Every request gets exactly one response with its request id: the handler's bytes, or an
 *   ERROR_RESPONSE when there is no handler for the verb, the handler throws or rejects, or its
 *   answer does not fit in a frame. A handler's failure never closes the connection.
 * - A frame kind this direction does not carry (a response, a handshake frame after the
 *   handshake) is a protocol violation: `FrameError`, the connection closes.
 *
 * Bounds: at most `maxPendingRequests` requests and one-way messages being handled at once per
 * connection; at that limit, or while the socket cannot take our responses, we stop reading
 * the socket until there is room (TCP pushes back on the peer). A handshake must complete
 * within `handshakeTimeoutMs`.
 */
import type { Socket } from 'node:net';
import type { Cancellable, Scheduler } from '../runtime/clock.js';
import type { Random } from '../runtime/random.js';
import type { Logger } from '../util/logger.js';
import { FrameError } from './errors.js';
import { FramedSocket } from './framed-socket.js';
import { FrameKind, HANDSHAKE_MAX_FRAME_BYTES, HEADER_BYTES, type Frame } from './frame.js';
import {
  checkConfirm,
  checkHello,
  decodeConfirm,
  decodeHello,
  encodeErrorResponse,
  encodeReply,
  makeRefusalReply,
  makeReply,
  newNonce,
  peerInfoOf,
  type Hello,
  type HelloReply,
  type LocalIdentity,
} from './handshake.js';
import type { PeerInfo } from './peer.js';
import { addCounters, newPeerCounters, type PeerCounters } from './peer-stats.js';
import { isHandshakeVerb, Verb, verbName } from './verbs.js';

/** Serves one verb. The returned bytes (none: an empty payload) answer a request. */
export type MessageHandler = (from: PeerInfo, payload: Uint8Array) => Promise<Uint8Array | void> | Uint8Array | void;

export interface InboundListener {
  /** A further refusal reason for a Hello that passed the handshake checks (e.g. too many peers). */
  admit(hello: Hello): string | null;
  /**
   * The handshake completed; returns the counters the connection's traffic is added to, or
   * null to refuse the peer after all (too many peers known by now).
   */
  ready(connection: InboundConnection, peer: PeerInfo): PeerCounters | null;
  closed(connection: InboundConnection, peer: PeerInfo | null): void;
  refused(reason: string, remote: string): void;
  corrupt(error: FrameError, remote: string): void;
  handshakeTimedOut(remote: string): void;
  handler(verb: number): MessageHandler | undefined;
}

export interface InboundConnectionOptions {
  readonly socket: Socket;
  readonly identity: LocalIdentity;
  readonly maxMessageBytes: number;
  readonly maxBatchBytes: number;
  readonly maxPendingRequests: number;
  readonly handshakeTimeoutMs: number;
  readonly scheduler: Scheduler;
  /** Source of handshake nonces; default the OS CSPRNG. */
  readonly random?: Random;
  readonly logger: Logger;
  readonly listener: InboundListener;
}

type HandlerOutcome = { readonly failed: false; readonly bytes: Uint8Array | void } | { readonly failed: true; readonly error: unknown };

type State = 'awaitHello' | 'awaitConfirm' | 'ready' | 'refused';

export class InboundConnection {
  private state: State = 'awaitHello';
  private readonly socket: FramedSocket;
  private timer: Cancellable | null;
  private hello: Hello | null = null;
  private reply: HelloReply | null = null;
  private peerInfo: PeerInfo | null = null;
  private pending = 0;

  constructor(private readonly options: InboundConnectionOptions) {
    const { socket, scheduler, listener } = options;
    socket.setNoDelay(true);
    this.socket = new FramedSocket({
      socket,
      scheduler,
      // Handshake traffic is counted here, then added to the peer's counters.
      counters: newPeerCounters(),
      maxFrameBytes: Math.min(HANDSHAKE_MAX_FRAME_BYTES, options.maxMessageBytes),
      maxBatchBytes: options.maxBatchBytes,
      onFrame: (frame) => this.onFrame(frame),
      onCorrupt: (error) => listener.corrupt(error, this.socket.remote),
      onClose: () => this.onClose(),
      onWritable: () => this.maybeResume(),
    });
    this.timer = scheduler.after(options.handshakeTimeoutMs, () => {
      this.timer = null;
      if (this.state !== 'ready') {
        listener.handshakeTimedOut(this.socket.remote);
        this.socket.destroy();
      }
    });
  }

  get peer(): PeerInfo | null {
    return this.peerInfo;
  }

  get remote(): string {
    return this.socket.remote;
  }

  close(): void {
    this.socket.destroy();
  }

  private onFrame(frame: Frame): void {
    switch (this.state) {
      case 'awaitHello':
        return this.onHello(frame);
      case 'awaitConfirm':
        return this.onConfirm(frame);
      case 'ready':
        return this.onMessage(frame);
      case 'refused':
        return;
    }
  }

  private onHello(frame: Frame): void {
    expectHandshakeFrame(frame, Verb.HANDSHAKE_HELLO, 'Hello');
    const { identity, listener } = this.options;
    const hello = decodeHello(frame.payload);
    const reason = checkHello(identity, hello) ?? listener.admit(hello);
    if (reason !== null) {
      this.state = 'refused';
      this.socket.send(handshakeFrame(Verb.HANDSHAKE_REPLY, encodeReply(makeRefusalReply(identity, reason))));
      this.socket.endAfterFlush();
      listener.refused(reason, this.socket.remote);
      return;
    }
    this.hello = hello;
    this.reply = makeReply(identity, hello, newNonce(this.options.random));
    this.socket.send(handshakeFrame(Verb.HANDSHAKE_REPLY, encodeReply(this.reply)));
    this.state = 'awaitConfirm';
  }

  private onConfirm(frame: Frame): void {
    expectHandshakeFrame(frame, Verb.HANDSHAKE_CONFIRM, 'HelloConfirm');
    const { identity, listener, maxMessageBytes } = this.options;
    const reason = checkConfirm(identity, this.hello!, this.reply!, decodeConfirm(frame.payload));
    if (reason !== null) {
      this.state = 'refused';
      this.socket.endAfterFlush();
      listener.refused(reason, this.socket.remote);
      return;
    }
    const peer = peerInfoOf(this.hello!);
    const handshakeTraffic = this.socket.counters;
    const counters = listener.ready(this, peer);
    if (counters === null) {
      this.state = 'refused';
      this.socket.endAfterFlush();
      listener.refused('too many peers', this.socket.remote);
      return;
    }
    this.timer?.cancel();
    this.timer = null;
    this.state = 'ready';
    this.peerInfo = peer;
    this.socket.decoder.setMaxFrameBytes(maxMessageBytes);
    addCounters(counters, handshakeTraffic);
    this.socket.counters = counters;
  }

  private onMessage(frame: Frame): void {
    if (isHandshakeVerb(frame.verb)) throw new FrameError(`handshake verb ${frame.verb} after the handshake`);
    if (frame.kind === FrameKind.REQUEST) {
      this.handle(frame, true);
    } else if (frame.kind === FrameKind.ONE_WAY) {
      this.handle(frame, false);
    } else {
      throw new FrameError(`peer sent a response (flags 0x${frame.kind.toString(16)}) on its outbound connection`);
    }
  }

  private handle(frame: Frame, respond: boolean): void {
    const handler = this.options.listener.handler(frame.verb);
    if (handler === undefined) {
      if (respond) this.respondError(frame, `unknown verb ${verbName(frame.verb)}`);
      else this.options.logger.debug({ verb: frame.verb, remote: this.socket.remote }, 'one-way message with an unknown verb dropped');
      return;
    }
    this.pending++;
    if (this.pending >= this.options.maxPendingRequests) this.socket.pauseReading();
    let result: ReturnType<MessageHandler>;
    try {
      result = handler(this.peerInfo!, frame.payload);
    } catch (e) {
      return this.finish(frame, respond, { failed: true, error: e });
    }
    if (result instanceof Promise) {
      result.then(
        (bytes) => this.finish(frame, respond, { failed: false, bytes }),
        (e: unknown) => this.finish(frame, respond, { failed: true, error: e }),
      );
    } else {
      this.finish(frame, respond, { failed: false, bytes: result });
    }
  }

  private finish(frame: Frame, respond: boolean, outcome: HandlerOutcome): void {
    this.pending--;
    if (outcome.failed) {
      const { error } = outcome;
      const message = error instanceof Error ? error.message : String(error);
      // A requester learns of the failure from the error response; for a one-way message this log is all there is.
      const log = { verb: verbName(frame.verb), remote: this.socket.remote, err: error };
      if (respond) {
        this.options.logger.debug(log, 'handler failed');
        this.respondError(frame, message);
      } else {
        this.options.logger.warn(log, 'one-way message handler failed');
      }
    } else if (respond) {
      const payload = outcome.bytes instanceof Uint8Array ? outcome.bytes : new Uint8Array(0);
      if (HEADER_BYTES + payload.length > this.options.maxMessageBytes) {
        this.respondError(frame, `response of ${payload.length} bytes exceeds internode_max_message_bytes`);
      } else {
        this.socket.send({ kind: FrameKind.RESPONSE, verb: frame.verb, requestId: frame.requestId, payload });
      }
    }
    this.maybeResume();
  }

  private respondError(frame: Frame, message: string): void {
    this.socket.send({ kind: FrameKind.ERROR_RESPONSE, verb: frame.verb, requestId: frame.requestId, payload: encodeErrorResponse(message) });
  }

  private maybeResume(): void {
    if (this.pending < this.options.maxPendingRequests && !this.socket.backlogged) this.socket.resumeReading();
    else this.socket.pauseReading();
  }

  private onClose(): void {
    this.timer?.cancel();
    this.timer = null;
    this.options.listener.closed(this, this.peerInfo);
  }
}

function expectHandshakeFrame(frame: Frame, verb: number, what: string): void {
  if (frame.kind !== FrameKind.ONE_WAY || frame.verb !== verb) {
    throw new FrameError(`expected ${what}, got verb ${frame.verb} with flags 0x${frame.kind.toString(16)}`);
  }
}

function handshakeFrame(verb: number, payload: Uint8Array): Frame {
  return { kind: FrameKind.ONE_WAY, verb, requestId: 0, payload };
}
