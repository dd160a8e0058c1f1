/**
 * The event loop's side of a stream read: `readRanges` starts one reader thread
 * (stream-worker.ts) over a table's SSTables and yields its pages as they come.
 *
 * Flow control: a page is acknowledged to the thread when the consumer asks for the next one,
 * i.e. once it is done with it (sent, or queued for sending with its own bound); the thread
 * keeps at most MAX_PAGES_UNACKED pages unacknowledged, so at most that many pages sit here.
 *
 * Lifecycle: one thread per read, terminated when the read ends, fails, or the consumer stops
 * early (`return()` on the generator, as `for await … break` does). A failure in the thread
 * (a corrupt SSTable, a missing file) makes the generator throw with the thread's message.
 */
import { Worker } from 'node:worker_threads';
import type { TokenRange } from '../ring/token-metadata.js';
import { resolveWorkerScript } from '../util/worker-script.js';
import { checkPageBytes } from './limits.js';
import type { StreamPage } from './stream-page.js';
import { rangeSpans } from './stream-ranges.js';
import type { FromStreamWorker, ToStreamWorker } from './stream-worker-protocol.js';

export interface ReadRangesOptions {
  /** Page size in bytes (limits.ts bounds it). */
  readonly pageBytes: number;
  /** Bytes of pages produced per second; 0 = unthrottled. */
  readonly throughputBytesPerS: number;
}

/** Messages from the thread, waiting for the consumer. At most MAX_PAGES_UNACKED pages + end/error. */
class Inbox {
  private readonly queue: FromStreamWorker[] = [];
  private waiter: ((message: FromStreamWorker) => void) | null = null;

  push(message: FromStreamWorker): void {
    const waiter = this.waiter;
    this.waiter = null;
    if (waiter !== null) waiter(message);
    else this.queue.push(message);
  }

  next(): Promise<FromStreamWorker> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => (this.waiter = resolve));
  }
}

/**
 * The merged rows of the SSTables at `paths` within `ranges` (ring ranges, wrapping allowed),
 * in ring order, as pages. The files must stay in place until the generator is done (see
 * `TableStore.retainSstables`).
 */
export async function* readRanges(paths: readonly string[], ranges: readonly TokenRange[], options: ReadRangesOptions): AsyncGenerator<StreamPage> {
  checkPageBytes(options.pageBytes);
  const spans = rangeSpans(ranges);
  if (paths.length === 0 || spans.length === 0) return;
  const inbox = new Inbox();
  const worker = new Worker(resolveWorkerScript(import.meta.url, 'streaming/stream-worker.js'), { name: 'stream-reader' });
  let finished = false;
  worker.on('message', (message: FromStreamWorker) => inbox.push(message));
  worker.on('error', (err) => inbox.push({ kind: 'error', message: err.message, stack: err.stack }));
  worker.on('exit', (code) => {
    if (!finished) inbox.push({ kind: 'error', message: `stream reader thread exited with code ${code}` });
  });
  const send = (message: ToStreamWorker): void => worker.postMessage(message);
  try {
    send({ kind: 'start', job: { paths: [...paths], spans, pageBytes: options.pageBytes, throughputBytesPerS: options.throughputBytesPerS } });
    for (;;) {
      const message = await inbox.next();
      if (message.kind === 'end') return;
      if (message.kind === 'error') {
        const err = new Error(`stream read failed: ${message.message}`);
        if (message.stack !== undefined) err.stack = `${err.message}\n(in the stream reader thread) ${message.stack}`;
        throw err;
      }
      const bytes = Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength);
      yield { bytes, rows: message.rows, partitions: message.partitions };
      send({ kind: 'ack' });
    }
  } finally {
    finished = true;
    await worker.terminate();
  }
}
