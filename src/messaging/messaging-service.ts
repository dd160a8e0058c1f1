/**
 * The node's internode messaging: listens on `listen_address:internode_port`, keeps one
 * outbound connection per peer (connection.ts, Single Socket Channel), accepts the peers'
 * connections (inbound-connection.ts) and dispatches their messages to the handler registered
 * for each verb. Cassandra: `MessagingService`.
 *
 * Every connection, in both directions, starts with the handshake of handshake.ts (cluster
 * name, protocol version, host id, HMAC proof when `internode_secret` is set). A refusal is
 * logged (warn, with the reason and the remote address), counted, and closes the connection;
 * a refused peer never reaches a handler and never shows up as connected (SPEC §7).
 *
 * Events: `peerConnected` / `peerDisconnected` ({ peer, direction }) when a connection
 * completes its handshake / closes after completing it.
 *
 * Bounds: per peer, `queueMaxMessages` queued outbound messages and `maxInflightRequests`
 * requests in flight; frames up to `maxMessageBytes`; at most `maxPeers` peers known (dialled
 * or accepted; more are refused); at most `4 * maxPeers` open inbound sockets; per inbound
 * connection at most `maxInflightRequests` messages handled at once.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Settings } from '../config/settings.js';
import type { Scheduler } from '../runtime/clock.js';
import type { Random } from '../runtime/random.js';
import { assert } from '../util/assert.js';
import type { Logger } from '../util/logger.js';
import { OutboundConnection, type BackoffOptions, type ConnectionLimits } from './connection.js';
import { MessageDroppedError, MessagingStoppedError, type FrameError } from './errors.js';
import { HEADER_BYTES } from './frame.js';
import type { Hello, LocalIdentity } from './handshake.js';
import { InboundConnection, type MessageHandler } from './inbound-connection.js';
import { peerKey, type PeerAddress, type PeerInfo } from './peer.js';
import { newPeerCounters, type MessagingStats, type PeerCounters, type PeerStats } from './peer-stats.js';
import { isHandshakeVerb, MAX_VERB, verbName } from './verbs.js';
import { DEFAULT_MAX_BATCH_BYTES } from './write-batcher.js';

export type { MessageHandler };

export interface MessagingServiceOptions {
  readonly clusterName: string;
  /** This node's host id (a UUID string), at most 64 bytes. */
  readonly hostId: string;
  /** Address to listen on and to advertise to peers (`listen_address`). */
  readonly listenHost: string;
  /** `internode_port`; 0 picks a free port (see `address` after `start`). */
  readonly port: number;
  /** `internode_secret`; '' = none. */
  readonly secret: string;
  /** `internode_max_message_bytes`: the largest frame sent or accepted, header included. */
  readonly maxMessageBytes: number;
  /** `internode_queue_max_messages`: outbound messages queued per peer. */
  readonly queueMaxMessages: number;
  /** Requests in flight per peer; more wait in the queue. */
  readonly maxInflightRequests: number;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  /** Source of handshake nonces (a seeded one in simulations); default the OS CSPRNG. */
  readonly random?: Random;
  /** TCP connect plus handshake, per attempt and per accepted connection. Default 2000. */
  readonly handshakeTimeoutMs?: number;
  /** Default 100 ms doubling up to 5 s. */
  readonly reconnectBackoff?: BackoffOptions;
  /** Default 64 KiB. */
  readonly maxBatchBytes?: number;
  /** Default 1024. */
  readonly maxPeers?: number;
}

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 2000;
export const DEFAULT_RECONNECT_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 5000 };
export const DEFAULT_MAX_PEERS = 1024;
/**
 * Requests in flight per peer connection when built from settings. `max_inflight_requests`
 * bounds the client requests a node coordinates; each of them sends at most one request to a
 * given replica at a time (a data read or a mutation, plus a repair or speculative read), so
 * twice that bound is enough for one peer.
 */
export function inflightPerPeer(settings: Pick<Settings, 'max_inflight_requests'>): number {
  return Math.min(2 * settings.max_inflight_requests, 1_000_000);
}

export function messagingOptionsFromSettings(
  settings: Settings,
  deps: { hostId: string; scheduler: Scheduler; logger: Logger; random?: Random },
): MessagingServiceOptions {
  return {
    clusterName: settings.cluster_name,
    hostId: deps.hostId,
    listenHost: settings.listen_address,
    port: settings.internode_port,
    secret: settings.internode_secret,
    maxMessageBytes: settings.internode_max_message_bytes,
    queueMaxMessages: settings.internode_queue_max_messages,
    maxInflightRequests: inflightPerPeer(settings),
    scheduler: deps.scheduler,
    logger: deps.logger,
    random: deps.random,
  };
}

export type ConnectionDirection = 'inbound' | 'outbound';

export interface PeerConnectionEvent {
  readonly peer: PeerInfo;
  readonly direction: ConnectionDirection;
}

export interface MessagingEvents {
  peerConnected: [PeerConnectionEvent];
  peerDisconnected: [PeerConnectionEvent];
}

interface PeerEntry {
  readonly counters: PeerCounters;
  hostId: string | null;
  outbound: OutboundConnection | null;
}

type Lifecycle = 'new' | 'starting' | 'running' | 'stopped';

export class MessagingService extends EventEmitter<MessagingEvents> {
  private lifecycle: Lifecycle = 'new';
  private server: net.Server | null = null;
  private identity: LocalIdentity | null = null;
  private readonly handlers = new Map<number, MessageHandler>();
  private readonly peers = new Map<string, PeerEntry>();
  /**
   * Outbound connections by address object. A peer's connection is never replaced (it
   * reconnects itself), so an entry stays right; weak, so addresses callers drop are forgotten.
   */
  private readonly connectionByAddress = new WeakMap<PeerAddress, OutboundConnection>();
  private readonly inbound = new Set<InboundConnection>();
  private readonly logger: Logger;
  private readonly maxPeers: number;
  private readonly limits: ConnectionLimits;
  private refusedHandshakes = 0;
  private handshakeTimeouts = 0;
  private corruptFrames = 0;

  constructor(private readonly options: MessagingServiceOptions) {
    super();
    assert(options.maxMessageBytes > HEADER_BYTES, 'maxMessageBytes must hold a frame header');
    assert(options.hostId.length > 0 && Buffer.byteLength(options.hostId) <= 64, 'hostId is 1..64 bytes');
    this.logger = options.logger.child({ component: 'messaging' });
    this.maxPeers = options.maxPeers ?? DEFAULT_MAX_PEERS;
    this.limits = {
      queueMaxMessages: options.queueMaxMessages,
      maxInflightRequests: options.maxInflightRequests,
      maxMessageBytes: options.maxMessageBytes,
      maxBatchBytes: options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES,
    };
  }

  /** Where this node listens (the bound port when `port` was 0). Only after `start`. */
  get address(): PeerAddress {
    assert(this.identity !== null, 'address is known after start()');
    return this.identity.listenAddress;
  }

  get isRunning(): boolean {
    return this.lifecycle === 'running';
  }

  /** Starts listening; resolves with the bound address. A service starts once. */
  async start(): Promise<PeerAddress> {
    assert(this.lifecycle === 'new', 'a messaging service starts once');
    this.lifecycle = 'starting';
    const server = net.createServer({ noDelay: true, keepAlive: true }, (socket) => this.accept(socket));
    server.maxConnections = 4 * this.maxPeers;
    this.server = server;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: this.options.listenHost, port: this.options.port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      this.lifecycle = 'stopped';
      this.server = null;
      throw e;
    }
    server.on('error', (err) => this.logger.error({ err }, 'internode listener failed'));
    const bound = server.address() as net.AddressInfo;
    this.identity = {
      clusterName: this.options.clusterName,
      hostId: this.options.hostId,
      listenAddress: { host: this.options.listenHost, port: bound.port },
      secret: this.options.secret,
    };
    this.lifecycle = 'running';
    this.logger.info({ address: peerKey(this.identity.listenAddress) }, 'internode messaging listening');
    return this.identity.listenAddress;
  }

  /** Closes the listener and every connection; pending messages fail with `MessagingStoppedError`. */
  async stop(): Promise<void> {
    if (this.lifecycle === 'stopped') return;
    const server = this.server;
    this.lifecycle = 'stopped';
    for (const entry of this.peers.values()) entry.outbound?.close();
    for (const connection of this.inbound) connection.close();
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Serves `verb` from now on; one handler per verb. Handshake verbs are not for handlers. */
  registerHandler(verb: number, handler: MessageHandler): void {
    assert(Number.isInteger(verb) && verb >= 0 && verb <= MAX_VERB && !isHandshakeVerb(verb), `not a handler verb: ${verb}`);
    assert(!this.handlers.has(verb), `a handler for ${verbName(verb)} is registered already`);
    this.handlers.set(verb, handler);
  }

  /**
   * Sends a request to `peer` and resolves with its response payload. Rejects with
   * `RequestTimeoutError`, `RemoteError`, `MessageDroppedError`, `ConnectionLostError`,
   * `HandshakeRefusedError`, `MessageTooLargeError` or `MessagingStoppedError`.
   */
  request(peer: PeerAddress, verb: number, payload: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    if (this.lifecycle !== 'running') return Promise.reject(new MessagingStoppedError());
    const connection = this.outboundTo(peer);
    if (connection === null) return Promise.reject(new MessageDroppedError(peer));
    return connection.request(verb, payload, timeoutMs);
  }

  /** Queues a one-way message; false when it was dropped (queue full, too large, stopped). */
  sendOneWay(peer: PeerAddress, verb: number, payload: Uint8Array): boolean {
    if (this.lifecycle !== 'running') return false;
    return this.outboundTo(peer)?.sendOneWay(verb, payload) ?? false;
  }

  stats(): MessagingStats {
    const peers: PeerStats[] = [];
    for (const [key, entry] of this.peers) {
      const outbound = entry.outbound;
      peers.push({
        ...entry.counters,
        peer: key,
        hostId: entry.hostId,
        connected: outbound?.isConnected ?? false,
        queued: outbound?.queued ?? 0,
        inFlight: outbound?.inFlight ?? 0,
      });
    }
    return {
      peers,
      refusedHandshakes: this.refusedHandshakes,
      handshakeTimeouts: this.handshakeTimeouts,
      corruptFrames: this.corruptFrames,
    };
  }

  /** The peer's entry; null when `maxPeers` peers are known already. */
  private entryFor(key: string): PeerEntry | null {
    let entry = this.peers.get(key);
    if (entry === undefined) {
      if (this.peers.size >= this.maxPeers) return null;
      entry = { counters: newPeerCounters(), hostId: null, outbound: null };
      this.peers.set(key, entry);
    }
    return entry;
  }

  private outboundTo(peer: PeerAddress): OutboundConnection | null {
    // Callers on the data path pass the same address object for a peer every time: skip the key.
    const known = this.connectionByAddress.get(peer);
    if (known !== undefined) return known;
    const connection = this.outboundByKey(peer);
    if (connection !== null) this.connectionByAddress.set(peer, connection);
    return connection;
  }

  private outboundByKey(peer: PeerAddress): OutboundConnection | null {
    const key = peerKey(peer);
    const entry = this.entryFor(key);
    if (entry === null) {
      this.logger.warn({ peer: key, maxPeers: this.maxPeers }, 'too many peers: message dropped');
      return null;
    }
    if (entry.outbound === null) {
      entry.outbound = new OutboundConnection({
        target: { host: peer.host, port: peer.port },
        identity: this.identity!,
        limits: this.limits,
        connectTimeoutMs: this.options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
        backoff: this.options.reconnectBackoff ?? DEFAULT_RECONNECT_BACKOFF,
        scheduler: this.options.scheduler,
        random: this.options.random,
        logger: this.logger,
        counters: entry.counters,
        listener: {
          connected: (info) => {
            entry.hostId = info.hostId;
            this.logger.info({ peer: key, hostId: info.hostId }, 'outbound connection established');
            this.emit('peerConnected', { peer: info, direction: 'outbound' });
          },
          disconnected: (info) => {
            this.logger.info({ peer: key, hostId: info.hostId }, 'outbound connection closed');
            this.emit('peerDisconnected', { peer: info, direction: 'outbound' });
          },
          refused: (reason, remote) => this.onRefused(reason, remote, 'outbound'),
          corrupt: (error, remote) => this.onCorrupt(error, remote),
          handshakeTimedOut: (remote) => this.onHandshakeTimeout(remote, 'outbound'),
        },
      });
    }
    return entry.outbound;
  }

  private accept(socket: net.Socket): void {
    if (this.lifecycle !== 'running') {
      socket.destroy();
      return;
    }
    const connection = new InboundConnection({
      socket,
      identity: this.identity!,
      maxMessageBytes: this.options.maxMessageBytes,
      maxBatchBytes: this.limits.maxBatchBytes,
      maxPendingRequests: this.options.maxInflightRequests,
      handshakeTimeoutMs: this.options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      scheduler: this.options.scheduler,
      random: this.options.random,
      logger: this.logger,
      listener: {
        admit: (hello) => this.admit(hello),
        ready: (conn, peer) => {
          const entry = this.entryFor(peerKey(peer.address));
          if (entry === null) return null;
          entry.hostId = peer.hostId;
          this.logger.info({ peer: peerKey(peer.address), hostId: peer.hostId, remote: conn.remote }, 'inbound connection established');
          this.emit('peerConnected', { peer, direction: 'inbound' });
          return entry.counters;
        },
        closed: (conn, peer) => {
          this.inbound.delete(conn);
          if (peer !== null) this.emit('peerDisconnected', { peer, direction: 'inbound' });
        },
        refused: (reason, remote) => this.onRefused(reason, remote, 'inbound'),
        corrupt: (error, remote) => this.onCorrupt(error, remote),
        handshakeTimedOut: (remote) => this.onHandshakeTimeout(remote, 'inbound'),
        handler: (verb) => this.handlers.get(verb),
      },
    });
    this.inbound.add(connection);
  }

  private admit(hello: Hello): string | null {
    const known = this.peers.has(peerKey(hello.listenAddress));
    return known || this.peers.size < this.maxPeers ? null : `too many peers (${this.maxPeers})`;
  }

  private onRefused(reason: string, remote: string, direction: ConnectionDirection): void {
    this.refusedHandshakes++;
    this.logger.warn({ reason, remote, direction }, 'internode handshake refused');
  }

  private onCorrupt(error: FrameError, remote: string): void {
    this.corruptFrames++;
    this.logger.warn({ reason: error.message, remote }, 'corrupt internode frame: connection closed');
  }

  private onHandshakeTimeout(remote: string, direction: ConnectionDirection): void {
    this.handshakeTimeouts++;
    this.logger.warn({ remote, direction }, 'internode handshake timed out: connection closed');
  }
}
