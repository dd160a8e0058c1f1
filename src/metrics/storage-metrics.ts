/**
 * Storage gauges, read from the engine when Prometheus scrapes (no bookkeeping on the write
 * path): memtable bytes, SSTable count and bytes, flushes and compactions per table, and the
 * commit log's size.
 */
import { Gauge, type Registry } from 'prom-client';
import type { StorageEngine } from '../storage/engine/storage-engine.js';

export function registerStorageMetrics(registry: Registry, engine: StorageEngine): void {
  const labelNames = ['keyspace', 'table'] as const;
  const perTable = (name: string, help: string, read: (s: ReturnType<StorageEngine['tableStats']>[number]) => number): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const s of engine.tableStats()) this.set({ keyspace: s.keyspace, table: s.table }, read(s));
      },
    });
  };
  perTable('ringtail_memtable_bytes', 'Estimated bytes held in memtables (active and flushing)', (s) => s.memtableBytes);
  perTable('ringtail_sstables', 'Live SSTables', (s) => s.sstableCount);
  perTable('ringtail_sstable_bytes', 'Bytes of live SSTables on disk', (s) => s.sstableBytes);
  perTable('ringtail_flushes', 'Memtable flushes since start', (s) => s.flushes);
  perTable('ringtail_compactions', 'Compactions since start', (s) => s.compactions);
  new Gauge({
    name: 'ringtail_commitlog_bytes',
    help: 'Bytes of commit-log segments on disk',
    registers: [registry],
    collect() {
      this.set(engine.commitLogStats().bytesOnDisk);
    },
  });
}
