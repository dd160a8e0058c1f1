/**
 * Wire form of the gossip messages: `src/proto/gossip.proto` (format version 1, documented
 * there), encoded and decoded with protobufjs.
 *
 * Decoding trusts nothing (STYLE.md §7, js-libp2p's decoders): before protobufjs materialises
 * anything, `checkWire` walks the encoded bytes with a protobufjs `Reader`, driven by the
 * message types' reflection, and enforces
 * - a total size of at most MAX_GOSSIP_MESSAGE_BYTES,
 * - a count limit on every repeated field and at most one occurrence of every singular field
 *   (so an attacker cannot make us build more objects than the limits allow: a 2-byte empty
 *   sub-message would otherwise cost a whole JS object),
 * - a byte limit on every string, checked on the length prefix before the bytes are read,
 * - the expected wire type per field, no groups, a nesting depth bound, and at most one member
 *   of each oneof;
 * then the decoded message is checked for meaning (safe integers, positive generations,
 * well-formed keys, distinct keys per endpoint) and mapped to the plain types of messages.ts.
 * Every violation throws `CorruptDataError`; nothing else escapes `decodeGossipMessage`.
 * Unknown fields (a newer peer) are skipped, within the same size bound.
 *
 * Every repeated and string field of gossip.proto must have a limit in `FIELD_LIMITS`: the
 * table is checked against the schema when the codec is first used.
 */
import protobuf from 'protobufjs';
import { loadProto } from '../../proto/load.js';
import { assert } from '../../util/assert.js';
import { CorruptDataError } from '../../util/bytes.js';
import {
  APPLICATION_STATE_KEY_PATTERN,
  type EndpointState,
  type EndpointStateEntry,
  type GossipDigest,
  type VersionedValue,
} from './endpoint-state.js';
import {
  MAX_APPLICATION_STATE_KEY_LENGTH,
  MAX_APPLICATION_STATE_VALUE_BYTES,
  MAX_APPLICATION_STATES_PER_ENDPOINT,
  MAX_CLUSTER_NAME_LENGTH,
  MAX_DIGESTS_PER_MESSAGE,
  MAX_ENDPOINT_ID_LENGTH,
  MAX_GOSSIP_MESSAGE_BYTES,
  MAX_GOSSIP_MESSAGE_DEPTH,
  MAX_STATES_PER_MESSAGE,
} from './limits.js';
import type { GossipMessage } from './messages.js';

/** `Type.field` → max occurrences (repeated fields) or max UTF-8 bytes (strings). */
const FIELD_LIMITS: Readonly<Record<string, number>> = {
  'GossipDigest.endpoint': MAX_ENDPOINT_ID_LENGTH,
  'VersionedValue.key': MAX_APPLICATION_STATE_KEY_LENGTH,
  'VersionedValue.value': MAX_APPLICATION_STATE_VALUE_BYTES,
  'EndpointState.endpoint': MAX_ENDPOINT_ID_LENGTH,
  'EndpointState.application_states': MAX_APPLICATION_STATES_PER_ENDPOINT,
  'GossipSyn.cluster_name': MAX_CLUSTER_NAME_LENGTH,
  'GossipSyn.digests': MAX_DIGESTS_PER_MESSAGE,
  'GossipAck.digests': MAX_DIGESTS_PER_MESSAGE,
  'GossipAck.states': MAX_STATES_PER_MESSAGE,
  'GossipAck2.states': MAX_STATES_PER_MESSAGE,
  'GossipShutdown.endpoint': MAX_ENDPOINT_ID_LENGTH,
};

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

let envelopeType: protobuf.Type | null = null;

function envelope(): protobuf.Type {
  if (envelopeType === null) {
    const type = loadProto('gossip.proto').lookupType('ringtail.gossip.GossipMessage');
    checkLimitsCoverSchema(type, new Set());
    envelopeType = type;
  }
  return envelopeType;
}

function checkLimitsCoverSchema(type: protobuf.Type, seen: Set<string>): void {
  if (seen.has(type.name)) return;
  seen.add(type.name);
  for (const field of type.fieldsArray) {
    const key = `${type.name}.${field.name}`;
    if (field.repeated || field.type === 'string') assert(FIELD_LIMITS[key] !== undefined, `gossip.proto field ${key} has no limit`);
    assert(field.type === 'string' || field.type === 'uint64' || field.resolvedType instanceof protobuf.Type, `gossip.proto field ${key}: unsupported type ${field.type}`);
    if (field.resolvedType instanceof protobuf.Type) checkLimitsCoverSchema(field.resolvedType, seen);
  }
}

// ---- encoding ----

interface WireDigest {
  endpoint: string;
  generation: number;
  max_version: number;
}
interface WireState {
  endpoint: string;
  generation: number;
  heartbeat_version: number;
  application_states: { key: string; value: string; version: number }[];
}

function digestToWire(d: GossipDigest): WireDigest {
  return { endpoint: d.endpoint, generation: d.generation, max_version: d.maxVersion };
}

function stateToWire(entry: EndpointStateEntry): WireState {
  const { heartBeat, applicationStates } = entry.state;
  return {
    endpoint: entry.endpoint,
    generation: heartBeat.generation,
    heartbeat_version: heartBeat.version,
    application_states: [...applicationStates].map(([key, v]) => ({ key, value: v.value, version: v.version })),
  };
}

function toWire(message: GossipMessage): Record<string, unknown> {
  switch (message.kind) {
    case 'syn':
      return { syn: { cluster_name: message.clusterName, digests: message.digests.map(digestToWire) } };
    case 'ack':
      return { ack: { digests: message.digests.map(digestToWire), states: message.states.map(stateToWire) } };
    case 'ack2':
      return { ack2: { states: message.states.map(stateToWire) } };
    case 'shutdown':
      return { shutdown: { endpoint: message.endpoint, generation: message.generation } };
  }
}

/** Encodes a message the gossiper built; it is within the limits by construction (asserted). */
export function encodeGossipMessage(message: GossipMessage): Uint8Array {
  const bytes = envelope().encode(toWire(message)).finish();
  assert(bytes.length <= MAX_GOSSIP_MESSAGE_BYTES, `gossip message of ${bytes.length} bytes exceeds the limit`);
  return bytes;
}

// ---- decoding ----

/** Decodes a message from a peer; throws `CorruptDataError` on anything malformed or over a limit. */
export function decodeGossipMessage(bytes: Uint8Array): GossipMessage {
  if (bytes.length > MAX_GOSSIP_MESSAGE_BYTES) throw new CorruptDataError(`gossip message of ${bytes.length} bytes exceeds ${MAX_GOSSIP_MESSAGE_BYTES}`);
  const type = envelope();
  let decoded: Record<string, unknown>;
  try {
    const reader = protobuf.Reader.create(bytes);
    checkWire(reader, bytes.length, type, 1);
    decoded = type.decode(bytes) as unknown as Record<string, unknown>;
  } catch (e) {
    if (e instanceof CorruptDataError) throw e;
    throw new CorruptDataError(`malformed gossip message: ${(e as Error).message}`);
  }
  return fromWire(decoded);
}

function fail(message: string): never {
  throw new CorruptDataError(`gossip message: ${message}`);
}

/** The bounded walk described in the header. `reader.pos` ends at `end`. */
function checkWire(reader: protobuf.Reader, end: number, type: protobuf.Type, depth: number): void {
  if (depth > MAX_GOSSIP_MESSAGE_DEPTH) fail('nested too deeply');
  const counts = new Map<number, number>();
  const oneofMembers = new Map<string, number>();
  while (reader.pos < end) {
    const tag = reader.uint32();
    const id = tag >>> 3;
    const wireType = tag & 7;
    if (id === 0) fail('field number 0');
    const field = type.fieldsById[id];
    if (field === undefined) {
      skipUnknown(reader, wireType, end);
      continue;
    }
    const key = `${type.name}.${field.name}`;
    const count = (counts.get(id) ?? 0) + 1;
    counts.set(id, count);
    if (count > (field.repeated ? (FIELD_LIMITS[key] as number) : 1)) fail(`too many ${key}`);
    if (field.partOf !== null) {
      const members = (oneofMembers.get(field.partOf.name) ?? 0) + 1;
      oneofMembers.set(field.partOf.name, members);
      if (members > 1) fail(`more than one member of ${type.name}.${field.partOf.name}`);
    }
    if (field.resolvedType instanceof protobuf.Type) {
      const subEnd = lengthDelimited(reader, wireType, end, key);
      checkWire(reader, subEnd, field.resolvedType, depth + 1);
    } else if (field.type === 'string') {
      const stringEnd = lengthDelimited(reader, wireType, end, key);
      if (stringEnd - reader.pos > (FIELD_LIMITS[key] as number)) fail(`${key} longer than ${FIELD_LIMITS[key]} bytes`);
      reader.pos = stringEnd;
    } else {
      if (wireType !== WIRE_VARINT) fail(`${key}: wire type ${wireType}, expected a varint`);
      reader.skipType(WIRE_VARINT);
      if (reader.pos > end) fail(`${key} overruns its message`);
    }
  }
  if (reader.pos !== end) fail(`${type.name} overruns its length`);
}

/** Reads a length prefix; returns where the field ends (checked against the enclosing `end`). */
function lengthDelimited(reader: protobuf.Reader, wireType: number, end: number, key: string): number {
  if (wireType !== WIRE_LENGTH_DELIMITED) fail(`${key}: wire type ${wireType}, expected length-delimited`);
  const length = reader.uint32();
  const fieldEnd = reader.pos + length;
  if (fieldEnd > end) fail(`${key} overruns its message`);
  return fieldEnd;
}

function skipUnknown(reader: protobuf.Reader, wireType: number, end: number): void {
  switch (wireType) {
    case WIRE_VARINT:
    case WIRE_FIXED64:
    case WIRE_FIXED32:
      reader.skipType(wireType);
      break;
    case WIRE_LENGTH_DELIMITED:
      reader.pos = lengthDelimited(reader, wireType, end, 'unknown field');
      break;
    default:
      // Groups (3, 4) are not proto3 and their skipping recurses without bound; 6 and 7 do not exist.
      fail(`wire type ${wireType}`);
  }
  if (reader.pos > end) fail('unknown field overruns its message');
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A uint64 from protobufjs (a number, or a Long when it is large) as a safe integer. */
function safeInteger(value: unknown, what: string): number {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) fail(`${what} out of range`);
    return value;
  }
  if (value !== null && typeof value === 'object') {
    const big = BigInt(String(value));
    if (big < 0n || big > MAX_SAFE) fail(`${what} out of range`);
    return Number(big);
  }
  return fail(`${what} missing`);
}

function positive(value: unknown, what: string): number {
  const n = safeInteger(value, what);
  if (n === 0) fail(`${what} must be positive`);
  return n;
}

function endpointId(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) fail(`${what} missing`);
  return value;
}

function digestFromWire(w: Record<string, unknown>): GossipDigest {
  return {
    endpoint: endpointId(w.endpoint, 'digest endpoint'),
    generation: positive(w.generation, 'digest generation'),
    maxVersion: safeInteger(w.max_version, 'digest max_version'),
  };
}

function stateFromWire(w: Record<string, unknown>): EndpointStateEntry {
  const endpoint = endpointId(w.endpoint, 'state endpoint');
  const applicationStates = new Map<string, VersionedValue>();
  for (const a of w.application_states as Record<string, unknown>[]) {
    const key = a.key as string;
    if (!APPLICATION_STATE_KEY_PATTERN.test(key)) fail(`bad application state key ${JSON.stringify(key)}`);
    if (applicationStates.has(key)) fail(`application state ${key} twice for ${endpoint}`);
    applicationStates.set(key, { value: a.value as string, version: safeInteger(a.version, 'application state version') });
  }
  const state: EndpointState = {
    heartBeat: { generation: positive(w.generation, 'state generation'), version: safeInteger(w.heartbeat_version, 'heartbeat version') },
    applicationStates,
  };
  return { endpoint, state };
}

type WireList = Record<string, unknown>[];

function fromWire(m: Record<string, unknown>): GossipMessage {
  switch (m.body) {
    case 'syn': {
      const syn = m.syn as Record<string, unknown>;
      return { kind: 'syn', clusterName: syn.cluster_name as string, digests: (syn.digests as WireList).map(digestFromWire) };
    }
    case 'ack': {
      const ack = m.ack as Record<string, unknown>;
      return { kind: 'ack', digests: (ack.digests as WireList).map(digestFromWire), states: (ack.states as WireList).map(stateFromWire) };
    }
    case 'ack2': {
      const ack2 = m.ack2 as Record<string, unknown>;
      return { kind: 'ack2', states: (ack2.states as WireList).map(stateFromWire) };
    }
    case 'shutdown': {
      const shutdown = m.shutdown as Record<string, unknown>;
      return {
        kind: 'shutdown',
        endpoint: endpointId(shutdown.endpoint, 'shutdown endpoint'),
        generation: positive(shutdown.generation, 'shutdown generation'),
      };
    }
    default:
      return fail('no body');
  }
}
