/**
 * Messages between the event loop (stream-reader.ts) and a stream reader thread
 * (stream-worker.ts). One thread serves one read: `start` once, then an `ack` for every page
 * the consumer has finished with. The worker never has more than MAX_PAGES_UNACKED pages
 * unacknowledged, which bounds the memory between the two threads.
 *
 * Token bounds cross as bigints (the structured clone keeps them); page bytes are transferred.
 */
import type { TokenSpan } from './stream-ranges.js';

export interface StreamReadJob {
  readonly paths: readonly string[];
  /** Non-wrapping spans in ring order (stream-ranges.ts). */
  readonly spans: readonly TokenSpan[];
  readonly pageBytes: number;
  /** 0 = unthrottled. */
  readonly throughputBytesPerS: number;
}

export type ToStreamWorker = { readonly kind: 'start'; readonly job: StreamReadJob } | { readonly kind: 'ack' };

export type FromStreamWorker =
  | { readonly kind: 'page'; readonly bytes: Uint8Array; readonly rows: number; readonly partitions: number }
  | { readonly kind: 'end' }
  | { readonly kind: 'error'; readonly message: string; readonly stack?: string | undefined };
