/**
 * Coordinator counters, read when Prometheus scrapes: digest mismatches seen by reads, read
 * repairs sent to stale replicas, speculative reads sent to one more replica, and rows read
 * with concurrent versions (conflicts).
 */
import type { Registry } from 'prom-client';
import type { BatchlogReplayer } from '../batchlog/batchlog-replayer.js';
import type { BatchlogStore } from '../batchlog/batchlog-store.js';
import type { StorageProxy } from '../coordinator/storage-proxy.js';
import type { TargetHintStats } from '../hints/hint-store.js';
import type { HintsService } from '../hints/hints-service.js';
import { scrapedGauge, scrapedLabelledGauge } from './registry.js';

export function registerCoordinatorMetrics(registry: Registry, proxy: StorageProxy): void {
  const counter = (name: string, help: string, read: (s: ReturnType<StorageProxy['stats']>) => number): void => scrapedGauge(registry, name, help, () => read(proxy.stats()));
  counter('ringtail_read_digest_mismatches', 'Reads whose replicas answered different digests, since start', (s) => s.digestMismatches);
  counter('ringtail_read_repairs', 'Merged rows written back to stale replicas by reads, since start', (s) => s.readRepairs);
  counter('ringtail_conflicts_detected', 'Rows returned by reads while holding concurrent versions (SPEC 6.6), since start', (s) => s.conflictsDetected);
  counter('ringtail_speculative_reads', 'Reads sent to one more replica because one was slow, since start', (s) => s.speculativeReads);
}

/** The batch log: entries held, and logged batches written, replayed and failed since start. */
export function registerBatchlogMetrics(
  registry: Registry,
  sources: { store: Pick<BatchlogStore, 'stats'>; replayer: () => Pick<BatchlogReplayer, 'stats'> | null; proxy: Pick<StorageProxy, 'loggedBatchStats'> },
): void {
  const gauge = (name: string, help: string, read: () => number): void => scrapedGauge(registry, name, help, read);
  gauge('ringtail_batchlog_entries', "Logged batches held in this node's batch log", () => sources.store.stats().batches);
  gauge('ringtail_batchlog_bytes', "Bytes of logged batches held in this node's batch log", () => sources.store.stats().bytes);
  gauge('ringtail_logged_batches', 'Logged batches this node coordinated through the batch log, since start', () => sources.proxy.loggedBatchStats().logged);
  gauge('ringtail_batchlog_write_timeouts', 'Logged batches whose batch-log write timed out (BATCH_LOG), since start', () => sources.proxy.loggedBatchStats().batchlogTimeouts);
  gauge('ringtail_batchlog_replayed', "Logged batches replayed from this node's batch log, since start", () => sources.replayer()?.stats().replayed ?? 0);
  gauge('ringtail_batchlog_replay_failures', 'Batch-log replays that failed and will be retried, since start', () => sources.replayer()?.stats().failed ?? 0);
}

/** Hinted handoff per target (SPEC 3.3: hints stored and delivered), and the disk budget. */
export function registerHintMetrics(registry: Registry, hints: Pick<HintsService, 'stats'>): void {
  const perTarget = (name: string, help: string, read: (t: TargetHintStats) => number): void =>
    scrapedLabelledGauge(registry, name, help, ['target'], () => [...hints.stats().targets].map(([target, stats]) => [{ target }, read(stats)] as const));
  perTarget('ringtail_hints_stored', 'Hints stored for a replica (by host id), since start', (t) => t.stored);
  perTarget('ringtail_hints_replayed', 'Hints delivered to a replica and deleted, since start', (t) => t.replayed);
  perTarget('ringtail_hints_expired', "Hints dropped unsent after their table's gc_grace_seconds, since start", (t) => t.expired);
  perTarget('ringtail_hints_dropped', 'Hints not stored or discarded (window, budget, dropped table, corrupt), since start', (t) => t.dropped);
  perTarget('ringtail_hints_pending', 'Hints on disk waiting for their replica', (t) => t.pendingHints);
  scrapedGauge(registry, 'ringtail_hints_bytes', 'Bytes of hints on disk and queued, against the max_hints_size_mb budget', () => hints.stats().totalBytes);
  scrapedGauge(registry, 'ringtail_hints_over_budget', '1 while this node refuses hints because the max_hints_size_mb budget is full', () => (hints.stats().overBudget ? 1 : 0));
}
