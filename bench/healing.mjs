/**
 * Healing and moving data (issue #7 §4 figures): hint replay rows/s and streaming MiB/s while a
 * node bootstraps, on a local cluster started through the CLI.
 *
 *   npm run bench -- healing [--rows N] [--value-bytes B] [--hint-rows N] [--set k=v,…]   (--help)
 *
 * 1. `ringtail cluster up --nodes 3 --ports auto` in a temporary directory (plus `--set`),
 *    keyspace `bench_heal` (SimpleStrategy RF 3), table `kv (id bigint PRIMARY KEY, v text)`.
 * 2. Hints: SIGKILL node3, wait until node1 and node2 see it DOWN, write `--hint-rows` rows at
 *    QUORUM through node1 and node2 (each stored as a hint for node3), restart node3
 *    (`ringtail cluster start`), and time from the restart until no hint is pending on any node
 *    (`ringtail_hints_pending`): rows/s of replay (bounded by `hint_replay_bytes_per_s`).
 * 3. Bootstrap: load `--rows` rows (UNLOGGED BATCHes at ONE), flush every node, then
 *    `ringtail cluster add`: the new node streams the ranges it takes over. Its log line
 *    `bootstrap complete: NORMAL` gives the rows and bytes streamed and the streaming time;
 *    MiB/s = bytes / streaming time (bounded by `stream_throughput_mb_per_s`).
 * 4. `ringtail cluster down`; every PID is SIGKILLed if still alive (also on errors), and the
 *    temporary directory removed. Results: stdout and <out>/healing-<ISO time>.json.
 *
 * Bounds: every load is count-bounded; every wait has a deadline (`--phase-timeout-seconds`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { parseOptions, usageText } from './lib/args.mjs';
import { driveCql, textValues } from './lib/cql-load.mjs';
import { resultHeader, TempDirs, writeResultFile } from './lib/env.mjs';
import { fmtBytes, fmtRate, fmtSeconds, nowSeconds } from './lib/stats.mjs';
import { heading } from './lib/table.mjs';
import { killClusterDir, readClusterNodes, ringtailCli } from './lib/local-cluster.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const KEYSPACE = 'bench_heal';

export const SPEC = {
  rows: { kind: 'int', default: 200_000, min: 100, help: 'rows loaded before the bootstrap' },
  'value-bytes': { kind: 'int', default: 1000, min: 1, max: 65_536, help: 'characters per row value' },
  'hint-rows': { kind: 'int', default: 20_000, min: 1, help: 'rows written at QUORUM while node3 is down (hinted)' },
  'batch-rows': { kind: 'int', default: 20, min: 1, max: 1000, help: 'INSERTs per UNLOGGED BATCH during the load' },
  concurrency: { kind: 'int', default: 24, min: 1, max: 512, help: 'requests in flight during the loads' },
  'phase-timeout-seconds': { kind: 'number', default: 600, min: 1, help: 'deadline of each phase' },
  set: { kind: 'list', default: [], defaultText: 'none', help: 'node settings key=value,… for cluster up (e.g. stream_throughput_mb_per_s=0)' },
  out: { kind: 'string', default: path.join(HERE, 'out'), defaultText: 'bench/out', help: 'directory for the results JSON' },
  'data-dir': { kind: 'string', default: os.tmpdir(), defaultText: 'the OS temp dir', help: "where the cluster's temporary directory is made (removed at the end)" },
};

export function usage() {
  return `usage: npm run bench -- healing [options]\n\n${usageText(SPEC)}`;
}

const log = (s = '') => process.stdout.write(`${s}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));




async function waitUntil(what, condition, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function getJson(request, url) {
  const res = await request(url, { headersTimeout: 5000, bodyTimeout: 5000 });
  return JSON.parse(await res.body.text());
}

async function metricSum(request, node, name) {
  const res = await request(`${node.http}/metrics`, { headersTimeout: 5000, bodyTimeout: 5000 });
  const text = await res.body.text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

async function cqlOk(request, node, query, extra = {}) {
  const res = await request(`${node.http}/v1/cql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, ...extra }) });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${node.name}: ${query}: ${text}`);
  return JSON.parse(text);
}

/** Count-bounded writes through `targets`: `count` statements made by `bodyOf(i)`. */
async function write(targets, concurrency, count, bodyOf) {
  let next = 0;
  const r = await driveCql({
    targets,
    concurrency,
    nextRequest: () => ({ body: bodyOf(next++), check: (status, text) => (status === 200 ? null : text.slice(0, 200)) }),
    until: () => next >= count,
  });
  if (r.errors > 0) throw new Error(`${r.errors} writes failed: ${r.problems.join('; ')}`);
}

export async function main(argv) {
  const opts = parseOptions(argv, SPEC);
  if (opts.help) {
    log(usage());
    return 0;
  }
  const { Pool, request } = await import('undici');
  const startedAt = new Date();
  const result = { ...resultHeader('healing', startedAt), params: { ...opts, out: undefined, dataDir: undefined }, hints: null, bootstrap: null, error: null };
  const tmp = new TempDirs(opts.dataDir, 'ringtail-bench-healing-');
  const dir = tmp.make('cluster');
  const timeoutMs = opts.phaseTimeoutSeconds * 1000;
  const pools = [];
  const killAll = () => killClusterDir(dir);
  process.once('SIGINT', killAll);
  log(`ringtail healing benchmark — command: ${result.command}`);
  try {
    await ringtailCli(['cluster', 'up', '--nodes', '3', '--ports', 'auto', '--dir', dir, ...opts.set.flatMap((s) => ['--set', s])], timeoutMs);
    let nodes = readClusterNodes(dir);
    const [n1, n2, n3] = nodes;
    await cqlOk(request, n1, `CREATE KEYSPACE ${KEYSPACE} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}`);
    await cqlOk(request, n1, `CREATE TABLE ${KEYSPACE}.kv (id bigint PRIMARY KEY, v text)`);
    await waitUntil('the table on every node', async () => {
      for (const n of nodes) {
        const schema = await getJson(request, `${n.http}/v1/schema`);
        if (!schema.keyspaces.some((k) => k.name === KEYSPACE && k.tables.some((t) => t.name === 'kv'))) return false;
      }
      return true;
    }, timeoutMs);
    const values = textValues(256, opts.valueBytes, 7);
    const poolOf = (node, connections) => {
      const pool = new Pool(node.http, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
      pools.push(pool);
      return { name: node.name, pool };
    };

    log(heading(`hints: node3 down, ${opts.hintRows.toLocaleString('en-US')} rows at QUORUM, node3 back`));
    process.kill(n3.pid, 'SIGKILL');
    await waitUntil('node3 DOWN on node1 and node2', async () => {
      for (const n of [n1, n2]) if ((await getJson(request, `${n.http}/v1/status`)).nodes.find((x) => x.internode === n3.internode)?.status !== 'DOWN') return false;
      return true;
    }, timeoutMs);
    const hintTargets = [poolOf(n1, Math.ceil(opts.concurrency / 2)), poolOf(n2, Math.ceil(opts.concurrency / 2))];
    await write(hintTargets, opts.concurrency, opts.hintRows, (i) =>
      JSON.stringify({ query: `INSERT INTO ${KEYSPACE}.kv (id, v) VALUES (?, ?)`, params: [-1 - i, values[i % values.length]], consistency: 'QUORUM' }),
    );
    const stored = (await metricSum(request, n1, 'ringtail_hints_stored')) + (await metricSum(request, n2, 'ringtail_hints_stored'));
    const pending = async () => (await metricSum(request, n1, 'ringtail_hints_pending')) + (await metricSum(request, n2, 'ringtail_hints_pending'));
    const t0 = nowSeconds();
    await ringtailCli(['cluster', 'start', 'node3', '--dir', dir], timeoutMs);
    // Replay starts when gossip sees node3 UP: measure from the first hint delivered.
    await waitUntil('hint replay to start', async () => (await pending()) < stored, timeoutMs);
    const t1 = nowSeconds();
    const left = await pending();
    await waitUntil('every hint replayed', async () => (await pending()) === 0, timeoutMs);
    const t2 = nowSeconds();
    result.hints = { rows: opts.hintRows, stored, restartToDrainedSeconds: t2 - t0, measuredRows: left, measuredSeconds: t2 - t1, rowsPerSecond: left / (t2 - t1) };
    log(`  ${stored.toLocaleString('en-US')} hints stored; the last ${left.toLocaleString('en-US')} replayed in ${fmtSeconds(t2 - t1)}: ${fmtRate(result.hints.rowsPerSecond, ' rows/s')} (${fmtSeconds(t2 - t0)} from restart to none pending)`);

    log(heading(`bootstrap: ${opts.rows.toLocaleString('en-US')} rows of ${opts.valueBytes} B, then cluster add`));
    nodes = readClusterNodes(dir);
    const loadTargets = nodes.map((n) => poolOf(n, Math.ceil(opts.concurrency / 3)));
    const batches = Math.ceil(opts.rows / opts.batchRows);
    const tl = nowSeconds();
    await write(loadTargets, opts.concurrency, batches, (b) => {
      const ids = Array.from({ length: Math.min(opts.batchRows, opts.rows - b * opts.batchRows) }, (_, j) => b * opts.batchRows + j);
      const query = `BEGIN UNLOGGED BATCH ${ids.map(() => `INSERT INTO ${KEYSPACE}.kv (id, v) VALUES (?, ?);`).join(' ')} APPLY BATCH`;
      return JSON.stringify({ query, params: ids.flatMap((id) => [id, values[id % values.length]]), consistency: 'ONE' });
    });
    log(`  loaded in ${fmtSeconds(nowSeconds() - tl)}`);
    for (const n of nodes) await ringtailCli(['flush', '--host', n.http], timeoutMs);
    const tb = nowSeconds();
    await ringtailCli(['cluster', 'add', '--dir', dir], timeoutMs);
    const addSeconds = nowSeconds() - tb;
    const added = readClusterNodes(dir).at(-1);
    const lines = fs.readFileSync(path.join(path.dirname(added.config), 'node.log'), 'utf8').split('\n');
    const done = lines.map((l) => { try { return JSON.parse(l); } catch { return null; } }).find((l) => l?.msg === 'bootstrap complete: NORMAL');
    if (!done) throw new Error(`${added.name} logged no 'bootstrap complete: NORMAL'`);
    const mibPerS = done.bytes_streamed / 1048576 / (done.duration_ms / 1000);
    result.bootstrap = { rows: done.rows_streamed, bytes: done.bytes_streamed, streamingSeconds: done.duration_ms / 1000, mibPerSecond: mibPerS, clusterAddSeconds: addSeconds, transfers: done.transfers, ranges: done.ranges };
    log(`  ${added.name} streamed ${done.rows_streamed.toLocaleString('en-US')} rows (${fmtBytes(done.bytes_streamed)}) in ${fmtSeconds(done.duration_ms / 1000)}: ${mibPerS.toFixed(1)} MiB/s; cluster add took ${fmtSeconds(addSeconds)}`);

    await ringtailCli(['cluster', 'down', '--dir', dir], timeoutMs);
  } catch (e) {
    result.error = String(e?.stack ?? e);
    log(`error: ${e.message}`);
  } finally {
    killAll();
    await Promise.all(pools.map((pool) => pool.close()));
    tmp.removeAll();
  }
  result.ok = result.error === null;
  result.finishedAt = new Date().toISOString();
  const file = writeResultFile(opts.out, result);
  log(`\nresults: ${file}`);
  return result.error === null ? 0 : 1;
}
