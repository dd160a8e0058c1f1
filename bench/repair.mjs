/**
 * Repair benchmark (issue #7 §3): how long anti-entropy repair takes on a local 3-node cluster
 * with about 1 % of the rows diverged, what it compares and streams, and what it does to the
 * latency of a light foreground SELECT load.
 *
 *   npm run bench -- repair [--rows N] [--divergence F] [--idle-seconds S] …   (--help for all)
 *
 * 1. `ringtail cluster up --nodes 3 --ports auto --set hinted_handoff_enabled=false` in a
 *    temporary directory; keyspace `bench_repair` (SimpleStrategy RF 3), table
 *    `kv (id bigint PRIMARY KEY, v text)`, awaited on every node.
 * 2. Load `--rows` rows of `--value-bytes` characters with UNLOGGED BATCHes of `--batch-rows`
 *    INSERTs (one prepared text, bound parameters) at ONE, `--load-concurrency` in flight,
 *    round-robin over the nodes. Every batch must be acknowledged. Then every node flushes
 *    (`POST /v1/admin/flush`), so killing node3 loses nothing of the load.
 * 3. Divergence: SIGKILL node3 (by PID), wait until node1 and node2 see it DOWN, overwrite
 *    `--divergence` of the rows (evenly spread ids, new values) at QUORUM through node1 and
 *    node2, restart node3 (`ringtail cluster start`) and wait until every node sees every node
 *    UP. Hinted handoff is off, so node3 misses exactly those writes.
 * 4. Foreground load: `--select-concurrency` workers SELECT v by uniformly random id at ONE,
 *    round-robin over the nodes; every answer must be 200 with the old or the new value of the
 *    id, or no row (a replica that dropped a write at ONE; counted). Latencies are recorded
 *    `--idle-seconds` without repair, then during `POST /v1/admin/repair {"keyspace"}` on node1,
 *    which returns the report once every range is compared and synced.
 * 5. Check, at ONE from node3 (which coordinates, so answers from its own data): every
 *    overwritten row has its new value, and a random sample of rows its current value. Then a
 *    second repair, which should find nothing to stream.
 * 6. `ringtail cluster down`; every PID the cluster ever had is SIGKILLed if still alive (also on
 *    an error or Ctrl-C), and the temporary directory removed.
 *
 * Target: foreground SELECT p99 during the repair ≤ 2 × its idle p99 (the repair reads at
 * `compaction_throughput_mb_per_s` and streams at `stream_throughput_mb_per_s`).
 * Bounds: the load is count-bounded; every wait has a deadline (`--phase-timeout-seconds`, the
 * CLI timeout); the repair request times out after `--repair-timeout-seconds`.
 * Results: a report on stdout and a JSON file <out>/repair-<ISO time>.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { runClusterCommand } from './lib/local-cluster.mjs';
import { parseOptions, usageText } from './lib/args.mjs';
import { driveCql, textValues } from './lib/cql-load.mjs';
import { collectGarbage, resultHeader, TempDirs, writeResultFile } from './lib/env.mjs';
import { LatencyRecorder } from './lib/latency.mjs';
import { fmtBytes, fmtMs, fmtRate, fmtSeconds, nowSeconds, percentile } from './lib/stats.mjs';
import { formatTable, heading } from './lib/table.mjs';
import { nextBelow, prng32 } from './lib/workload.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(HERE, '..');
const BIN = process.env.RINGTAIL_BIN ?? path.join(ROOT, 'bin', 'ringtail');
const CLI_MODULE = path.join(path.dirname(BIN), '..', 'dist', 'cli', 'main.js');

const KEYSPACE = 'bench_repair';
const NODES = 3;
const VALUE_POOL = 1024;
const CLI_TIMEOUT_MS = 150_000;
const STATUS_TIMEOUT_MS = 5_000;
const PROGRESS_INTERVAL_S = 10;
const P99_RATIO_TARGET = 2;
const VERIFY_SAMPLE_MAX = 5_000;
/** Answers of the repair window kept with their time, to split it by phase. */
const MAX_TIMELINE = 1 << 20;

export const SPEC = {
  rows: { kind: 'int', default: 1_000_000, min: 100, help: 'rows loaded before the divergence' },
  'value-bytes': { kind: 'int', default: 100, min: 1, max: 65_536, help: 'characters per row value' },
  'batch-rows': { kind: 'int', default: 50, min: 1, max: 1000, help: 'INSERTs per UNLOGGED BATCH during the load' },
  'load-concurrency': { kind: 'int', default: 24, min: 1, max: 512, help: 'batches in flight during the load' },
  divergence: { kind: 'number', default: 0.01, min: 0, max: 1, help: 'share of the rows overwritten while node3 is down' },
  'select-concurrency': { kind: 'int', default: 4, min: 1, max: 256, help: 'foreground SELECTs in flight (a light load)' },
  'idle-seconds': { kind: 'number', default: 10, min: 1, help: 'foreground load measured before the repair' },
  'repair-timeout-seconds': { kind: 'number', default: 1800, min: 1, help: 'give up on a repair after this long' },
  'phase-timeout-seconds': { kind: 'number', default: 60, min: 1, help: 'deadline of each wait (DOWN, UP, schema)' },
  'no-second-repair': { kind: 'flag', help: 'skip the second repair (the one that should find nothing)' },
  set: { kind: 'list', default: [], defaultText: 'none', help: 'extra node settings key=value,… for cluster up (e.g. compaction_throughput_mb_per_s=16)' },
  out: { kind: 'string', default: path.join(HERE, 'out'), defaultText: 'bench/out', help: 'directory for the results JSON' },
  'data-dir': { kind: 'string', default: os.tmpdir(), defaultText: 'the OS temp dir', help: "where the cluster's temporary directory is made (removed at the end)" },
  seed: { kind: 'int', default: 42, min: 0, help: 'seed of values and keys read' },
  'check-targets': { kind: 'flag', help: 'exit with code 3 when a target fails' },
};

export function usage() {
  return `usage: npm run bench -- repair [options]\n\n${usageText(SPEC)}`;
}

const log = (s = '') => process.stdout.write(`${s}\n`);
const line = (label, text) => log(`  ${label.padEnd(10)} ${text}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const INSERT_ONE = `INSERT INTO ${KEYSPACE}.kv (id, v) VALUES (?, ?)`;
const SELECT_ONE = `SELECT v FROM ${KEYSPACE}.kv WHERE id = ?`;

export async function main(argv) {
  const opts = parseOptions(argv, SPEC);
  if (opts.help) {
    log(usage());
    return 0;
  }
  if (!fs.existsSync(CLI_MODULE)) throw new Error(`${CLI_MODULE} not found: build first (npm run build)`);
  const { Agent, Pool, request } = await import('undici');
  const startedAt = new Date();
  const overwritten = Math.floor(opts.rows * opts.divergence);
  const result = {
    ...resultHeader('repair', startedAt),
    params: {
      nodes: NODES,
      rows: opts.rows,
      valueBytes: opts.valueBytes,
      batchRows: opts.batchRows,
      loadConcurrency: opts.loadConcurrency,
      divergence: opts.divergence,
      overwrittenRows: overwritten,
      selectConcurrency: opts.selectConcurrency,
      idleSeconds: opts.idleSeconds,
      settings: ['hinted_handoff_enabled=false', ...opts.set],
      replication: 'SimpleStrategy, replication_factor 3',
      launcher: BIN,
      seed: opts.seed,
    },
    cluster: null,
    load: null,
    divergence: null,
    foreground: null,
    repair: null,
    verify: null,
    secondRepair: null,
    targets: [],
    warnings: [],
    error: null,
  };
  const m = result.machine;
  log(`ringtail repair benchmark — ${NODES} nodes, RF 3, ${opts.rows.toLocaleString('en-US')} rows of ${opts.valueBytes} B, ${overwritten.toLocaleString('en-US')} overwritten while node3 is down`);
  log(`machine: ${m.cpuModel}, ${m.cores} cores, ${fmtBytes(m.totalMemBytes)} RAM, node ${m.node}, ${m.platform}`);
  log(`command: ${result.command}`);

  // Registered before TempDirs' own handlers, so on Ctrl-C the nodes die before their directory goes.
  const cluster = new LocalCluster(opts.phaseTimeoutSeconds * 1000);
  const onSignal = () => cluster.killAll();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const tmp = new TempDirs(opts.dataDir, 'ringtail-bench-repair-');
  const agent = new Agent({ connections: 8, headersTimeout: STATUS_TIMEOUT_MS, bodyTimeout: STATUS_TIMEOUT_MS, keepAliveTimeout: 60_000 });
  const http = new HttpClient(agent, request);
  const pools = [];
  let outcome = 0;
  try {
    log(heading(`cluster up: ${NODES} nodes, hinted handoff off`));
    const t0 = nowSeconds();
    await cluster.up(tmp.make('cluster'), NODES, ['hinted_handoff_enabled=false', ...opts.set]);
    result.cluster = { upSeconds: nowSeconds() - t0, nodes: cluster.nodes.map((n) => ({ name: n.name, http: n.http, internode: n.internode })) };
    line('up', `every node sees every node UP after ${fmtSeconds(result.cluster.upSeconds)}`);
    await createSchema(http, cluster, opts);

    const values = textValues(VALUE_POOL, opts.valueBytes, opts.seed);
    const newValues = textValues(VALUE_POOL, opts.valueBytes, opts.seed + 1);
    const poolOf = (node, connections) => {
      const pool = new Pool(node.http, { connections, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 60_000, bodyTimeout: 60_000 });
      pools.push(pool);
      return pool;
    };

    log(heading(`load: ${opts.rows.toLocaleString('en-US')} rows in UNLOGGED BATCHes of ${opts.batchRows} at ONE`));
    const loadTargets = cluster.nodes.map((n) => ({ name: n.name, pool: poolOf(n, Math.ceil(opts.loadConcurrency / NODES)) }));
    result.load = await loadRows({ opts, targets: loadTargets, values });
    line('load', `${opts.rows.toLocaleString('en-US')} rows in ${fmtSeconds(result.load.seconds)} (${fmtRate(result.load.rowsPerSec, ' rows/s')})`);
    // Flushed everywhere, so killing node3 loses none of the load (periodic commit-log sync).
    const t1 = nowSeconds();
    await Promise.all(cluster.nodes.map((n) => http.post(`${n.http}/v1/admin/flush`, {}, opts.phaseTimeoutSeconds * 1000)));
    result.load.flushSeconds = nowSeconds() - t1;
    line('flush', `every node flushed in ${fmtSeconds(result.load.flushSeconds)}`);

    log(heading(`divergence: node3 killed, ${overwritten.toLocaleString('en-US')} rows overwritten at QUORUM, node3 restarted`));
    const ids = spreadIds(opts.rows, overwritten);
    result.divergence = await diverge({ opts, cluster, http, ids, newValues, poolOf });

    log(heading(`foreground: ${opts.selectConcurrency} SELECTs in flight at ONE, ${opts.idleSeconds} s idle, then during the repair`));
    const selectTargets = cluster.nodes.map((n) => ({ name: n.name, pool: poolOf(n, Math.ceil(opts.selectConcurrency / NODES)) }));
    const foreground = new Foreground(selectTargets, opts, values, newValues);
    collectGarbage();
    const idle = await foreground.measure(opts.idleSeconds);
    line('idle', describeLatency(idle));

    const repairRun = foreground.during(() => http.repair(cluster.nodes[0], KEYSPACE, opts.repairTimeoutSeconds * 1000));
    const { value: report, seconds: repairSeconds, latency: during, timeline } = await repairRun;
    line('during', describeLatency(during));
    // The report's validation time splits the window: trees first, then streams.
    const validationSeconds = report.tables_detail.reduce((n, t) => n + t.validation_ms, 0) / 1000;
    const byPhase = splitTimeline(timeline, validationSeconds);
    line('', `p99 while validating ${fmtMs(byPhase.validation.p99)} (${byPhase.validation.samples} answers), while streaming ${fmtMs(byPhase.streaming.p99)} (${byPhase.streaming.samples} answers)`);
    result.repair = { seconds: repairSeconds, report };
    result.foreground = { idle, during, duringByPhase: byPhase, p99Ratio: idle.latencyMs.p99 > 0 ? during.latencyMs.p99 / idle.latencyMs.p99 : null };
    reportRepair(report, repairSeconds);

    log(heading('check: node3 alone holds every overwritten row'));
    result.verify = await verifyNode3({ cluster, http, ids, rows: opts.rows, seed: opts.seed, values, newValues });
    line('node3', `${result.verify.checked.toLocaleString('en-US')} overwritten rows and ${result.verify.sampled.toLocaleString('en-US')} random rows read at ONE from node3: ${result.verify.wrong} wrong`);

    if (!opts.noSecondRepair) {
      log(heading('second repair (replicas already agree)'));
      const t1 = nowSeconds();
      const again = await http.repair(cluster.nodes[0], KEYSPACE, opts.repairTimeoutSeconds * 1000);
      result.secondRepair = { seconds: nowSeconds() - t1, report: again };
      line('repair', `${fmtSeconds(result.secondRepair.seconds)}: ${again.ranges_compared} ranges compared, ${again.ranges_mismatched} mismatched, ${again.rows_streamed} rows streamed`);
    }

    log(heading('cluster down'));
    const down = await cluster.down();
    if (down.leftOver.length > 0) result.warnings.push(`cluster down left ${down.leftOver.join(', ')} running: killed`);
    line('down', `every node stopped after ${fmtSeconds(down.seconds)}`);

    result.targets = evaluateTargets(result);
    log(heading('targets'));
    log(formatTable([{ header: 'target' }, { header: 'measured', align: 'right' }, { header: 'required' }, { header: 'result' }], result.targets.map((t) => [t.name, t.shown, t.required, t.pass ? 'PASS' : 'FAIL'])));
    result.ok = true;
    if (opts.checkTargets && result.targets.some((t) => t.pass !== true)) outcome = 3;
  } catch (e) {
    result.error = e instanceof Error ? (e.stack ?? e.message) : String(e);
    throw e;
  } finally {
    cluster.killAll();
    await Promise.allSettled(pools.map((p) => p.destroy()));
    await agent.destroy().catch(() => undefined);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    tmp.removeAll();
    result.finishedAt = new Date().toISOString();
    const file = writeResultFile(opts.out, result);
    log(`\nresults: ${file}${result.ok ? '' : ' (run failed; partial results)'}`);
  }
  return outcome;
}

// ---- phases ------------------------------------------------------------------------------------

async function createSchema(http, cluster, opts) {
  const node1 = cluster.nodes[0];
  await http.cql(node1, `CREATE KEYSPACE ${KEYSPACE} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}`);
  await http.cql(node1, `CREATE TABLE ${KEYSPACE}.kv (id bigint PRIMARY KEY, v text)`);
  await waitUntil(opts.phaseTimeoutSeconds, 'the schema on every node', async () => {
    const schemas = await Promise.all(cluster.nodes.map((n) => http.get(`${n.http}/v1/schema`)));
    const has = (s) => s?.keyspaces?.some((k) => k.name === KEYSPACE && k.tables.some((t) => t.name === 'kv'));
    return schemas.every(has) && new Set(schemas.map((s) => s.version)).size === 1;
  });
}

function batchText(rows) {
  return `BEGIN UNLOGGED BATCH ${Array.from({ length: rows }, () => `${INSERT_ONE};`).join(' ')} APPLY BATCH`;
}

const checkVoid = (status, text) => (status === 200 && text.startsWith('{"kind":"void"') ? null : `${status} ${text.slice(0, 300)}`);

/** Rows 0 … rows-1, in batches; every batch acknowledged or the run fails. */
async function loadRows({ opts, targets, values }) {
  const fullBatch = JSON.stringify(batchText(opts.batchRows));
  let next = 0;
  let lastProgress = nowSeconds();
  const t0 = nowSeconds();
  const run = await driveCql({
    targets,
    concurrency: opts.loadConcurrency,
    until: () => next >= opts.rows,
    nextRequest: () => {
      const first = next;
      const count = Math.min(opts.batchRows, opts.rows - first);
      next += count;
      const params = [];
      for (let id = first; id < first + count; id++) params.push(id, values[id % VALUE_POOL]);
      const query = count === opts.batchRows ? fullBatch : JSON.stringify(batchText(count));
      if (nowSeconds() - lastProgress >= PROGRESS_INTERVAL_S) {
        lastProgress = nowSeconds();
        line('', `${next.toLocaleString('en-US')} rows sent after ${fmtSeconds(lastProgress - t0)}`);
      }
      return { body: `{"query":${query},"params":${JSON.stringify(params)},"consistency":"ONE"}`, check: checkVoid };
    },
  });
  const seconds = nowSeconds() - t0;
  if (run.errors > 0) throw new Error(`load: ${run.errors} batches failed (${JSON.stringify(run.errorsByKind)}); first: ${run.problems.slice(0, 3).join(' | ')}`);
  return { batches: run.requests, seconds, rowsPerSec: opts.rows / seconds };
}

/** `count` ids spread evenly over [0, rows). */
function spreadIds(rows, count) {
  return Array.from({ length: count }, (_, i) => Math.floor((i * rows) / count));
}

async function diverge({ opts, cluster, http, ids, newValues, poolOf }) {
  const [node1, node2, node3] = cluster.nodes;
  const t0 = nowSeconds();
  process.kill(node3.pid, 'SIGKILL');
  await waitUntil(opts.phaseTimeoutSeconds, 'node3 DOWN on node1 and node2', async () => {
    const views = await Promise.all([node1, node2].map((n) => http.status(n)));
    return views.every((v) => entryOf(v, node3)?.status === 'DOWN');
  });
  const downSeconds = nowSeconds() - t0;
  line('down', `node3 killed (pid ${node3.pid}), DOWN on node1 and node2 after ${fmtSeconds(downSeconds)}`);
  const targets = [node1, node2].map((n) => ({ name: n.name, pool: poolOf(n, 8) }));
  let next = 0;
  const t1 = nowSeconds();
  const run = await driveCql({
    targets,
    concurrency: 16,
    until: () => next >= ids.length,
    nextRequest: () => {
      const id = ids[next++];
      return { body: `{"query":"${INSERT_ONE}","params":[${id},"${newValues[id % VALUE_POOL]}"],"consistency":"QUORUM"}`, check: checkVoid };
    },
  });
  if (run.errors > 0) throw new Error(`overwrites: ${run.errors} failed (${JSON.stringify(run.errorsByKind)}); first: ${run.problems.slice(0, 3).join(' | ')}`);
  const writeSeconds = nowSeconds() - t1;
  line('overwrite', `${ids.length.toLocaleString('en-US')} rows at QUORUM in ${fmtSeconds(writeSeconds)}`);
  const t2 = nowSeconds();
  await cluster.start('node3');
  await waitUntil(opts.phaseTimeoutSeconds, 'every node UP everywhere', async () => {
    const views = await Promise.all(cluster.nodes.map((n) => http.status(n)));
    return views.every((v) => cluster.nodes.every((n) => entryOf(v, n)?.status === 'UP'));
  });
  const restartSeconds = nowSeconds() - t2;
  line('restart', `node3 back and every node UP everywhere after ${fmtSeconds(restartSeconds)}`);
  return { rows: ids.length, downSeconds, writeSeconds, restartSeconds };
}

/** Foreground SELECTs by random id at ONE; each measurement window has its own recorder. */
class Foreground {
  constructor(targets, opts, values, newValues) {
    this.targets = targets;
    this.opts = opts;
    this.values = values;
    this.newValues = newValues;
    this.next = prng32(opts.seed + 7);
    this.windows = 0;
  }

  /**
   * Answers must be 200 with one row holding the old or the new value of the id, or no row: a
   * read at ONE may reach a replica that missed the row (a write at ONE it dropped), which is
   * what repair is for. Missing rows are counted; the check after the repair reads them back.
   */
  nextRequest(window) {
    const id = nextBelow(this.next, this.opts.rows);
    const check = (status, text) => {
      if (status !== 200) return `${status} ${text.slice(0, 300)}`;
      const rows = JSON.parse(text).rows;
      if (Array.isArray(rows) && rows.length === 0) {
        window.missing++;
        return null;
      }
      if (!Array.isArray(rows) || rows.length !== 1) return `id ${id}: ${rows?.length ?? 'no'} rows`;
      const v = rows[0].v;
      return v === this.values[id % VALUE_POOL] || v === this.newValues[id % VALUE_POOL] ? null : `id ${id}: wrong value`;
    };
    return { body: `{"query":"${SELECT_ONE}","params":[${id}],"consistency":"ONE"}`, check };
  }

  /** `timeline`, when given, gets [seconds since the start, ms] of every answer (bounded). */
  async run(until, timeline = null) {
    const latencies = new LatencyRecorder(this.opts.seed + ++this.windows);
    const window = { missing: 0 };
    const t0 = nowSeconds();
    const recorder = {
      record: (ms) => {
        latencies.record(ms);
        if (timeline !== null && timeline.length < MAX_TIMELINE) timeline.push([nowSeconds() - t0, ms]);
      },
    };
    const run = await driveCql({ targets: this.targets, concurrency: this.opts.selectConcurrency, nextRequest: () => this.nextRequest(window), until, recorder });
    const seconds = nowSeconds() - t0;
    if (run.errors > 0) throw new Error(`foreground SELECTs: ${run.errors} bad answers (${JSON.stringify(run.errorsByKind)}); first: ${run.problems.slice(0, 3).join(' | ')}`);
    return { requests: run.requests, rowsMissing: window.missing, seconds, requestsPerSec: run.requests / seconds, latencyMs: latencies.summary() };
  }

  measure(seconds) {
    const deadline = nowSeconds() + seconds;
    return this.run(() => nowSeconds() >= deadline);
  }

  /**
   * Runs `operation` while measuring; resolves with its value, its seconds, the latencies, and
   * every answer's [seconds since the start, ms] (to split the window by the repair's phases).
   */
  async during(operation) {
    let done = false;
    const t0 = nowSeconds();
    const timeline = [];
    const op = operation().finally(() => (done = true));
    const [latency, value] = await Promise.all([this.run(() => done, timeline), op]);
    return { value, seconds: nowSeconds() - t0, latency, timeline };
  }
}

/** p50/p99 of the answers before and after `boundarySeconds` (single-table repairs: validation, then streaming). */
function splitTimeline(timeline, boundarySeconds) {
  const summary = (ms) => {
    const sorted = Float64Array.from(ms).sort();
    return { samples: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.length ? sorted[sorted.length - 1] : null };
  };
  return {
    boundarySeconds,
    validation: summary(timeline.filter(([t]) => t < boundarySeconds).map(([, ms]) => ms)),
    streaming: summary(timeline.filter(([t]) => t >= boundarySeconds).map(([, ms]) => ms)),
  };
}

function describeLatency(w) {
  const l = w.latencyMs;
  const missing = w.rowsMissing > 0 ? `; ${w.rowsMissing} reads found no row` : '';
  return `${fmtRate(w.requestsPerSec, ' req/s')} over ${fmtSeconds(w.seconds)}: p50 ${fmtMs(l.p50)}, p99 ${fmtMs(l.p99)}, p99.9 ${fmtMs(l.p999)}, max ${fmtMs(l.max)}${missing}`;
}

function reportRepair(report, seconds) {
  line('repair', `${fmtSeconds(seconds)} (node's own count ${fmtSeconds(report.duration_ms / 1000)}): ${report.ranges_compared} ranges compared, ${report.ranges_mismatched} mismatched, ${report.ranges_skipped} skipped`);
  line('', `streamed ${report.rows_streamed.toLocaleString('en-US')} rows, ${report.partitions_streamed.toLocaleString('en-US')} partitions, ${fmtBytes(report.bytes_streamed)} in ${report.transfers} transfers`);
  for (const t of report.tables_detail) line('', `${t.keyspace}.${t.table}: estimates, trees and comparison ${fmtSeconds(t.validation_ms / 1000)}, streaming ${fmtSeconds(t.streaming_ms / 1000)}`);
  if (report.failures.length > 0) line('failures', report.failures.join(' | '));
}

/**
 * Read at ONE from node3 (it coordinates, so it answers from its own data): every overwritten
 * row (up to VERIFY_SAMPLE_MAX, evenly picked) must hold its new value, and VERIFY_SAMPLE_MAX
 * random rows their current value (new if overwritten, else the loaded one).
 */
async function verifyNode3({ cluster, http, ids, rows, seed, values, newValues }) {
  const node3 = cluster.nodes[2];
  const isOverwritten = new Set(ids);
  const step = Math.max(1, Math.ceil(ids.length / VERIFY_SAMPLE_MAX));
  const next = prng32(seed + 11);
  const random = Array.from({ length: Math.min(VERIFY_SAMPLE_MAX, rows) }, () => nextBelow(next, rows));
  const sample = [...ids.filter((_, i) => i % step === 0), ...random];
  let wrong = 0;
  const firstWrong = [];
  let at = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (at < sample.length) {
        const id = sample[at++];
        const expected = (isOverwritten.has(id) ? newValues : values)[id % VALUE_POOL];
        const answer = (await http.cql(node3, SELECT_ONE, [id], 'ONE')).rows;
        if (answer?.[0]?.v !== expected) {
          wrong++;
          if (firstWrong.length < 5) firstWrong.push(id);
        }
      }
    }),
  );
  if (wrong > 0) throw new Error(`node3 misses ${wrong} of ${sample.length} rows after the repair (ids ${firstWrong.join(', ')}, …)`);
  return { checked: sample.length - random.length, sampled: random.length, wrong };
}

function evaluateTargets(result) {
  const ratio = result.foreground?.p99Ratio ?? null;
  const second = result.secondRepair?.report;
  const targets = [
    { name: 'foreground SELECT p99 during repair / idle p99', measured: ratio, shown: ratio == null ? '-' : `${ratio.toFixed(2)}×`, required: `≤ ${P99_RATIO_TARGET}×`, pass: ratio != null && ratio <= P99_RATIO_TARGET },
    { name: 'node3 holds every row checked after the repair', measured: result.verify?.wrong ?? null, shown: `${result.verify?.wrong ?? '-'} wrong`, required: '0 wrong', pass: result.verify?.wrong === 0 },
    { name: 'repair reports no failure', measured: result.repair?.report.failures.length ?? null, shown: String(result.repair?.report.failures.length ?? '-'), required: '0', pass: result.repair?.report.failures.length === 0 },
  ];
  if (second !== undefined) targets.push({ name: 'a second repair streams nothing', measured: second.rows_streamed, shown: `${second.rows_streamed} rows`, required: '0 rows', pass: second.rows_streamed === 0 });
  return targets;
}

// ---- the local cluster and HTTP ----------------------------------------------------------------

async function waitUntil(timeoutSeconds, what, condition) {
  const deadline = nowSeconds() + timeoutSeconds;
  for (;;) {
    if (await condition()) return;
    if (nowSeconds() > deadline) throw new Error(`timed out after ${timeoutSeconds} s waiting for ${what}`);
    await sleep(50);
  }
}

const entryOf = (report, node) => report?.nodes?.find((x) => x.internode === node.internode);

/** Alive = signalable and not a zombie. */
function alive(pid) {
  if (!(pid > 0)) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if (e.code !== 'EPERM') return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
  } catch {
    return true;
  }
}

/** A `ringtail cluster` in a directory, driven through the CLI; every PID it ever had is remembered. */
class LocalCluster {
  constructor(timeoutMs) {
    this.timeoutMs = timeoutMs;
    this.dir = null;
    this.nodes = [];
    this.pids = new Set();
  }

  async up(dir, count, sets) {
    this.dir = dir;
    const r = await this.cli(['up', '--nodes', String(count), '--ports', 'auto', ...sets.flatMap((s) => ['--set', s])]);
    if (r.code !== 0) throw new Error(`cluster up exited ${r.code}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  }

  async start(name) {
    const r = await this.cli(['start', name]);
    if (r.code !== 0) throw new Error(`cluster start ${name} exited ${r.code}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  }

  async down() {
    const t0 = nowSeconds();
    const r = await this.cli(['down']);
    if (r.code !== 0) throw new Error(`cluster down exited ${r.code}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
    const leftOver = [...this.pids].filter(alive);
    this.killAll();
    return { seconds: nowSeconds() - t0, leftOver };
  }

  /** SIGKILLs every PID this cluster ever had that is still alive. Synchronous (signal handlers). */
  killAll() {
    try {
      if (this.dir !== null) this.reload();
    } catch {
      // a half-written cluster.json: kill what is known
    }
    for (const pid of this.pids) {
      if (!alive(pid)) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  }

  reload() {
    const file = path.join(this.dir, 'cluster.json');
    if (!fs.existsSync(file)) return;
    this.nodes = JSON.parse(fs.readFileSync(file, 'utf8')).nodes;
    for (const n of this.nodes) this.pids.add(n.pid);
  }

  cli(args) {
    return runClusterCommand(this.dir, args, CLI_TIMEOUT_MS).finally(() => this.reload());
  }
}

class HttpClient {
  constructor(agent, request) {
    this.agent = agent;
    this.request = request;
  }

  /** `GET url` → parsed JSON, or null on any failure (a node being down is expected here). */
  async get(url) {
    try {
      const res = await this.request(url, { dispatcher: this.agent });
      const text = await res.body.text();
      return res.statusCode === 200 ? JSON.parse(text) : null;
    } catch {
      return null;
    }
  }

  status(node) {
    return this.get(`${node.http}/v1/status`);
  }

  async post(url, body, timeoutMs) {
    const res = await this.request(url, {
      method: 'POST',
      dispatcher: this.agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`POST ${url}: ${res.statusCode} ${text.slice(0, 500)}`);
    return JSON.parse(text);
  }

  cql(node, query, params = null, consistency = 'ONE') {
    return this.post(`${node.http}/v1/cql`, { query, params, consistency }, STATUS_TIMEOUT_MS);
  }

  repair(node, keyspace, timeoutMs) {
    return this.post(`${node.http}/v1/admin/repair`, { keyspace }, timeoutMs);
  }
}
