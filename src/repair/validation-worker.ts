/**
 * Entry point of a validation worker thread: runs the one job it was started with
 * (`workerData`, a `ValidationJob`), posts one message (`ValidationReply`) and ends. Building a
 * Merkle tree reads a replica's whole data of some ranges through SQLite, long synchronous work
 * that must stay off the event loop (ARCHITECTURE rule 3); the throttle blocks this thread only.
 *
 * Errors are reported as a message (the client turns it into a rejected promise), so a failed
 * validation never takes the node down.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runValidationJob, type ValidationJob, type ValidationResult } from './validation.js';

export type ValidationReply = { readonly kind: 'done'; readonly result: ValidationResult } | { readonly kind: 'error'; readonly message: string; readonly stack?: string | undefined };

const port = parentPort;
if (port === null) throw new Error('validation-worker must run in a worker thread');

try {
  const result = runValidationJob(workerData as ValidationJob);
  const transfer = result.kind === 'build' ? result.trees.map((t) => t.buffer as ArrayBuffer) : [];
  port.postMessage({ kind: 'done', result } satisfies ValidationReply, transfer);
} catch (err) {
  const e = err as Error;
  port.postMessage({ kind: 'error', message: e.message, stack: e.stack } satisfies ValidationReply);
}
