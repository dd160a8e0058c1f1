/**
 * The real clock and scheduler: the one module allowed to touch `Date.now`, `setTimeout`
 * and `setImmediate` (see test/tidy.test.ts).
 */
import type { Cancellable, Clock, Scheduler } from './clock.js';

export class SystemClock implements Clock {
  private lastMicros = 0;

  nowMs(): number {
    return Date.now();
  }

  nowMicros(): number {
    // performance.timeOrigin + now() has sub-ms resolution; clamp so readings never go back.
    const micros = Math.floor((performance.timeOrigin + performance.now()) * 1000);
    this.lastMicros = micros > this.lastMicros ? micros : this.lastMicros + 1;
    return this.lastMicros;
  }
}

export class SystemScheduler implements Scheduler {
  after(delayMs: number, fn: () => void): Cancellable {
    const timer = setTimeout(fn, delayMs);
    return { cancel: () => clearTimeout(timer) };
  }

  yieldToIo(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }
}

export const systemClock: Clock = new SystemClock();
export const systemScheduler: Scheduler = new SystemScheduler();
