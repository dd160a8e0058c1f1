/**
 * The real clock, scheduler and randomness: the one module allowed to touch `Date.now`,
 * `setTimeout`, `setImmediate` and ambient randomness (see test/tidy.test.ts).
 */
import { randomFillSync } from 'node:crypto';
import type { Cancellable, Clock, Scheduler } from './clock.js';
import { Uint32Random, type Random } from './random.js';

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

/**
 * Randomness from the operating system's CSPRNG (`node:crypto`), drawn 4 KiB at a time so a
 * gossip round's few picks do not each cost a system call.
 */
export class SystemRandom extends Uint32Random {
  private readonly pool = new Uint32Array(1024);
  private next = this.pool.length;

  nextUint32(): number {
    if (this.next === this.pool.length) {
      randomFillSync(this.pool);
      this.next = 0;
    }
    return this.pool[this.next++] as number;
  }
}

export const systemRandom: Random = new SystemRandom();
