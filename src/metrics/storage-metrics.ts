/**
 * Storage gauges, read from the engine when Prometheus scrapes (no bookkeeping on the write
 * path): memtable bytes, SSTable count and bytes, flushes and compactions per table, and the
 * commit log's size.
 */
import type { Registry } from 'prom-client';
import type { StorageEngine } from '../storage/engine/storage-engine.js';
import { scrapedGauge, scrapedLabelledGauge } from './registry.js';

export function registerStorageMetrics(registry: Registry, engine: StorageEngine): void {
  const perTable = (name: string, help: string, read: (s: ReturnType<StorageEngine['tableStats']>[number]) => number): void =>
    scrapedLabelledGauge(registry, name, help, ['keyspace', 'table'], () => engine.tableStats().map((s) => [{ keyspace: s.keyspace, table: s.table }, read(s)] as const));
  perTable('ringtail_memtable_bytes', 'Estimated bytes held in memtables (active and flushing)', (s) => s.memtableBytes);
  perTable('ringtail_sstables', 'Live SSTables', (s) => s.sstableCount);
  perTable('ringtail_sstable_bytes', 'Bytes of live SSTables on disk', (s) => s.sstableBytes);
  perTable('ringtail_flushes', 'Memtable flushes since start', (s) => s.flushes);
  perTable('ringtail_compactions', 'Compactions since start', (s) => s.compactions);
  scrapedGauge(registry, 'ringtail_commitlog_bytes', 'Bytes of commit-log segments on disk', () => engine.commitLogStats().bytesOnDisk);
}
