/**
 * A row's version: the dotted version vector set (dotted-version-vector.ts) stored with every
 * row as an opaque blob (`Row.version`), and the two things done with it.
 *
 * Pattern: Version Vector (Joshi, *Patterns of Distributed Systems*), in the dotted form of
 * Preguiça et al. and Riak's `dvvset`.
 *
 * - `nextRowVersion`, on the one replica that coordinates an update of the row (issue #5 §3):
 *   the replica's own entry moves past everything the replica holds for the row, and the new
 *   write's dot is recorded. In `lww` mode the write is taken to have seen everything the replica
 *   holds (Cassandra's semantics: a later write wins), so only writes that two replicas coordinate
 *   without seeing each other's end up concurrent. In `siblings` mode the write supersedes only
 *   what the client's context covers; anything else stays a sibling (Riak's `allow_mult`).
 * - `mergeRowVersions`, everywhere else (memtables, SSTable merges, compaction, read repair,
 *   coordinator merges of replica answers): the DVV `sync`, a join, so merge order and repetition
 *   do not matter and replicas converge to the same blob.
 *
 * What a sibling's value is: in `siblings` mode, the row exactly as its write wrote it (cells with
 * their timestamps, marker, row deletion), encoded by the storage row codec, so a read can show
 * each concurrent write on its own next to the merged (last-write-wins) view; in `lww` mode an
 * empty value, because only the dots are needed to count conflicts. Both modes share the format,
 * so `ALTER TABLE … WITH conflict_resolution` needs no rewrite.
 *
 * Invariants: a node creates dots only for rows it holds the newest version of (its own storage,
 * read in the same event-loop turn as the write is applied); `mergeRowVersions` never creates a
 * dot. Bounds: SIBLINGS_MAX live values per row on update (refused beyond, with the reason);
 * warns at SIBLINGS_WARN_AT.
 *
 * Cost: every lww write takes `nextLwwVersion`, which walks the encoded set once and writes the
 * result directly (no `DvvSet`, no maps); it must stay byte-identical to the general path
 * (property-tested), which still handles siblings mode and every blob it does not follow.
 *
 * The versioning replica reads a row's version with `TableStore.readRowVersion`, which ignores
 * deletions of the row's data, so its counter does not go back when the row is deleted.
 * Known limitation: once compaction drops a row removed entirely by a partition or range
 * deletion, its version goes with it and a later write starts a new history. Replicas still
 * converge, and a context read before such a deletion may cover writes made after it.
 */
import { InvalidRequest } from '../errors.js';
import { encodeRow, decodeRow } from '../storage/data/codec.js';
import type { Row } from '../storage/data/types.js';
import { ByteReader, ByteWriter, CorruptDataError } from '../util/bytes.js';
import {
  bufferCodec,
  checkSiblings,
  decode,
  DECODE_MAX_ENTRIES,
  DECODE_MAX_SIBLINGS,
  DvvSet,
  encode,
  encodedSize,
  FORMAT_VERSION,
  join,
  MAX_NODE_ID_BYTES,
  SIBLINGS_MAX,
  siblings as siblingsOf,
  sync,
  update,
  type Dot,
} from './dotted-version-vector.js';
import { MAX_ENTRIES, type VersionVector } from './version-vector.js';

export type ConflictResolution = 'lww' | 'siblings';

const EMPTY = Buffer.alloc(0);

/** Join of two row-version blobs (DVV sync); `undefined` is a row nobody versioned. */
export function mergeRowVersions(a: Buffer | undefined, b: Buffer | undefined): Buffer | undefined {
  if (a === undefined) return b;
  if (b === undefined || a.equals(b)) return a;
  return encode(sync(decode(a, bufferCodec), decode(b, bufferCodec)), bufferCodec);
}

export function decodeRowVersion(blob: Buffer | undefined): DvvSet<Buffer> {
  return blob === undefined ? new DvvSet<Buffer>() : decode(blob, bufferCodec);
}

/** How many concurrent versions a row holds (1 for an ordinary row, 0 for an unversioned one). */
export function versionCount(blob: Buffer | undefined): number {
  return blob === undefined ? 0 : encodedSize(blob);
}

/** What a read saw of a row: handed back as (part of) the client's context. */
export function rowContext(blob: Buffer | undefined): VersionVector {
  return join(decodeRowVersion(blob));
}

export interface NextVersion {
  readonly version: Buffer;
  readonly dot: Dot;
  /** Live versions after the write (1 unless concurrent writes were not covered). */
  readonly siblings: number;
  readonly warn: boolean;
}

/**
 * The version a row gets when `nodeId` coordinates `written` over `current` (the version this
 * replica holds now). `context` is the client's context for the row (siblings mode only; null
 * for a blind write). Throws `InvalidRequest` when the row would hold too many siblings.
 */
export function nextRowVersion(
  mode: ConflictResolution,
  current: Buffer | undefined,
  context: VersionVector | null,
  nodeId: string,
  written: Row,
): NextVersion {
  return (mode === 'lww' ? nextLwwVersion(current, nodeId) : null) ?? nextRowVersionByDecoding(mode, current, context, nodeId, written);
}

/**
 * `nextRowVersion` the general way: decode the set, `update` it, encode it. The reference the
 * lww fast path is checked against.
 */
export function nextRowVersionByDecoding(
  mode: ConflictResolution,
  current: Buffer | undefined,
  context: VersionVector | null,
  nodeId: string,
  written: Row,
): NextVersion {
  const set = decodeRowVersion(current);
  const seen = mode === 'lww' ? join(set) : context;
  const value = mode === 'lww' ? EMPTY : encodeRow({ ...written, version: undefined });
  const result = update(set, seen, nodeId, value);
  switch (result.kind) {
    case 'applied':
      return { version: encode(result.set, bufferCodec), dot: result.dot, siblings: result.siblings, warn: result.warn };
    case 'too-many-siblings':
      throw new InvalidRequest(
        `Too many concurrent versions (siblings) of this row: this write would leave ${result.siblings}, the limit is ${result.limit}. ` +
          'Read the row and write it back with the read\'s "context" to resolve them.',
      );
    case 'too-many-nodes':
      throw new InvalidRequest(`The context names ${result.nodes} nodes, more than the ${result.limit} a row version can track`);
  }
}

const LWW_ONE_SIBLING = checkSiblings(1);

/** `string(nodeId)` as `encode` writes it, for the one node id a process versions with. */
let ownIdCache: { readonly nodeId: string; readonly bytes: Buffer | null } | null = null;

/** Null for an id that UTF-8 cannot carry as is (lone surrogates): the general path handles it. */
function encodedNodeId(nodeId: string): Buffer | null {
  if (ownIdCache?.nodeId !== nodeId) {
    const w = new ByteWriter(8 + nodeId.length * 3).string(nodeId);
    const bytes = w.toBuffer();
    ownIdCache = { nodeId, bytes: new ByteReader(bytes).string() === nodeId ? bytes : null };
  }
  return ownIdCache.bytes;
}

/**
 * The lww write path without building a `DvvSet` (every INSERT pays it): in lww mode the write
 * has seen everything the replica holds, so `update` empties every entry's values and gives
 * this node's entry one more event holding one empty value. This walks the encoded set once and
 * writes that result directly, byte for byte what `nextRowVersionByDecoding` produces.
 * Returns null for anything it does not follow (a malformed blob, a bad node id, a counter or an
 * entry count at its limit): the general path then gives the answer, or the error.
 */
export function nextLwwVersion(current: Buffer | undefined, nodeId: string): NextVersion | null {
  if (LWW_ONE_SIBLING === 'refuse' || nodeId.length === 0 || Buffer.byteLength(nodeId) > MAX_NODE_ID_BYTES) return null;
  const ownId = encodedNodeId(nodeId);
  if (ownId === null) return null;
  if (current === undefined) return lwwResult(ownEntryOnly(ownId, 1), nodeId, 1);
  const onlyOwn = ownCounterIfAlone(current, ownId);
  if (onlyOwn !== null) return onlyOwn < Number.MAX_SAFE_INTEGER ? lwwResult(ownEntryOnly(ownId, onlyOwn + 1), nodeId, onlyOwn + 1) : null;
  const ids: string[] = [];
  const counters: number[] = [];
  if (!scanEntries(current, ids, counters)) return null;
  const own = ids.indexOf(nodeId);
  if (ids.length + (own < 0 ? 1 : 0) > MAX_ENTRIES) return null;
  const counter = own < 0 ? 1 : counters[own]! + 1;
  if (!Number.isSafeInteger(counter)) return null;
  const w = new ByteWriter(8 + (ids.length + 1) * (ownId.length + 12));
  w.u8(FORMAT_VERSION).uvarint(ids.length + (own < 0 ? 1 : 0));
  let ownWritten = false;
  for (let i = 0; i < ids.length; i++) {
    if (!ownWritten && own < 0 && nodeId < ids[i]!) {
      w.bytes(ownId).uvarint(counter).uvarint(1).uvarint(0);
      ownWritten = true;
    }
    if (i === own) {
      w.bytes(ownId).uvarint(counter).uvarint(1).uvarint(0);
      ownWritten = true;
    } else {
      w.string(ids[i]!).uvarint(counters[i]!).uvarint(0);
    }
  }
  if (!ownWritten) w.bytes(ownId).uvarint(counter).uvarint(1).uvarint(0);
  return lwwResult(w.toBuffer(), nodeId, counter);
}

function lwwResult(version: Buffer, nodeId: string, counter: number): NextVersion {
  return { version, dot: { nodeId, counter }, siblings: 1, warn: LWW_ONE_SIBLING === 'warn' };
}

/** The encoding of a set holding only `ownId`'s entry at `counter`, with one empty value. */
function ownEntryOnly(ownId: Buffer, counter: number): Buffer {
  const counterBytes = uvarintBytes(counter);
  const out = Buffer.allocUnsafe(2 + ownId.length + counterBytes + 2);
  out[0] = FORMAT_VERSION;
  out[1] = 1;
  out.set(ownId, 2);
  let at = writeUvarint(out, 2 + ownId.length, counter);
  out[at++] = 1; // one value …
  out[at] = 0; // … of no bytes
  return out;
}

/**
 * The usual blob of a row this node versions: its own entry alone. Its counter when `bytes` is
 * exactly that (well formed, nothing after it), else null.
 */
function ownCounterIfAlone(bytes: Buffer, ownId: Buffer): number | null {
  const n = ownId.length;
  if (bytes.length < 2 + n + 2 || bytes[0] !== FORMAT_VERSION || bytes[1] !== 1) return null;
  if (bytes.compare(ownId, 0, n, 2, 2 + n) !== 0) return null;
  try {
    const r = new ByteReader(bytes, 2 + n);
    const counter = r.uvarint();
    const valueCount = r.uvarint();
    if (counter < 1 || valueCount > counter || valueCount > r.remaining || valueCount > DECODE_MAX_SIBLINGS) return null;
    for (let k = 0; k < valueCount; k++) r.lbytes();
    return r.remaining === 0 ? counter : null;
  } catch (error) {
    if (error instanceof CorruptDataError) return null;
    throw error;
  }
}

function uvarintBytes(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

/** LEB128 as `ByteWriter.uvarint` writes it; returns the offset after it. */
function writeUvarint(out: Buffer, at: number, v: number): number {
  while (v >= 0x80) {
    out[at++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  out[at++] = v;
  return at;
}

/**
 * The node ids and counters of an encoded set, checked as `decode` and `DvvSet` check them;
 * false where they would throw (the caller then takes the general path).
 */
function scanEntries(bytes: Buffer, ids: string[], counters: number[]): boolean {
  try {
    const r = new ByteReader(bytes);
    if (r.u8() !== FORMAT_VERSION) return false;
    const count = r.uvarint();
    if (count > DECODE_MAX_ENTRIES || count * 4 > r.remaining) return false;
    let total = 0;
    for (let i = 0; i < count; i++) {
      const id = r.string();
      const counter = r.uvarint();
      const valueCount = r.uvarint();
      if (id.length === 0 || Buffer.byteLength(id) > MAX_NODE_ID_BYTES) return false;
      if (i > 0 && !(ids[i - 1]! < id)) return false;
      if (counter < 1 || !Number.isSafeInteger(counter) || valueCount > counter) return false;
      total += valueCount;
      if (total > DECODE_MAX_SIBLINGS || valueCount > r.remaining) return false;
      for (let k = 0; k < valueCount; k++) r.lbytes();
      ids.push(id);
      counters.push(counter);
    }
    return r.remaining === 0;
  } catch (error) {
    if (error instanceof CorruptDataError) return false;
    throw error;
  }
}

/** The concurrent versions of a row as their writes wrote them (siblings mode), newest dots first per node. */
export function siblingRows(blob: Buffer | undefined, clustering: Buffer): Row[] {
  return siblingsOf(decodeRowVersion(blob))
    .filter((s) => s.value.length > 0)
    .map((s) => decodeRow(s.value, clustering));
}

export { SIBLINGS_MAX };
