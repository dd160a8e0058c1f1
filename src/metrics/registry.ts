/**
 * The node's Prometheus metrics (prom-client). Process metrics include the event-loop delay
 * percentiles (`nodejs_eventloop_lag_p99_seconds`, from `perf_hooks.monitorEventLoopDelay`),
 * the figure that shows whether flushes and compactions really stay off the event loop.
 * Served at `GET /metrics` by the HTTP layer.
 */
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

export function createMetricsRegistry(options: { eventLoopResolutionMs?: number } = {}): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: options.eventLoopResolutionMs ?? 10 });
  return registry;
}

/** A gauge whose value is read when Prometheus scrapes (no bookkeeping between scrapes). */
export function scrapedGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

/** A labelled gauge whose series are all re-read at each scrape (series that vanished go away). */
export function scrapedLabelledGauge<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  series: () => Iterable<readonly [Partial<Record<L, string>>, number]>,
): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of series()) this.set(labels, value);
    },
  });
}
