/**
 * Anti-entropy repair through real processes (issue #7 §3): three nodes without hinted handoff,
 * RF 3; one replica is killed while 10,000 rows are written at QUORUM, so once restarted it
 * misses all of them (reads at ONE that it coordinates are answered by itself alone). The CLI's
 * `ringtail repair KEYSPACE` (a real process) compares the replicas by Merkle trees and streams
 * the differing ranges; afterwards that replica alone answers every row, and a second repair
 * finds nothing to stream. Needs `npm run build` (or RINGTAIL_BIN).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ClusterNode } from '../../src/cli/cluster/cluster-file.js';
import type { RepairReport } from '../../src/repair/repair-service.js';
import { createKvTable, LocalCluster, writeRowsAtQuorum, seenAs } from '../helpers/local-cluster.js';
import { cqlOk } from '../helpers/node-process.js';

const ROWS = 10_000;
const IN_FLIGHT = 32;
let cluster: LocalCluster;
let nodes: ClusterNode[] = [];

beforeAll(async () => {
  cluster = await LocalCluster.up('repair', 3, ['hinted_handoff_enabled=false']);
  nodes = cluster.nodes;
}, 120_000);

afterAll(() => cluster?.destroy());

/** Keys among `keys` that `node` does not answer at ONE (it coordinates: it reads its own data). */
async function missingOn(node: ClusterNode, keys: readonly number[]): Promise<number[]> {
  const missing: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < keys.length) {
        const k = keys[next++]!;
        const r = await cqlOk<{ rows: { v: string }[] }>(node.http, 'SELECT v FROM r.kv WHERE k = ?', { params: [k], consistency: 'ONE' });
        if (r.rows[0]?.v !== `row ${k}`) missing.push(k);
      }
    }),
  );
  return missing.sort((x, y) => x - y);
}

async function repairWithCli(keyspace: string): Promise<RepairReport> {
  return JSON.parse(await cluster.cli('repair', keyspace, '--dir', cluster.dir, '--json')) as RepairReport;
}

it('repairs a replica that missed 10,000 QUORUM writes: afterwards it alone holds every row', async () => {
  const [a, b, c] = nodes as [ClusterNode, ClusterNode, ClusterNode];
  await createKvTable(nodes, 'r');

  process.kill(c.pid, 'SIGKILL');
  await seenAs([a, b], c, 'DOWN');
  await writeRowsAtQuorum([a, b], 'r', ROWS, IN_FLIGHT);

  await cluster.cli('cluster', 'start', c.name, '--dir', cluster.dir);
  const restarted = cluster.node(c.name);
  await seenAs([a, b], restarted, 'UP');
  await seenAs([restarted], a, 'UP');
  await seenAs([restarted], b, 'UP');
  // No hints: the restarted replica has none of the rows (a sample of them, read from it alone).
  const sample = Array.from({ length: 500 }, (_, i) => i * (ROWS / 500));
  expect(await missingOn(restarted, sample)).toEqual(sample);

  const report = await repairWithCli('r');
  expect(report).toMatchObject({ keyspaces: ['r'], tables: 1, ranges_skipped: 0, replicas_down: [], failures: [] });
  expect(report.ranges_compared).toBeGreaterThan(0);
  // Every range holding some of the rows differs (a tiny vnode range may hold none).
  expect(report.ranges_mismatched).toBeGreaterThan(report.ranges_compared / 2);
  expect(report.rows_streamed).toBeGreaterThanOrEqual(ROWS);

  const all = Array.from({ length: ROWS }, (_, k) => k);
  expect(await missingOn(restarted, all)).toEqual([]);

  const again = await repairWithCli('r');
  expect(again).toMatchObject({ ranges_compared: report.ranges_compared, ranges_mismatched: 0, rows_streamed: 0, failures: [] });
}, 300_000);
