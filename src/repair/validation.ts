/**
 * A replica's side of a repair, as jobs for a worker thread (validation-worker.ts): estimate how
 * many partitions it holds in some token ranges, and build the Merkle trees of its data in
 * those ranges. Cassandra: the `Validator` and `ValidationManager` of a repair session.
 *
 * Building walks `mergedEntries` (the SSTables' content merged into one canonical stream,
 * exactly what compaction would write) range by range, in ring order of tokens, and hashes each
 * entry into its leaf. An entry's bytes are
 *
 *   pkey:lbytes  ck:lbytes  value:lbytes
 *
 * `pkey` (token + partition key) and `ck` (0x00 for the partition header, 0x01 + clustering for
 * a row) come from storage; `value` is the encoded header or row (codec.ts). Two replicas holding
 * the same facts therefore hash the same leaves, however their SSTables split them. One detail
 * is not canonical in storage and is made so here: a header's range tombstones keep the order
 * in which merges met them, so a header with several is re-encoded with them sorted by their
 * encoding (as the digest reads of replica-verbs.ts do).
 *
 * Estimates use SSTable metadata only (partition count, first and last token), assuming tokens
 * spread evenly between an SSTable's first and last (Murmur3 makes them uniform). Partitions
 * present in several SSTables count once per SSTable: an overestimate, which only deepens trees.
 *
 * Reads are throttled to `throughputBytesPerS` (compaction_throughput_mb_per_s, as Cassandra
 * throttles validation like compaction; 0 = unthrottled) by blocking the worker thread.
 * Bounds: one source entry per SSTable and one leaf hash in progress in memory, plus the trees.
 */
import type { TokenRange } from '../ring/token-metadata.js';
import { Throttle } from '../storage/compaction/throttle.js';
import { encodeHeader } from '../storage/data/codec.js';
import { decodeToken, MAX_TOKEN, MIN_TOKEN } from '../storage/data/keys.js';
import type { PartitionHeader } from '../storage/data/types.js';
import { mergedEntries, type MergedEntry } from '../storage/sstable/merged-entries.js';
import { SstableReader } from '../storage/sstable/sstable-reader.js';
import { ByteWriter } from '../util/bytes.js';
import { MerkleTreeBuilder } from './merkle-tree.js';

export interface RangeDepth {
  readonly range: TokenRange;
  readonly depth: number;
}

export interface EstimateJob {
  readonly kind: 'estimate';
  readonly paths: readonly string[];
  readonly ranges: readonly TokenRange[];
}

export interface BuildJob {
  readonly kind: 'build';
  readonly paths: readonly string[];
  readonly ranges: readonly RangeDepth[];
  /** Bytes read per second; 0 = unthrottled. */
  readonly throughputBytesPerS: number;
}

export type ValidationJob = EstimateJob | BuildJob;

export interface EstimateResult {
  readonly kind: 'estimate';
  /** Per range, in the job's order. */
  readonly partitions: number[];
}

export interface BuildResult {
  readonly kind: 'build';
  /** Per range, in the job's order: `MerkleTree.encode()` bytes. */
  readonly trees: Uint8Array[];
  readonly entries: number;
  readonly bytesRead: number;
}

export type ValidationResult = EstimateResult | BuildResult;

/** `(start, end]` as non-wrapping pieces in ring order from `start`: the order trees are built in. */
export function piecesInRingOrder(range: TokenRange): TokenRange[] {
  if (range.start < range.end) return [range];
  const pieces: TokenRange[] = [];
  if (range.start < MAX_TOKEN) pieces.push({ start: range.start, end: MAX_TOKEN });
  // mergedEntries reads a start below MIN_TOKEN as "from the first token", MIN_TOKEN included.
  pieces.push({ start: MIN_TOKEN - 1n, end: range.end });
  return pieces;
}

function sortedRangeTombstones(header: PartitionHeader): Buffer {
  const keyed = header.rangeTombstones.map((rt) => ({ rt, bytes: encodeHeader({ rangeTombstones: [rt] }) }));
  keyed.sort((a, b) => Buffer.compare(a.bytes, b.bytes));
  return encodeHeader({ deletion: header.deletion, rangeTombstones: keyed.map((k) => k.rt) });
}

/** The bytes that identify an entry in a leaf's hash (see the module header). */
export function writeEntryBytes(w: ByteWriter, entry: MergedEntry): void {
  w.reset();
  w.lbytes(entry.pkey);
  if (entry.kind === 'header') {
    w.lbytes(HEADER_TAG);
    w.lbytes(entry.header.rangeTombstones.length < 2 ? entry.bytes : sortedRangeTombstones(entry.header));
  } else {
    w.lbytes(entry.ck);
    w.lbytes(entry.bytes);
  }
}

const HEADER_TAG = Buffer.from([0x00]);

function estimate(readers: readonly SstableReader[], ranges: readonly TokenRange[]): number[] {
  return ranges.map((range) => {
    let partitions = 0;
    for (const reader of readers) {
      const meta = reader.meta;
      if (meta.partitions === 0) continue;
      const first = decodeToken(meta.minPkey);
      const last = decodeToken(meta.maxPkey);
      const span = last - first + 1n;
      let covered = 0n;
      for (const piece of piecesInRingOrder(range)) {
        const low = piece.start + 1n > first ? piece.start + 1n : first;
        const high = piece.end < last ? piece.end : last;
        if (high >= low) covered += high - low + 1n;
      }
      partitions += meta.partitions * (Number(covered) / Number(span));
    }
    return Math.ceil(partitions);
  });
}

function build(readers: readonly SstableReader[], job: BuildJob): BuildResult {
  const throttle = new Throttle(job.throughputBytesPerS);
  const scratch = new ByteWriter(4096);
  let bytesRead = 0;
  let entries = 0;
  const onRead = (bytes: number): void => {
    bytesRead += bytes;
    throttle.consume(bytesRead);
  };
  const trees = job.ranges.map(({ range, depth }) => {
    const builder = new MerkleTreeBuilder(range, depth);
    for (const piece of piecesInRingOrder(range)) {
      for (const entry of mergedEntries(readers, { startToken: piece.start, endToken: piece.end, onRead })) {
        writeEntryBytes(scratch, entry);
        builder.add(decodeToken(entry.pkey), scratch.view());
        entries++;
      }
    }
    return new Uint8Array(builder.finish().encode());
  });
  return { kind: 'build', trees, entries, bytesRead };
}

/** Runs one job on the SSTables at `job.paths` (opened and closed here). */
export function runValidationJob(job: ValidationJob): ValidationResult {
  const readers: SstableReader[] = [];
  try {
    for (const path of job.paths) readers.push(new SstableReader(path));
    if (job.kind === 'estimate') return { kind: 'estimate', partitions: estimate(readers, job.ranges) };
    return build(readers, job);
  } finally {
    for (const reader of readers) reader.close();
  }
}

