/**
 * The REMOVALS application state: which dead nodes this node is removing from the ring
 * (`removenode`), or has removed. Every node reads every peer's REMOVALS and treats a listed
 * endpoint, at the listed generation or an older one, as leaving (`removing`: its ranges get
 * pending endpoints) or gone (`removed`: out of the ring and the status views).
 *
 * Cassandra writes `removing,<hostId>` / `removed,<hostId>,<expiry>` into the *dead* node's
 * own STATUS, forcing its generation up (`Gossiper.advertiseRemoving`/`advertiseTokenRemoved`).
 * Our gossiper only lets a node change its own states (a pure state machine, and a dead node's
 * generation belongs to that node), so the remover announces the removal in its own state
 * instead. The generation in an entry makes a removal apply to that incarnation only: if the
 * removed node comes back with a new generation (a new process on the same address), it is a
 * new node, as Cassandra's higher generation would make it.
 *
 * Value format, version 1 (a gossip value is text):
 *   `1` then, per entry, `;<state>,<hostId>,<generation>,<endpoint>`
 * e.g. `1;removing,6f1c…,1700000000,127.0.0.4:7000`. `state` is `removing` or `removed`,
 * `generation` a positive integer (the gossip generation of the endpoint when it was removed),
 * hostId and endpoint contain neither `,` nor `;`. At most one entry per endpoint.
 *
 * Bounds: at most MAX_REMOVAL_ENTRIES entries (the value then stays far below
 * MAX_APPLICATION_STATE_VALUE_BYTES); decoding a peer's value checks every bound and field and
 * throws CorruptDataError on any violation.
 */
import { assert } from '../../util/assert.js';
import { CorruptDataError } from '../../util/bytes.js';
import { MAX_APPLICATION_STATE_VALUE_BYTES, MAX_ENDPOINT_ID_LENGTH } from '../gossip/limits.js';

export const REMOVALS_FORMAT = '1';
/** Removals one node announces at once (Cassandra removes one node at a time per operator). */
export const MAX_REMOVAL_ENTRIES = 32;
/** Host ids are UUIDs; tests use shorter names. */
export const MAX_HOST_ID_LENGTH = 64;

export type RemovalState = 'removing' | 'removed';

export interface RemovalEntry {
  readonly endpoint: string;
  readonly hostId: string;
  /** The endpoint's gossip generation when the removal started: it and older incarnations are removed. */
  readonly generation: number;
  readonly state: RemovalState;
}

const FIELD_PATTERN = /^[^,;\s]+$/;

assert(
  1 + MAX_REMOVAL_ENTRIES * (1 + 'removing'.length + 1 + MAX_HOST_ID_LENGTH + 1 + 16 + 1 + MAX_ENDPOINT_ID_LENGTH) < MAX_APPLICATION_STATE_VALUE_BYTES,
  'a full REMOVALS value must fit in one application state',
);

export function encodeRemovals(entries: readonly RemovalEntry[]): string {
  assert(entries.length <= MAX_REMOVAL_ENTRIES, `too many removals: ${entries.length}`);
  const seen = new Set<string>();
  let out = REMOVALS_FORMAT;
  for (const e of entries) {
    checkEntry(e, (message) => new Error(message));
    assert(!seen.has(e.endpoint), `endpoint ${e.endpoint} listed twice`);
    seen.add(e.endpoint);
    out += `;${e.state},${e.hostId},${e.generation},${e.endpoint}`;
  }
  return out;
}

export function decodeRemovals(value: string): RemovalEntry[] {
  if (value.length > MAX_APPLICATION_STATE_VALUE_BYTES) throw new CorruptDataError(`REMOVALS value too long (${value.length} characters)`);
  const parts = value.split(';');
  if (parts[0] !== REMOVALS_FORMAT) throw new CorruptDataError(`unknown REMOVALS format ${JSON.stringify(parts[0]?.slice(0, 8))}`);
  if (parts.length - 1 > MAX_REMOVAL_ENTRIES) throw new CorruptDataError(`too many removals (${parts.length - 1})`);
  const entries: RemovalEntry[] = [];
  const seen = new Set<string>();
  for (const part of parts.slice(1)) {
    const fields = part.split(',');
    if (fields.length !== 4) throw new CorruptDataError(`bad REMOVALS entry ${JSON.stringify(part.slice(0, 80))}`);
    const [state, hostId, generationText, endpoint] = fields as [string, string, string, string];
    if (!/^[1-9][0-9]{0,15}$/.test(generationText)) throw new CorruptDataError(`bad generation in REMOVALS: ${JSON.stringify(generationText.slice(0, 20))}`);
    const entry = { state: state as RemovalState, hostId, generation: Number(generationText), endpoint };
    checkEntry(entry, (message) => new CorruptDataError(message));
    if (seen.has(endpoint)) throw new CorruptDataError(`endpoint listed twice in REMOVALS: ${endpoint}`);
    seen.add(endpoint);
    entries.push(entry);
  }
  return entries;
}

function checkEntry(e: RemovalEntry, error: (message: string) => Error): void {
  if (e.state !== 'removing' && e.state !== 'removed') throw error(`bad removal state ${JSON.stringify(String(e.state).slice(0, 20))}`);
  if (e.hostId.length > MAX_HOST_ID_LENGTH || !FIELD_PATTERN.test(e.hostId)) throw error('bad host id in a removal');
  if (e.endpoint.length > MAX_ENDPOINT_ID_LENGTH || !FIELD_PATTERN.test(e.endpoint)) throw error('bad endpoint in a removal');
  if (!Number.isSafeInteger(e.generation) || e.generation <= 0) throw error(`bad generation in a removal: ${e.generation}`);
}

/**
 * `entries` with `entry` set for its endpoint (replacing an older one). When the list is full,
 * the oldest `removed` entry makes room (it has done its job once every node evicted the
 * endpoint); null when every entry is a removal still in progress.
 */
export function withRemoval(entries: readonly RemovalEntry[], entry: RemovalEntry): RemovalEntry[] | null {
  const others = entries.filter((e) => e.endpoint !== entry.endpoint);
  if (others.length >= MAX_REMOVAL_ENTRIES) {
    const oldestRemoved = others.findIndex((e) => e.state === 'removed');
    if (oldestRemoved < 0) return null;
    others.splice(oldestRemoved, 1);
  }
  return [...others, entry];
}
