/**
 * The replicated data path through HTTP on a real 3-node cluster (issue #5 §4): writes at
 * QUORUM reach every replica and any node reads them; a range read through any node sees every
 * row once, page by page; TRUNCATE empties every replica; with one
 * node killed QUORUM still works;
 * with two killed QUORUM answers `Unavailable` at once and ONE still reads.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readClusterFile, type ClusterNode } from '../../src/cli/cluster/cluster-file.js';
import { isRunning } from '../../src/cli/cluster/cluster-manager.js';
import type { StatusReport } from '../../src/cluster/status-report.js';
import { closeHttp, cqlOk, httpJson, postCql, ringtailBin, waitFor } from '../helpers/node-process.js';

const run = promisify(execFile);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringtail-replication-'));
let nodes: ClusterNode[] = [];

beforeAll(async () => {
  await run(process.execPath, [ringtailBin(), 'cluster', 'up', '--nodes', '3', '--ports', 'auto', '--dir', dir], { timeout: 90_000 });
  nodes = readClusterFile(dir).nodes;
}, 120_000);

afterAll(async () => {
  for (const n of nodes) if (isRunning(n.pid)) process.kill(n.pid, 'SIGKILL');
  await closeHttp();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function downEverywhere(victim: ClusterNode, observers: ClusterNode[]): Promise<void> {
  await waitFor(
    async () => {
      const views = await Promise.all(observers.map((o) => httpJson<StatusReport>('GET', `${o.http}/v1/status`)));
      return views.every((v) => v.body.nodes.find((n) => n.internode === victim.internode)?.status === 'DOWN');
    },
    `${victim.name} DOWN everywhere`,
    10_000,
  );
}

it('replicates QUORUM writes, survives one node down, and refuses QUORUM with two down', async () => {
  const [a, b, c] = nodes as [ClusterNode, ClusterNode, ClusterNode];
  await cqlOk(a.http, "CREATE KEYSPACE r WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}");
  await cqlOk(a.http, 'CREATE TABLE r.kv (k int PRIMARY KEY, v text)');
  await waitFor(async () => (await postCql(c.http, 'SELECT * FROM r.kv WHERE k = 0')).status === 200, 'the table on every node', 5_000);

  for (let k = 0; k < 50; k++) await cqlOk(nodes[k % 3]!.http, 'INSERT INTO r.kv (k, v) VALUES (?, ?)', { params: [k, `v${k}`], consistency: 'QUORUM' });
  // Every replica holds every row: a read at ONE from each node alone finds them all.
  for (const n of nodes) {
    for (let k = 0; k < 50; k += 7) {
      const r = await cqlOk<{ rows: { v: string }[] }>(n.http, 'SELECT v FROM r.kv WHERE k = ?', { params: [k], consistency: 'ALL' });
      expect(r.rows).toEqual([{ v: `v${k}` }]);
    }
  }

  // A range read through any node sees every node's rows exactly once, page by page, even with
  // RF 1 (each row on one node only).
  await cqlOk(a.http, "CREATE KEYSPACE one WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
  await cqlOk(a.http, 'CREATE TABLE one.kv (k int PRIMARY KEY, v text)');
  await waitFor(async () => (await postCql(c.http, 'SELECT * FROM one.kv WHERE k = 0')).status === 200, 'the RF 1 table on every node', 5_000);
  for (let k = 0; k < 60; k++) await cqlOk(a.http, 'INSERT INTO one.kv (k, v) VALUES (?, ?)', { params: [k, `w${k}`] });
  const seen: number[] = [];
  let pagingState: string | null = null;
  do {
    const page: { rows: { k: number }[]; paging_state: string | null } = await cqlOk(b.http, 'SELECT k FROM one.kv', { page_size: 7, paging_state: pagingState });
    seen.push(...page.rows.map((r) => r.k));
    pagingState = page.paging_state;
  } while (pagingState !== null);
  expect(seen.slice().sort((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, k) => k));
  const counted = await cqlOk<{ rows: { count: string }[] }>(c.http, 'SELECT COUNT(*) FROM one.kv');
  expect(counted.rows).toEqual([{ count: '60' }]);

  // TRUNCATE through one node empties every replica.
  await cqlOk(b.http, 'TRUNCATE r.kv');
  for (const n of nodes) {
    const counted = await cqlOk<{ rows: { count: string }[] }>(n.http, 'SELECT COUNT(*) FROM r.kv', { consistency: 'ONE' });
    expect(counted.rows).toEqual([{ count: '0' }]);
  }

  process.kill(c.pid, 'SIGKILL');
  await downEverywhere(c, [a, b]);
  await cqlOk(a.http, 'INSERT INTO r.kv (k, v) VALUES (?, ?)', { params: [100, 'after one down'], consistency: 'QUORUM' });
  const quorum = await cqlOk<{ rows: { v: string }[] }>(b.http, 'SELECT v FROM r.kv WHERE k = 100', { consistency: 'QUORUM' });
  expect(quorum.rows).toEqual([{ v: 'after one down' }]);

  process.kill(b.pid, 'SIGKILL');
  await downEverywhere(b, [a]);
  const started = performance.now();
  const refused = await postCql<{ error: Record<string, unknown> }>(a.http, 'SELECT v FROM r.kv WHERE k = 100', { consistency: 'QUORUM' });
  const elapsedMs = performance.now() - started;
  expect(refused.status).toBe(503);
  expect(refused.body.error).toMatchObject({ code: 'Unavailable', consistency: 'QUORUM', required: 2, alive: 1 });
  expect(elapsedMs).toBeLessThan(1000);
  const one = await cqlOk<{ rows: { v: string }[] }>(a.http, 'SELECT v FROM r.kv WHERE k = 100', { consistency: 'ONE' });
  expect(one.rows).toEqual([{ v: 'after one down' }]);
}, 120_000);
