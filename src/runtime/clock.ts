/**
 * Time and scheduling, injected.
 *
 * Core modules never read ambient time or create timers themselves (ARCHITECTURE rule 1):
 * they take a `Clock` and a `Scheduler`. `src/runtime/system.ts` is the only place that binds
 * them to the real event loop; tests use `ManualClock`, which moves only when told to.
 */

/** Wall-clock readings. Milliseconds and microseconds since the Unix epoch. */
export interface Clock {
  nowMs(): number;
  /** Microseconds since the epoch; never smaller than a previous reading from the same clock. */
  nowMicros(): number;
}

/** A handle to cancel a scheduled callback. */
export interface Cancellable {
  cancel(): void;
}

/** Timers and yielding, bound to an event loop (real or simulated). */
export interface Scheduler {
  /** Runs `fn` once after `delayMs`. */
  after(delayMs: number, fn: () => void): Cancellable;
  /** Resolves on a later turn of the event loop, after pending I/O callbacks: lets I/O in. */
  yieldToIo(): Promise<void>;
}

export function nowSeconds(clock: Clock): number {
  return Math.floor(clock.nowMs() / 1000);
}
