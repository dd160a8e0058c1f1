/**
 * The merged content of a set of SSTables, in (token, partition key, clustering) order: every
 * version of a partition header or row reconciled into one, and rows that a partition or range
 * deletion shadows dropped. Compaction writes this stream to a new SSTable; streaming sends it
 * to another replica; repair hashes it into a Merkle tree. All three run in worker threads.
 *
 * The output is canonical up to one thing: two replicas whose SSTables hold the same facts,
 * however they are split across files, yield the same entries with the same encoded bytes
 * (merging is a join and the codec is deterministic), except that a header's range tombstones
 * come in the order the merges met them. Repair sorts those before hashing (src/repair).
 *
 * Bounds: one entry per source in memory at a time; `onRead` sees the bytes read so callers can
 * throttle. Token bounds select the entries of one range `(start, end]` (non-wrapping).
 */
import { decodeHeader, decodeRow, encodeHeader, encodeRow } from '../data/codec.js';
import { clusteringOfCk, encodeToken, isHeaderCk, MAX_TOKEN, MIN_TOKEN, rowStorageCk } from '../data/keys.js';
import { mergeCursor, popSmallest } from '../data/merge-cursors.js';
import { coveringDeletion, mergeHeaders, mergeRows, purgeHeader, purgeRow, removeShadowed, type PurgeRule } from '../data/reconcile.js';
import { EMPTY_HEADER, headerIsEmpty, type PartitionHeader, type Row } from '../data/types.js';
import type { RawEntry, SstableReader } from './sstable-reader.js';

export type MergedEntry =
  | { readonly kind: 'header'; readonly pkey: Buffer; readonly header: PartitionHeader; readonly bytes: Buffer }
  | { readonly kind: 'row'; readonly pkey: Buffer; readonly ck: Buffer; readonly bytes: Buffer; row(): Row };

export interface MergeOptions {
  /** Tombstones and expired cells to drop (compaction only); none when absent. */
  readonly purge?: PurgeRule | undefined;
  /** Only tokens in `(startToken, endToken]`; the whole ring when absent. `startToken < endToken`. */
  readonly startToken?: bigint | undefined;
  readonly endToken?: bigint | undefined;
  /** Called with the bytes of every source entry read. */
  readonly onRead?: ((bytes: number) => void) | undefined;
}

function compareEntries(a: RawEntry, b: RawEntry): number {
  return Buffer.compare(a[0], b[0]) || Buffer.compare(a[1], b[1]);
}

const NOTHING = Buffer.alloc(0);

/**
 * Merged entries of `readers` (see the module header). A partition's header, when it has one
 * after purging, comes before its rows. Close nothing: the caller owns the readers.
 */
export function* mergedEntries(readers: readonly SstableReader[], options: MergeOptions = {}): Generator<MergedEntry> {
  const startToken = options.startToken ?? null;
  const endToken = options.endToken ?? null;
  if (startToken !== null && startToken >= MAX_TOKEN) return;
  const fromPkey = startToken === null || startToken < MIN_TOKEN ? NOTHING : encodeToken(startToken + 1n);
  const endPkey = endToken === null || endToken >= MAX_TOKEN ? null : encodeToken(endToken + 1n);
  const iterators = readers.map((r) => r.iterateFrom(fromPkey, NOTHING, endPkey));
  try {
    const cursors = iterators.map((it) => mergeCursor(it));
    let pkey: Buffer | null = null;
    let header: PartitionHeader = EMPTY_HEADER;
    let headerDone = true;
    // The header is complete once the partition's first row (or the next partition) shows up.
    const finishHeader = function* (): Generator<MergedEntry> {
      if (headerDone || pkey === null) return;
      headerDone = true;
      const kept = options.purge === undefined ? header : purgeHeader(header, options.purge);
      if (!headerIsEmpty(kept)) yield { kind: 'header', pkey, header: kept, bytes: encodeHeader(kept) };
    };
    for (;;) {
      const group = popSmallest(cursors, compareEntries);
      if (group.length === 0) break;
      const [entryPkey, ck] = group[0]!;
      if (options.onRead !== undefined) {
        let read = 0;
        for (const e of group) read += e[0].length + e[1].length + e[2].length;
        options.onRead(read);
      }
      if (pkey === null || !pkey.equals(entryPkey)) {
        yield* finishHeader();
        pkey = Buffer.from(entryPkey);
        header = EMPTY_HEADER;
        headerDone = false;
      }
      if (isHeaderCk(ck)) {
        for (const e of group) header = mergeHeaders(header, decodeHeader(e[2]));
        continue;
      }
      yield* finishHeader();
      const clustering = Buffer.from(clusteringOfCk(ck));
      if (group.length === 1 && options.purge === undefined && headerIsEmpty(header)) {
        // One version and nothing to shadow or purge: the stored bytes are already the merged
        // row (the codec is deterministic), so streaming and repair skip a decode and encode.
        const bytes = group[0]![2];
        yield { kind: 'row', pkey, ck: rowStorageCk(clustering), bytes, row: () => decodeRow(bytes, clustering) };
        continue;
      }
      let row: Row = decodeRow(group[0]![2], clustering);
      for (let i = 1; i < group.length; i++) row = mergeRows(row, decodeRow(group[i]![2], clustering));
      const visible = removeShadowed(row, coveringDeletion(header, clustering));
      const kept = visible === null || options.purge === undefined ? visible : purgeRow(visible, options.purge);
      if (kept !== null) yield { kind: 'row', pkey, ck: rowStorageCk(clustering), bytes: encodeRow(kept), row: () => kept };
    }
    yield* finishHeader();
  } finally {
    for (const it of iterators) it.return?.();
  }
}


