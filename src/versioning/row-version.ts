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
 * The versioning replica reads a row's version with `TableStore.readRowVersion`, which ignores
 * deletions of the row's data, so its counter does not go back when the row is deleted.
 * Known limitation: once compaction drops a row removed entirely by a partition or range
 * deletion, its version goes with it and a later write starts a new history. Replicas still
 * converge, and a context read before such a deletion may cover writes made after it.
 */
import { InvalidRequest } from '../errors.js';
import { encodeRow, decodeRow } from '../storage/data/codec.js';
import type { Row } from '../storage/data/types.js';
import {
  bufferCodec,
  decode,
  DvvSet,
  encode,
  encodedSize,
  join,
  SIBLINGS_MAX,
  siblings as siblingsOf,
  sync,
  update,
  type Dot,
} from './dotted-version-vector.js';
import type { VersionVector } from './version-vector.js';

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

/** The concurrent versions of a row as their writes wrote them (siblings mode), newest dots first per node. */
export function siblingRows(blob: Buffer | undefined, clustering: Buffer): Row[] {
  return siblingsOf(decodeRowVersion(blob))
    .filter((s) => s.value.length > 0)
    .map((s) => decodeRow(s.value, clustering));
}

export { SIBLINGS_MAX };
