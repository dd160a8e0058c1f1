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

interface VersionedRows {
  rows: ({ k: number; v: string | null; $siblings?: { k: number; v: string | null; $deleted?: true }[] })[];
  context: string | null;
  conflicts: number;
  warnings: string[];
}

const siblingValues = (r: VersionedRows): (string | null)[] => (r.rows[0]?.$siblings ?? []).map((s) => s.v).sort();

it("keeps concurrent writes as siblings in 'siblings' mode, and a write with the read's context supersedes exactly what it saw", async () => {
  const [a, b, c] = nodes as [ClusterNode, ClusterNode, ClusterNode];
  await cqlOk(a.http, "CREATE KEYSPACE s WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}");
  await cqlOk(a.http, "CREATE TABLE s.docs (k int PRIMARY KEY, v text) WITH conflict_resolution = 'siblings'");
  await waitFor(async () => (await postCql(c.http, 'SELECT * FROM s.docs WHERE k = 0')).status === 200, 'the table on every node', 5_000);
  const read = (n: ClusterNode, k: number) => cqlOk<VersionedRows>(n.http, 'SELECT k, v FROM s.docs WHERE k = ?', { params: [k], consistency: 'ALL' });
  const write = (n: ClusterNode, k: number, v: string, context: string | null = null) =>
    cqlOk<{ warnings: string[] }>(n.http, 'UPDATE s.docs SET v = ? WHERE k = ?', { params: [v, k], consistency: 'ALL', context });

  await write(a, 1, 'a');
  const first = await read(b, 1);
  expect(first).toMatchObject({ rows: [{ k: 1, v: 'a' }], conflicts: 0 });
  expect(first.rows[0]!.$siblings).toBeUndefined();
  expect(typeof first.context).toBe('string');

  // A blind write (no context) did not see 'a': both stay, the merged view is the newest.
  await write(b, 1, 'b');
  const both = await read(c, 1);
  expect(both.conflicts).toBe(1);
  expect(both.rows[0]!.v).toBe('b');
  expect(siblingValues(both)).toEqual(['a', 'b']);

  // Writing back with the read's context resolves exactly those two.
  await write(c, 1, 'c', both.context);
  const resolved = await read(a, 1);
  expect(resolved).toMatchObject({ rows: [{ k: 1, v: 'c' }], conflicts: 0 });
  expect(resolved.rows[0]!.$siblings).toBeUndefined();

  // A write it did not see survives a write with an older context.
  await write(a, 1, 'd');
  await write(b, 1, 'e', resolved.context);
  const survivors = await read(c, 1);
  expect(survivors.conflicts).toBe(1);
  expect(siblingValues(survivors)).toEqual(['d', 'e']);

  // Every replica holds the same row and version: each one alone answers the same.
  const alone = await Promise.all(nodes.map((n) => cqlOk<VersionedRows>(n.http, 'SELECT k, v FROM s.docs WHERE k = 1', { consistency: 'ONE' })));
  for (const r of alone) expect({ context: r.context, siblings: siblingValues(r) }).toEqual({ context: survivors.context, siblings: ['d', 'e'] });

  // A concurrent deletion of the row's data is a sibling too (shown by its primary key and
  // `$deleted`); an older one leaves the merged view live. (Deleting the whole partition is not
  // a row write, so it carries no row version.)
  await write(a, 3, 'kept');
  await cqlOk(b.http, 'DELETE v FROM s.docs USING TIMESTAMP 1 WHERE k = 3', { consistency: 'ALL' });
  const withDeletion = await read(c, 3);
  expect(withDeletion.rows[0]!.v).toBe('kept');
  expect(withDeletion.rows[0]!.$siblings).toEqual(expect.arrayContaining([{ k: 3, v: null, $deleted: true }, { k: 3, v: 'kept' }]));

  // Bounded: warnings from 25 siblings, refusal beyond 100, and the refused write changes nothing.
  let warned = 0;
  for (let i = 0; i < 100; i++) if ((await write(nodes[i % 3]!, 2, `s${i}`)).warnings.length > 0) warned++;
  expect(warned).toBe(100 - 25 + 1);
  const refused = await postCql<{ error: { code: string; message: string } }>(a.http, 'UPDATE s.docs SET v = ? WHERE k = ?', { params: ['one too many', 2], consistency: 'ALL' });
  expect(refused.status).toBe(400);
  expect(refused.body.error.code).toBe('Invalid');
  expect(refused.body.error.message).toMatch(/siblings/);
  const hundred = await read(b, 2);
  expect(hundred.rows[0]!.$siblings).toHaveLength(100);
  expect(siblingValues(hundred)).not.toContain('one too many');
  await write(c, 2, 'merged', hundred.context);
  expect(siblingValues(await read(a, 2))).toEqual([]);
}, 60_000);

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

  // A logged batch over several partitions goes through the batch log of the other nodes,
  // then every row is there.
  await cqlOk(b.http, "BEGIN BATCH INSERT INTO r.kv (k, v) VALUES (200, 'b1'); INSERT INTO r.kv (k, v) VALUES (201, 'b2'); INSERT INTO r.kv (k, v) VALUES (202, 'b3'); APPLY BATCH", { consistency: 'QUORUM' });
  for (const k of [200, 201, 202]) expect((await cqlOk<{ rows: unknown[] }>(c.http, 'SELECT v FROM r.kv WHERE k = ?', { params: [k], consistency: 'QUORUM' })).rows).toHaveLength(1);
  const metrics = await fetch(`${b.http}/metrics`).then((r) => r.text());
  expect(metrics).toMatch(/^ringtail_logged_batches 1$/m);
  // The entries were removed from the batch logs once the batch was applied.
  await waitFor(
    async () => (await Promise.all(nodes.map((n) => fetch(`${n.http}/metrics`).then((r) => r.text())))).every((t) => /^ringtail_batchlog_entries 0$/m.test(t)),
    'batch-log entries removed',
    5_000,
  );

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
  // Range reads too: Unavailable at QUORUM, answered at ONE.
  const rangeRefused = await postCql<{ error: Record<string, unknown> }>(a.http, 'SELECT COUNT(*) FROM r.kv', { consistency: 'QUORUM' });
  expect(rangeRefused.body.error).toMatchObject({ code: 'Unavailable', required: 2, alive: 1 });
  expect((await cqlOk<{ rows: { count: string }[] }>(a.http, 'SELECT COUNT(*) FROM r.kv', { consistency: 'ONE' })).rows).toEqual([{ count: '1' }]);
}, 120_000);
