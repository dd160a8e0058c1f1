/**
 * Messages between the event loop and the storage worker threads.
 *
 * A flush streams the memtable to the worker in chunks so the event loop never encodes a
 * whole memtable in one go; at most `MAX_CHUNKS_IN_FLIGHT` chunks are unacknowledged, which
 * bounds the memory held in the worker's queue.
 * Chunk layout: repeated (uvarint length + bytes) × 3 = pkey, ck, v.
 */
import type { CompactionJob, CompactionResult } from '../compaction/compactor.js';
import type { SstableMeta } from '../sstable/format.js';

export const MAX_CHUNKS_IN_FLIGHT = 4;
export const CHUNK_TARGET_BYTES = 1 << 20;

export interface FlushBegin {
  readonly kind: 'flush-begin';
  readonly path: string;
  readonly generation: number;
  readonly expectedPartitions: number;
  readonly createdAtMs: number;
  readonly minTs: number;
  readonly maxTs: number;
}

export type ToWorker =
  | FlushBegin
  | { readonly kind: 'flush-chunk'; readonly chunk: Uint8Array }
  | { readonly kind: 'flush-end' }
  | { readonly kind: 'flush-abort' }
  | { readonly kind: 'compact'; readonly job: CompactionJob };

export type FromWorker =
  | { readonly kind: 'chunk-ack' }
  | { readonly kind: 'flushed'; readonly meta: SstableMeta }
  | { readonly kind: 'compacted'; readonly result: CompactionResult }
  | { readonly kind: 'error'; readonly message: string; readonly stack?: string | undefined };
