/**
 * Hinted handoff through real processes (issue #7 §4, first case): with one replica killed,
 * 10,000 rows written at QUORUM are hinted by their coordinators; once the replica is restarted
 * and gossip sees it UP, the hints are replayed, and that replica alone (reads at ONE
 * coordinated by itself) answers every row.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ClusterNode } from '../../src/cli/cluster/cluster-file.js';
import { LocalCluster, metricSum, seenAs } from '../helpers/local-cluster.js';
import { cqlOk, postCql, waitFor } from '../helpers/node-process.js';

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
  await cqlOk(a.http, "CREATE KEYSPACE h WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}");
  await cqlOk(a.http, 'CREATE TABLE h.kv (k int PRIMARY KEY, v text)');
  await waitFor(async () => (await postCql(c.http, 'SELECT * FROM h.kv WHERE k = 0')).status === 200, 'the table on every node', 5_000);

  process.kill(c.pid, 'SIGKILL');
  await seenAs([a, b], c, 'DOWN');
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async (_, worker) => {
      const coordinator = worker % 2 === 0 ? a : b;
      while (next < ROWS) {
        const k = next++;
        await cqlOk(coordinator.http, 'INSERT INTO h.kv (k, v) VALUES (?, ?)', { params: [k, `row ${k}`], consistency: 'QUORUM' });
      }
    }),
  );
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
