/**
 * A clock that moves only when a test tells it to. Pair it with the real scheduler for
 * storage tests (time-dependent rules such as TTL expiry and gc_grace become deterministic).
 */
import type { Clock } from './clock.js';

export class ManualClock implements Clock {
  private micros: number;

  constructor(startMs = 1_700_000_000_000) {
    this.micros = startMs * 1000;
  }

  nowMs(): number {
    return Math.floor(this.micros / 1000);
  }

  nowMicros(): number {
    return this.micros;
  }

  advanceMs(ms: number): void {
    if (ms < 0) throw new RangeError('a manual clock never goes backwards');
    this.micros += ms * 1000;
  }

  setMs(ms: number): void {
    this.advanceMs(Math.max(0, ms - this.nowMs()));
  }
}
