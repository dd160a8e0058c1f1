/**
 * Cluster benchmark: failure detection of a local cluster of real node processes (issue #4 §3),
 * under load and on demand.
 *
 *   npm run bench -- cluster [--nodes N] [--load-seconds S] [--kills N] [--pauses N]   (--help for all)
 *
 * 1. `ringtail cluster up --nodes N --ports auto` in a temporary directory; a keyspace with
 *    SimpleStrategy RF 1 and a table `kv (id bigint PRIMARY KEY, v blob)`, created on node1 and
 *    awaited on every node.
 * 2. Stability phase, `--load-seconds`: on every node `--concurrency` workers (one keep-alive
 *    undici connection each) send `POST /v1/cql` back to back, half INSERTs of `--value-bytes`
 *    blobs under new keys, half SELECTs by key of rows that node acknowledged (each answer must
 *    hold the value written). Meanwhile every node's `/v1/status` is polled every `--poll-ms`
 *    (on connections of their own) and every node's `/metrics` once a second. All nodes are
 *    alive throughout, so any DOWN is a false DOWN: counted as seen in the polls (transitions of
 *    one observer's view of one peer) and, as the authority that also catches a flip shorter
 *    than a poll, from the `peer DOWN` lines of every node's log. The max phi is the largest
 *    `ringtail_peer_phi` (and `/v1/status` `phi`) seen.
 * 3. Detection runs, without load: `--kills` times SIGKILL a random node other than node1 (by
 *    PID, from this process: no CLI start-up in the measurement), poll every survivor's
 *    `/v1/status` every `--detect-poll-ms` until it reports the victim DOWN, then `ringtail
 *    cluster start` it and wait until every node sees every node UP; then `--pauses` times the
 *    same with SIGSTOP, and SIGCONT instead of a restart. A detection time is when the first
 *    answer showing DOWN arrived: it errs late by at most one poll interval and one request.
 *
 * Targets (issue #4): SIGKILL → DOWN on every survivor within 3 s, median within 2 s; SIGSTOP →
 * DOWN within 5 s; no false DOWN during the stability phase.
 *
 * Every loop is bounded in time (`--load-seconds`, `--detect-timeout-seconds`, the convergence
 * and CLI timeouts). Every node is stopped by PID at the end: `cluster down`, then SIGKILL for
 * anything left; on an error, or on SIGINT/SIGTERM, SIGKILL at once. The launcher is
 * `bin/ringtail` (which runs `dist/`: `npm run build`), or `$RINGTAIL_BIN` for a private build.
 * Results: a report on stdout and a JSON file <out>/cluster-<ISO time>.json.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { parseOptions, usageText } from './lib/args.mjs';
import { resultHeader, writeResultFile, TempDirs } from './lib/env.mjs';
import { fmtBytes, fmtMs, fmtRate, fmtSeconds, nowSeconds, percentile, round } from './lib/stats.mjs';
import { formatTable, heading } from './lib/table.mjs';
import { LatencyRecorder } from './lib/latency.mjs';
import { nextBelow, prng32 } from './lib/workload.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(HERE, '..');
const BIN = process.env.RINGTAIL_BIN ?? path.join(ROOT, 'bin', 'ringtail');
const CLI_MODULE = path.join(path.dirname(BIN), '..', 'dist', 'cli', 'main.js');

const TARGETS = {
  killMaxMs: 3000, // every survivor reports a SIGKILLed node DOWN within 3 s
  killMedianMs: 2000, // median within 2 s
  pauseMaxMs: 5000, // a SIGSTOPped node within 5 s
  falseDowns: 0, // during the stability phase
};

const KEYSPACE = 'bench_cluster';
const INSERT_QUERY = `INSERT INTO ${KEYSPACE}.kv (id, v) VALUES (?, ?)`;
const SELECT_QUERY = `SELECT v FROM ${KEYSPACE}.kv WHERE id = ?`;
/** Distinct values cycled through by the writers (generated before timing). */
const VALUE_POOL = 1024;
/** Keys of node K are K·KEY_SPACE + n: disjoint per node, below 2^53. */
const KEY_SPACE = 1e12;
/** Acknowledged keys remembered per node for reads (beyond that, random slots are replaced). */
const MAX_TRACKED_KEYS = 1 << 22;
/** Latency samples kept per request kind (a reservoir beyond that). */
/** Bad answers kept verbatim for the report. */
const MAX_KEPT_PROBLEMS = 20;
const CLI_TIMEOUT_MS = 150_000;
const CONVERGENCE_TIMEOUT_MS = 60_000;
const STATUS_TIMEOUT_MS = 5_000;
const METRICS_INTERVAL_MS = 1_000;
const PROGRESS_INTERVAL_MS = 10_000;

export const SPEC = {
  nodes: { kind: 'int', default: 3, min: 2, max: 16, help: 'nodes in the local cluster' },
  'load-seconds': { kind: 'number', default: 600, min: 0, help: 'length of the stability phase under load (0 skips it)' },
  concurrency: { kind: 'int', default: 64, min: 1, max: 1000, help: 'requests in flight per node during the load phase' },
  'value-bytes': { kind: 'int', default: 1000, min: 1, max: 1 << 20, help: 'bytes per row value (a blob)' },
  'read-fraction': { kind: 'number', default: 0.5, min: 0, max: 1, help: 'share of SELECTs in the load (the rest INSERTs)' },
  'poll-ms': { kind: 'int', default: 250, min: 10, help: "interval of the /v1/status polls during the load phase" },
  kills: { kind: 'int', default: 10, min: 0, help: 'SIGKILL detection runs' },
  pauses: { kind: 'int', default: 5, min: 0, help: 'SIGSTOP detection runs' },
  'detect-poll-ms': { kind: 'int', default: 20, min: 5, help: "interval of the survivors' /v1/status polls during a detection run" },
  'detect-timeout-seconds': { kind: 'number', default: 15, min: 1, help: 'give up waiting for one detection after this long (a miss fails the target)' },
  out: { kind: 'string', default: path.join(HERE, 'out'), defaultText: 'bench/out', help: 'directory for the results JSON' },
  'data-dir': { kind: 'string', default: os.tmpdir(), defaultText: 'the OS temp dir', help: "where the cluster's temporary directory is made (removed at the end)" },
  seed: { kind: 'int', default: 42, min: 0, help: 'seed of the values, keys read and victims' },
  'check-targets': { kind: 'flag', help: 'exit with code 3 when a target fails' },
};

export function usage() {
  return `usage: npm run bench -- cluster [options]\n\n${usageText(SPEC)}`;
}

const log = (s = '') => process.stdout.write(`${s}\n`);
/** phi is tiny on a healthy cluster (1e-30 and less): show its magnitude, not 0.000. */
const fmtPhi = (phi) => (phi === 0 || phi >= 0.01 ? phi.toFixed(3) : phi.toExponential(1));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function main(argv) {
  const opts = parseOptions(argv, SPEC);
  if (opts.help) {
    log(usage());
    return 0;
  }
  if (!fs.existsSync(CLI_MODULE)) throw new Error(`${CLI_MODULE} not found: build first (npm run build)`);
  const { Agent, Pool } = await import('undici');

  const startedAt = new Date();
  const result = {
    ...resultHeader('cluster', startedAt),
    params: {
      nodes: opts.nodes,
      loadSeconds: opts.loadSeconds,
      concurrencyPerNode: opts.concurrency,
      valueBytes: opts.valueBytes,
      readFraction: opts.readFraction,
      pollMs: opts.pollMs,
      kills: opts.kills,
      pauses: opts.pauses,
      detectPollMs: opts.detectPollMs,
      detectTimeoutSeconds: opts.detectTimeoutSeconds,
      seed: opts.seed,
      launcher: BIN,
      replication: "SimpleStrategy, replication_factor 1",
      client: 'undici Pool per node, keep-alive, one request in flight per connection; status polls on a separate Agent',
    },
    cluster: null,
    stability: null,
    detection: { kill: null, pause: null },
    targets: [],
    warnings: [],
    error: null,
  };
  const m = result.machine;
  log(`ringtail cluster benchmark — ${opts.nodes} nodes, ${opts.loadSeconds} s of load at ${opts.concurrency} in flight per node, ${opts.kills} kills, ${opts.pauses} pauses`);
  log(`machine: ${m.cpuModel}, ${m.cores} cores, ${fmtBytes(m.totalMemBytes)} RAM, node ${m.node}, ${m.platform}`);
  log(`command: ${result.command}`);

  // Registered before TempDirs' own handlers, so on Ctrl-C the nodes die before their directory goes.
  const cluster = new LocalCluster();
  const onSignal = () => cluster.killAll();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const tmp = new TempDirs(opts.dataDir, 'ringtail-bench-cluster-');
  const statusAgent = new Agent({ connections: 4, headersTimeout: STATUS_TIMEOUT_MS, bodyTimeout: STATUS_TIMEOUT_MS, keepAliveTimeout: 60_000 });
  const http = new StatusClient(statusAgent);
  let outcome = 0;
  try {
    log(heading(`cluster up: ${opts.nodes} nodes`));
    const dir = tmp.make('cluster');
    const up = await cluster.up(dir, opts.nodes);
    result.cluster = { upSeconds: up.seconds, nodes: cluster.nodes.map((n) => ({ name: n.name, http: n.http, internode: n.internode, host_id: n.host_id })) };
    line('up', `every node sees every node UP after ${fmtSeconds(up.seconds)} (${cluster.nodes.map((n) => `${n.name} pid ${n.pid}`).join(', ')})`);
    await createSchema(http, cluster);

    if (opts.loadSeconds > 0) {
      log(heading(`stability: ${opts.loadSeconds} s of INSERT + SELECT on every node, /v1/status every ${opts.pollMs} ms`));
      result.stability = await stabilityPhase({ opts, cluster, http, Pool });
      reportStability(result.stability);
    }
    if (opts.kills > 0) {
      log(heading(`detection: ${opts.kills} × SIGKILL a random node other than node1, then restart it`));
      result.detection.kill = await detectionRuns({ opts, cluster, http, kind: 'kill', runs: opts.kills });
    }
    if (opts.pauses > 0) {
      log(heading(`detection: ${opts.pauses} × SIGSTOP a random node other than node1, then SIGCONT`));
      result.detection.pause = await detectionRuns({ opts, cluster, http, kind: 'pause', runs: opts.pauses });
    }

    log(heading('cluster down'));
    const down = await cluster.down();
    result.cluster.downSeconds = down.seconds;
    line('down', `every node stopped after ${fmtSeconds(down.seconds)}`);
    if (down.leftOver.length > 0) result.warnings.push(`cluster down left ${down.leftOver.join(', ')} running: killed`);

    result.targets = evaluateTargets(result);
    report(result);
    result.ok = true;
    if (opts.checkTargets && result.targets.some((t) => t.pass !== true)) outcome = 3;
  } catch (e) {
    result.error = e instanceof Error ? (e.stack ?? e.message) : String(e);
    throw e;
  } finally {
    cluster.killAll();
    await statusAgent.destroy().catch(() => undefined);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    tmp.removeAll();
    result.finishedAt = new Date().toISOString();
    const file = writeResultFile(opts.out, result, (key) => /phi/i.test(key));
    log(`\nresults: ${file}${result.ok ? '' : ' (run failed; partial results)'}`);
  }
  return outcome;
}

// ---- the local cluster -------------------------------------------------------------------------

/** Alive = signalable and not a zombie (an exited node waiting to be reaped holds nothing). */
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
  constructor() {
    this.dir = null;
    this.nodes = [];
    this.pids = new Set();
  }

  async up(dir, count) {
    this.dir = dir;
    const t0 = nowSeconds();
    const up = await this.cli(['up', '--nodes', String(count), '--ports', 'auto', '--json']);
    if (up.code !== 0) throw new Error(`cluster up exited ${up.code}\n${up.stdout.slice(-2000)}\n${up.stderr.slice(-2000)}`);
    return { seconds: nowSeconds() - t0 };
  }

  /** Restarts a stopped or killed node; the CLI returns once the cluster converged again. */
  async start(name) {
    const t0 = nowSeconds();
    const r = await this.cli(['start', name]);
    if (r.code !== 0) throw new Error(`cluster start ${name} exited ${r.code}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
    return nowSeconds() - t0;
  }

  async down() {
    const t0 = nowSeconds();
    const r = await this.cli(['down']);
    if (r.code !== 0) throw new Error(`cluster down exited ${r.code}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
    const leftOver = [...this.pids].filter(alive);
    this.killAll();
    return { seconds: nowSeconds() - t0, leftOver };
  }

  /**
   * SIGKILLs every PID this cluster ever had that is still alive (SIGKILL also ends a stopped
   * process). Re-reads cluster.json first: a `cluster start` cut short may have spawned a node
   * not seen yet. Synchronous, so it can run in a signal handler.
   */
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

  node(name) {
    const node = this.nodes.find((n) => n.name === name);
    if (!node) throw new Error(`no ${name} in cluster.json`);
    return node;
  }

  reload() {
    const file = path.join(this.dir, 'cluster.json');
    if (!fs.existsSync(file)) return;
    this.nodes = JSON.parse(fs.readFileSync(file, 'utf8')).nodes;
    for (const n of this.nodes) this.pids.add(n.pid);
  }

  logOf(node) {
    return path.join(path.dirname(node.config), 'node.log');
  }

  cli(args) {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, 'cluster', ...args, '--dir', this.dir], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (s) => (stdout += s));
      child.stderr.setEncoding('utf8').on('data', (s) => (stderr += s));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        this.reload();
        reject(new Error(`ringtail cluster ${args.join(' ')} did not finish within ${CLI_TIMEOUT_MS / 1000} s\n${stderr.slice(-2000)}`));
      }, CLI_TIMEOUT_MS);
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        this.reload();
        resolve({ code, stdout, stderr });
      });
    });
  }
}

// ---- status polling ----------------------------------------------------------------------------

class StatusClient {
  constructor(agent) {
    this.agent = agent;
  }

  /** `GET url` → parsed JSON / text, or null on any failure (a node being down is expected here). */
  async get(url, { json = true } = {}) {
    const { request } = await import('undici');
    try {
      const res = await request(url, { dispatcher: this.agent, headersTimeout: STATUS_TIMEOUT_MS, bodyTimeout: STATUS_TIMEOUT_MS });
      const text = await res.body.text();
      if (res.statusCode !== 200) return null;
      return json ? JSON.parse(text) : text;
    } catch {
      return null;
    }
  }

  status(node) {
    return this.get(`${node.http}/v1/status`);
  }

  async post(node, query) {
    const { request } = await import('undici');
    const res = await request(`${node.http}/v1/cql`, { method: 'POST', dispatcher: this.agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`${query}: ${res.statusCode} ${text}`);
  }
}

const entryOf = (report, subject) => report?.nodes?.find((x) => x.internode === subject.internode);
const allUp = (report, nodes) => report != null && nodes.every((n) => entryOf(report, n)?.status === 'UP');

/** Waits until every node answers and sees every node UP; throws after `timeoutMs`. */
async function waitAllUp(http, cluster, timeoutMs = CONVERGENCE_TIMEOUT_MS) {
  const t0 = nowSeconds();
  for (;;) {
    const reports = await Promise.all(cluster.nodes.map((n) => http.status(n)));
    if (reports.every((r) => allUp(r, cluster.nodes))) return nowSeconds() - t0;
    if ((nowSeconds() - t0) * 1000 > timeoutMs) {
      const lagging = cluster.nodes.filter((_, i) => !allUp(reports[i], cluster.nodes)).map((n) => n.name);
      throw new Error(`the cluster did not converge within ${timeoutMs / 1000} s: ${lagging.join(', ')} do not see every node UP`);
    }
    await sleep(20);
  }
}

async function createSchema(http, cluster) {
  const node1 = cluster.nodes[0];
  await http.post(node1, `CREATE KEYSPACE ${KEYSPACE} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`);
  await http.post(node1, `CREATE TABLE ${KEYSPACE}.kv (id bigint PRIMARY KEY, v blob)`);
  const t0 = nowSeconds();
  for (;;) {
    const schemas = await Promise.all(cluster.nodes.map((n) => http.get(`${n.http}/v1/schema`)));
    const has = (s) => s?.keyspaces?.some((k) => k.name === KEYSPACE && k.tables.some((t) => t.name === 'kv'));
    if (schemas.every(has) && new Set(schemas.map((s) => s.version)).size === 1) {
      line('schema', `keyspace ${KEYSPACE} (RF 1) and table kv on every node after ${fmtMs((nowSeconds() - t0) * 1000)}`);
      return;
    }
    if (nowSeconds() - t0 > CONVERGENCE_TIMEOUT_MS / 1000) throw new Error('the schema did not reach every node within 60 s');
    await sleep(20);
  }
}

// ---- stability phase ---------------------------------------------------------------------------


function makeValues(valueBytes, seed) {
  const next = prng32(seed);
  const values = [];
  for (let i = 0; i < VALUE_POOL; i++) {
    const bytes = Buffer.allocUnsafe(valueBytes);
    for (let j = 0; j < valueBytes; j++) bytes[j] = next() & 0xff;
    values.push(`0x${bytes.toString('hex')}`);
  }
  return values;
}

/** One node's load: `concurrency` workers, each one request at a time, until `deadline` (nowSeconds()). */
async function loadNode({ pool, index, opts, values, deadline, stats, insertLatency, selectLatency }) {
  const next = prng32(opts.seed * 7919 + index);
  const acked = [];
  let nextKey = (index + 1) * KEY_SPACE;
  const keep = (key) => {
    if (acked.length < MAX_TRACKED_KEYS) acked.push(key);
    else acked[nextBelow(next, MAX_TRACKED_KEYS)] = key;
  };
  const problem = (text) => {
    if (stats.problems.length < MAX_KEPT_PROBLEMS) stats.problems.push(text);
  };
  const worker = async () => {
    while (nowSeconds() < deadline) {
      const read = acked.length > 0 && next() / 4294967296 < opts.readFraction;
      const key = read ? acked[nextBelow(next, acked.length)] : nextKey++;
      const value = values[key % VALUE_POOL];
      const body = read ? `{"query":"${SELECT_QUERY}","params":[${key}]}` : `{"query":"${INSERT_QUERY}","params":[${key},"${value}"]}`;
      const t0 = performance.now();
      let status;
      let text;
      try {
        const res = await pool.request({ path: '/v1/cql', method: 'POST', headers: { 'content-type': 'application/json' }, body });
        status = res.statusCode;
        text = await res.body.text();
      } catch (e) {
        stats.transportErrors++;
        problem(`node${index + 1}: ${e.message}`);
        continue;
      }
      const ms = performance.now() - t0;
      if (status !== 200) {
        stats.errorsByStatus[status] = (stats.errorsByStatus[status] ?? 0) + 1;
        problem(`node${index + 1} ${read ? 'SELECT' : 'INSERT'}: ${status} ${text.slice(0, 200)}`);
        continue;
      }
      if (read) {
        selectLatency.record(ms);
        stats.selects++;
        const rows = JSON.parse(text).rows;
        if (!Array.isArray(rows) || rows.length !== 1 || rows[0].v !== value) {
          stats.wrongReads++;
          problem(`node${index + 1} id ${key}: ${Array.isArray(rows) ? `${rows.length} rows` : 'no rows'}${rows?.length === 1 ? ', wrong value' : ''}`);
        }
      } else {
        insertLatency.record(ms);
        stats.inserts++;
        keep(key);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
}

/**
 * Polls one node's /v1/status every `pollMs` until `deadline`; any DOWN is false (all nodes
 * run), counted per (observer, subject) transition.
 */
async function pollStatus({ http, observer, cluster, pollMs, deadline, watch, t0 }) {
  const down = new Set();
  while (nowSeconds() < deadline) {
    const tick = nowSeconds();
    const report = await http.status(observer);
    watch.polls++;
    if (report === null) watch.pollFailures++;
    else {
      for (const subject of cluster.nodes) {
        if (subject === observer) continue;
        const e = entryOf(report, subject);
        if (e !== undefined && e.phi > watch.maxPhiStatus) watch.maxPhiStatus = e.phi;
        const isDown = e === undefined || e.status !== 'UP';
        if (isDown && !down.has(subject.name)) {
          down.add(subject.name);
          watch.falseDowns.push({ atSeconds: round(tick - t0, 2), observer: observer.name, subject: subject.name, phi: e?.phi ?? null, seen: e === undefined ? 'missing' : e.status });
        } else if (!isDown) down.delete(subject.name);
      }
    }
    const waitMs = pollMs - (nowSeconds() - tick) * 1000;
    if (waitMs > 0) await sleep(Math.min(waitMs, (deadline - nowSeconds()) * 1000));
  }
}

/** Once a second: the node's largest `ringtail_peer_phi` and its event-loop delay p99. */
async function pollMetrics({ http, node, deadline, watch }) {
  while (nowSeconds() < deadline) {
    const tick = nowSeconds();
    const text = await http.get(`${node.http}/metrics`, { json: false });
    if (text !== null) {
      for (const match of text.matchAll(/^ringtail_peer_phi\{[^}]*\} (\S+)$/gm)) {
        const phi = Number(match[1]);
        if (phi > watch.maxPhiMetrics) watch.maxPhiMetrics = phi;
      }
      const lag = /^nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(text);
      if (lag) watch.maxLoopP99Ms[node.name] = Math.max(watch.maxLoopP99Ms[node.name] ?? 0, Number(lag[1]) * 1000);
    }
    const waitMs = METRICS_INTERVAL_MS - (nowSeconds() - tick) * 1000;
    if (waitMs > 0) await sleep(Math.min(waitMs, (deadline - nowSeconds()) * 1000));
  }
}

/** `peer DOWN` lines in every node's log at or after `sinceMs` (epoch ms). */
function loggedDowns(cluster, sinceMs, untilMs) {
  const out = [];
  for (const node of cluster.nodes) {
    let text;
    try {
      text = fs.readFileSync(cluster.logOf(node), 'utf8');
    } catch {
      continue;
    }
    for (const lineText of text.split('\n')) {
      if (!lineText.includes('peer DOWN')) continue;
      let entry;
      try {
        entry = JSON.parse(lineText);
      } catch {
        continue;
      }
      if (entry.msg === 'peer DOWN' && entry.time >= sinceMs && entry.time <= untilMs) {
        const subject = cluster.nodes.find((n) => n.internode === entry.peer)?.name ?? entry.peer;
        out.push({ atSeconds: round((entry.time - sinceMs) / 1000, 2), observer: node.name, subject, reason: entry.reason ?? null });
      }
    }
  }
  return out.sort((a, b) => a.atSeconds - b.atSeconds);
}

async function stabilityPhase({ opts, cluster, http, Pool }) {
  const values = makeValues(opts.valueBytes, opts.seed);
  const pools = cluster.nodes.map((n) => new Pool(n.http, { connections: opts.concurrency, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 30_000, bodyTimeout: 30_000 }));
  const stats = { inserts: 0, selects: 0, wrongReads: 0, transportErrors: 0, errorsByStatus: {}, problems: [] };
  const watch = { polls: 0, pollFailures: 0, maxPhiStatus: 0, maxPhiMetrics: 0, maxLoopP99Ms: {}, falseDowns: [] };
  const insertLatency = new LatencyRecorder(opts.seed + 1);
  const selectLatency = new LatencyRecorder(opts.seed + 2);
  const startedMs = Date.now();
  const t0 = nowSeconds();
  const deadline = t0 + opts.loadSeconds;
  let progress = null;
  try {
    let last = { at: t0, ops: 0 };
    progress = setInterval(() => {
      const now = nowSeconds();
      const ops = stats.inserts + stats.selects;
      const dead = cluster.nodes.filter((n) => !alive(n.pid)).map((n) => n.name);
      const errors = stats.transportErrors + Object.values(stats.errorsByStatus).reduce((a, b) => a + b, 0);
      log(`  ${fmtSeconds(now - t0).padStart(7)}  ${fmtRate((ops - last.ops) / (now - last.at), ' req/s')} (all nodes)  errors ${errors}  wrong reads ${stats.wrongReads}  false DOWN ${watch.falseDowns.length}  max phi ${fmtPhi(Math.max(watch.maxPhiMetrics, watch.maxPhiStatus))}${dead.length ? `  EXITED: ${dead.join(', ')}` : ''}`);
      last = { at: now, ops };
    }, PROGRESS_INTERVAL_MS);
    await Promise.all([
      ...cluster.nodes.map((node, index) => loadNode({ pool: pools[index], index, opts, values, deadline, stats, insertLatency, selectLatency })),
      ...cluster.nodes.map((observer) => pollStatus({ http, observer, cluster, pollMs: opts.pollMs, deadline, watch, t0 })),
      ...cluster.nodes.map((node) => pollMetrics({ http, node, deadline, watch })),
    ]);
  } finally {
    clearInterval(progress);
    await Promise.allSettled(pools.map((p) => p.close()));
  }
  const seconds = nowSeconds() - t0;
  const exited = cluster.nodes.filter((n) => !alive(n.pid)).map((n) => n.name);
  if (exited.length > 0) throw new Error(`${exited.join(', ')} exited during the load phase: see ${exited.map((name) => cluster.logOf(cluster.node(name))).join(', ')}`);
  const logged = loggedDowns(cluster, startedMs, Date.now());
  return {
    seconds,
    requests: stats.inserts + stats.selects,
    requestsPerSec: (stats.inserts + stats.selects) / seconds,
    inserts: stats.inserts,
    selects: stats.selects,
    wrongReads: stats.wrongReads,
    transportErrors: stats.transportErrors,
    errorsByStatus: stats.errorsByStatus,
    problems: stats.problems,
    latencyMs: { insert: insertLatency.summary(), select: selectLatency.summary() },
    statusPolls: watch.polls,
    statusPollFailures: watch.pollFailures,
    falseDownsPolled: watch.falseDowns,
    falseDownsLogged: logged,
    maxPhi: Math.max(watch.maxPhiMetrics, watch.maxPhiStatus),
    maxPhiMetrics: watch.maxPhiMetrics,
    maxPhiStatus: watch.maxPhiStatus,
    maxEventLoopP99MsByNode: watch.maxLoopP99Ms,
  };
}

function reportStability(s) {
  const errors = s.transportErrors + Object.values(s.errorsByStatus).reduce((a, b) => a + b, 0);
  line('load', `${s.requests.toLocaleString('en-US')} requests in ${fmtSeconds(s.seconds)} (${fmtRate(s.requestsPerSec, ' req/s')}): ${s.inserts.toLocaleString('en-US')} INSERT (p99 ${fmtMs(s.latencyMs.insert.p99)}), ${s.selects.toLocaleString('en-US')} SELECT (p99 ${fmtMs(s.latencyMs.select.p99)})`);
  line('errors', `${errors} (${JSON.stringify(s.errorsByStatus)}, ${s.transportErrors} transport), ${s.wrongReads} wrong reads${s.problems.length ? `; first: ${s.problems[0]}` : ''}`);
  line('liveness', `${s.statusPolls.toLocaleString('en-US')} status polls (${s.statusPollFailures} failed), false DOWN: ${s.falseDownsPolled.length} in polls, ${s.falseDownsLogged.length} in node logs; max phi ${fmtPhi(s.maxPhi)} (threshold 8)`);
  line('loop p99', Object.entries(s.maxEventLoopP99MsByNode).map(([n, ms]) => `${n} ${fmtMs(ms)}`).join(', '));
  for (const d of [...s.falseDownsPolled.map((x) => ({ ...x, source: 'poll' })), ...s.falseDownsLogged.map((x) => ({ ...x, source: 'log' }))].slice(0, 20)) {
    line('FALSE', `${d.source} at ${d.atSeconds} s: ${d.observer} → ${d.subject} ${d.reason ?? d.seen ?? ''}${d.phi != null ? ` phi ${d.phi}` : ''}`);
  }
}

// ---- detection runs ----------------------------------------------------------------------------

/**
 * Per survivor, ms from `originMs` (performance.now()) to the first /v1/status answer showing
 * `victim` DOWN; null if none within the timeout.
 */
async function timeToDown({ http, survivors, victim, originMs, pollMs, timeoutMs }) {
  const times = {};
  await Promise.all(
    survivors.map(async (observer) => {
      for (;;) {
        const report = await http.status(observer);
        const now = performance.now();
        const e = entryOf(report, victim);
        if (e !== undefined && e.status === 'DOWN') {
          times[observer.name] = now - originMs;
          return;
        }
        if (now - originMs > timeoutMs) {
          times[observer.name] = null;
          return;
        }
        await sleep(pollMs);
      }
    }),
  );
  return times;
}

async function detectionRuns({ opts, cluster, http, kind, runs }) {
  const next = prng32(opts.seed + (kind === 'kill' ? 101 : 202));
  const results = [];
  for (let run = 1; run <= runs; run++) {
    await waitAllUp(http, cluster);
    const victim = cluster.nodes[1 + nextBelow(next, cluster.nodes.length - 1)];
    const survivors = cluster.nodes.filter((n) => n !== victim);
    const originMs = performance.now();
    process.kill(victim.pid, kind === 'kill' ? 'SIGKILL' : 'SIGSTOP');
    const times = await timeToDown({ http, survivors, victim, originMs, pollMs: opts.detectPollMs, timeoutMs: opts.detectTimeoutSeconds * 1000 });
    let recoverySeconds;
    if (kind === 'kill') recoverySeconds = await cluster.start(victim.name);
    else {
      const t0 = nowSeconds();
      process.kill(victim.pid, 'SIGCONT');
      await waitAllUp(http, cluster);
      recoverySeconds = nowSeconds() - t0;
    }
    const values = Object.values(times);
    const worst = values.includes(null) ? null : Math.max(...values);
    results.push({ run, victim: victim.name, timesMs: times, maxMs: worst, recoverySeconds });
    line(`${kind} ${run}/${runs}`, `${victim.name} DOWN: ${Object.entries(times).map(([n, t]) => `${n} ${t == null ? 'never' : fmtMs(t)}`).join(', ')}; ${kind === 'kill' ? 'restarted, every node UP' : 'resumed, every node UP'} after ${fmtSeconds(recoverySeconds)}`);
  }
  const observations = results.flatMap((r) => Object.values(r.timesMs));
  const detected = Float64Array.from(observations.filter((t) => t != null)).sort();
  return {
    runs: results,
    observations: observations.length,
    missed: observations.filter((t) => t == null).length,
    medianMs: percentile(detected, 50),
    p90Ms: percentile(detected, 90),
    maxMs: detected.length ? detected[detected.length - 1] : null,
    recoverySeconds: { median: percentile(Float64Array.from(results.map((r) => r.recoverySeconds)).sort(), 50), max: Math.max(...results.map((r) => r.recoverySeconds)) },
  };
}

// ---- results -----------------------------------------------------------------------------------

function line(label, text) {
  log(`  ${label.padEnd(10)} ${text}`);
}

function evaluateTargets(result) {
  const targets = [];
  const kill = result.detection.kill;
  const pause = result.detection.pause;
  const stability = result.stability;
  const worst = (d) => (d == null ? null : d.missed > 0 ? Infinity : d.maxMs);
  targets.push({ name: 'SIGKILL → DOWN on every survivor, max', measured: worst(kill), unit: 'ms', required: `≤ ${TARGETS.killMaxMs} ms`, pass: kill == null ? null : worst(kill) <= TARGETS.killMaxMs });
  targets.push({ name: 'SIGKILL → DOWN, median', measured: kill?.medianMs ?? null, unit: 'ms', required: `≤ ${TARGETS.killMedianMs} ms`, pass: kill == null ? null : kill.medianMs <= TARGETS.killMedianMs });
  targets.push({ name: 'SIGSTOP → DOWN on every survivor, max', measured: worst(pause), unit: 'ms', required: `≤ ${TARGETS.pauseMaxMs} ms`, pass: pause == null ? null : worst(pause) <= TARGETS.pauseMaxMs });
  const polled = stability?.falseDownsPolled.length ?? null;
  const logged = stability?.falseDownsLogged.length ?? null;
  targets.push({ name: `false DOWN under load (/v1/status polls)`, measured: polled, unit: '', required: `${TARGETS.falseDowns}`, pass: polled == null ? null : polled <= TARGETS.falseDowns });
  targets.push({ name: `false DOWN under load (node logs)`, measured: logged, unit: '', required: `${TARGETS.falseDowns}`, pass: logged == null ? null : logged <= TARGETS.falseDowns });
  const wrong = stability?.wrongReads ?? null;
  targets.push({ name: 'reads under load return the value written', measured: wrong, unit: ' wrong', required: '0 wrong', pass: wrong == null ? null : wrong === 0 });
  return targets;
}

function fmtTarget(t) {
  if (t.measured == null) return '-';
  if (t.measured === Infinity) return 'missed';
  return t.unit === 'ms' ? fmtMs(t.measured) : `${t.measured}${t.unit}`;
}

function report(result) {
  log(heading('summary'));
  const rows = [];
  for (const [kind, label] of [['kill', 'SIGKILL → DOWN'], ['pause', 'SIGSTOP → DOWN']]) {
    const d = result.detection[kind];
    if (!d) continue;
    rows.push([label, d.runs.length, d.observations, d.missed, fmtMs(d.medianMs), fmtMs(d.p90Ms), fmtMs(d.maxMs), fmtSeconds(d.recoverySeconds.median)]);
  }
  if (rows.length > 0) {
    log(
      formatTable(
        [
          { header: 'detection' }, { header: 'runs', align: 'right' }, { header: 'observations', align: 'right' }, { header: 'missed', align: 'right' },
          { header: 'median', align: 'right' }, { header: 'p90', align: 'right' }, { header: 'max', align: 'right' }, { header: 'back UP (median)', align: 'right' },
        ],
        rows,
      ),
    );
  }
  const s = result.stability;
  if (s) {
    log('');
    log(
      formatTable(
        [{ header: 'stability phase' }, { header: 'value', align: 'right' }],
        [
          ['seconds under load', fmtSeconds(s.seconds)],
          ['requests (INSERT + SELECT)', `${s.requests.toLocaleString('en-US')} (${fmtRate(s.requestsPerSec, ' req/s')})`],
          ['INSERT p50 / p99', `${fmtMs(s.latencyMs.insert.p50)} / ${fmtMs(s.latencyMs.insert.p99)}`],
          ['SELECT p50 / p99', `${fmtMs(s.latencyMs.select.p50)} / ${fmtMs(s.latencyMs.select.p99)}`],
          ['error answers', String(s.transportErrors + Object.values(s.errorsByStatus).reduce((a, b) => a + b, 0))],
          ['status polls', s.statusPolls.toLocaleString('en-US')],
          ['false DOWN (polls / logs)', `${s.falseDownsPolled.length} / ${s.falseDownsLogged.length}`],
          ['max phi (convicts at 8)', fmtPhi(s.maxPhi)],
          ['max node event-loop p99', fmtMs(Math.max(0, ...Object.values(s.maxEventLoopP99MsByNode)))],
        ],
      ),
    );
  }
  log(heading('targets'));
  log(
    formatTable(
      [{ header: 'target' }, { header: 'measured', align: 'right' }, { header: 'required', align: 'right' }, { header: 'result' }],
      result.targets.map((t) => [t.name, fmtTarget(t), t.required, t.pass == null ? 'n/a (not run)' : t.pass ? 'PASS' : 'FAIL']),
    ),
  );
  if (result.warnings.length > 0) log(`\n${result.warnings.length} warning(s): ${result.warnings.join('; ')}`);
}


// Runnable directly too: node bench/cluster.mjs [options].
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
