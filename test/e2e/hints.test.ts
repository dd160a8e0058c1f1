/**
 * Hinted handoff through real processes (issue #7 §4, first case): with one replica killed,
 * 10,000 rows written at QUORUM are hinted by their coordinators; once the replica is restarted
 * and gossip sees it UP, the hints are replayed, and that replica alone (reads at ONE
 * coordinated by itself) answers every row.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ClusterNode } from '../../src/cli/cluster/cluster-file.js';
import { createKvTable, LocalCluster, writeRowsAtQuorum, metricSum, seenAs } from '../helpers/local-cluster.js';
import { cqlOk, waitFor } from '../helpers/node-process.js';

const ROWS = 10_000;
const IN_FLIGHT = 32;
let cluster: LocalCluster;
let nodes: ClusterNode[] = [];

beforeAll(async () => {
  // A fast replay rate so that 10,000 small hints arrive in a few seconds.
  cluster = await LocalCluster.up('hints', 3, ['hint_replay_bytes_per_s=4194304']);
  nodes = cluster.nodes;
}, 120_000);

afterAll(() => cluster?.destroy());

it('replays the hints of 10,000 QUORUM writes to a replica that was down, which then holds every row', async () => {
  const [a, b, c] = nodes as [ClusterNode, ClusterNode, ClusterNode];
  await createKvTable(nodes, 'h');

  process.kill(c.pid, 'SIGKILL');
  await seenAs([a, b], c, 'DOWN');
  await writeRowsAtQuorum([a, b], 'h', ROWS, IN_FLIGHT);
  expect((await metricSum(a, 'ringtail_hints_stored')) + (await metricSum(b, 'ringtail_hints_stored'))).toBe(ROWS);

  await cluster.cli('cluster', 'start', c.name, '--dir', cluster.dir);
  const restarted = cluster.node(c.name);
  await seenAs([a, b], restarted, 'UP');
  await waitFor(
    async () => (await metricSum(a, 'ringtail_hints_pending')) + (await metricSum(b, 'ringtail_hints_pending')) === 0,
    'every hint replayed',
    60_000,
    200,
  );
  expect((await metricSum(a, 'ringtail_hints_replayed')) + (await metricSum(b, 'ringtail_hints_replayed'))).toBe(ROWS);
  // The restarted replica alone holds every row: reads at ONE that it coordinates are local.
  for (let k = 0; k < ROWS; k += 1) {
    const r = await cqlOk<{ rows: { v: string }[] }>(restarted.http, 'SELECT v FROM h.kv WHERE k = ?', { params: [k], consistency: 'ONE' });
    if (r.rows[0]?.v !== `row ${k}`) throw new Error(`row ${k} missing on the restarted replica: ${JSON.stringify(r.rows)}`);
  }
}, 240_000);
