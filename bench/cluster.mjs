/**
 * Cluster benchmark of a local cluster of real node processes: QUORUM throughput (issue #5 §5),
 * then failure detection under load and on demand (issue #4 §3).
 *
 *   npm run bench -- cluster [--mode all|quorum|fabric] [--seconds S] [--nodes N]
 *                            [--load-seconds S] [--kills N] [--pauses N]   (--help for all)
 *
 * `--mode quorum` runs step 1 then the QUORUM phases only, `--mode fabric` step 1 then steps
 * 2 and 3 only (the benchmark of issue #4 as it was), `--mode all` (default) both, QUORUM first on
 * the fresh cluster, so `npm run bench -- cluster` reports both sets of figures.
 *
 * 1. `ringtail cluster up --nodes N --ports auto` in a temporary directory.
 * QUORUM phases (issue #5 §5):
 *    keyspace `bench` with SimpleStrategy RF 3 (N if fewer nodes), table `kv (id bigint
 *    PRIMARY KEY, v text)`, awaited on every node. `--quorum-concurrency` requests in flight in
 *    all, one per keep-alive connection, the connections spread round-robin over the nodes (as
 *    a driver's default load balancing does; `--coordinators K` sends to the first K nodes
 *    only, to tell a coordinator's CPU from a replica's). Every request names consistency
 *    QUORUM. Load: `--records` rows of `--value-bytes` characters (untimed for the targets);
 *    then INSERTs of new keys, then SELECT v by uniformly random loaded key, each `--seconds`
 *    long after `--warmup-seconds` not counted. Every answer is checked: 200 and `kind` void for
 *    an INSERT, 200 and the value written for a SELECT (every 16th parsed whole). Reported per
 *    phase: req/s of good answers, p50/p99/p99.9/max, errors by code, and the CPU time each
 *    node process (/proc/PID/stat) and the client spent per request. No token awareness: with
 *    RF = nodes every node replicates every key, so any coordinator is already a replica.
 * Fabric phases (issue #4 §3): a keyspace `bench_cluster` with SimpleStrategy RF 1 and a table
 *    `kv (id bigint PRIMARY KEY, v blob)`, created on node1 and awaited on every node, then:
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
 * Targets (issue #5): ≥ 10,000 QUORUM INSERTs/s and ≥ 10,000 QUORUM SELECTs/s (3 nodes, RF 3,
 * 1 KB rows, 64 in flight, nodes and client sharing one 2-core machine), every answer right.
 * Targets (issue #4): SIGKILL → DOWN on every survivor within 3 s, median within 2 s; SIGSTOP →
 * DOWN within 5 s; no false DOWN during the stability phase.
 *
 * Every loop is bounded in time or count (`--records`, `--seconds`, `--load-seconds`,
 * `--detect-timeout-seconds`, the convergence and CLI timeouts). Every node is stopped by PID at the end: `cluster down`, then SIGKILL for
 * anything left; on an error, or on SIGINT/SIGTERM, SIGKILL at once. The launcher is
 * `bin/ringtail` (which runs `dist/`: `npm run build`), or `$RINGTAIL_BIN` for a private build.
 * Results: a report on stdout and a JSON file <out>/cluster-<ISO time>.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { runClusterCommand } from './lib/local-cluster.mjs';
import { parseOptions, usageText, UsageError } from './lib/args.mjs';
import { CpuMeter, driveCql, textValues } from './lib/cql-load.mjs';
import { collectGarbage, resultHeader, writeResultFile, TempDirs } from './lib/env.mjs';
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
  quorumInsertsPerSec: 10_000, // issue #5 §5, 3 nodes RF 3 on 2 cores with the client
  quorumSelectsPerSec: 10_000,
};

const MODES = ['all', 'quorum', 'fabric'];
const QUORUM_KEYSPACE = 'bench';
const QUORUM_RF = 3;
const QUORUM_INSERT = `INSERT INTO ${QUORUM_KEYSPACE}.kv (id, v) VALUES (?, ?)`;
const QUORUM_SELECT = `SELECT v FROM ${QUORUM_KEYSPACE}.kv WHERE id = ?`;
/** Every 16th SELECT answer is parsed whole (the rest are searched for the value), so the client's JSON parsing does not crowd the nodes out of the shared CPU. */
const PARSE_EVERY = 16;

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
  mode: { kind: 'string', default: 'all', help: `what to run: quorum (QUORUM throughput), fabric (false DOWNs and detection times) or all` },
  seconds: { kind: 'number', default: 10, min: 0.1, help: 'measured seconds of the QUORUM INSERT phase and of the QUORUM SELECT phase' },
  'warmup-seconds': { kind: 'number', default: 2, min: 0, help: 'uncounted seconds of load before each measured QUORUM phase' },
  records: { kind: 'int', default: 100_000, min: 1, help: 'rows loaded at QUORUM before the QUORUM phases; SELECTs read among them' },
  'quorum-concurrency': { kind: 'int', default: 64, min: 1, max: 1000, help: 'QUORUM requests in flight in all, one per connection, connections round-robin over the nodes' },
  coordinators: { kind: 'int', default: 0, min: 0, help: 'send QUORUM requests to the first K nodes only (0 = all), to tell coordinator from replica CPU' },
  nodes: { kind: 'int', default: 3, min: 2, max: 16, help: 'nodes in the local cluster' },
  'load-seconds': { kind: 'number', default: 600, min: 0, help: 'length of the stability phase under load (0 skips it)' },
  concurrency: { kind: 'int', default: 64, min: 1, max: 1000, help: 'requests in flight per node during the stability phase' },
  'value-bytes': { kind: 'int', default: 1000, min: 1, max: 1 << 20, help: 'bytes per row value (text in the QUORUM phases, a blob in the stability phase)' },
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
  if (!MODES.includes(opts.mode)) throw new UsageError(`--mode: unknown '${opts.mode}' (choose from ${MODES.join(', ')})`);
  if (opts.coordinators > opts.nodes) throw new UsageError(`--coordinators: at most --nodes (${opts.nodes}), got ${opts.coordinators}`);
  const runQuorum = opts.mode !== 'fabric';
  const runFabric = opts.mode !== 'quorum';
  if (!fs.existsSync(CLI_MODULE)) throw new Error(`${CLI_MODULE} not found: build first (npm run build)`);
  const { Agent, Pool } = await import('undici');

  const startedAt = new Date();
  const result = {
    ...resultHeader('cluster', startedAt),
    params: {
      mode: opts.mode,
      nodes: opts.nodes,
      quorum: runQuorum
        ? {
            replication: `SimpleStrategy, replication_factor ${Math.min(QUORUM_RF, opts.nodes)}`,
            consistency: 'QUORUM',
            records: opts.records,
            seconds: opts.seconds,
            warmupSeconds: opts.warmupSeconds,
            concurrency: opts.quorumConcurrency,
            coordinators: opts.coordinators || opts.nodes,
            valueBytes: opts.valueBytes,
            client: 'undici Pool per node, keep-alive, one request in flight per connection, connections round-robin over the coordinators',
          }
        : null,
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
    quorum: null,
    stability: null,
    detection: { kill: null, pause: null },
    targets: [],
    warnings: [],
    error: null,
  };
  const m = result.machine;
  const quorumTitle = `QUORUM INSERT and SELECT ${opts.seconds} s each at ${opts.quorumConcurrency} in flight over ${opts.coordinators || opts.nodes} coordinators after ${opts.records.toLocaleString('en-US')} rows`;
  const fabricTitle = `${opts.loadSeconds} s of load at ${opts.concurrency} in flight per node, ${opts.kills} kills, ${opts.pauses} pauses`;
  log(`ringtail cluster benchmark — ${opts.nodes} nodes; ${[runQuorum ? quorumTitle : null, runFabric ? fabricTitle : null].filter(Boolean).join('; then ')}`);
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

    if (runQuorum) {
      log(heading(`QUORUM: ${quorumTitle}`));
      result.quorum = await quorumPhases({ opts, cluster, http, Pool });
    }
    if (runFabric) await createSchema(http, cluster, { keyspace: KEYSPACE, replicationFactor: 1, valueType: 'blob' });

    if (runFabric && opts.loadSeconds > 0) {
      log(heading(`stability: ${opts.loadSeconds} s of INSERT + SELECT on every node, /v1/status every ${opts.pollMs} ms`));
      result.stability = await stabilityPhase({ opts, cluster, http, Pool });
      reportStability(result.stability);
    }
    if (runFabric && opts.kills > 0) {
      log(heading(`detection: ${opts.kills} × SIGKILL a random node other than node1, then restart it`));
      result.detection.kill = await detectionRuns({ opts, cluster, http, kind: 'kill', runs: opts.kills });
    }
    if (runFabric && opts.pauses > 0) {
      log(heading(`detection: ${opts.pauses} × SIGSTOP a random node other than node1, then SIGCONT`));
      result.detection.pause = await detectionRuns({ opts, cluster, http, kind: 'pause', runs: opts.pauses });
    }

    log(heading('cluster down'));
    const down = await cluster.down();
    result.cluster.downSeconds = down.seconds;
    line('down', `every node stopped after ${fmtSeconds(down.seconds)}`);
    if (down.leftOver.length > 0) result.warnings.push(`cluster down left ${down.leftOver.join(', ')} running: killed`);

    result.targets = [...(runQuorum ? quorumTargets(result.quorum) : []), ...(runFabric ? evaluateTargets(result) : [])];
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
    return runClusterCommand(this.dir, args, CLI_TIMEOUT_MS).finally(() => this.reload());
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

/** Creates `keyspace` (SimpleStrategy) and its table `kv (id bigint PRIMARY KEY, v valueType)` on node1; waits until every node has the same schema. */
async function createSchema(http, cluster, { keyspace, replicationFactor, valueType }) {
  const node1 = cluster.nodes[0];
  await http.post(node1, `CREATE KEYSPACE ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': ${replicationFactor}}`);
  await http.post(node1, `CREATE TABLE ${keyspace}.kv (id bigint PRIMARY KEY, v ${valueType})`);
  const t0 = nowSeconds();
  for (;;) {
    const schemas = await Promise.all(cluster.nodes.map((n) => http.get(`${n.http}/v1/schema`)));
    const has = (s) => s?.keyspaces?.some((k) => k.name === keyspace && k.tables.some((t) => t.name === 'kv'));
    if (schemas.every(has) && new Set(schemas.map((s) => s.version)).size === 1) {
      line('schema', `keyspace ${keyspace} (RF ${replicationFactor}) and table kv on every node after ${fmtMs((nowSeconds() - t0) * 1000)}`);
      return;
    }
    if (nowSeconds() - t0 > CONVERGENCE_TIMEOUT_MS / 1000) throw new Error('the schema did not reach every node within 60 s');
    await sleep(20);
  }
}

// ---- QUORUM throughput -------------------------------------------------------------------------

/**
 * The QUORUM phases on the running cluster: schema, load, timed INSERT, timed SELECT. Returns
 * their figures; throws if the load phase had any bad answer (the SELECT checks need every row).
 */
async function quorumPhases({ opts, cluster, http, Pool }) {
  const replicationFactor = Math.min(QUORUM_RF, cluster.nodes.length);
  await createSchema(http, cluster, { keyspace: QUORUM_KEYSPACE, replicationFactor, valueType: 'text' });
  const values = textValues(VALUE_POOL, opts.valueBytes, opts.seed);
  const coordinators = cluster.nodes.slice(0, opts.coordinators || cluster.nodes.length);
  // One connection per worker: worker k uses coordinator k mod K, so no request waits for a connection.
  const connectionsPerNode = Math.ceil(opts.quorumConcurrency / coordinators.length);
  const targets = coordinators.map((n) => ({
    name: n.name,
    pool: new Pool(n.http, { connections: connectionsPerNode, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 30_000, bodyTimeout: 30_000 }),
  }));
  const ctx = { opts, cluster, targets };
  // The figures mean little on a busy machine: say how busy it was (the CPU table says more).
  const loadAverageAtStart = os.loadavg().map((x) => round(x, 2));
  line('machine', `load average ${loadAverageAtStart.join(', ')} (1, 5, 15 min) before the QUORUM phases`);
  try {
    const load = await quorumLoad(ctx, values);
    line('load', `${load.requests.toLocaleString('en-US')} rows in ${fmtSeconds(load.seconds)} (${fmtRate(load.requestsPerSec, ' rows/s')}, p99 ${fmtMs(load.latencyMs.p99)})`);
    let nextId = opts.records;
    const insert = await quorumTimed(ctx, 'INSERT', () => {
      const id = nextId++;
      return { body: quorumInsertBody(id, values), check: checkVoid };
    });
    const nextRandom = prng32(opts.seed + 1);
    const select = await quorumTimed(ctx, 'SELECT', () => {
      const id = nextBelow(nextRandom, opts.records);
      return { body: `{"query":"${QUORUM_SELECT}","params":[${id}],"consistency":"QUORUM"}`, check: (status, text) => checkSelect(id, values, status, text) };
    });
    return {
      replicationFactor,
      consistency: 'QUORUM',
      concurrency: opts.quorumConcurrency,
      valueBytes: opts.valueBytes,
      coordinators: coordinators.map((n) => n.name),
      loadAverageAtStart,
      load,
      insert,
      select,
    };
  } finally {
    await Promise.allSettled(targets.map((t) => t.pool.close()));
  }
}

const quorumValueOf = (values, id) => values[id % VALUE_POOL];
const quorumInsertBody = (id, values) => `{"query":"${QUORUM_INSERT}","params":[${id},"${quorumValueOf(values, id)}"],"consistency":"QUORUM"}`;

function checkVoid(status, text) {
  if (status !== 200) return `${status} ${text.slice(0, 300)}`;
  return text.startsWith('{"kind":"void"') ? null : `unexpected answer ${text.slice(0, 200)}`;
}

function checkSelect(id, values, status, text) {
  if (status !== 200) return `${status} ${text.slice(0, 300)}`;
  const expected = quorumValueOf(values, id);
  if (!text.includes(expected)) return `id ${id}: value missing from ${text.slice(0, 200)}`;
  if (id % PARSE_EVERY !== 0) return null;
  const rows = JSON.parse(text).rows;
  if (!Array.isArray(rows) || rows.length !== 1) return `id ${id}: ${rows?.length ?? 'no'} rows`;
  return rows[0].v === expected ? null : `id ${id}: wrong value`;
}

/** Rows 0 … records-1 at QUORUM, every one acknowledged, or the run fails. */
async function quorumLoad({ opts, cluster, targets }, values) {
  let nextId = 0;
  const recorder = new LatencyRecorder(opts.seed + 3);
  const cpu = new CpuMeter(nodeProcesses(cluster)).start();
  const t0 = nowSeconds();
  const run = await driveCql({
    targets,
    concurrency: opts.quorumConcurrency,
    // Checked and followed by nextRequest() in the same turn, so exactly `records` ids go out.
    until: () => nextId >= opts.records,
    nextRequest: () => {
      const id = nextId++;
      return { body: quorumInsertBody(id, values), check: checkVoid };
    },
    recorder,
  });
  const seconds = nowSeconds() - t0;
  const cpuSeconds = cpu.stop();
  if (run.errors > 0) {
    throw new Error(`QUORUM load: ${run.errors} of ${opts.records} INSERTs failed (${JSON.stringify(run.errorsByKind)}); first: ${run.problems.slice(0, 3).join(' | ')}`);
  }
  return { ...phaseFigures(run, seconds, recorder, cpuSeconds), errorsByKind: run.errorsByKind };
}

/** `--warmup-seconds` uncounted, then `--seconds` measured, of `nextRequest()` at QUORUM. */
async function quorumTimed({ opts, cluster, targets }, label, nextRequest) {
  collectGarbage();
  let warmup = null;
  if (opts.warmupSeconds > 0) {
    const until = nowSeconds() + opts.warmupSeconds;
    const w = await driveCql({ targets, concurrency: opts.quorumConcurrency, nextRequest, until: () => nowSeconds() >= until });
    warmup = { seconds: opts.warmupSeconds, requests: w.requests, errors: w.errors, errorsByKind: w.errorsByKind };
  }
  const recorder = new LatencyRecorder(opts.seed + label.length);
  const cpu = new CpuMeter(nodeProcesses(cluster)).start();
  const t0 = nowSeconds();
  const deadline = t0 + opts.seconds;
  const run = await driveCql({ targets, concurrency: opts.quorumConcurrency, nextRequest, until: () => nowSeconds() >= deadline, recorder });
  const seconds = nowSeconds() - t0;
  const phase = { ...phaseFigures(run, seconds, recorder, cpu.stop()), errors: run.errors, wrongAnswers: run.wrongAnswers, errorsByKind: run.errorsByKind, problems: run.problems, warmup };
  const l = phase.latencyMs;
  line(label, `${fmtRate(phase.requestsPerSec, ' req/s')}, p50 ${fmtMs(l.p50)}, p99 ${fmtMs(l.p99)}, p99.9 ${fmtMs(l.p999)}, max ${fmtMs(l.max)} (${phase.requests.toLocaleString('en-US')} requests, ${run.errors} errors)`);
  line('', `CPU per request: ${Object.entries(phase.cpuMicrosPerRequest).map(([name, us]) => `${name} ${us == null ? '-' : `${Math.round(us)} µs`}`).join(', ')}; CPU-bound rate on ${os.cpus().length} idle cores ${fmtRate(phase.cpuBoundRequestsPerSec, ' req/s')}`);
  if (run.errors > 0) line('', `errors: ${JSON.stringify(run.errorsByKind)}; first: ${run.problems[0]}`);
  return phase;
}

const nodeProcesses = (cluster) => cluster.nodes.map((n) => ({ name: n.name, pid: n.pid }));

/**
 * Rate and latency of the good answers, and per process (nodes, this client, the whole machine)
 * the CPU seconds used, the cores kept busy on average, and the CPU µs per good answer.
 * `cpuBoundRequestsPerSec` is the rate all of this machine's cores would give at the CPU per
 * request of the nodes and the client: on a shared machine, where others take part of the CPU,
 * it estimates what a quiet one would do if CPU alone limits the rate. An estimate, not a bound:
 * CPU per request falls as the rate rises (group commit and write batching share more).
 */
function phaseFigures(run, seconds, recorder, cpuSeconds) {
  const perRequest = {};
  const busyCores = {};
  for (const [name, cpu] of Object.entries(cpuSeconds)) {
    perRequest[name] = cpu == null || run.requests === 0 ? null : (cpu / run.requests) * 1e6;
    busyCores[name] = cpu == null ? null : cpu / seconds;
  }
  const ours = Object.entries(perRequest).filter(([name]) => name !== 'machine').map(([, us]) => us);
  const oursMicros = ours.includes(null) ? null : ours.reduce((a, b) => a + b, 0);
  return {
    cpuMicrosPerRequestNodesAndClient: oursMicros,
    cpuBoundRequestsPerSec: oursMicros ? (os.cpus().length * 1e6) / oursMicros : null,
    requests: run.requests,
    seconds,
    requestsPerSec: run.requests / seconds,
    latencyMs: recorder.summary(),
    cpuSeconds,
    busyCores,
    cpuMicrosPerRequest: perRequest,
  };
}

function quorumTargets(q) {
  const errors = q == null ? null : q.insert.errors + q.select.errors;
  const setting = q == null ? '' : ` (RF ${q.replicationFactor}, ${q.valueBytes} B rows, ${q.concurrency} in flight)`;
  return [
    { name: `QUORUM INSERT requests/s${setting}`, measured: q?.insert.requestsPerSec ?? null, unit: '/s', required: `≥ ${TARGETS.quorumInsertsPerSec.toLocaleString('en-US')}/s`, pass: q == null ? null : q.insert.requestsPerSec >= TARGETS.quorumInsertsPerSec },
    { name: 'QUORUM SELECT requests/s (by key, value checked)', measured: q?.select.requestsPerSec ?? null, unit: '/s', required: `≥ ${TARGETS.quorumSelectsPerSec.toLocaleString('en-US')}/s`, pass: q == null ? null : q.select.requestsPerSec >= TARGETS.quorumSelectsPerSec },
    { name: 'QUORUM answers: every one 200 and right', measured: errors, unit: ' bad', required: '0 bad', pass: errors == null ? null : errors === 0 },
  ];
}

function reportQuorum(q) {
  const phases = [['load (INSERT, untimed)', q.load], ['INSERT 1 row', q.insert], ['SELECT 1 row by key', q.select]];
  log(
    formatTable(
      [
        { header: `QUORUM, RF ${q.replicationFactor}, via ${q.coordinators.join('+')}` }, { header: 'requests', align: 'right' }, { header: 'rate', align: 'right' },
        { header: 'p50', align: 'right' }, { header: 'p99', align: 'right' }, { header: 'p99.9', align: 'right' }, { header: 'max', align: 'right' }, { header: 'errors', align: 'right' },
      ],
      phases.map(([name, p]) => [
        name, p.requests.toLocaleString('en-US'), fmtRate(p.requestsPerSec, ' req/s'),
        fmtMs(p.latencyMs.p50), fmtMs(p.latencyMs.p99), fmtMs(p.latencyMs.p999), fmtMs(p.latencyMs.max), String(p.errors ?? 0),
      ]),
    ),
  );
  // Where the CPU goes: per process, µs of CPU per good answer and the cores it kept busy.
  // `machine` is all of this host's CPU, so machine − nodes − client is someone else's load.
  const names = Object.keys(q.insert.cpuMicrosPerRequest);
  const us = (v) => (v == null ? '-' : `${Math.round(v)} µs`);
  const cores = (v) => (v == null ? '-' : v.toFixed(2));
  log('');
  log(
    formatTable(
      [{ header: 'CPU per request' }, ...phases.map(([name]) => ({ header: name.split(' ')[0], align: 'right' })), ...phases.map(([name]) => ({ header: `${name.split(' ')[0]} cores`, align: 'right' }))],
      [
        ...names.map((name) => [name, ...phases.map(([, p]) => us(p.cpuMicrosPerRequest[name])), ...phases.map(([, p]) => cores(p.busyCores[name]))]),
        ['nodes + client', ...phases.map(([, p]) => us(p.cpuMicrosPerRequestNodesAndClient)), ...phases.map(() => '')],
        [`CPU-bound rate, ${os.cpus().length} idle cores`, ...phases.map(([, p]) => fmtRate(p.cpuBoundRequestsPerSec, '/s')), ...phases.map(() => '')],
      ],
    ),
  );
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
  if (t.unit === '/s') return fmtRate(t.measured, ' req/s');
  return t.unit === 'ms' ? fmtMs(t.measured) : `${t.measured}${t.unit}`;
}

function report(result) {
  log(heading('summary'));
  if (result.quorum) {
    reportQuorum(result.quorum);
    log('');
  }
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
