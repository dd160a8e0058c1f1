/** Opens a storage engine on a test directory with small, fast settings. */
import type { StorageEngineOptions, TableOptions } from '../../src/storage/engine/api.js';
import { StorageEngine } from '../../src/storage/engine/storage-engine.js';
import type { TableStore } from '../../src/storage/engine/table-store.js';

export const TABLE: TableOptions = { id: '5a1d0e4c-0000-4000-8000-00000000000a', keyspace: 'ks', name: 'events', gcGraceSeconds: 864000 };

export async function openEngine(
  dataDir: string,
  overrides: Partial<StorageEngineOptions> = {},
  table: Partial<TableOptions> = {},
): Promise<{ engine: StorageEngine; table: TableStore }> {
  const engine = await StorageEngine.open({
    dataDir,
    commitlogSync: 'batch',
    commitlogSyncPeriodMs: 1000,
    commitlogSyncGroupWindowMs: 1,
    commitlogSegmentSizeMb: 1,
    memtableFlushThresholdMb: 64,
    compactionThroughputMbPerS: 0,
    ...overrides,
  });
  const store = engine.openTable({ ...TABLE, compaction: { enabled: false }, ...table });
  await engine.replayCommitLog();
  return { engine, table: store };
}
