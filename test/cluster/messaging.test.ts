/**
 * Internode messaging between real services on 127.0.0.1 (port 0), over real TCP sockets.
 * Nothing sleeps: tests wait for conditions with deadlines.
 */
import net from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConnectionLostError,
  HandshakeRefusedError,
  MessageDroppedError,
  MessageTooLargeError,
  MessagingStoppedError,
  RemoteError,
  RequestTimeoutError,
} from '../../src/messaging/errors.js';
import { encodeFrame, FrameDecoder, FrameKind, type Frame } from '../../src/messaging/frame.js';
import {
  checkReply,
  decodeReply,
  encodeConfirm,
  encodeHello,
  makeConfirm,
  makeHello,
  newNonce,
  type LocalIdentity,
} from '../../src/messaging/handshake.js';
import {
  MessagingService,
  messagingOptionsFromSettings,
  type MessagingServiceOptions,
  type PeerConnectionEvent,
} from '../../src/messaging/messaging-service.js';
import type { PeerAddress, PeerInfo } from '../../src/messaging/peer.js';
import { Verb } from '../../src/messaging/verbs.js';
import { loadConfig } from '../../src/config/load-config.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { systemScheduler } from '../../src/runtime/system.js';
import { silentLogger } from '../../src/util/logger.js';

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

interface Node {
  readonly service: MessagingService;
  readonly address: PeerAddress;
  readonly logs: LogLine[];
  readonly events: { connected: PeerConnectionEvent[]; disconnected: PeerConnectionEvent[] };
}

const running: MessagingService[] = [];
const rawSockets: net.Socket[] = [];

afterEach(async () => {
  for (const socket of rawSockets.splice(0)) socket.destroy();
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function startNode(hostId: string, options: Partial<MessagingServiceOptions> = {}): Promise<Node> {
  const logs: LogLine[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
  const service = new MessagingService({
    clusterName: 'test-cluster',
    hostId,
    listenHost: '127.0.0.1',
    port: 0,
    secret: '',
    maxMessageBytes: 1024 * 1024,
    queueMaxMessages: 10_000,
    maxInflightRequests: 1024,
    scheduler: systemScheduler,
    logger,
    reconnectBackoff: { initialMs: 20, maxMs: 200 },
    ...options,
  });
  const events = { connected: [] as PeerConnectionEvent[], disconnected: [] as PeerConnectionEvent[] };
  service.on('peerConnected', (e) => events.connected.push(e));
  service.on('peerDisconnected', (e) => events.disconnected.push(e));
  const address = await service.start();
  running.push(service);
  return { service, address, logs, events };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function peerStats(node: Node, peer: Node | PeerAddress) {
  const address = 'service' in peer ? peer.address : peer;
  const stats = node.service.stats().peers.find((p) => p.peer === `${address.host}:${address.port}`);
  if (stats === undefined) throw new Error(`no stats for ${address.host}:${address.port}`);
  return stats;
}

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString();
const bytes = (s: string): Uint8Array => Buffer.from(s);

/** A promise with its resolver outside. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('requests and responses', () => {
  it("answers a request with its handler's bytes and tells the handler who asked", async () => {
    const a = await startNode('host-a');
    const b = await startNode('host-b');
    const callers: PeerInfo[] = [];
    b.service.registerHandler(Verb.ECHO, (from, payload) => {
      callers.push(from);
      return bytes(text(payload).toUpperCase());
    });
    expect(text(await a.service.request(b.address, Verb.ECHO, bytes('ping'), 2000))).toBe('PING');
    expect(callers).toEqual([{ hostId: 'host-a', address: a.address }]);
    expect(a.events.connected).toEqual([{ peer: { hostId: 'host-b', address: b.address }, direction: 'outbound' }]);
    expect(b.events.connected).toEqual([{ peer: { hostId: 'host-a', address: a.address }, direction: 'inbound' }]);
  });

  it('pipelines many concurrent requests over one connection, answered out of order', async () => {
    const a = await startNode('host-a');
    const b = await startNode('host-b');
    const count = 200;
    const arrived: { payload: string; answer: (bytes: Uint8Array) => void }[] = [];
    b.service.registerHandler(Verb.ECHO, (_from, payload) => {
      const answer = deferred<Uint8Array>();
      arrived.push({ payload: text(payload), answer: answer.resolve });
      return answer.promise;
    });
    const responses = Array.from({ length: count }, (_, i) => a.service.request(b.address, Verb.ECHO, bytes(`r${i}`), 10_000));
    // Every request is at B at once: none waited for an earlier one's response.
    await waitFor(() => arrived.length === count, 'all requests in flight at once');
    expect(peerStats(a, b).inFlight).toBe(count);
    for (const r of [...arrived].reverse()) r.answer(bytes(`answer to ${r.payload}`));
    expect((await Promise.all(responses)).map(text)).toEqual(Array.from({ length: count }, (_, i) => `answer to r${i}`));
    // One connection carried them all.
    expect(peerStats(a, b)).toMatchObject({ connects: 1, reconnects: 0, inFlight: 0, sentFrames: count + 2 });
    expect(b.events.connected).toHaveLength(1);
  });

  it('times a request out on its own timeout while other requests on the connection are answered', async () => {
    const a = await startNode('host-a');
    const b = await startNode('host-b');
    const held: (() => void)[] = [];
    b.service.registerHandler(Verb.READ_DATA, () => new Promise<void>((resolve) => held.push(resolve)));
    b.service.registerHandler(Verb.ECHO, (_from, payload) => payload);
    const slow = a.service.request(b.address, Verb.READ_DATA, bytes('slow'), 150);
    const fast = a.service.request(b.address, Verb.ECHO, bytes('fast'), 5000);
    expect(text(await fast)).toBe('fast');
    await expect(slow).rejects.toBeInstanceOf(RequestTimeoutError);
    expect(peerStats(a, b)).toMatchObject({ timeouts: 1, inFlight: 0, connects: 1 });
    // The late response is ignored; the connection keeps working.
    for (const release of held) release();
    expect(text(await a.service.request(b.address, Verb.ECHO, bytes('again'), 5000))).toBe('again');
  });

  it('answers an unknown verb and a failing handler with a RemoteError, and keeps the connection', async () => {
    const a = await startNode('host-a');
    const b = await startNode('host-b');
    b.service.registerHandler(Verb.MUTATION, () => {
      throw new Error('disk on fire');
    });
    b.service.registerHandler(Verb.READ_DIGEST, () => Promise.reject(new Error('digest failed')));
    await expect(a.service.request(b.address, Verb.READ_DATA, bytes(''), 2000)).rejects.toThrow(/unknown verb READ_DATA/);
    const failure = await a.service.request(b.address, Verb.MUTATION, bytes(''), 2000).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(RemoteError);
    expect(failure).toMatchObject({ message: 'disk on fire', verb: Verb.MUTATION, peer: b.address });
    await expect(a.service.request(b.address, Verb.READ_DIGEST, bytes(''), 2000)).rejects.toThrow('digest failed');
    expect(peerStats(a, b).connects).toBe(1);
  });

  it('delivers one-way messages in order', async () => {
    const a = await startNode('host-a');
    const b = await startNode('host-b');
    const seen: string[] = [];
    b.service.registerHandler(Verb.GOSSIP_SYN, (_from, payload) => void seen.push(text(payload)));
    for (let i = 0; i < 50; i++) expect(a.service.sendOneWay(b.address, Verb.GOSSIP_SYN, bytes(`${i}`))).toBe(true);
    await waitFor(() => seen.length === 50, 'all one-way messages');
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => `${i}`));
  });
});

describe('configuration', () => {
  it('builds a service from node settings (cluster name, port, secret, limits) with seeded nonces', async () => {
    const settings = loadConfig({ overrides: ['cluster_name=from-settings', 'internode_port=0', 'internode_secret=s3cret', 'internode_queue_max_messages=8'] });
    const [a, b] = ['settings-a', 'settings-b'].map(
      (hostId, i) => new MessagingService(messagingOptionsFromSettings(settings, { hostId, scheduler: systemScheduler, logger: silentLogger, random: new SeededRandom(i + 1) })),
    );
    for (const service of [a!, b!]) {
      await service.start();
      running.push(service);
    }
    b!.registerHandler(Verb.ECHO, (_from, payload) => payload);
    expect(text(await a!.request(b!.address, Verb.ECHO, bytes('configured'), 2000))).toBe('configured');
    expect(a!.address).toMatchObject({ host: settings.listen_address });
  });
});

describe('bounds', () => {
  it('drops messages beyond the outbound queue bound, counts them and fails their requests at once', async () => {
    const a = await startNode('host-a', { queueMaxMessages: 4 });
    const b = await startNode('host-b');
    b.service.registerHandler(Verb.ECHO, (_from, payload) => payload);
    // The connection is still being dialled: these wait in the queue.
    const queued = [0, 1, 2, 3].map((i) => a.service.request(b.address, Verb.ECHO, bytes(`${i}`), 5000));
    await expect(a.service.request(b.address, Verb.ECHO, bytes('4'), 5000)).rejects.toBeInstanceOf(MessageDroppedError);
    expect(a.service.sendOneWay(b.address, Verb.ECHO, bytes('5'))).toBe(false);
    expect(peerStats(a, b)).toMatchObject({ dropped: 2, queued: 4 });
    expect((await Promise.all(queued)).map(text)).toEqual(['0', '1', '2', '3']);
  });

  it('keeps at most maxInflightRequests requests in flight; the rest wait in the queue', async () => {
    const a = await startNode('host-a', { maxInflightRequests: 2 });
    const b = await startNode('host-b');
    const held: (() => void)[] = [];
    b.service.registerHandler(Verb.ECHO, (_from, payload) => new Promise<Uint8Array>((resolve) => held.push(() => resolve(payload))));
    const responses = [0, 1, 2, 3, 4].map((i) => a.service.request(b.address, Verb.ECHO, bytes(`${i}`), 5000));
    await waitFor(() => held.length === 2, 'two requests at B');
    expect(peerStats(a, b)).toMatchObject({ inFlight: 2, queued: 3 });
    let answered = 0;
    for (const response of responses) void response.then(() => answered++);
    while (answered < responses.length) {
      await waitFor(() => held.length > 0 || answered === responses.length, 'a request at B or all answered');
      expect(peerStats(a, b).inFlight).toBeLessThanOrEqual(2);
      held.shift()?.();
    }
    expect((await Promise.all(responses)).map(text)).toEqual(['0', '1', '2', '3', '4']);
  });

  it.each([
    ['synchronous', (seen: number[], n: number) => void seen.push(n)],
    ['asynchronous', (seen: number[], n: number) => new Promise<void>((resolve) => setImmediate(() => resolve(void seen.push(n))))],
  ])('stops reading a peer that sends more than it may have handled at once (%s handler), losing nothing', async (_what, handle) => {
    const a = await startNode('host-a');
    const b = await startNode('host-b', { maxInflightRequests: 1 });
    const seen: number[] = [];
    b.service.registerHandler(Verb.GOSSIP_ACK, (_from, payload) => handle(seen, Buffer.from(payload).readUInt32BE(0)));
    const count = 3000;
    for (let i = 0; i < count; i++) a.service.sendOneWay(b.address, Verb.GOSSIP_ACK, Buffer.from([i >>> 24, i >>> 16, i >>> 8, i]));
    await waitFor(() => seen.length === count, 'every message handled');
    expect(seen).toEqual(Array.from({ length: count }, (_, i) => i));
  });

  it('refuses a payload larger than internode_max_message_bytes before sending it', async () => {
    const a = await startNode('host-a', { maxMessageBytes: 2048 });
    const b = await startNode('host-b');
    await expect(a.service.request(b.address, Verb.ECHO, new Uint8Array(4096), 1000)).rejects.toBeInstanceOf(MessageTooLargeError);
    expect(a.service.sendOneWay(b.address, Verb.ECHO, new Uint8Array(4096))).toBe(false);
  });
});

describe('connection lifecycle', () => {
  it('fails requests in flight when the peer goes away, then reconnects with backoff once it is back', async () => {
    const a = await startNode('host-a');
    const b = await startNode('host-b');
    b.service.registerHandler(Verb.ECHO, (_from, payload) => payload);
    b.service.registerHandler(Verb.READ_DATA, () => new Promise<void>(() => {}));
    expect(text(await a.service.request(b.address, Verb.ECHO, bytes('1'), 2000))).toBe('1');
    const inFlight = a.service.request(b.address, Verb.READ_DATA, bytes(''), 10_000);
    await waitFor(() => peerStats(a, b).inFlight === 1, 'request in flight');
    await b.service.stop();
    await expect(inFlight).rejects.toBeInstanceOf(ConnectionLostError);
    await waitFor(() => a.events.disconnected.length === 1, 'disconnected event');

    // While B is down the request waits in the queue and A keeps redialling.
    const waiting = a.service.request(b.address, Verb.ECHO, bytes('2'), 20_000);
    await waitFor(() => peerStats(a, b).reconnects >= 3, 'several reconnect attempts');
    expect(peerStats(a, b)).toMatchObject({ queued: 1, connected: false });

    const restarted = await startNode('host-b-restarted', { port: b.address.port });
    restarted.service.registerHandler(Verb.ECHO, (_from, payload) => bytes(`${text(payload)} from restarted`));
    expect(text(await waiting)).toBe('2 from restarted');
    expect(peerStats(a, b)).toMatchObject({ connects: 2, connected: true, hostId: 'host-b-restarted' });
    expect(a.events.connected.map((e) => e.peer.hostId)).toEqual(['host-b', 'host-b-restarted']);
  });

  it('fails pending requests with MessagingStoppedError on stop, and refuses new ones', async () => {
    const a = await startNode('host-a');
    const b = await startNode('host-b');
    b.service.registerHandler(Verb.READ_DATA, () => new Promise<void>(() => {}));
    const pending = a.service.request(b.address, Verb.READ_DATA, bytes(''), 10_000);
    await waitFor(() => peerStats(a, b).inFlight === 1, 'request in flight');
    await a.service.stop();
    await expect(pending).rejects.toBeInstanceOf(MessagingStoppedError);
    await expect(a.service.request(b.address, Verb.ECHO, bytes(''), 1000)).rejects.toBeInstanceOf(MessagingStoppedError);
    expect(a.service.sendOneWay(b.address, Verb.ECHO, bytes(''))).toBe(false);
  });
});

describe('handshake refusals', () => {
  it.each([
    ['another cluster name', { clusterName: 'other-cluster' }, {}, /cluster name mismatch/],
    ['a wrong secret', { secret: 'alpha' }, { secret: 'beta' }, /wrong internode_secret proof/],
    ['a secret on the dialer only', { secret: 'alpha' }, {}, /no internode_secret proof/],
    ['a secret on the acceptor only', {}, { secret: 'beta' }, /requires internode_secret/],
  ])('refuses %s: logged and counted on both sides, no handler invoked, never connected', async (_what, aOptions, bOptions, reason) => {
    const a = await startNode('host-a', aOptions);
    const b = await startNode('host-b', bOptions);
    let handled = 0;
    b.service.registerHandler(Verb.ECHO, () => void handled++);
    b.service.registerHandler(Verb.GOSSIP_SYN, () => void handled++);
    expect(a.service.sendOneWay(b.address, Verb.GOSSIP_SYN, bytes('syn'))).toBe(true);
    const refusal = await a.service.request(b.address, Verb.ECHO, bytes('hi'), 5000).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(HandshakeRefusedError);
    expect((refusal as HandshakeRefusedError).reason).toMatch(reason);
    await waitFor(() => b.service.stats().refusedHandshakes >= 1, 'the acceptor to count the refusal');
    expect(a.service.stats().refusedHandshakes).toBeGreaterThanOrEqual(1);
    for (const node of [a, b]) {
      const warning = node.logs.find((l) => l.msg === 'internode handshake refused');
      expect(warning).toMatchObject({ level: 40, reason: expect.stringMatching(reason), remote: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
      expect(node.events.connected).toEqual([]);
    }
    expect(handled).toBe(0);
  });

  it('refuses the same way in the other direction', async () => {
    const a = await startNode('host-a', { secret: 'alpha' });
    const b = await startNode('host-b', { secret: 'beta' });
    await expect(b.service.request(a.address, Verb.ECHO, bytes('hi'), 5000)).rejects.toBeInstanceOf(HandshakeRefusedError);
    expect(a.events.connected).toEqual([]);
  });

  it('accepts peers sharing the secret', async () => {
    const a = await startNode('host-a', { secret: 'shared' });
    const b = await startNode('host-b', { secret: 'shared' });
    b.service.registerHandler(Verb.ECHO, (_from, payload) => payload);
    expect(text(await a.service.request(b.address, Verb.ECHO, bytes('ok'), 5000))).toBe('ok');
    expect(a.service.stats().refusedHandshakes + b.service.stats().refusedHandshakes).toBe(0);
  });
});

/** A raw TCP client to `node`, collecting what the node sends and whether it closed. */
async function rawClient(node: Node): Promise<{ socket: net.Socket; frames: Frame[]; closed: () => boolean }> {
  const socket = net.connect({ host: node.address.host, port: node.address.port });
  rawSockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const decoder = new FrameDecoder(1 << 20);
  const frames: Frame[] = [];
  let isClosed = false;
  socket.on('data', (chunk: Buffer) => {
    decoder.push(chunk);
    for (let f = decoder.next(); f !== null; f = decoder.next()) frames.push(f);
  });
  socket.on('error', () => {});
  socket.on('close', () => (isClosed = true));
  return { socket, frames, closed: () => isClosed };
}

/** A deterministic byte stream (xorshift), not a valid frame header. */
function garbage(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  if (out[0] === 1) out[0] = 0xfe; // format version 1 would wait for more bytes instead
  return out;
}

describe('hostile and corrupt peers', () => {
  it('closes a connection that sends random garbage, and only that one', async () => {
    const a = await startNode('host-a');
    const b = await startNode('host-b');
    let handled = 0;
    b.service.registerHandler(Verb.ECHO, (_from, payload) => {
      handled++;
      return payload;
    });
    expect(text(await a.service.request(b.address, Verb.ECHO, bytes('before'), 2000))).toBe('before');
    const intruder = await rawClient(b);
    intruder.socket.write(garbage(4096, 0xc0ffee));
    await waitFor(intruder.closed, 'the node to close the garbage connection');
    expect(b.service.stats().corruptFrames).toBe(1);
    expect(b.logs.find((l) => l.msg === 'corrupt internode frame: connection closed')).toMatchObject({ level: 40, remote: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    // The established connection was not touched.
    expect(text(await a.service.request(b.address, Verb.ECHO, bytes('after'), 2000))).toBe('after');
    expect(peerStats(a, b)).toMatchObject({ connects: 1, reconnects: 0 });
    expect(handled).toBe(2);
  });

  it('closes an authenticated connection that breaks the frame rules after the handshake', async () => {
    const b = await startNode('host-b', { secret: 'shared' });
    const intruder = await rawClient(b);
    const identity: LocalIdentity = { clusterName: 'test-cluster', hostId: 'raw-client', listenAddress: { host: '127.0.0.1', port: 9 }, secret: 'shared' };
    const hello = makeHello(identity, newNonce());
    intruder.socket.write(encodeFrame({ kind: FrameKind.ONE_WAY, verb: Verb.HANDSHAKE_HELLO, requestId: 0, payload: encodeHello(hello) }));
    await waitFor(() => intruder.frames.length === 1, 'HelloReply');
    const reply = decodeReply(intruder.frames[0]!.payload);
    expect(checkReply(identity, hello, reply)).toBeNull();
    const confirm = encodeConfirm(makeConfirm(identity, hello, reply));
    intruder.socket.write(encodeFrame({ kind: FrameKind.ONE_WAY, verb: Verb.HANDSHAKE_CONFIRM, requestId: 0, payload: confirm }));
    await waitFor(() => b.events.connected.length === 1, 'the raw client to be accepted');
    // A header announcing a frame far above internode_max_message_bytes.
    intruder.socket.write(Buffer.from([1, FrameKind.REQUEST, 0, Verb.ECHO, 0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff]));
    await waitFor(intruder.closed, 'the node to close the connection');
    expect(b.service.stats().corruptFrames).toBe(1);
    await waitFor(() => b.events.disconnected.length === 1, 'the disconnected event');
  });

  it('closes a connection that does not complete the handshake in time', async () => {
    const b = await startNode('host-b', { handshakeTimeoutMs: 200 });
    const idle = await rawClient(b);
    await waitFor(idle.closed, 'the node to close the idle connection');
    expect(b.service.stats().handshakeTimeouts).toBe(1);
  });
});

describe('write coalescing', () => {
  it('sends many small messages with far fewer socket writes', async () => {
    const a = await startNode('host-a');
    const b = await startNode('host-b');
    const seen: number[] = [];
    b.service.registerHandler(Verb.ECHO, (_from, payload) => payload);
    b.service.registerHandler(Verb.GOSSIP_ACK, (_from, payload) => void seen.push(Buffer.from(payload).readUInt32BE(0)));
    await a.service.request(b.address, Verb.ECHO, bytes('warm up'), 2000);
    const before = peerStats(a, b);
    const count = 2000;
    for (let i = 0; i < count; i++) {
      const payload = Buffer.alloc(16);
      payload.writeUInt32BE(i, 0);
      a.service.sendOneWay(b.address, Verb.GOSSIP_ACK, payload);
    }
    await waitFor(() => seen.length === count, 'every message delivered');
    const after = peerStats(a, b);
    expect(after.sentFrames - before.sentFrames).toBe(count);
    expect(after.writes - before.writes).toBeLessThanOrEqual(count / 50);
    expect(seen).toEqual(Array.from({ length: count }, (_, i) => i));
  });
});
