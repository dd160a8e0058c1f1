/**
 * A scheduler whose time and event-loop turns move only when the test says so: timers fire in
 * `advanceMs`, `yieldToIo` callers resume in `turn`.
 */
import type { Cancellable, Scheduler } from '../../../src/runtime/clock.js';

interface Timer {
  readonly dueMs: number;
  readonly fn: () => void;
  cancelled: boolean;
}

export class FakeScheduler implements Scheduler {
  nowMs = 0;
  private timers: Timer[] = [];
  private waiters: (() => void)[] = [];

  after(delayMs: number, fn: () => void): Cancellable {
    const timer: Timer = { dueMs: this.nowMs + delayMs, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }

  yieldToIo(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Ends the current turn: resumes every `yieldToIo` caller and lets their continuations run. */
  async turn(): Promise<void> {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
    await Promise.resolve();
    await Promise.resolve();
  }

  advanceMs(ms: number): void {
    this.nowMs += ms;
    const due = this.timers.filter((t) => !t.cancelled && t.dueMs <= this.nowMs).sort((a, b) => a.dueMs - b.dueMs);
    this.timers = this.timers.filter((t) => !t.cancelled && t.dueMs > this.nowMs);
    for (const timer of due) timer.fn();
  }
}
