/**
 * Event-loop delay over a window, via perf_hooks.monitorEventLoopDelay.
 *
 *   const mon = new LoopDelayMonitor().start();
 *   ... work ...
 *   const { p99Ms, maxMs } = mon.stop();
 *
 * The histogram's timer ticks every `resolutionMs`; Node records the time between consecutive
 * ticks, so any synchronous stretch of the main thread (a long SQLite call, a GC pause, a burst
 * of work in one turn) shows up. Note that an idle loop therefore reads about `resolutionMs`
 * (p50 ≈ 10.2 ms at resolution 10): `p99Ms`/`maxMs` are the values as Node (and prom-client)
 * report them, `p99BeyondTickMs`/`maxBeyondTickMs` subtract the tick to give the stall itself.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

const NS_PER_MS = 1e6;

export class LoopDelayMonitor {
  constructor(resolutionMs = 10) {
    this.resolutionMs = resolutionMs;
    this.histogram = monitorEventLoopDelay({ resolution: resolutionMs });
    this.running = false;
  }

  start() {
    this.histogram.reset();
    this.histogram.enable();
    this.running = true;
    return this;
  }

  /** Stops sampling and returns the window's summary in milliseconds. */
  stop() {
    if (this.running) {
      this.histogram.disable();
      this.running = false;
    }
    const h = this.histogram;
    const samples = h.count;
    const ms = (ns) => (samples > 0 ? ns / NS_PER_MS : null);
    const beyond = (v) => (v == null ? null : Math.max(0, v - this.resolutionMs));
    const p99Ms = ms(h.percentile(99));
    const maxMs = ms(h.max);
    return {
      resolutionMs: this.resolutionMs,
      samples,
      meanMs: ms(h.mean),
      p50Ms: ms(h.percentile(50)),
      p99Ms,
      maxMs,
      p99BeyondTickMs: beyond(p99Ms),
      maxBeyondTickMs: beyond(maxMs),
    };
  }
}

/** Runs `fn` while monitoring; returns `{ result, loopDelay }`. */
export async function withLoopDelay(fn, resolutionMs = 10) {
  const mon = new LoopDelayMonitor(resolutionMs).start();
  try {
    const result = await fn();
    return { result, loopDelay: mon.stop() };
  } finally {
    mon.stop();
  }
}
