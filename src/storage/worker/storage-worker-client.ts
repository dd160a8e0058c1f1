/**
 * The event loop's side of a storage worker thread: runs one job at a time (callers queue),
 * streams flush chunks with bounded in-flight data, and turns worker failures into rejected
 * promises. A worker that dies is replaced on the next job.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../util/logger.js';
import { resolveWorkerScript } from '../../util/worker-script.js';
import type { CompactionJob, CompactionResult } from '../compaction/compactor.js';
import type { SstableMeta } from '../sstable/format.js';
import { MAX_CHUNKS_IN_FLIGHT, type FlushBegin, type FromWorker, type ToWorker } from './protocol.js';

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

function reviveMeta(meta: SstableMeta): SstableMeta {
  return { ...meta, minPkey: toBuffer(meta.minPkey), maxPkey: toBuffer(meta.maxPkey) };
}

type Waiter = { resolve: (m: FromWorker) => void; reject: (e: Error) => void };

export class StorageWorkerClient {
  private worker: Worker | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private waiters: Waiter[] = [];
  private closed = false;

  constructor(
    private readonly name: string,
    private readonly logger: Logger,
  ) {}

  private ensureWorker(): Worker {
    if (this.worker !== null) return this.worker;
    const worker = new Worker(resolveWorkerScript(import.meta.url, 'storage/worker/storage-worker.js'), { name: this.name });
    worker.on('message', (m: FromWorker) => this.waiters.shift()?.resolve(m));
    worker.on('error', (err) => this.fail(worker, err));
    worker.on('exit', (code) => this.fail(worker, new Error(`storage worker ${this.name} exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  private fail(worker: Worker, err: Error): void {
    if (this.worker !== worker) return;
    this.worker = null;
    if (!this.closed) this.logger.error({ err, worker: this.name }, 'storage worker failed');
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  private send(message: ToWorker, transfer?: ArrayBuffer[]): void {
    this.ensureWorker().postMessage(message, transfer);
  }

  private nextReply(): Promise<FromWorker> {
    return new Promise<FromWorker>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private async expect<K extends FromWorker['kind']>(reply: Promise<FromWorker>, kind: K): Promise<Extract<FromWorker, { kind: K }>> {
    const m = await reply;
    if (m.kind === 'error') {
      const err = new Error(`${this.name}: ${m.message}`);
      if (m.stack) err.stack = m.stack;
      throw err;
    }
    if (m.kind !== kind) throw new Error(`${this.name}: expected ${kind}, got ${m.kind}`);
    return m as Extract<FromWorker, { kind: K }>;
  }

  private serialize<T>(job: () => Promise<T>): Promise<T> {
    const run = this.queue.then(job, job);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Writes an SSTable from `chunks` (see protocol.ts for the chunk layout). The chunks' memory
   * is transferred to the worker: callers must not touch a chunk after yielding it.
   */
  flush(begin: Omit<FlushBegin, 'kind'>, chunks: AsyncIterable<Buffer>): Promise<SstableMeta> {
    return this.serialize(async () => {
      this.send({ kind: 'flush-begin', ...begin });
      const acks: Promise<FromWorker>[] = [];
      try {
        for await (const chunk of chunks) {
          if (acks.length >= MAX_CHUNKS_IN_FLIGHT) await this.expect(acks.shift()!, 'chunk-ack');
          // The caller hands over each chunk: transfer its memory unless it is a slice of a
          // shared allocation (Node's small-buffer pool), which must be copied.
          const owned = chunk.byteOffset === 0 && chunk.buffer.byteLength >= chunk.length && chunk.buffer.byteLength > 8192;
          const data = owned ? new Uint8Array(chunk.buffer, 0, chunk.length) : new Uint8Array(chunk);
          acks.push(this.nextReply());
          this.send({ kind: 'flush-chunk', chunk: data }, [data.buffer as ArrayBuffer]);
        }
        for (const ack of acks.splice(0)) await this.expect(ack, 'chunk-ack');
      } catch (err) {
        // Drain outstanding acks so replies stay matched to their requests.
        await Promise.allSettled(acks);
        if (this.worker !== null) this.send({ kind: 'flush-abort' });
        throw err;
      }
      const done = this.nextReply();
      this.send({ kind: 'flush-end' });
      return reviveMeta((await this.expect(done, 'flushed')).meta);
    });
  }

  compact(job: CompactionJob): Promise<CompactionResult> {
    return this.serialize(async () => {
      const done = this.nextReply();
      this.send({ kind: 'compact', job });
      const { result } = await this.expect(done, 'compacted');
      return { ...result, meta: result.meta === null ? null : reviveMeta(result.meta) };
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    const worker = this.worker;
    this.worker = null;
    if (worker !== null) await worker.terminate();
  }
}
