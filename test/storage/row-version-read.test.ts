/**
 * TableStore.readRowVersion: the version the versioned write path reads before each write,
 * merged over memtables and SSTables, and not hidden by deletions of the row's data.
 */
import { describe, expect, it } from 'vitest';
import type { PartitionUpdate } from '../../src/storage/data/types.js';
import { mergeRowVersions, nextRowVersion, rowContext } from '../../src/versioning/row-version.js';
import { openEngine } from '../helpers/engine.js';
import { useTmpDir } from '../helpers/tmpdir.js';

const tmp = useTmpDir('ringtail-row-version-');
const KEY = Buffer.from('k');
const CK = Buffer.from([0x10, 0x20]);

function write(ck: Buffer, version: Buffer | undefined, ts: number): PartitionUpdate {
  return { token: 7n, key: KEY, rangeTombstones: [], rows: [{ clustering: ck, cells: [{ column: 'v', value: Buffer.from(`v${ts}`), ts, ttl: 0, ldt: 0 }], version }] };
}

describe('TableStore.readRowVersion', () => {
  it('merges the row version over memtables and SSTables, ignoring deletions of its data', async () => {
    const { engine, table } = await openEngine(tmp(), { commitlogSync: 'periodic' });
    try {
      const row = { clustering: CK, cells: [] };
      const onA = nextRowVersion('lww', undefined, null, 'a', row).version;
      const onB = nextRowVersion('lww', undefined, null, 'b', row).version;
      expect(table.readRowVersion(7n, KEY, CK)).toBeUndefined();
      await table.apply(write(CK, onA, 1));
      await table.flush();
      await table.apply(write(CK, onB, 2));
      // Another row of the partition and another partition do not count.
      await table.apply(write(Buffer.from([0x10]), nextRowVersion('lww', undefined, null, 'c', row).version, 3));
      const merged = mergeRowVersions(onA, onB);
      expect(rowContext(table.readRowVersion(7n, KEY, CK))).toEqual(rowContext(merged));
      // A partition deletion shadows the data, not the history.
      await table.apply({ token: 7n, key: KEY, rangeTombstones: [], rows: [], deletion: { ts: 10, ldt: 1 } });
      expect(table.readPartition(7n, KEY)?.rows ?? []).toEqual([]);
      expect(rowContext(table.readRowVersion(7n, KEY, CK))).toEqual(rowContext(merged));
    } finally {
      await engine.close({ flush: false });
    }
  });
});
