/**
 * The YCSB client loop: the load and run phases of one workload over one DB binding, with
 * `threads` concurrent workers (YCSB's ClientThread; here async workers on one event loop,
 * each with at most one operation in flight).
 *
 * - load: inserts the workload's records (`nextKeyForLoad()`: record numbers from insertStart,
 *   keys in YCSB's hashed order), the workers taking the next one until all are inserted.
 * - run: each worker draws operations from the workload (`nextOperation()`) and does them as
 *   YCSB's CoreWorkload.doTransaction* do.
 *
 * Closed loop (no target): a worker starts its next operation as soon as the previous one
 * finished; latency runs from the actual start. Open loop (`targetOpsPerSec`): every worker has
 * its own schedule of intended start times, one every `threads / target` seconds (workers offset
 * by 1/target so the fleet's starts interleave evenly); it waits for the intended start when
 * early and goes at once when late, and latency is measured from the INTENDED start, so time
 * spent queued behind a slow operation is charged to the operations that waited (coordinated
 * omission corrected, as YCSB's `measurement.interval=intended` and wrk2 do). How far behind
 * schedule the workers fell is reported.
 *
 * Bounds: a phase ends after `operations` operations (split over the workers) or at
 * `durationSec` (no operation starts after it; the ones in flight finish, each bounded by the
 * binding's request timeout), whichever comes first; a run phase needs at least one of the two.
 * A worker yields to the event loop every `YIELD_EVERY_OPS` operations so that operations
 * completing in microtasks (a fake or a local binding) cannot starve the progress timer.
 * At most `MAX_ERROR_KINDS` error kinds and `MAX_KEPT_ERRORS` messages are kept.
 */
/** Operations a worker does before giving the event loop a turn. */
const YIELD_EVERY_OPS = 64;
/** Distinct error kinds counted (op + error code); the rest are counted under 'other'. */
export const MAX_ERROR_KINDS = 64;
/** Error messages kept verbatim for the report. */
export const MAX_KEPT_ERRORS = 10;
/** Progress (and measurement intervals) every this many ms. */
export const PROGRESS_INTERVAL_MS = 1000;

const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve));
const sleepMs = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * @typedef {object} PhaseOptions
 * @property {object} binding       the DB interface (insert/read/update/scan)
 * @property {object} workload      a Workload (run phase), or anything with buildValues(true) (load)
 * @property {'load'|'run'} phase
 * @property {number} threads
 * @property {number} [recordCount] records to insert (load; default workload.recordCount)
 * @property {number} [operations]  operation bound (run)
 * @property {number} [durationSec] time bound (run; also load, as a safety bound)
 * @property {number} [targetOpsPerSec] open loop at this offered rate
 * @property {object} measurements  a Measurements (record, interval)
 * @property {(p: object) => void} [onProgress] called once a second
 * @property {() => boolean} [shouldStop] stops the phase early (Ctrl-C)
 */

/**
 * Runs one phase. Returns { phase, operations, seconds, opsPerSec, measurements, errors,
 * errorsByKind, firstErrors, schedule } (schedule only with a target: { targetOpsPerSec,
 * intervalMs, maxBehindMs, finalBehindMs, missedStarts }).
 * @param {PhaseOptions} opts
 */
export async function runPhase(opts) {
  const { binding, workload, phase, threads, measurements, onProgress, shouldStop } = opts;
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`threads must be a positive integer, got ${threads}`);
  if (phase !== 'load' && phase !== 'run') throw new Error(`phase must be 'load' or 'run', got ${phase}`);
  const target = opts.targetOpsPerSec ?? null;
  if (target !== null && !(target > 0)) throw new Error(`targetOpsPerSec must be positive, got ${target}`);

  let operations;
  if (phase === 'load') {
    operations = opts.recordCount ?? workload.recordCount;
    if (!Number.isInteger(operations) || operations < 0) throw new Error(`load: recordCount must be a non-negative integer, got ${operations}`);
  } else {
    operations = opts.operations ?? null;
    if (operations === null && opts.durationSec == null) throw new Error('run: give operations or durationSec (every phase is bounded)');
  }
  const durationMs = opts.durationSec == null ? Infinity : opts.durationSec * 1000;

  const errors = new ErrorLog();
  const state = { started: 0, done: 0, stop: false };
  const startMs = performance.now();
  const deadlineMs = startMs + durationMs;
  const schedule = target === null ? null : { intervalMs: (threads * 1000) / target, behindMs: new Float64Array(threads), maxBehindMs: 0, missedStarts: 0 };

  const mayStart = () => {
    if (state.stop) return false;
    if (shouldStop?.()) {
      state.stop = true;
      return false;
    }
    if (operations !== null && state.started >= operations) return false;
    if (performance.now() >= deadlineMs) return false;
    return true;
  };

  const doOne = phase === 'load' ? loadOperation(binding, workload) : runOperation(binding, workload);

  const timed = async (intendedMs) => {
    const n = state.started++;
    // From the intended start when late; from the actual start when a timer fired a little
    // early (timers have whole-millisecond granularity), never from a time after the start.
    const startedMs = performance.now();
    const t0 = intendedMs === null ? startedMs : Math.min(intendedMs, startedMs);
    let op = phase === 'load' ? 'INSERT' : null;
    let ok = true;
    try {
      op = await doOne(n, (name) => (op = name));
    } catch (e) {
      ok = false;
      errors.add(op ?? 'UNKNOWN', e);
    }
    const latencyUs = Math.max(0, (performance.now() - t0) * 1000);
    measurements.record(op ?? 'UNKNOWN', latencyUs, ok);
    state.done++;
  };

  const closedWorker = async () => {
    let sinceYield = 0;
    while (mayStart()) {
      await timed(null);
      if (++sinceYield >= YIELD_EVERY_OPS) {
        sinceYield = 0;
        await yieldToLoop();
      }
    }
  };

  const openWorker = async (k) => {
    const perWorker = operations === null ? Infinity : Math.floor(operations / threads) + (k < operations % threads ? 1 : 0);
    let intendedMs = startMs + (k * 1000) / target;
    let sinceYield = 0;
    let i = 0;
    for (; i < perWorker; i++) {
      if (intendedMs >= deadlineMs) break;
      let wait = intendedMs - performance.now();
      if (wait > 1) {
        // Timers fire on whole milliseconds, possibly a little early: wait again if still early.
        while (wait > 1) {
          await sleepMs(wait);
          wait = intendedMs - performance.now();
        }
      } else if (++sinceYield >= YIELD_EVERY_OPS) {
        sinceYield = 0;
        await yieldToLoop();
      }
      if (!mayStart()) break;
      const behind = performance.now() - intendedMs;
      schedule.behindMs[k] = Math.max(0, behind);
      if (behind > schedule.maxBehindMs) schedule.maxBehindMs = behind;
      await timed(intendedMs);
      intendedMs += schedule.intervalMs;
    }
    // Starts that fell due before the end but never happened (the system could not keep up).
    const endMs = Math.min(performance.now(), deadlineMs);
    if (i < perWorker && intendedMs < endMs) schedule.missedStarts += Math.floor((endMs - intendedMs) / schedule.intervalMs) + 1;
  };

  let lastProgressMs = startMs;
  const progress = () => {
    const now = performance.now();
    lastProgressMs = now;
    const interval = measurements.interval();
    onProgress?.({
      phase,
      elapsedSec: (now - startMs) / 1000,
      done: state.done,
      total: operations,
      interval,
      behindMs: schedule === null ? null : Math.max(0, ...schedule.behindMs),
    });
  };
  const timer = setInterval(progress, PROGRESS_INTERVAL_MS);
  try {
    const workers = Array.from({ length: threads }, (_, k) => (schedule === null ? closedWorker() : openWorker(k)));
    await Promise.all(workers);
  } finally {
    clearInterval(timer);
  }
  const endMs = performance.now();
  // The last partial interval, so the timeline covers the whole phase.
  if (endMs - lastProgressMs > 50) progress();

  const seconds = (endMs - startMs) / 1000;
  return {
    phase,
    operations: state.done,
    seconds,
    opsPerSec: seconds > 0 ? state.done / seconds : 0,
    stoppedEarly: state.stop,
    measurements,
    errors: errors.total,
    errorsByKind: errors.byKind,
    firstErrors: errors.kept,
    schedule:
      schedule === null
        ? null
        : {
            targetOpsPerSec: target,
            intervalMs: schedule.intervalMs,
            maxBehindMs: schedule.maxBehindMs,
            finalBehindMs: Math.max(0, ...schedule.behindMs),
            missedStarts: schedule.missedStarts,
          },
  };
}

/** The next record of the load phase (all fields), in the workload's insert order. */
function loadOperation(binding, workload) {
  return async () => {
    const next = workload.nextKeyForLoad();
    if (next === null) throw new Error('load: the workload has no record left to load');
    await binding.insert(next.key, workload.buildValues(true));
    return 'INSERT';
  };
}

/**
 * One run-phase operation as YCSB's CoreWorkload does it. `name(op)` is told the operation
 * before it runs, so a failure is counted under the right one.
 */
function runOperation(binding, workload) {
  const writeAll = workload.properties?.writeallfields ?? false;
  const readFields = () => workload.readFields();

  const read = async (key) => {
    const values = await binding.read(key, readFields());
    if (values === null) throw Object.assign(new Error(`${key}: not found`), { code: 'NotFound' });
    return values;
  };

  return async (_n, name) => {
    const op = workload.nextOperation();
    name(op);
    switch (op) {
      case 'READ':
        await read(workload.nextKeyForRead());
        break;
      case 'UPDATE':
        await binding.update(workload.nextKeyForRead(), workload.buildValues(writeAll));
        break;
      case 'INSERT': {
        const { key, keyNumber } = workload.nextKeyForInsert();
        try {
          await binding.insert(key, workload.buildValues(true));
        } finally {
          // As YCSB: acknowledged even when it failed, so the counter's window cannot stall.
          workload.acknowledgeInsert(keyNumber);
        }
        break;
      }
      case 'SCAN':
        await binding.scan(workload.nextKeyForRead(), workload.scanLength(), readFields());
        break;
      case 'READMODIFYWRITE': {
        const key = workload.nextKeyForRead();
        await read(key);
        await binding.update(key, workload.buildValues(writeAll));
        break;
      }
      default:
        throw new Error(`unknown operation ${op}`);
    }
    return op;
  };
}

/** Errors by kind ('OP code'), bounded. */
class ErrorLog {
  constructor() {
    this.total = 0;
    this.byKind = {};
    this.kinds = 0;
    this.kept = [];
  }

  add(op, error) {
    this.total++;
    let kind = `${op} ${error?.code ?? error?.name ?? 'Error'}`;
    if (!Object.hasOwn(this.byKind, kind)) {
      if (this.kinds >= MAX_ERROR_KINDS) kind = 'other';
      else this.kinds++;
    }
    this.byKind[kind] = (this.byKind[kind] ?? 0) + 1;
    if (this.kept.length < MAX_KEPT_ERRORS) this.kept.push(`${op}: ${String(error?.message ?? error).slice(0, 300)}`);
  }
}
