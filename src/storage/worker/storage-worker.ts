/**
 * Entry point of a storage worker thread: writes flushed SSTables and runs compactions, the
 * long synchronous SQLite work that must stay off the event loop (ARCHITECTURE rule 3).
 * One job at a time; messages arrive in order on one port.
 */
import { parentPort } from 'node:worker_threads';
import { ByteReader } from '../../util/bytes.js';
import { runCompaction } from '../compaction/compactor.js';
import { SstableWriter } from '../sstable/sstable-writer.js';
import type { FromWorker, ToWorker } from './protocol.js';

const port = parentPort;
if (port === null) throw new Error('storage-worker must run in a worker thread');

let writer: SstableWriter | null = null;

function reply(message: FromWorker): void {
  port!.postMessage(message);
}

function addChunk(chunk: Uint8Array): void {
  const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  const r = new ByteReader(bytes);
  while (r.remaining > 0) writer!.add(r.lbytes(), r.lbytes(), r.lbytes());
}

function handle(message: ToWorker): void {
  switch (message.kind) {
    case 'flush-begin':
      writer?.abort();
      writer = new SstableWriter(message);
      writer.noteTimestamps(message.minTs, message.maxTs);
      return;
    case 'flush-chunk':
      addChunk(message.chunk);
      reply({ kind: 'chunk-ack' });
      return;
    case 'flush-end': {
      const meta = writer!.finish();
      writer = null;
      reply({ kind: 'flushed', meta });
      return;
    }
    case 'flush-abort':
      writer?.abort();
      writer = null;
      return;
    case 'compact':
      reply({ kind: 'compacted', result: runCompaction(message.job) });
      return;
  }
}

port.on('message', (message: ToWorker) => {
  try {
    handle(message);
  } catch (err) {
    const e = err as Error;
    try {
      writer?.abort();
    } catch {
      // The original error is the one worth reporting.
    }
    writer = null;
    reply({ kind: 'error', message: e.message, stack: e.stack });
  }
});
