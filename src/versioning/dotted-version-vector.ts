/**
 * A row's causal history and its concurrent versions: a dotted version vector set (DVVSet).
 *
 * Pattern: Version Vector (Joshi, *Patterns of Distributed Systems*), in the compact "dotted"
 * form of Preguiça, Baquero et al., "Dotted Version Vectors: Logical Clocks for Optimistic
 * Replication" (2010) and Almeida et al., "Scalable and Accurate Causality Tracking for
 * Eventually Consistent Stores" (DAIS 2014), as Riak's `dvvset` does it. Plain version vectors
 * with one entry per coordinating server report false conflicts (two clients writing through the
 * same server look ordered, or a blind write looks like it saw everything); a dot per value
 * names exactly which write event a value came from, so concurrency is detected exactly.
 *
 * Model: per node id (a host id) one entry `(counter, values)`. The counter says the entry's
 * node has coordinated events 1..counter for this row and this set has seen all of them;
 * `values[k]` is the live value written by event `counter − k` (newest first). Only a suffix of
 * a node's events can still be live, because a context always covers a prefix 1..m of each
 * node's events: that is what makes the form compact.
 *
 * Operations
 * - `update` (the write path, on the one replica that coordinates the update, issue #5 §3): the
 *   values the client's context covers are superseded, the replica records what the context
 *   knows, then advances its own entry past everything it holds and records the new value's dot.
 *   Values the context did not cover survive as siblings.
 * - `sync` (replica merge, read repair, hints, repair): a value survives if both sides hold it or
 *   one side holds it and the other has not seen its dot. It is a join: commutative,
 *   associative, idempotent; replicas merge in any order, any number of times, and agree.
 *   Replicas never create dots on receipt.
 * - `join`/`context`: the version vector summarising the set: what a reader saw, handed back to
 *   the client as an opaque token; `lww` collapses siblings for `conflict_resolution = 'lww'`.
 *
 * Invariants: entries sorted by node id (JS string order), unique, counter ≥ 1, at most
 * `counter` values per entry; a dot (node, counter) names one value cluster-wide (only that node
 * creates its dots, always past every dot it holds).
 *
 * Bounds
 * - Siblings: `update` refuses a write that would leave more than `SIBLINGS_MAX` (100) live
 *   values and flags ≥ `SIBLINGS_WARN_AT` (25); `sync` never refuses (that would drop an
 *   acknowledged write), so a set can exceed the limit only by merging replicas that each
 *   stayed under it, after which every update without a covering context is refused.
 * - Entries: `update` refuses beyond `MAX_ENTRIES` node ids (version-vector.ts); `decode` allows
 *   up to `DECODE_MAX_ENTRIES`/`DECODE_MAX_SIBLINGS` so whatever `sync` produced stays readable,
 *   and never allocates beyond what the buffer's bytes justify.
 * - A context token is at most `MAX_CONTEXT_CHARS` characters.
 *
 * Deliberately left out (compared with `dvvset`): anonymous values (a client clock without a
 * replica; every write here goes through a coordinating replica) and re-dotting in `lww` (giving
 * the winner its entry's newest dot can give two replicas different values under one dot; to
 * collapse durably, write the winner back with `update` and the set's context).
 *
 * Encoding (format version 1, `encode`): u8 version, uvarint entry count, per entry: uvarint
 * id length + UTF-8 node id, uvarint counter, uvarint value count, then per value (newest
 * first) uvarint length + the value's bytes from its `ValueCodec`.
 * Context token (format version 1): base64url (no padding) of u8 version + a version-vector
 * encoding (version-vector.ts).
 */
import { InvalidRequest } from '../errors.js';
import { assert } from '../util/assert.js';
import { ByteReader, ByteWriter, CorruptDataError } from '../util/bytes.js';
import {
  compare as compareVectors,
  decode as decodeVector,
  encode as encodeVector,
  MAX_ENTRIES,
  type Ordering,
  type VersionVector,
} from './version-vector.js';

export { MAX_ENTRIES };

/** From issue #5 §3: a row with this many siblings is worth a warning. */
export const SIBLINGS_WARN_AT = 25;
/** From issue #5 §3: an update that would leave more live siblings than this is refused. */
export const SIBLINGS_MAX = 100;
export const FORMAT_VERSION = 1;
export const CONTEXT_FORMAT_VERSION = 1;
/** Hard decode limits, far above what updates create, so merged replica states stay readable. */
export const DECODE_MAX_ENTRIES = 65_536;
export const DECODE_MAX_SIBLINGS = 65_536;
/** A context of `MAX_ENTRIES` host ids (36-character UUIDs) is about 63,000 characters. */
export const MAX_CONTEXT_CHARS = 128 * 1024;
export const MAX_NODE_ID_BYTES = 256;

export interface SiblingLimits {
  /** Flag a row with at least this many siblings. */
  warnAt: number;
  /** Refuse an update that would leave more siblings than this. */
  max: number;
}

export const DEFAULT_SIBLING_LIMITS: SiblingLimits = { warnAt: SIBLINGS_WARN_AT, max: SIBLINGS_MAX };

/** One write event: the `counter`-th update coordinated by `nodeId` for this row. */
export interface Dot {
  readonly nodeId: string;
  readonly counter: number;
}

/** `values[k]` has the dot (`nodeId`, `counter − k`). */
export interface DvvEntry<V> {
  readonly nodeId: string;
  readonly counter: number;
  readonly values: readonly V[];
}

export interface ValueCodec<V> {
  encode(value: V): Uint8Array;
  /** Gets exactly the bytes `encode` wrote; throws `CorruptDataError` if they are not a value. */
  decode(bytes: Buffer): V;
}

/** Values that are opaque bytes (encoded rows); decoded values are copies, not views. */
export const bufferCodec: ValueCodec<Buffer> = {
  encode: (value) => value,
  decode: (bytes) => Buffer.from(bytes),
};

export const stringCodec: ValueCodec<string> = {
  encode: (value) => Buffer.from(value, 'utf8'),
  decode: (bytes) => bytes.toString('utf8'),
};

/** An immutable dotted version vector set. `new DvvSet()` is a row nobody has written yet. */
export class DvvSet<V> {
  /** Sorted by node id, unique. */
  readonly entries: readonly DvvEntry<V>[];
  /** Number of live values (siblings). */
  readonly size: number;

  /** Checks the invariants (RangeError when violated); entries may come in any order. */
  constructor(entries: Iterable<DvvEntry<V>> = []) {
    const sorted = [...entries].sort((a, b) => compareIds(a.nodeId, b.nodeId));
    let size = 0;
    for (let i = 0; i < sorted.length; i++) {
      const e = sorted[i]!;
      if (e.nodeId.length === 0 || Buffer.byteLength(e.nodeId) > MAX_NODE_ID_BYTES) {
        throw new RangeError(`node id must have 1..${MAX_NODE_ID_BYTES} bytes: '${e.nodeId}'`);
      }
      if (i > 0 && sorted[i - 1]!.nodeId === e.nodeId) throw new RangeError(`duplicate entry for ${e.nodeId}`);
      if (!Number.isSafeInteger(e.counter) || e.counter < 1) throw new RangeError(`counter of ${e.nodeId} must be ≥ 1: ${e.counter}`);
      if (e.values.length > e.counter) throw new RangeError(`${e.nodeId} has ${e.values.length} values for ${e.counter} events`);
      size += e.values.length;
    }
    this.entries = sorted;
    this.size = size;
  }

  static of<V>(...entries: DvvEntry<V>[]): DvvSet<V> {
    return new DvvSet(entries);
  }
}

export type SiblingCheck = 'ok' | 'warn' | 'refuse';

export type UpdateResult<V> =
  | { kind: 'applied'; set: DvvSet<V>; dot: Dot; siblings: number; warn: boolean }
  /** The write would leave `siblings` > `limit` live values: refuse it, nothing was recorded. */
  | { kind: 'too-many-siblings'; siblings: number; limit: number }
  /** The row would be tracked by more than `limit` node ids (a forged or runaway context). */
  | { kind: 'too-many-nodes'; nodes: number; limit: number };

export interface LwwResult<V> {
  /** The winning value, undefined for an empty set. */
  value: V | undefined;
  dot: Dot | undefined;
  /** True when there was more than one live value: a conflict to count and log. */
  conflict: boolean;
  siblings: number;
}

export interface Sibling<V> {
  dot: Dot;
  value: V;
}

export function checkSiblings(siblings: number, limits: SiblingLimits = DEFAULT_SIBLING_LIMITS): SiblingCheck {
  if (siblings > limits.max) return 'refuse';
  return siblings >= limits.warnAt ? 'warn' : 'ok';
}

export function size<V>(set: DvvSet<V>): number {
  return set.size;
}

// #region pattern:Version Vector
/**
 * The coordinating replica `nodeId` applies a write of `value` made with `context` (what the
 * client read; null for a blind write, which supersedes nothing).
 */
export function update<V>(
  set: DvvSet<V>,
  context: VersionVector | null,
  nodeId: string,
  value: V,
  limits: SiblingLimits = DEFAULT_SIBLING_LIMITS,
): UpdateResult<V> {
  assert(limits.warnAt >= 1 && limits.max >= limits.warnAt, `bad sibling limits ${limits.warnAt}/${limits.max}`);
  const known = discard(set.entries, context ?? new Map<string, number>());
  const own = known.find((e) => e.nodeId === nodeId);
  const nodes = known.length + (own === undefined ? 1 : 0);
  if (nodes > MAX_ENTRIES) return { kind: 'too-many-nodes', nodes, limit: MAX_ENTRIES };
  const siblings = known.reduce((n, e) => n + e.values.length, 1);
  if (checkSiblings(siblings, limits) === 'refuse') return { kind: 'too-many-siblings', siblings, limit: limits.max };
  const dot: Dot = { nodeId, counter: (own?.counter ?? 0) + 1 };
  const event: DvvEntry<V> = { nodeId, counter: dot.counter, values: [value, ...(own?.values ?? [])] };
  const entries = own === undefined ? [...known, event] : known.map((e) => (e === own ? event : e));
  return { kind: 'applied', set: new DvvSet(entries), dot, siblings, warn: siblings >= limits.warnAt };
}

/** The values `context` covers are dropped; the entries learn what the context has seen. */
function discard<V>(entries: readonly DvvEntry<V>[], context: VersionVector): DvvEntry<V>[] {
  const out: DvvEntry<V>[] = entries.map((e) => {
    const seen = context.get(e.nodeId) ?? 0;
    if (seen <= e.counter - e.values.length) return e; // covers none of its live values
    return { nodeId: e.nodeId, counter: Math.max(e.counter, seen), values: e.values.slice(0, Math.max(0, e.counter - seen)) };
  });
  for (const [nodeId, seen] of context) {
    if (seen >= 1 && !entries.some((e) => e.nodeId === nodeId)) out.push({ nodeId, counter: seen, values: [] });
  }
  return out;
}

/** Replica merge: the least set that has seen everything either side has seen. */
export function sync<V>(a: DvvSet<V>, b: DvvSet<V>): DvvSet<V> {
  const out: DvvEntry<V>[] = [];
  let i = 0;
  let j = 0;
  while (i < a.entries.length || j < b.entries.length) {
    const ea = a.entries[i];
    const eb = b.entries[j];
    const order = ea === undefined ? 1 : eb === undefined ? -1 : compareIds(ea.nodeId, eb.nodeId);
    if (order < 0) {
      out.push(ea!);
      i++;
    } else if (order > 0) {
      out.push(eb!);
      j++;
    } else {
      out.push(mergeEntry(ea!, eb!));
      i++;
      j++;
    }
  }
  return new DvvSet(out);
}

/**
 * Both entries describe one node's events. A value stays if the other side holds it too or has
 * not seen its dot: of the side with the larger counter, the dots above both sides' oldest live
 * dot.
 */
function mergeEntry<V>(x: DvvEntry<V>, y: DvvEntry<V>): DvvEntry<V> {
  // With equal counters both lists are suffixes of the same events: keep the shorter one.
  const [hi, lo] = x.counter > y.counter || (x.counter === y.counter && x.values.length <= y.values.length) ? [x, y] : [y, x];
  const keep = Math.min(hi.values.length, hi.counter - lo.counter + lo.values.length);
  return keep === hi.values.length ? hi : { nodeId: hi.nodeId, counter: hi.counter, values: hi.values.slice(0, keep) };
}

/** The version vector of everything this set has seen (the causal context of a read). */
export function join<V>(set: DvvSet<V>): VersionVector {
  return new Map(set.entries.map((e) => [e.nodeId, e.counter]));
}
// #endregion

/** How two replicas' histories relate: 'equal' means neither has seen anything the other lacks. */
export function compareSets<V>(a: DvvSet<V>, b: DvvSet<V>): Ordering {
  return compareVectors(join(a), join(b));
}

/** The live values (siblings), by node id, newest first within a node. */
export function values<V>(set: DvvSet<V>): V[] {
  return set.entries.flatMap((e) => e.values);
}

export function siblings<V>(set: DvvSet<V>): Sibling<V>[] {
  return set.entries.flatMap((e) => e.values.map((value, k) => ({ dot: { nodeId: e.nodeId, counter: e.counter - k }, value })));
}

/**
 * Collapses siblings to one value for `conflict_resolution = 'lww'`: the greatest by `compare`;
 * on a tie the greater dot (node id, then counter), so every replica picks the same winner.
 */
export function lww<V>(set: DvvSet<V>, compare: (a: V, b: V) => number): LwwResult<V> {
  let best: Sibling<V> | undefined;
  for (const s of siblings(set)) {
    if (best === undefined) {
      best = s;
      continue;
    }
    const order = compare(s.value, best.value);
    if (order > 0 || (order === 0 && compareDots(s.dot, best.dot) > 0)) best = s;
  }
  return { value: best?.value, dot: best?.dot, conflict: set.size > 1, siblings: set.size };
}

/** The opaque causal context returned to clients with a read. */
export function context<V>(set: DvvSet<V>): string {
  return encodeContext(join(set));
}

export function encodeContext(vector: VersionVector): string {
  return Buffer.concat([Buffer.of(CONTEXT_FORMAT_VERSION), encodeVector(vector)]).toString('base64url');
}

/** A client's context token back to a version vector; `InvalidRequest` when it is not one. */
export function parseContext(token: string): VersionVector {
  if (token.length > MAX_CONTEXT_CHARS) throw new InvalidRequest(`context is longer than ${MAX_CONTEXT_CHARS} characters`);
  if (!/^[A-Za-z0-9_-]*$/.test(token)) throw new InvalidRequest('context is not a context returned by a read');
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.length === 0 || bytes[0] !== CONTEXT_FORMAT_VERSION) {
    throw new InvalidRequest('context is not a context returned by a read (unknown format)');
  }
  try {
    return decodeVector(bytes.subarray(1));
  } catch (err) {
    if (err instanceof CorruptDataError) throw new InvalidRequest(`context is not a context returned by a read (${err.message})`);
    throw err;
  }
}

export function encode<V>(set: DvvSet<V>, codec: ValueCodec<V>): Buffer {
  const w = new ByteWriter(16 + set.entries.length * 48);
  w.u8(FORMAT_VERSION).uvarint(set.entries.length);
  for (const e of set.entries) {
    w.string(e.nodeId).uvarint(e.counter).uvarint(e.values.length);
    for (const v of e.values) w.lbytes(codec.encode(v));
  }
  return w.toBuffer();
}

/**
 * The number of live values in an encoded set, without decoding them (reads count conflicts on
 * every row they return, so this must stay cheap). `CorruptDataError` on malformed input.
 */
export function encodedSize(bytes: Buffer): number {
  const r = new ByteReader(bytes);
  const version = r.u8();
  if (version !== FORMAT_VERSION) throw new CorruptDataError(`unknown dotted version vector format ${version}`);
  const count = r.uvarint();
  if (count > DECODE_MAX_ENTRIES || count * 4 > r.remaining) throw new CorruptDataError(`dotted version vector claims ${count} entries`);
  let total = 0;
  for (let i = 0; i < count; i++) {
    r.bytes(r.uvarint()); // node id
    r.uvarint(); // counter
    const values = r.uvarint();
    total += values;
    if (total > DECODE_MAX_SIBLINGS) throw new CorruptDataError(`dotted version vector claims ${total} values`);
    for (let k = 0; k < values; k++) r.bytes(r.uvarint());
  }
  return total;
}

/** The inverse of `encode`; `CorruptDataError` for anything `encode` cannot have written. */
export function decode<V>(bytes: Buffer, codec: ValueCodec<V>): DvvSet<V> {
  const r = new ByteReader(bytes);
  const version = r.u8();
  if (version !== FORMAT_VERSION) throw new CorruptDataError(`unknown dotted version vector format ${version}`);
  const count = r.uvarint();
  // Each entry takes at least 4 bytes: this bounds the loop by the input, not by a claimed count.
  if (count > DECODE_MAX_ENTRIES || count * 4 > r.remaining) throw new CorruptDataError(`dotted version vector claims ${count} entries`);
  const entries: DvvEntry<V>[] = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    const nodeId = r.string();
    const counter = r.uvarint();
    const valueCount = r.uvarint();
    const previous = entries[entries.length - 1];
    if (nodeId.length === 0 || Buffer.byteLength(nodeId) > MAX_NODE_ID_BYTES) throw new CorruptDataError('bad node id in dotted version vector');
    if (previous !== undefined && compareIds(previous.nodeId, nodeId) >= 0) throw new CorruptDataError('dotted version vector entries out of order');
    if (counter < 1 || valueCount > counter) throw new CorruptDataError(`bad entry ${nodeId}: ${valueCount} values for ${counter} events`);
    total += valueCount;
    if (total > DECODE_MAX_SIBLINGS || valueCount > r.remaining) throw new CorruptDataError(`dotted version vector claims ${total} values`);
    const values: V[] = [];
    for (let k = 0; k < valueCount; k++) values.push(codec.decode(r.lbytes()));
    entries.push({ nodeId, counter, values });
  }
  if (r.remaining !== 0) throw new CorruptDataError('trailing bytes after dotted version vector');
  return new DvvSet(entries);
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareDots(a: Dot, b: Dot): number {
  return compareIds(a.nodeId, b.nodeId) || a.counter - b.counter;
}
