/**
 * One manual time line for tests: a Clock and a Scheduler whose timers fire only in
 * `advanceMs`, in due order, with the clock at each timer's due time while it runs.
 * `yieldToIo` still takes a real event-loop turn, so file I/O can complete.
 */
import type { Cancellable, Clock, Scheduler } from '../../src/runtime/clock.js';

export class ManualTime implements Clock, Scheduler {
  private micros = 1_700_000_000_000_000;
  private timers: { dueMicros: number; fn: () => void; cancelled: boolean }[] = [];

  nowMs(): number {
    return Math.floor(this.micros / 1000);
  }

  nowMicros(): number {
    return this.micros;
  }

  after(delayMs: number, fn: () => void): Cancellable {
    const timer = { dueMicros: this.micros + Math.max(0, delayMs) * 1000, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }

  yieldToIo(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }

  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward, firing every timer that falls due, in order. */
  advanceMs(ms: number): void {
    const target = this.micros + ms * 1000;
    for (;;) {
      const next = this.timers.filter((t) => !t.cancelled && t.dueMicros <= target).sort((a, b) => a.dueMicros - b.dueMicros)[0];
      if (next === undefined) break;
      next.cancelled = true;
      this.micros = Math.max(this.micros, next.dueMicros);
      next.fn();
    }
    this.timers = this.timers.filter((t) => !t.cancelled);
    this.micros = target;
  }
}
