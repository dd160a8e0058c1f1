/**
 * HTTP benchmark: one ringtail node as a real process, driven through `POST /v1/cql` by a
 * keep-alive undici Pool on the same machine, against the ceiling of the stack itself.
 *
 *   npm run bench -- http [--seconds S] [--concurrency N] [--value-bytes N] [--records N]   (--help for all)
 *
 * Phases, each `--seconds` long after a `--warmup-seconds` warm-up that is not counted, with
 * `--concurrency` requests in flight (one per pooled connection):
 *   1. ceiling: a minimal fastify server in its own process (`node bench/http.mjs
 *      --ceiling-server`) whose one route parses a small JSON body (a SELECT's) and answers a
 *      small JSON body — what this stack can do at all on this machine, with the same client;
 *   2. load (untimed for the targets): `--records` rows of `--value-bytes` bytes written through
 *      `/v1/cql`, so that reads find existing rows;
 *   3. INSERT: `INSERT INTO bench.kv (id, v) VALUES (?, ?)` with new keys and a 1 KB text parameter
 *      (the same query text every time: the node's prepared-statement cache parses it once);
 *   4. SELECT: `SELECT v FROM bench.kv WHERE id = ?` for uniformly random loaded keys; every
 *      answer must hold the row with the value that was written.
 * Every response status is checked: any answer other than 200 (or a wrong row) fails the run.
 * Latency is measured per request (send to full body); percentiles come from a reservoir of
 * at most `MAX_LATENCY_SAMPLES` samples per phase.
 *
 * Targets (issue #3): INSERT and SELECT each ≥ 50 % of the ceiling's requests/s, p99 < 10 ms.
 * Results: a report on stdout and a JSON file <out>/http-<ISO time>.json.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { parseOptions, usageText } from './lib/args.mjs';
import { collectGarbage, resultHeader, writeResultFile, TempDirs } from './lib/env.mjs';
import { fmtBytes, fmtMs, fmtRate, fmtRatio, fmtSeconds, nowSeconds, ratio } from './lib/stats.mjs';
import { formatTable, heading } from './lib/table.mjs';
import { LatencyRecorder } from './lib/latency.mjs';
import { prng32, nextBelow } from './lib/workload.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(HERE, '..');
const BIN = path.join(ROOT, 'bin', 'ringtail');
const CLI_MODULE = path.join(ROOT, 'dist', 'cli', 'main.js');

const TARGETS = {
  ratioToCeiling: 0.5, // INSERT and SELECT requests/s ≥ ½ the ceiling's
  p99Ms: 10, // INSERT and SELECT p99 latency < 10 ms
};

/** Latency samples kept per phase (a reservoir beyond that): 8 MiB of Float64. */
/** Distinct values cycled through by the writers (generated before timing). */
const VALUE_POOL = 1024;
const START_TIMEOUT_S = 60;
const STOP_TIMEOUT_S = 15;

export const SPEC = {
  seconds: { kind: 'number', default: 10, min: 0.1, help: 'measured seconds per phase (ceiling, INSERT, SELECT)' },
  'warmup-seconds': { kind: 'number', default: 2, min: 0, help: 'seconds of uncounted load before each measured phase' },
  concurrency: { kind: 'int', default: 64, min: 1, max: 1000, help: 'requests in flight, one per keep-alive connection' },
  'value-bytes': { kind: 'int', default: 1000, min: 1, max: 1 << 20, help: 'bytes per row value (ASCII text, so a 1 KB row is 1 KB on the wire too)' },
  records: { kind: 'int', default: 100_000, min: 1, help: 'rows loaded before the phases; SELECT reads among them' },
  out: { kind: 'string', default: path.join(HERE, 'out'), defaultText: 'bench/out', help: 'directory for the results JSON' },
  'data-dir': { kind: 'string', default: os.tmpdir(), defaultText: 'the OS temp dir', help: "where the node's temporary data directory is made (removed at the end)" },
  seed: { kind: 'int', default: 42, min: 0, help: 'seed of the values and the read sequence' },
  'check-targets': { kind: 'flag', help: 'exit with code 3 when a target fails' },
};

export function usage() {
  return `usage: npm run bench -- http [options]\n\n${usageText(SPEC)}`;
}

const log = (s = '') => process.stdout.write(`${s}\n`);

export async function main(argv) {
  const opts = parseOptions(argv, SPEC);
  if (opts.help) {
    log(usage());
    return 0;
  }
  if (!fs.existsSync(CLI_MODULE)) throw new Error(`${path.relative(process.cwd(), CLI_MODULE)} not found: build first (npm run build)`);
  const { Pool } = await import('undici');

  const startedAt = new Date();
  const result = {
    ...resultHeader('http', startedAt),
    params: {
      seconds: opts.seconds,
      warmupSeconds: opts.warmupSeconds,
      concurrency: opts.concurrency,
      valueBytes: opts.valueBytes,
      records: opts.records,
      seed: opts.seed,
      dataDir: path.resolve(opts.dataDir),
      client: 'undici Pool, keep-alive, one request in flight per connection',
    },
    phases: {},
    targets: [],
    warnings: [],
    error: null,
  };
  const m = result.machine;
  log(`ringtail HTTP benchmark — ${opts.concurrency} in flight, ${opts.seconds} s per phase, ${opts.valueBytes} B values, ${opts.records.toLocaleString('en-US')} rows loaded`);
  log(`machine: ${m.cpuModel}, ${m.cores} cores, ${fmtBytes(m.totalMemBytes)} RAM, node ${m.node}, ${m.platform}`);
  log(`command: ${result.command}`);

  const tmp = new TempDirs(opts.dataDir);
  const children = [];
  const pools = [];
  let outcome = 0;
  try {
    const values = makeValues(opts.valueBytes, opts.seed);
    const ctx = { opts, values };

    log(heading('ceiling: fastify parsing and answering JSON, nothing else'));
    const ceiling = await startChild(process.execPath, [fileURLToPath(import.meta.url), '--ceiling-server'], { cwd: ROOT }, 'ceiling server');
    children.push(ceiling);
    const ceilingPool = newPool(Pool, ceiling.url, opts.concurrency);
    pools.push(ceilingPool);
    result.phases.ceiling = await runPhase(ctx, 'ceiling', ceilingPool, ceilingRequest());
    await ceilingPool.close();
    await stopChild(ceiling);

    log(heading('ringtail: one node, bin/ringtail server'));
    const dir = tmp.make('node');
    const config = path.join(dir, 'ringtail.json');
    fs.writeFileSync(config, `${JSON.stringify({ cluster_name: 'bench', seeds: [], log_level: 'info', internode_port: 0 }, null, 2)}\n`);
    const node = await startChild(
      process.execPath,
      [BIN, 'server', '--config', config, '--set', `data_dir=${path.join(dir, 'data')}`, '--set', 'http_port=0', '--set', 'http_address=127.0.0.1'],
      { cwd: dir },
      'ringtail node',
    );
    children.push(node);
    log(`node pid ${node.child.pid} at ${node.url}`);
    const pool = newPool(Pool, node.url, opts.concurrency);
    pools.push(pool);
    await cqlOnce(pool, "CREATE KEYSPACE bench WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    await cqlOnce(pool, 'CREATE TABLE bench.kv (id bigint PRIMARY KEY, v text)');

    const load = await loadRows(ctx, pool);
    result.phases.load = load;
    line('load', `${opts.records.toLocaleString('en-US')} rows in ${fmtSeconds(load.seconds)} (${fmtRate(load.requestsPerSec, ' rows/s')}, p99 ${fmtMs(load.latencyMs.p99)})`);

    result.phases.insert = await runPhase(ctx, 'INSERT', pool, insertRequest(values, opts.records));
    result.phases.insert.nodeEventLoopP99Ms = await nodeLoopDelayP99Ms(pool);
    result.phases.select = await runPhase(ctx, 'SELECT', pool, selectRequest(values, opts.records, opts.seed));
    result.phases.select.nodeEventLoopP99Ms = await nodeLoopDelayP99Ms(pool);
    await pool.close();

    const exit = await stopChild(node);
    result.nodeExit = exit;
    if (exit.code !== 0) result.warnings.push(`the node exited with ${JSON.stringify(exit)} after SIGTERM`);

    result.targets = evaluateTargets(result);
    report(result);
    result.ok = true;
    if (opts.checkTargets && result.targets.some((t) => t.pass === false)) outcome = 3;
  } catch (e) {
    result.error = e instanceof Error ? (e.stack ?? e.message) : String(e);
    throw e;
  } finally {
    await Promise.allSettled(pools.map((p) => p.destroy()));
    await Promise.allSettled(children.map((c) => stopChild(c)));
    tmp.removeAll();
    result.finishedAt = new Date().toISOString();
    const file = writeResultFile(opts.out, result);
    log(`\nresults: ${file}${result.ok ? '' : ' (run failed; partial results)'}`);
  }
  return outcome;
}

// ---- requests --------------------------------------------------------------------------------

/**
 * `VALUE_POOL` distinct values of `valueBytes` printable ASCII characters, generated before
 * timing. Text rather than blob: a blob travels as hex in SPEC 3.1's JSON, twice its size, and
 * on these VMs the bytes on the loopback socket dominate a small request's cost.
 */
function makeValues(valueBytes, seed) {
  const next = prng32(seed);
  const values = [];
  for (let i = 0; i < VALUE_POOL; i++) {
    const chars = Buffer.allocUnsafe(valueBytes);
    // Letters and digits only: nothing to escape in JSON.
    for (let j = 0; j < valueBytes; j++) chars[j] = ALPHABET.charCodeAt(next() % ALPHABET.length);
    values.push(chars.toString('latin1'));
  }
  return values;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const valueOf = (values, id) => values[id % VALUE_POOL];

/**
 * A request generator: `next()` gives `{ body, check(status, text) }` where `check` returns an
 * error message or null.
 */
function ceilingRequest() {
  // A SELECT-sized body: the stricter ceiling (an INSERT's 2 KB body would lower it).
  const body = JSON.stringify({ query: 'SELECT v FROM bench.kv WHERE id = ?', params: [12345] });
  const check = (status, text) => (status === 200 && text === CEILING_ANSWER ? null : `ceiling: ${status} ${text.slice(0, 200)}`);
  return () => ({ body, check });
}

const INSERT_QUERY = 'INSERT INTO bench.kv (id, v) VALUES (?, ?)';
const SELECT_QUERY = 'SELECT v FROM bench.kv WHERE id = ?';

function checkVoid(status, text) {
  if (status !== 200) return `${status} ${text.slice(0, 300)}`;
  return text.startsWith('{"kind":"void"') ? null : `unexpected answer ${text.slice(0, 200)}`;
}

function insertRequest(values, firstId) {
  let id = firstId;
  return () => {
    const k = id++;
    return { body: `{"query":"${INSERT_QUERY}","params":[${k},"${valueOf(values, k)}"]}`, check: checkVoid };
  };
}

function selectRequest(values, records, seed) {
  const next = prng32(seed + 1);
  return () => {
    const k = nextBelow(next, records);
    return {
      body: `{"query":"${SELECT_QUERY}","params":[${k}]}`,
      check: (status, text) => {
        if (status !== 200) return `${status} ${text.slice(0, 300)}`;
        const expected = valueOf(values, k);
        // Every answer must carry the row's value; every 16th is parsed and checked whole, so the
        // client's JSON parsing does not crowd the node out of the shared CPU.
        if (!text.includes(expected)) return `id ${k}: value missing from ${text.slice(0, 200)}`;
        if (k % 16 !== 0) return null;
        const rows = JSON.parse(text).rows;
        if (!Array.isArray(rows) || rows.length !== 1) return `id ${k}: ${rows?.length ?? 'no'} rows`;
        return rows[0].v === expected ? null : `id ${k}: wrong value`;
      },
    };
  };
}

function newPool(Pool, url, connections) {
  return new Pool(url, { connections, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 30_000, bodyTimeout: 30_000 });
}

async function send(pool, body) {
  const res = await pool.request({ path: '/v1/cql', method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: res.statusCode, text: await res.body.text() };
}

async function cqlOnce(pool, query) {
  const { status, text } = await send(pool, JSON.stringify({ query }));
  if (status !== 200) throw new Error(`${query}: ${status} ${text}`);
}

/** The node's event-loop delay p99 (prom-client's gauge) after a phase, in ms. */
async function nodeLoopDelayP99Ms(pool) {
  const res = await pool.request({ path: '/metrics', method: 'GET' });
  const text = await res.body.text();
  const match = /^nodejs_eventloop_lag_p99_seconds ([\d.e+-]+)$/m.exec(text);
  return match ? Number(match[1]) * 1000 : null;
}

// ---- load loops ------------------------------------------------------------------------------


/**
 * `concurrency` workers, each sending one request at a time until `shouldStop()`; every
 * answer is checked and the first bad one stops the run.
 */
async function drive(pool, concurrency, nextRequest, shouldStop, recorder) {
  let requests = 0;
  let failure = null;
  const worker = async () => {
    while (failure === null && !shouldStop(requests)) {
      const { body, check } = nextRequest();
      const t0 = performance.now();
      const { status, text } = await send(pool, body);
      const ms = performance.now() - t0;
      const problem = check(status, text);
      if (problem !== null) {
        failure ??= problem;
        return;
      }
      requests++;
      recorder?.record(ms);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (failure !== null) throw new Error(`bad answer: ${failure}`);
  return requests;
}

async function runPhase({ opts }, label, pool, nextRequest) {
  collectGarbage();
  if (opts.warmupSeconds > 0) {
    const until = nowSeconds() + opts.warmupSeconds;
    await drive(pool, opts.concurrency, nextRequest, () => nowSeconds() >= until, null);
  }
  const recorder = new LatencyRecorder(opts.seed + label.length);
  const t0 = nowSeconds();
  const deadline = t0 + opts.seconds;
  const requests = await drive(pool, opts.concurrency, nextRequest, () => nowSeconds() >= deadline, recorder);
  const seconds = nowSeconds() - t0;
  const phase = { requests, seconds, requestsPerSec: requests / seconds, latencyMs: recorder.summary() };
  line(label, `${fmtRate(phase.requestsPerSec, ' req/s')}, p50 ${fmtMs(phase.latencyMs.p50)}, p99 ${fmtMs(phase.latencyMs.p99)}, max ${fmtMs(phase.latencyMs.max)} (${requests.toLocaleString('en-US')} requests)`);
  return phase;
}

async function loadRows({ opts, values }, pool) {
  let id = 0;
  const next = () => {
    const k = id++;
    return { body: `{"query":"${INSERT_QUERY}","params":[${k},"${valueOf(values, k)}"]}`, check: checkVoid };
  };
  const recorder = new LatencyRecorder(opts.seed);
  const t0 = nowSeconds();
  // Workers stop once every id has been handed out; the last ones finish their request.
  const requests = await drive(pool, opts.concurrency, next, () => id >= opts.records, recorder);
  const seconds = nowSeconds() - t0;
  return { requests, seconds, requestsPerSec: requests / seconds, latencyMs: recorder.summary() };
}

// ---- processes -------------------------------------------------------------------------------

/**
 * Spawns a server process and resolves once it logs a JSON line with its URL: `node ready`
 * with `http` (ringtail) or `ceiling ready` with `url` (the ceiling server).
 */
function startChild(cmd, args, options, label) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    const output = [];
    let settled = false;
    const timer = setTimeout(() => fail(new Error(`${label} not ready after ${START_TIMEOUT_S} s`)), START_TIMEOUT_S * 1000);
    const fail = (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${error.message}\n${output.slice(-20).join('\n')}`));
    };
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const text of lines) {
        if (output.length < 200) output.push(text);
        if (settled) continue;
        let entry = null;
        try {
          entry = JSON.parse(text);
        } catch {
          continue;
        }
        const url = entry.msg === 'node ready' ? entry.http : entry.msg === 'ceiling ready' ? entry.url : undefined;
        if (typeof url === 'string') {
          settled = true;
          clearTimeout(timer);
          resolve({ child, url: url.replace(/\/$/, ''), label, exited: new Promise((r) => child.once('exit', (code, signal) => r({ code, signal }))) });
        }
      }
    });
    child.stderr.setEncoding('utf8').on('data', (s) => {
      if (output.length < 200) output.push(s.trimEnd());
    });
    child.once('exit', (code, signal) => fail(new Error(`${label} exited (${code ?? signal}) before it was ready`)));
    child.once('error', fail);
  });
}

/** SIGTERM by PID; SIGKILL if it has not exited after `STOP_TIMEOUT_S`. */
async function stopChild(proc) {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return { code: proc.child.exitCode, signal: proc.child.signalCode };
  process.kill(proc.child.pid, 'SIGTERM');
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => {
      process.kill(proc.child.pid, 'SIGKILL');
      resolve(null);
    }, STOP_TIMEOUT_S * 1000);
  });
  const exit = await Promise.race([proc.exited, timeout]);
  clearTimeout(timer);
  return exit ?? { ...(await proc.exited), killedAfterSeconds: STOP_TIMEOUT_S };
}

// ---- the ceiling server ----------------------------------------------------------------------

const CEILING_ANSWER = '{"kind":"void","warnings":[],"trace":null}';

/** `node bench/http.mjs --ceiling-server`: parse a JSON body, answer a small JSON body. */
async function ceilingServer() {
  const { fastify } = await import('fastify');
  const app = fastify({ logger: false, bodyLimit: 16 * 1024 * 1024 });
  const schema = { body: { type: 'object', required: ['query'], properties: { query: { type: 'string' }, params: { type: 'array' } } } };
  app.post('/v1/cql', { schema }, (_request, reply) => reply.type('application/json; charset=utf-8').send(CEILING_ANSWER));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`${JSON.stringify({ msg: 'ceiling ready', url })}\n`);
  const stop = () => app.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

// ---- results ---------------------------------------------------------------------------------

function line(label, text) {
  log(`  ${label.padEnd(10)} ${text}`);
}

function evaluateTargets(result) {
  const ceiling = result.phases.ceiling?.requestsPerSec;
  const targets = [];
  for (const [key, label] of [['insert', 'INSERT'], ['select', 'SELECT']]) {
    const phase = result.phases[key];
    const r = ratio(phase?.requestsPerSec, ceiling);
    targets.push({
      name: `${label} requests/s vs the ceiling`,
      measured: r,
      unit: '×',
      required: `≥ ${TARGETS.ratioToCeiling.toFixed(2)}×`,
      pass: r == null ? null : r >= TARGETS.ratioToCeiling,
    });
    const p99 = phase?.latencyMs?.p99;
    targets.push({
      name: `${label} p99 latency`,
      measured: p99 ?? null,
      unit: 'ms',
      required: `< ${TARGETS.p99Ms} ms`,
      pass: p99 == null ? null : p99 < TARGETS.p99Ms,
    });
  }
  return targets;
}

function report(result) {
  const ceiling = result.phases.ceiling?.requestsPerSec;
  log(heading('summary'));
  const rows = [
    ['ceiling (fastify, JSON in and out)', result.phases.ceiling],
    ['load (INSERT, before the phases)', result.phases.load],
    ['INSERT 1 row', result.phases.insert],
    ['SELECT 1 row by key', result.phases.select],
  ].filter(([, p]) => p);
  log(
    formatTable(
      [
        { header: 'phase' }, { header: 'requests', align: 'right' }, { header: 'rate', align: 'right' }, { header: 'vs ceiling', align: 'right' },
        { header: 'p50', align: 'right' }, { header: 'p99', align: 'right' }, { header: 'p99.9', align: 'right' }, { header: 'max', align: 'right' },
        { header: 'node loop p99', align: 'right' },
      ],
      rows.map(([name, p]) => [
        name, p.requests.toLocaleString('en-US'), fmtRate(p.requestsPerSec, ' req/s'), fmtRatio(ratio(p.requestsPerSec, ceiling)),
        fmtMs(p.latencyMs.p50), fmtMs(p.latencyMs.p99), fmtMs(p.latencyMs.p999), fmtMs(p.latencyMs.max), fmtMs(p.nodeEventLoopP99Ms),
      ]),
    ),
  );
  log(heading('targets'));
  log(
    formatTable(
      [{ header: 'target' }, { header: 'measured', align: 'right' }, { header: 'required', align: 'right' }, { header: 'result' }],
      result.targets.map((t) => [t.name, t.measured == null ? '-' : t.unit === 'ms' ? fmtMs(t.measured) : fmtRatio(t.measured), t.required, t.pass == null ? 'n/a (not run)' : t.pass ? 'PASS' : 'FAIL']),
    ),
  );
  if (result.warnings.length > 0) log(`\n${result.warnings.length} warning(s): ${result.warnings.join('; ')}`);
}


// Runnable directly too: node --expose-gc bench/http.mjs [options]; --ceiling-server is the
// ceiling's child process.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  if (process.argv[2] === '--ceiling-server') {
    ceilingServer().catch((e) => {
      console.error(e);
      process.exit(1);
    });
  } else {
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
}
