/**
 * The stream reader thread on real SSTables: pages in ring order within the size bound, early
 * stop by the consumer, a failing read surfacing the thread's message, and the throttle.
 * Needs the worker script built (`npm run build`).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { murmur3Token } from '../../src/ring/murmur3.js';
import { systemClock } from '../../src/runtime/system.js';
import type { StorageEngine } from '../../src/storage/engine/storage-engine.js';
import type { TableStore } from '../../src/storage/engine/table-store.js';
import { MAX_TOKEN, MIN_TOKEN } from '../../src/storage/data/keys.js';
import { decodeStreamPage, type StreamPage } from '../../src/streaming/stream-page.js';
import { readRanges } from '../../src/streaming/stream-reader.js';
import { openEngine } from '../helpers/engine.js';
import { b, cell, row } from '../helpers/rows.js';
import { useTmpDir } from '../helpers/tmpdir.js';

const tmp = useTmpDir('ringtail-stream-reader-');
const engines: StorageEngine[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close({ flush: false });
});

/** `partitions` partitions of one row of `valueBytes`, flushed into one SSTable. */
async function table(partitions: number, valueBytes: number): Promise<{ table: TableStore; paths: readonly string[]; release: () => void }> {
  const { engine, table } = await openEngine(tmp());
  engines.push(engine);
  const value = 'v'.repeat(valueBytes);
  await Promise.all(
    Array.from({ length: partitions }, (_, i) => {
      const key = b(`k${i}`);
      return table.apply({ token: murmur3Token(key), key, rangeTombstones: [], rows: [row('', [cell('v', value, 1)])] });
    }),
  );
  const retained = await table.retainSstables();
  return { table, paths: retained.paths, release: retained.release };
}

const WHOLE_RING = [{ start: MIN_TOKEN, end: MIN_TOKEN }];

async function collect(pages: AsyncIterable<StreamPage>): Promise<StreamPage[]> {
  const out: StreamPage[] = [];
  for await (const page of pages) out.push(page);
  return out;
}

describe('readRanges', () => {
  it('yields every partition of the ranges once, in ring order, in pages within the bound', async () => {
    const { paths, release } = await table(300, 100);
    try {
      const pages = await collect(readRanges(paths, WHOLE_RING, { pageBytes: 2048, throughputBytesPerS: 0 }));
      expect(pages.length).toBeGreaterThan(10);
      for (const page of pages) expect(page.bytes.length).toBeLessThanOrEqual(2048);
      const tokens = pages.flatMap((p) => decodeStreamPage(p.bytes).map((u) => u.token));
      expect(tokens).toHaveLength(300);
      expect([...tokens].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))).toEqual(tokens);
      expect(pages.reduce((n, p) => n + p.rows, 0)).toBe(300);
      expect(pages.reduce((n, p) => n + p.partitions, 0)).toBe(300);
      // A range that wraps reads its upper piece after its lower one (ring order of the spans).
      const wrapped = await collect(readRanges(paths, [{ start: 0n, end: -(2n ** 62n) }], { pageBytes: 2048, throughputBytesPerS: 0 }));
      const wrappedTokens = wrapped.flatMap((p) => decodeStreamPage(p.bytes).map((u) => u.token));
      expect(wrappedTokens).toEqual(tokens.filter((t) => t > 0n || t <= -(2n ** 62n)));
      expect(await collect(readRanges([], WHOLE_RING, { pageBytes: 2048, throughputBytesPerS: 0 }))).toEqual([]);
      expect(await collect(readRanges(paths, [{ start: MAX_TOKEN - 1n, end: MAX_TOKEN }], { pageBytes: 2048, throughputBytesPerS: 0 }))).toEqual([]);
    } finally {
      release();
    }
  });

  it('stops its thread when the consumer stops early, and reads again afterwards', async () => {
    const { paths, release } = await table(300, 100);
    try {
      let seen = 0;
      for await (const page of readRanges(paths, WHOLE_RING, { pageBytes: 1024, throughputBytesPerS: 0 })) {
        seen += page.rows;
        break;
      }
      expect(seen).toBeGreaterThan(0);
      expect((await collect(readRanges(paths, WHOLE_RING, { pageBytes: 1024, throughputBytesPerS: 0 }))).reduce((n, p) => n + p.rows, 0)).toBe(300);
    } finally {
      release();
    }
  });

  it("throws with the thread's message when a file cannot be read", async () => {
    await expect(collect(readRanges(['/nonexistent/sst-1.db'], WHOLE_RING, { pageBytes: 1024, throughputBytesPerS: 0 }))).rejects.toThrow(/stream read failed: .*(unable to open|does not exist|directory)/i);
    await expect(collect(readRanges([], WHOLE_RING, { pageBytes: 1, throughputBytesPerS: 0 }))).rejects.toThrow(/page size/);
  });

  it('holds its output to the throughput', async () => {
    const { paths, release } = await table(14, 100 * 1024);
    try {
      const startedMs = systemClock.nowMs();
      const pages = await collect(readRanges(paths, WHOLE_RING, { pageBytes: 256 * 1024, throughputBytesPerS: 1024 * 1024 }));
      const bytes = pages.reduce((n, p) => n + p.bytes.length, 0);
      expect(bytes).toBeGreaterThan(1024 * 1024);
      // The throttle looks every MiB: past the first MiB at 1 MiB/s, at least a second has passed.
      expect(systemClock.nowMs() - startedMs).toBeGreaterThanOrEqual(950);
    } finally {
      release();
    }
  });
});
