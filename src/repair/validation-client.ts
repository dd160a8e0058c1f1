/**
 * The event loop's side of validation: one worker thread per job (validation-worker.ts),
 * terminated once it answered, so a repair's memory and SQLite handles go with it. Jobs are
 * rare (one or two per table per repair) and long, so a thread's start-up cost does not matter.
 *
 * `ValidationRunner` is the seam the repair service uses; `inThreadValidationRunner` runs the
 * same jobs on the calling thread, for tests that cannot load a built worker script.
 *
 * Bounds: at most `MAX_CONCURRENT_VALIDATIONS` threads at once per node (the repair service
 * queues the rest); `close()` terminates the running ones.
 */
import { Worker } from 'node:worker_threads';
import { resolveWorkerScript } from '../util/worker-script.js';
import { runValidationJob, type BuildJob, type BuildResult, type EstimateJob, type ValidationJob, type ValidationResult } from './validation.js';
import type { ValidationReply } from './validation-worker.js';

export interface ValidationRunner {
  estimate(job: Omit<EstimateJob, 'kind'>): Promise<number[]>;
  build(job: Omit<BuildJob, 'kind'>): Promise<BuildResult>;
  close(): Promise<void>;
}

abstract class JobRunner implements ValidationRunner {
  protected abstract run(job: ValidationJob): Promise<ValidationResult>;

  async estimate(job: Omit<EstimateJob, 'kind'>): Promise<number[]> {
    const result = await this.run({ kind: 'estimate', ...job });
    if (result.kind !== 'estimate') throw new Error(`validation answered ${result.kind} to an estimate`);
    return result.partitions;
  }

  async build(job: Omit<BuildJob, 'kind'>): Promise<BuildResult> {
    const result = await this.run({ kind: 'build', ...job });
    if (result.kind !== 'build') throw new Error(`validation answered ${result.kind} to a build`);
    return result;
  }

  abstract close(): Promise<void>;
}

export class WorkerValidationRunner extends JobRunner {
  private readonly running = new Set<Worker>();
  private closed = false;

  protected run(job: ValidationJob): Promise<ValidationResult> {
    if (this.closed) return Promise.reject(new Error('validation runner is closed'));
    const worker = new Worker(resolveWorkerScript(import.meta.url, 'repair/validation-worker.js'), { name: 'repair-validation', workerData: job });
    this.running.add(worker);
    return new Promise<ValidationResult>((resolve, reject) => {
      let settled = false;
      const settle = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        this.running.delete(worker);
        outcome();
        void worker.terminate();
      };
      worker.once('message', (reply: ValidationReply) =>
        settle(() => {
          if (reply.kind === 'done') return resolve(reply.result);
          const err = new Error(`validation failed: ${reply.message}`);
          if (reply.stack !== undefined) err.stack = reply.stack;
          reject(err);
        }),
      );
      worker.once('error', (err) => settle(() => reject(err)));
      worker.once('exit', (code) => settle(() => reject(new Error(`validation worker exited with code ${code} before answering`))));
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.running].map((w) => w.terminate()));
    this.running.clear();
  }
}

/** Runs jobs on the calling thread: tests only (it blocks the event loop for the whole job). */
export function inThreadValidationRunner(): ValidationRunner {
  return new (class extends JobRunner {
    protected async run(job: ValidationJob): Promise<ValidationResult> {
      return runValidationJob(job);
    }
    async close(): Promise<void> {}
  })();
}
