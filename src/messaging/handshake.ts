/**
 * The internode handshake: pure checks and message building, no sockets.
 *
 * SPEC §7: nodes of another `cluster_name`, or without the right `internode_secret` when one is
 * set, are refused at the handshake and never reach gossip or any handler. The exchange (three
 * messages, documented with their limits in src/proto/messaging.proto) proves, when a secret is
 * set, that both ends know it without sending it: each side's HMAC-SHA256 covers both fresh
 * nonces, both host ids and the cluster name, under a label of its own. Cassandra checks the
 * cluster name only in gossip; refusing at the connection keeps a stranger away from every verb.
 *
 * Each `check*` returns the reason for a refusal, or null; `decode*` throws `FrameError` for a
 * message that does not parse or breaks a limit, and the connection owner closes the socket.
 * Comparisons of proofs are constant-time.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type protobuf from 'protobufjs';
import type { Random } from '../runtime/random.js';
import { loadProto } from '../proto/load.js';
import { FrameError } from './errors.js';
import type { PeerAddress, PeerInfo } from './peer.js';

/** Version of the messaging protocol (verbs, handshake, payload semantics); must match exactly. */
export const MESSAGING_PROTOCOL_VERSION = 1;
export const NONCE_BYTES = 16;
export const PROOF_BYTES = 32;
export const MAX_CLUSTER_NAME_BYTES = 256;
export const MAX_HOST_ID_BYTES = 64;
export const MAX_HOST_BYTES = 255;
export const MAX_REFUSAL_BYTES = 1024;

const REPLY_LABEL = 'ringtail/handshake/reply/v1';
const CONFIRM_LABEL = 'ringtail/handshake/confirm/v1';

/** What this node says about itself at every handshake. `secret` '' means none. */
export interface LocalIdentity {
  readonly clusterName: string;
  readonly hostId: string;
  readonly listenAddress: PeerAddress;
  readonly secret: string;
}

export interface Hello {
  readonly protocolVersion: number;
  readonly clusterName: string;
  readonly hostId: string;
  readonly listenAddress: PeerAddress;
  readonly nonce: Uint8Array;
}

export interface HelloReply extends Hello {
  readonly proof: Uint8Array;
  readonly refusal: string;
}

export interface HelloConfirm {
  readonly proof: Uint8Array;
  readonly refusal: string;
}

interface Types {
  readonly hello: protobuf.Type;
  readonly reply: protobuf.Type;
  readonly confirm: protobuf.Type;
  readonly error: protobuf.Type;
}

let types: Types | null = null;

function protoTypes(): Types {
  if (types === null) {
    const root = loadProto('messaging.proto');
    types = {
      hello: root.lookupType('ringtail.messaging.Hello'),
      reply: root.lookupType('ringtail.messaging.HelloReply'),
      confirm: root.lookupType('ringtail.messaging.HelloConfirm'),
      error: root.lookupType('ringtail.messaging.ErrorResponse'),
    };
  }
  return types;
}

/** A fresh nonce: from `random` when given (a seeded one in simulations), else the OS CSPRNG. */
export function newNonce(random?: Random): Uint8Array {
  return random === undefined ? randomBytes(NONCE_BYTES) : random.nextBytes(NONCE_BYTES);
}

// ---------------------------------------------------------------------------------------------
// Building messages

export function makeHello(local: LocalIdentity, nonce: Uint8Array): Hello {
  return {
    protocolVersion: MESSAGING_PROTOCOL_VERSION,
    clusterName: local.clusterName,
    hostId: local.hostId,
    listenAddress: local.listenAddress,
    nonce,
  };
}

export function makeReply(local: LocalIdentity, hello: Hello, nonce: Uint8Array): HelloReply {
  const proof = local.secret === '' ? new Uint8Array(0) : computeProof(local.secret, REPLY_LABEL, hello, local.hostId, nonce);
  return { ...makeHello(local, nonce), proof, refusal: '' };
}

export function makeRefusalReply(local: LocalIdentity, refusal: string): HelloReply {
  return { ...makeHello(local, new Uint8Array(0)), proof: new Uint8Array(0), refusal: truncateUtf8(refusal, MAX_REFUSAL_BYTES) };
}

export function makeConfirm(local: LocalIdentity, hello: Hello, reply: HelloReply): HelloConfirm {
  const proof = local.secret === '' ? new Uint8Array(0) : computeProof(local.secret, CONFIRM_LABEL, hello, reply.hostId, reply.nonce);
  return { proof, refusal: '' };
}

export function makeRefusalConfirm(refusal: string): HelloConfirm {
  return { proof: new Uint8Array(0), refusal: truncateUtf8(refusal, MAX_REFUSAL_BYTES) };
}

// ---------------------------------------------------------------------------------------------
// Checks: null when acceptable, else the reason for the refusal

/** The acceptor's check of a dialer's Hello. */
export function checkHello(local: LocalIdentity, hello: Hello): string | null {
  if (hello.protocolVersion !== MESSAGING_PROTOCOL_VERSION) {
    return `protocol version mismatch: ours ${MESSAGING_PROTOCOL_VERSION}, peer's ${hello.protocolVersion}`;
  }
  if (hello.clusterName !== local.clusterName) {
    return `cluster name mismatch: ours '${local.clusterName}', peer's '${hello.clusterName}'`;
  }
  if (hello.hostId === local.hostId) return `peer has our own host id ${local.hostId}`;
  return null;
}

/** The dialer's check of the acceptor's reply to `hello` (the Hello the dialer sent). */
export function checkReply(local: LocalIdentity, hello: Hello, reply: HelloReply): string | null {
  if (reply.refusal !== '') return `refused by peer: ${reply.refusal}`;
  const identity = checkHello(local, reply);
  if (identity !== null) return identity;
  if (reply.nonce.length !== NONCE_BYTES) return 'peer sent no nonce';
  const expected = local.secret === '' ? null : computeProof(local.secret, REPLY_LABEL, hello, reply.hostId, reply.nonce);
  return checkProof(expected, reply.proof);
}

/** The acceptor's check of the dialer's confirmation. */
export function checkConfirm(local: LocalIdentity, hello: Hello, reply: HelloReply, confirm: HelloConfirm): string | null {
  if (confirm.refusal !== '') return `refused by peer: ${confirm.refusal}`;
  const expected = local.secret === '' ? null : computeProof(local.secret, CONFIRM_LABEL, hello, reply.hostId, reply.nonce);
  return checkProof(expected, confirm.proof);
}

function checkProof(expected: Uint8Array | null, actual: Uint8Array): string | null {
  if (expected === null) return actual.length === 0 ? null : 'peer requires internode_secret, we have none';
  if (actual.length === 0) return 'peer presented no internode_secret proof';
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return 'wrong internode_secret proof';
  return null;
}

export function peerInfoOf(hello: Hello): PeerInfo {
  return { hostId: hello.hostId, address: hello.listenAddress };
}

/** HMAC over label and length-prefixed fields (layout in messaging.proto). */
function computeProof(secret: string, label: string, hello: Hello, acceptorHostId: string, acceptorNonce: Uint8Array): Uint8Array {
  const mac = createHmac('sha256', secret);
  mac.update(label);
  for (const field of [hello.clusterName, hello.hostId, acceptorHostId, hello.nonce, acceptorNonce]) {
    const bytes = typeof field === 'string' ? Buffer.from(field, 'utf8') : field;
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(bytes.length, 0);
    mac.update(length);
    mac.update(bytes);
  }
  return mac.digest();
}

// ---------------------------------------------------------------------------------------------
// Wire encoding

export function encodeHello(hello: Hello): Uint8Array {
  const t = protoTypes().hello;
  return t.encode(t.fromObject(helloFields(hello))).finish();
}

export function encodeReply(reply: HelloReply): Uint8Array {
  const t = protoTypes().reply;
  return t.encode(t.fromObject({ ...helloFields(reply), proof: reply.proof, refusal: reply.refusal })).finish();
}

export function encodeConfirm(confirm: HelloConfirm): Uint8Array {
  const t = protoTypes().confirm;
  return t.encode(t.fromObject({ proof: confirm.proof, refusal: confirm.refusal })).finish();
}

export function decodeHello(bytes: Uint8Array): Hello {
  return helloFrom(decode(protoTypes().hello, bytes, 'Hello'), 'Hello');
}

export function decodeReply(bytes: Uint8Array): HelloReply {
  const o = decode(protoTypes().reply, bytes, 'HelloReply');
  const refusal = str(o, 'refusal', 'HelloReply', MAX_REFUSAL_BYTES, true);
  if (refusal !== '') {
    // A refusal carries nothing else the dialer relies on.
    return { protocolVersion: 0, clusterName: '', hostId: '', listenAddress: { host: '', port: 0 }, nonce: new Uint8Array(0), proof: new Uint8Array(0), refusal };
  }
  return { ...helloFrom(o, 'HelloReply'), proof: proofOf(o, 'HelloReply'), refusal };
}

export function decodeConfirm(bytes: Uint8Array): HelloConfirm {
  const o = decode(protoTypes().confirm, bytes, 'HelloConfirm');
  return { proof: proofOf(o, 'HelloConfirm'), refusal: str(o, 'refusal', 'HelloConfirm', MAX_REFUSAL_BYTES, true) };
}

/** Payload of an ERROR_RESPONSE frame; `message` is cut to MAX_REFUSAL_BYTES. */
export function encodeErrorResponse(message: string): Uint8Array {
  const t = protoTypes().error;
  return t.encode(t.fromObject({ message: truncateUtf8(message, MAX_REFUSAL_BYTES) })).finish();
}

/** Never throws: a peer's undecodable error still makes the request fail, with this text. */
export function decodeErrorResponse(bytes: Uint8Array): string {
  try {
    const o = protoTypes().error.toObject(protoTypes().error.decode(bytes), { defaults: true }) as Record<string, unknown>;
    return typeof o['message'] === 'string' ? truncateUtf8(o['message'], MAX_REFUSAL_BYTES) : 'undecodable error response';
  } catch {
    return 'undecodable error response';
  }
}

function helloFields(hello: Hello): Record<string, unknown> {
  return {
    protocol_version: hello.protocolVersion,
    cluster_name: hello.clusterName,
    host_id: hello.hostId,
    listen_host: hello.listenAddress.host,
    listen_port: hello.listenAddress.port,
    nonce: hello.nonce,
  };
}

type Fields = Record<string, unknown>;

function decode(type: protobuf.Type, bytes: Uint8Array, what: string): Fields {
  try {
    return type.toObject(type.decode(bytes), { defaults: true }) as Fields;
  } catch (e) {
    throw new FrameError(`malformed ${what}: ${(e as Error).message}`);
  }
}

function helloFrom(o: Fields, what: string): Hello {
  const protocolVersion = o['protocol_version'];
  const port = o['listen_port'];
  if (typeof protocolVersion !== 'number') throw new FrameError(`malformed ${what}: protocol_version`);
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new FrameError(`malformed ${what}: listen_port ${String(port)}`);
  }
  const nonce = o['nonce'];
  if (!(nonce instanceof Uint8Array) || nonce.length !== NONCE_BYTES) throw new FrameError(`malformed ${what}: nonce`);
  return {
    protocolVersion,
    clusterName: str(o, 'cluster_name', what, MAX_CLUSTER_NAME_BYTES, false),
    hostId: str(o, 'host_id', what, MAX_HOST_ID_BYTES, false),
    listenAddress: { host: str(o, 'listen_host', what, MAX_HOST_BYTES, false), port },
    nonce,
  };
}

function proofOf(o: Fields, what: string): Uint8Array {
  const proof = o['proof'];
  if (!(proof instanceof Uint8Array) || (proof.length !== 0 && proof.length !== PROOF_BYTES)) {
    throw new FrameError(`malformed ${what}: proof`);
  }
  return proof;
}

function str(o: Fields, key: string, what: string, maxBytes: number, emptyAllowed: boolean): string {
  const value = o[key];
  if (typeof value !== 'string') throw new FrameError(`malformed ${what}: ${key}`);
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > maxBytes || (!emptyAllowed && bytes === 0)) throw new FrameError(`malformed ${what}: ${key} of ${bytes} bytes`);
  return value;
}

/** At most `maxBytes` of UTF-8, cut at a character boundary. */
function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const cut = Buffer.from(text, 'utf8').subarray(0, maxBytes).toString('utf8');
  // A cut inside a multi-byte character decodes to U+FFFD (3 bytes): drop it.
  return cut.endsWith('\uFFFD') ? cut.slice(0, -1) : cut;
}
