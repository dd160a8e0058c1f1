import { afterEach, describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../../src/metrics/registry.js';
import { registerStorageMetrics } from '../../src/metrics/storage-metrics.js';
import type { StorageEngine } from '../../src/storage/engine/storage-engine.js';
import { openEngine } from '../helpers/engine.js';
import { cell, row, update } from '../helpers/rows.js';
import { useTmpDir } from '../helpers/tmpdir.js';

const tmp = useTmpDir('ringtail-metrics-');
let engine: StorageEngine | null = null;
afterEach(async () => {
  await engine?.close({ flush: false });
  engine = null;
});

describe('metrics', () => {
  it('exposes event-loop delay and per-table storage gauges in Prometheus text', async () => {
    const opened = await openEngine(tmp());
    engine = opened.engine;
    await opened.table.apply(update(1n, 'k', [row('r', [cell('v', 'x', 1)])]));
    await opened.table.flush();
    const registry = createMetricsRegistry();
    registerStorageMetrics(registry, engine);
    const text = await registry.metrics();
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds \d/m);
    expect(text).toMatch(/^ringtail_sstables\{keyspace="ks",table="events"\} 1$/m);
    expect(text).toMatch(/^ringtail_flushes\{keyspace="ks",table="events"\} 1$/m);
    expect(text).toMatch(/^ringtail_commitlog_bytes \d+$/m);
  });
});
