/**
 * Coordinator counters, read when Prometheus scrapes: digest mismatches seen by reads, read
 * repairs sent to stale replicas, speculative reads sent to one more replica, and rows read
 * with concurrent versions (conflicts).
 */
import { Gauge, type Registry } from 'prom-client';
import type { StorageProxy } from '../coordinator/storage-proxy.js';

export function registerCoordinatorMetrics(registry: Registry, proxy: StorageProxy): void {
  const counter = (name: string, help: string, read: (s: ReturnType<StorageProxy['stats']>) => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read(proxy.stats()));
      },
    });
  };
  counter('ringtail_read_digest_mismatches', 'Reads whose replicas answered different digests, since start', (s) => s.digestMismatches);
  counter('ringtail_read_repairs', 'Merged rows written back to stale replicas by reads, since start', (s) => s.readRepairs);
  counter('ringtail_conflicts_detected', 'Rows returned by reads while holding concurrent versions (SPEC 6.6), since start', (s) => s.conflictsDetected);
  counter('ringtail_speculative_reads', 'Reads sent to one more replica because one was slow, since start', (s) => s.speculativeReads);
}
