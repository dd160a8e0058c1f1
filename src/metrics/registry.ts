/**
 * The node's Prometheus metrics (prom-client). Process metrics include the event-loop delay
 * percentiles (`nodejs_eventloop_lag_p99_seconds`, from `perf_hooks.monitorEventLoopDelay`),
 * the figure that shows whether flushes and compactions really stay off the event loop.
 * Served at `GET /metrics` by the HTTP layer.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';

export function createMetricsRegistry(options: { eventLoopResolutionMs?: number } = {}): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: options.eventLoopResolutionMs ?? 10 });
  return registry;
}
