/**
 * What gossip knows about one endpoint, and the rules for merging two views of it.
 *
 * Patterns (Joshi): Generation Clock (the generation orders incarnations of a node: a restart
 * bumps it, and a higher generation replaces everything known about the previous one) and
 * Gossip Dissemination (digests summarise what a node knows; versions decide which side
 * sends what). Cassandra: `EndpointState`, `HeartBeatState`, `VersionedValue`, `GossipDigest`,
 * `Gossiper.examineGossiper` and `applyStateLocally`.
 *
 * An endpoint state is the heartbeat `{generation, version}` plus application states
 * `key → {value, version}`. Within one generation, the heartbeat version and every application
 * state version come from ONE counter owned by the endpoint itself (Cassandra's
 * `VersionGenerator`), so "everything newer than version v" is well defined and a digest needs
 * only `(generation, maxVersion)`.
 *
 * Merge rules (pure; `mergeEndpointState`):
 * - unknown endpoint: adopt the remote state;
 * - higher remote generation: replace the whole state (a restart) — unless it is more than a
 *   year ahead of ours (Cassandra's guard against a corrupt generation taking over);
 * - lower remote generation: ignore (stale news of an old incarnation);
 * - same generation: the heartbeat with the higher version wins, and per key the application
 *   state with the higher version wins. This is a join (commutative, associative, idempotent):
 *   replicas converge whatever order deltas arrive in.
 *
 * States are immutable values: a merge returns a new one, so a state handed to a message or an
 * event can never change under its reader.
 */
import { assert } from '../../util/assert.js';
import { MAX_APPLICATION_STATES_PER_ENDPOINT, MAX_GENERATION_AHEAD_SECONDS } from './limits.js';

/** Application state keys with a meaning in ringtail (Cassandra's `ApplicationState`). Others are carried as they are. */
export const ApplicationStateKey = {
  STATUS: 'STATUS',
  TOKENS: 'TOKENS',
  DC: 'DC',
  RACK: 'RACK',
  HOST_ID: 'HOST_ID',
  LOAD: 'LOAD',
  SCHEMA: 'SCHEMA',
  HTTP_ADDRESS: 'HTTP_ADDRESS',
  INTERNODE_ADDRESS: 'INTERNODE_ADDRESS',
  RELEASE_VERSION: 'RELEASE_VERSION',
  /** Dead nodes this node is removing or has removed (removenode): src/cluster/membership/removals.ts. */
  REMOVALS: 'REMOVALS',
} as const;

/** STATUS of a node that announced a graceful shutdown: never marked UP again in this generation. */
export const STATUS_SHUTDOWN = 'shutdown';
/**
 * STATUS values of a node's place in the ring (Cassandra's BOOT/NORMAL/LEAVING/LEFT/MOVING;
 * how each is read: src/cluster/membership/membership-view.ts). A JOINING node's tokens are
 * pending; a LEAVING node still replicates while its ranges get pending endpoints; a LEFT node
 * is out of the ring for the rest of its generation.
 */
export const STATUS_NORMAL = 'NORMAL';
export const STATUS_JOINING = 'JOINING';
export const STATUS_LEAVING = 'LEAVING';
export const STATUS_LEFT = 'LEFT';
export const STATUS_MOVING = 'MOVING';

/** Keys are upper-case identifiers, so a hostile peer cannot smuggle odd strings into logs or JSON keys. */
export const APPLICATION_STATE_KEY_PATTERN = /^[A-Z][A-Z0-9_]{0,31}$/;

export interface VersionedValue {
  readonly value: string;
  readonly version: number;
}

export interface HeartBeatState {
  /** Incarnation of the node: seconds since the epoch at start, strictly increasing across restarts. */
  readonly generation: number;
  /** Bumped every gossip round by the node itself; from the same counter as application states. */
  readonly version: number;
}

export interface EndpointState {
  readonly heartBeat: HeartBeatState;
  readonly applicationStates: ReadonlyMap<string, VersionedValue>;
}

/** `(endpoint, generation, maxVersion)`: what a node knows about an endpoint, in three numbers. */
export interface GossipDigest {
  readonly endpoint: string;
  readonly generation: number;
  readonly maxVersion: number;
}

/** A state (or a delta of one) addressed by endpoint, as carried by ACK and ACK2. */
export interface EndpointStateEntry {
  readonly endpoint: string;
  readonly state: EndpointState;
}

export function newEndpointState(generation: number, heartBeatVersion: number): EndpointState {
  assert(Number.isSafeInteger(generation) && generation > 0, `generation must be a positive integer: ${generation}`);
  assert(Number.isSafeInteger(heartBeatVersion) && heartBeatVersion >= 0, `version must be a non-negative integer: ${heartBeatVersion}`);
  return { heartBeat: { generation, version: heartBeatVersion }, applicationStates: new Map() };
}

/** The highest version anywhere in the state: the heartbeat's or an application state's. */
export function maxVersion(state: EndpointState): number {
  let max = state.heartBeat.version;
  for (const v of state.applicationStates.values()) if (v.version > max) max = v.version;
  return max;
}

export function digestOf(endpoint: string, state: EndpointState): GossipDigest {
  return { endpoint, generation: state.heartBeat.generation, maxVersion: maxVersion(state) };
}

export function withHeartBeatVersion(state: EndpointState, version: number): EndpointState {
  assert(version >= state.heartBeat.version, 'a heartbeat version never goes back');
  return { heartBeat: { generation: state.heartBeat.generation, version }, applicationStates: state.applicationStates };
}

export function withApplicationState(state: EndpointState, key: string, value: string, version: number): EndpointState {
  assert(APPLICATION_STATE_KEY_PATTERN.test(key), `bad application state key: ${key}`);
  const current = state.applicationStates.get(key);
  assert(current === undefined || version > current.version, 'an application state version only grows');
  assert(current !== undefined || state.applicationStates.size < MAX_APPLICATION_STATES_PER_ENDPOINT, 'too many application states');
  const states = new Map(state.applicationStates);
  states.set(key, { value, version });
  return { heartBeat: state.heartBeat, applicationStates: states };
}

/**
 * What a peer is missing when it knows `state` only up to `version`: the heartbeat and every
 * application state newer than it (Cassandra's `getStateForVersionBiggerThan`); null when the
 * peer is up to date. The heartbeat always travels, so the receiver learns the generation.
 */
export function stateNewerThan(state: EndpointState, version: number): EndpointState | null {
  if (maxVersion(state) <= version) return null;
  const states = new Map<string, VersionedValue>();
  for (const [key, v] of state.applicationStates) if (v.version > version) states.set(key, v);
  return { heartBeat: state.heartBeat, applicationStates: states };
}

export type MergeResult =
  | { readonly kind: 'new'; readonly state: EndpointState }
  | { readonly kind: 'restarted'; readonly state: EndpointState; readonly previousGeneration: number }
  | {
      readonly kind: 'updated';
      readonly state: EndpointState;
      /** The remote heartbeat version was higher: a sign of life for the failure detector. */
      readonly heartBeatAdvanced: boolean;
      /** Application state keys whose version went up, in the remote state's order. */
      readonly changedKeys: readonly string[];
    }
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'stale' }
  | { readonly kind: 'generation-too-far-ahead' };

/** Merges a remote view of an endpoint into ours (rules in the header). */
export function mergeEndpointState(local: EndpointState | undefined, remote: EndpointState): MergeResult {
  if (local === undefined) return { kind: 'new', state: remote };
  const localGeneration = local.heartBeat.generation;
  const remoteGeneration = remote.heartBeat.generation;
  if (remoteGeneration > localGeneration) {
    if (remoteGeneration > localGeneration + MAX_GENERATION_AHEAD_SECONDS) return { kind: 'generation-too-far-ahead' };
    return { kind: 'restarted', state: remote, previousGeneration: localGeneration };
  }
  if (remoteGeneration < localGeneration) return { kind: 'stale' };

  const heartBeatAdvanced = remote.heartBeat.version > local.heartBeat.version;
  const changedKeys: string[] = [];
  for (const [key, v] of remote.applicationStates) {
    const mine = local.applicationStates.get(key);
    if (mine === undefined || v.version > mine.version) changedKeys.push(key);
  }
  if (!heartBeatAdvanced && changedKeys.length === 0) return { kind: 'unchanged' };

  let applicationStates = local.applicationStates;
  if (changedKeys.length > 0) {
    const states = new Map(local.applicationStates);
    for (const key of changedKeys) states.set(key, remote.applicationStates.get(key) as VersionedValue);
    // A state over the per-endpoint bound cannot come from a well-behaved node: keep ours.
    if (states.size > MAX_APPLICATION_STATES_PER_ENDPOINT) return { kind: 'unchanged' };
    applicationStates = states;
  }
  const heartBeat = heartBeatAdvanced ? remote.heartBeat : local.heartBeat;
  return { kind: 'updated', state: { heartBeat, applicationStates }, heartBeatAdvanced, changedKeys };
}

/**
 * Compares a peer's digest with our state of the same endpoint (Cassandra's `examineGossiper`):
 * `request` is what to ask the peer for (send me everything above `maxVersion`; 0 = all of it),
 * `send` what the peer is missing. At most one of them is set.
 */
export function reconcileDigest(
  local: EndpointState | undefined,
  digest: GossipDigest,
): { readonly request?: GossipDigest; readonly send?: EndpointState } {
  if (local === undefined) return { request: { endpoint: digest.endpoint, generation: digest.generation, maxVersion: 0 } };
  const localGeneration = local.heartBeat.generation;
  if (digest.generation > localGeneration) return { request: { endpoint: digest.endpoint, generation: digest.generation, maxVersion: 0 } };
  if (digest.generation < localGeneration) return { send: local };
  const localMax = maxVersion(local);
  if (digest.maxVersion > localMax) return { request: { endpoint: digest.endpoint, generation: localGeneration, maxVersion: localMax } };
  if (digest.maxVersion < localMax) {
    const delta = stateNewerThan(local, digest.maxVersion);
    return delta === null ? {} : { send: delta };
  }
  return {};
}

/**
 * What to send for a peer's request `(endpoint, generation, version)`: our state newer than
 * `version`, or the whole of it if the peer asked about an older generation than ours.
 */
export function stateForRequest(local: EndpointState | undefined, request: GossipDigest): EndpointState | null {
  if (local === undefined) return null;
  if (request.generation < local.heartBeat.generation) return local;
  if (request.generation > local.heartBeat.generation) return null;
  return stateNewerThan(local, request.maxVersion);
}

/** Rough encoded size of a state, for packing messages under MAX_GOSSIP_MESSAGE_BYTES (over-estimates). */
export function estimatedStateBytes(endpoint: string, state: EndpointState): number {
  let bytes = 32 + 3 * endpoint.length;
  for (const [key, v] of state.applicationStates) bytes += 24 + key.length + 3 * v.value.length;
  return bytes;
}
