/**
 * Streaming (src/streaming): bytes and rows pushed to and applied from other nodes, and push
 * sessions running, waiting and failed. Read when Prometheus scrapes; the totals count since
 * the node started.
 */
import type { Registry } from 'prom-client';
import type { StreamService, StreamStats } from '../streaming/stream-service.js';
import { scrapedGauge } from './registry.js';

export function registerStreamMetrics(registry: Registry, service: Pick<StreamService, 'stats'>): void {
  const gauge = (name: string, help: string, read: (s: StreamStats) => number): void => scrapedGauge(registry, name, help, () => read(service.stats()));
  gauge('ringtail_stream_bytes_sent', 'Bytes of stream pages this node pushed and had acknowledged, since start', (s) => s.bytesSent);
  gauge('ringtail_stream_bytes_received', 'Bytes of stream pages this node applied, since start', (s) => s.bytesReceived);
  gauge('ringtail_stream_rows_sent', 'Rows this node streamed to other nodes, since start', (s) => s.rowsSent);
  gauge('ringtail_stream_rows_received', 'Rows this node received by streaming and applied, since start', (s) => s.rowsReceived);
  gauge('ringtail_stream_sessions_active', 'Stream pushes running on this node', (s) => s.sessionsActive);
  gauge('ringtail_stream_sessions_queued', 'Stream pushes waiting for a session slot', (s) => s.sessionsQueued);
  gauge('ringtail_stream_sessions_completed', 'Stream pushes that completed, since start', (s) => s.sessionsCompleted);
  gauge('ringtail_stream_sessions_failed', 'Stream pushes that failed, since start', (s) => s.sessionsFailed);
}
