/**
 * Load loops. Every loop here is bounded: by a count (`runBounded`) or by time and an optional
 * stop flag (`readLoop`), and both give the event loop a turn regularly, so timers, worker
 * messages and I/O callbacks (flush completions, commit-log fsyncs, the loop-delay monitor)
 * keep running during the load.
 */
import { nowSeconds } from './stats.mjs';

export const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Runs `op(k)` for k = 0..count-1 with at most `concurrency` promises in flight.
 * `onIssued(issued)` is called after each op is started (issued = how many have started).
 * After every `yieldEvery` starts the pump continues from a setImmediate, so ops that resolve
 * in microtasks cannot starve the event loop. When `admit()` returns false no op starts; the
 * pump retries 1 ms later (backpressure from the system under test). Rejects with the first
 * error (no new ops start after it; ops already in flight are waited for first).
 */
export function runBounded(count, concurrency, op, { onIssued, yieldEvery = 1024, admit } = {}) {
  return new Promise((resolve, reject) => {
    let next = 0;
    let inFlight = 0;
    let sinceYield = 0;
    let yieldPending = false;
    let error = null;

    const settleIfDone = () => {
      if (inFlight > 0) return;
      if (error) reject(error);
      else if (next >= count) resolve(count);
    };
    const onDone = () => {
      inFlight--;
      if (error || next >= count) settleIfDone();
      else pump();
    };
    const onError = (e) => {
      inFlight--;
      if (!error) error = e;
      settleIfDone();
    };
    const resume = () => {
      yieldPending = false;
      pump();
    };
    function pump() {
      if (yieldPending || error) return;
      while (inFlight < concurrency && next < count) {
        if (admit && !admit()) {
          yieldPending = true;
          setTimeout(resume, 1);
          return;
        }
        if (sinceYield >= yieldEvery) {
          sinceYield = 0;
          yieldPending = true;
          setImmediate(resume);
          return;
        }
        const k = next++;
        sinceYield++;
        inFlight++;
        let p;
        try {
          p = op(k);
        } catch (e) {
          onError(e);
          return;
        }
        Promise.resolve(p).then(onDone, onError);
        if (onIssued) {
          try {
            onIssued(next);
          } catch (e) {
            if (!error) error = e;
            return;
          }
        }
      }
      settleIfDone();
    }
    pump();
  });
}

/**
 * Random point reads for `seconds` (or until `shouldStop()` returns true), in time slices of
 * `sliceMs` separated by a turn of the event loop.
 *
 * `get(i)` reads record i and returns its value bytes (Buffer/Uint8Array), or null/undefined
 * when not found. Every read must find its record (a miss is counted); every `verifyEvery`-th
 * read is compared byte for byte with `expected(i)`.
 * Returns { reads, seconds, readsPerSec, misses, mismatches, verified }.
 */
export async function readLoop({ get, expected, nextIndex, seconds, shouldStop, sliceMs = 2, verifyEvery = 16, maxSeconds }) {
  const limit = Math.min(seconds ?? Infinity, maxSeconds ?? Infinity);
  if (!Number.isFinite(limit)) throw new Error('readLoop needs a time bound (seconds or maxSeconds)');
  let reads = 0;
  let misses = 0;
  let mismatches = 0;
  let verified = 0;
  let firstProblem = null;
  const t0 = nowSeconds();
  const deadline = t0 + limit;
  const slice = sliceMs / 1000;
  let now = t0;
  while (now < deadline && !(shouldStop && shouldStop())) {
    const sliceEnd = Math.min(deadline, now + slice);
    do {
      for (let j = 0; j < 16; j++) {
        const i = nextIndex();
        const v = get(i);
        reads++;
        if (v == null) {
          misses++;
          if (firstProblem == null) firstProblem = `record ${i}: not found`;
        } else if (reads % verifyEvery === 0) {
          verified++;
          const want = expected(i);
          if (v.length !== want.length || Buffer.compare(v, want) !== 0) {
            mismatches++;
            if (firstProblem == null) firstProblem = `record ${i}: wrong value (${v.length} bytes, want ${want.length})`;
          }
        }
      }
      now = nowSeconds();
    } while (now < sliceEnd);
    await yieldToLoop();
    now = nowSeconds();
  }
  const elapsed = nowSeconds() - t0;
  return { reads, seconds: elapsed, readsPerSec: elapsed > 0 ? reads / elapsed : 0, misses, mismatches, verified, firstProblem };
}

/** Throws unless a readLoop result found every record with the right value. */
export function assertReadsOk(label, r) {
  if (r.reads === 0) throw new Error(`${label}: no reads were made`);
  if (r.misses > 0 || r.mismatches > 0) {
    throw new Error(`${label}: ${r.misses} of ${r.reads} reads missed and ${r.mismatches} of ${r.verified} verified values were wrong (first: ${r.firstProblem})`);
  }
}

/** Rejects with a named error if `promise` takes longer than `seconds` (the work is not cancelled). */
export function withTimeout(promise, seconds, label) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: timed out after ${seconds} s`)), seconds * 1000);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
