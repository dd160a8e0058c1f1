/**
 * Entry point of a stream reader thread: opens a table's retained SSTables, walks their merged
 * entries (merged-entries.ts, no purging: tombstones travel so the receiver drops what they
 * shadow) span by span in ring order, cuts them into pages (stream-page.ts) and posts each page
 * to the event loop, transferring its memory. SQLite reads and the merge stay off the event
 * loop (ARCHITECTURE rule 3).
 *
 * Flow control: before posting a page the thread waits until fewer than MAX_PAGES_UNACKED
 * pages are unacknowledged, so a slow receiver slows the read instead of filling memory.
 * Throttle: page bytes produced are held to `throughputBytesPerS` by blocking this thread
 * (throttle.ts), never the event loop.
 *
 * One read per thread; the owner terminates the thread when the read ends or is abandoned.
 */
import { parentPort } from 'node:worker_threads';
import { Throttle } from '../storage/compaction/throttle.js';
import { mergedEntries } from '../storage/sstable/merged-entries.js';
import { SstableReader } from '../storage/sstable/sstable-reader.js';
import { MAX_PAGES_UNACKED } from './limits.js';
import { StreamPageWriter, type StreamPage } from './stream-page.js';
import type { FromStreamWorker, StreamReadJob, ToStreamWorker } from './stream-worker-protocol.js';

const port = parentPort;
if (port === null) throw new Error('stream-worker must run in a worker thread');

let unacked = 0;
let wakeOnAck: (() => void) | null = null;
let started = false;

function reply(message: FromStreamWorker, transfer?: ArrayBuffer[]): void {
  port!.postMessage(message, transfer);
}

async function roomForPage(): Promise<void> {
  while (unacked >= MAX_PAGES_UNACKED) await new Promise<void>((resolve) => (wakeOnAck = resolve));
}

async function post(page: StreamPage, throttle: Throttle, totals: { bytes: number }): Promise<void> {
  await roomForPage();
  unacked++;
  // Counted before posting: the transfer detaches the page's memory.
  totals.bytes += page.bytes.byteLength;
  // toBuffer() gave the page its own allocation: hand it over without a copy.
  const data = new Uint8Array(page.bytes.buffer, page.bytes.byteOffset, page.bytes.byteLength);
  const owned = page.bytes.byteOffset === 0 && page.bytes.buffer.byteLength === page.bytes.byteLength;
  const sent = owned ? data : new Uint8Array(data);
  reply({ kind: 'page', bytes: sent, rows: page.rows, partitions: page.partitions }, [sent.buffer as ArrayBuffer]);
  throttle.consume(totals.bytes);
}

async function run(job: StreamReadJob): Promise<void> {
  const readers: SstableReader[] = [];
  try {
    for (const path of job.paths) readers.push(new SstableReader(path));
    const writer = new StreamPageWriter(job.pageBytes);
    const throttle = new Throttle(job.throughputBytesPerS);
    const totals = { bytes: 0 };
    for (const span of job.spans) {
      for (const entry of mergedEntries(readers, { startToken: span.start, endToken: span.end })) {
        if (writer.add(entry)) continue;
        await post(writer.finish(), throttle, totals);
        writer.add(entry);
      }
    }
    if (!writer.isEmpty) await post(writer.finish(), throttle, totals);
    reply({ kind: 'end' });
  } finally {
    for (const reader of readers) reader.close();
  }
}

port.on('message', (message: ToStreamWorker) => {
  if (message.kind === 'ack') {
    unacked = Math.max(0, unacked - 1);
    const wake = wakeOnAck;
    wakeOnAck = null;
    wake?.();
    return;
  }
  if (started) {
    reply({ kind: 'error', message: 'a stream reader thread serves one read' });
    return;
  }
  started = true;
  run(message.job).catch((err: unknown) => {
    const e = err instanceof Error ? err : new Error(String(err));
    reply({ kind: 'error', message: e.message, stack: e.stack });
  });
});
