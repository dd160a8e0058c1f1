/**
 * The YCSB benchmark (issue #6): YCSB's core workloads A–F against ringtail, a load phase and a
 * run phase per workload, live progress, a summary table, a JSON results file and an SVG chart
 * per run; optionally the same against Redis and etcd (`--compare`) and a scaling sweep.
 *
 *   npm run bench -- ycsb [--workload a,b,…] [--nodes N | --host URL,…] [--rf N] [--consistency L]
 *                         [--records N] [--operations N | --duration S] [--threads N] [--target OPS]
 *                         [--token-aware] [--compare] [--sweep] [--out DIR]          (--help)
 *   ringtail bench …      (the same, through the CLI)
 *
 * 1. A local cluster through the CLI (`ringtail cluster up --nodes N --ports auto` in a temporary
 *    directory, plus `--set`), or an existing one (`--host`: nothing is started or stopped).
 * 2. The ringtail binding creates `ycsb.usertable` (SimpleStrategy, RF `--rf`, default
 *    min(3, N)); one load phase inserts `--records` records; then every `--workload` runs in
 *    turn on the same data (workloads with inserts grow it: the next one reads those too),
 *    after `--warmup` unmeasured seconds if given (JIT, caches, connections, post-load flushes).
 * 3. `--compare`: the cluster is stopped, then each reference system (references.mjs) is started
 *    alone, loaded and run with the same runner, threads and workloads, and stopped; a table
 *    gives ringtail's throughput and p99 as ratios to each reference's.
 * 4. `--sweep`: workload A on 1, 3 and 5 nodes (RF min(3, N)) × `--sweep-records` records,
 *    one fresh cluster per point; a table of throughput and p99 as nodes and data grow.
 *
 * Outputs: `<out>/ycsb-<ISO start>.json` (params, machine, every phase's summary and timeline,
 * comparison, sweep) and `<out>/ycsb-<ISO start>-<workload>[-<system>].svg` per run phase.
 * Every PID this starts is SIGKILLed at the end, on error and on Ctrl-C; temporary data is
 * removed. Every phase is bounded: loads by the record count and `--phase-timeout`, runs by
 * `--operations` and/or `--duration`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { parseOptions, usageText, UsageError } from './lib/args.mjs';
import { collectGarbage, resultHeader, TempDirs, writeResultFile } from './lib/env.mjs';
import { fmtCount, fmtMs, fmtRate, fmtRatio, fmtSeconds, ratio } from './lib/stats.mjs';
import { formatTable, heading } from './lib/table.mjs';
import { killClusterDir, readClusterNodes, ringtailCli } from './lib/local-cluster.mjs';
import { RingtailBinding } from './ycsb/bindings/ringtail.mjs';
import { renderChartSvg } from './ycsb/chart.mjs';
import { Measurements } from './ycsb/measurements.mjs';
import { startReferences } from './ycsb/references.mjs';
import { runPhase } from './ycsb/runner.mjs';
import { CORE_WORKLOAD_DESCRIPTIONS, Workload } from './ycsb/workloads.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));

const CONSISTENCY_LEVELS = ['ANY', 'ONE', 'TWO', 'THREE', 'QUORUM', 'ALL', 'LOCAL_ONE', 'LOCAL_QUORUM', 'EACH_QUORUM'];
const OP_ORDER = ['INSERT', 'READ', 'UPDATE', 'SCAN', 'READMODIFYWRITE'];
/** Most nodes a local cluster may have here (each is a process on this machine). */
const MAX_LOCAL_NODES = 16;

export const SPEC = {
  workload: { kind: 'list', default: ['a'], choices: ['a', 'b', 'c', 'd', 'e', 'f'], help: 'core workloads to run, in order, after one load (e.g. a,b,c,f,d)' },
  nodes: { kind: 'int', default: 3, min: 1, max: MAX_LOCAL_NODES, help: 'nodes of the local cluster started for the run' },
  rf: { kind: 'int', default: undefined, min: 1, defaultText: 'min(3, nodes)', help: 'replication factor of keyspace ycsb' },
  set: { kind: 'list', default: [], defaultText: 'none', help: 'node settings key=value,… for the local cluster' },
  host: { kind: 'list', default: [], defaultText: 'none', help: 'HTTP endpoints URL,… of an existing cluster (nothing is started)' },
  consistency: { kind: 'string', default: 'QUORUM', help: `consistency of reads and writes (${CONSISTENCY_LEVELS.join(', ')})` },
  threads: { kind: 'int', default: 64, min: 1, max: 4096, help: 'client threads (operations in flight)' },
  records: { kind: 'int', default: 100_000, min: 1, help: 'records loaded before the run phase' },
  operations: { kind: 'int', default: undefined, min: 1, defaultText: 'none', help: 'operations per run phase (with --duration, whichever comes first)' },
  duration: { kind: 'number', default: undefined, min: 0.1, defaultText: '30 without --operations', help: 'seconds per run phase' },
  target: { kind: 'number', default: undefined, min: 0.001, defaultText: 'none: closed loop', help: 'offered load in ops/s (open loop; latency from the intended start)' },
  warmup: { kind: 'number', default: 0, min: 0, help: 'seconds each workload runs unmeasured first (same threads and target)' },
  'token-aware': { kind: 'flag', help: 'send each request to a replica of its key (else round-robin over the hosts)' },
  compare: { kind: 'flag', help: 'also run the same workloads against Redis and etcd (when installed) and print ratios' },
  sweep: { kind: 'flag', help: 'workload A at 1, 3 and 5 nodes × --sweep-records records (fresh cluster each)' },
  'sweep-records': { kind: 'list', default: ['100000', '1000000', '5000000'], help: 'record counts of the sweep' },
  'sweep-nodes': { kind: 'list', default: ['1', '3', '5'], help: 'cluster sizes of the sweep' },
  'connections-per-host': { kind: 'int', default: undefined, min: 1, max: 4096, defaultText: 'threads', help: 'HTTP connections per node' },
  'phase-timeout': { kind: 'number', default: 3600, min: 1, help: 'seconds any load phase, cluster start or stop may take' },
  out: { kind: 'string', default: path.join(HERE, 'out'), defaultText: 'bench/out', help: 'directory for the results JSON and the charts' },
  'data-dir': { kind: 'string', default: os.tmpdir(), defaultText: 'the OS temp dir', help: "where the cluster's temporary directory is made (removed at the end)" },
  seed: { kind: 'int', default: 1, min: 0, help: 'seed of the workload generators' },
};

export function usage() {
  const workloads = Object.entries(CORE_WORKLOAD_DESCRIPTIONS).map(([k, d]) => `  ${k}  ${d}`).join('\n');
  return `usage: npm run bench -- ycsb [options]     (or: ringtail bench [options])\n\n${usageText(SPEC)}\n\nworkloads:\n${workloads}`;
}

const log = (s = '') => process.stdout.write(`${s}\n`);

/** Validated, derived options; throws UsageError. */
function checkOptions(opts) {
  const consistency = opts.consistency.toUpperCase();
  if (!CONSISTENCY_LEVELS.includes(consistency)) throw new UsageError(`--consistency: unknown level '${opts.consistency}' (${CONSISTENCY_LEVELS.join(', ')})`);
  if (opts.host.length > 0 && opts.sweep) throw new UsageError('--sweep starts its own clusters; it cannot use --host');
  for (const h of opts.host) if (!/^https?:\/\/[^/]+\/?$/.test(h)) throw new UsageError(`--host: expected a URL like http://127.0.0.1:9042, got '${h}'`);
  const toInts = (name, list) =>
    list.map((s) => {
      const v = Number(s.replace(/_/g, ''));
      if (!Number.isInteger(v) || v < 1) throw new UsageError(`--${name}: expected positive integers, got '${s}'`);
      return v;
    });
  const sweepRecords = toInts('sweep-records', opts.sweepRecords);
  const sweepNodes = toInts('sweep-nodes', opts.sweepNodes);
  if (sweepNodes.some((n) => n > MAX_LOCAL_NODES)) throw new UsageError(`--sweep-nodes: at most ${MAX_LOCAL_NODES}`);
  const durationSec = opts.duration ?? (opts.operations === undefined ? 30 : undefined);
  return { ...opts, consistency, sweepRecords, sweepNodes, durationSec, tokenAware: opts.tokenAware === true, compare: opts.compare === true, sweep: opts.sweep === true };
}

// ---- the local cluster ---------------------------------------------------------------------



/** Local clusters started by this run; every one of their PIDs is killed by `killAll()`. */
class LocalClusters {
  constructor(tmp, opts) {
    this.tmp = tmp;
    this.opts = opts;
    this.dirs = new Set();
  }

  async start(nodes, label) {
    const dir = this.tmp.make(label);
    this.dirs.add(dir);
    const timeoutMs = this.opts.phaseTimeout * 1000;
    log(`  starting ${nodes} node${nodes === 1 ? '' : 's'} (ringtail cluster up --ports auto${this.opts.set.length ? ` --set ${this.opts.set.join(' --set ')}` : ''}) …`);
    await ringtailCli(['cluster', 'up', '--nodes', String(nodes), '--ports', 'auto', '--dir', dir, ...this.opts.set.flatMap((s) => ['--set', s])], timeoutMs);
    return { dir, nodes: readClusterNodes(dir) };
  }

  async stop(cluster) {
    try {
      await ringtailCli(['cluster', 'down', '--dir', cluster.dir], 60_000);
    } finally {
      killClusterDir(cluster.dir);
      this.dirs.delete(cluster.dir);
      this.tmp.remove(cluster.dir);
    }
  }

  killAll() {
    for (const dir of this.dirs) killClusterDir(dir);
  }
}



// ---- measurements → tables -------------------------------------------------------------------

/** [op, stats] pairs of a Measurements summary in YCSB's order, plus the overall stats. */
function opRows(summary) {
  const ops = summary.operations ?? summary.ops ?? summary.byOperation ?? summary;
  const entries = Object.entries(ops)
    .filter(([op, s]) => OP_ORDER.includes(op) && s && s.count > 0)
    .sort((a, b) => OP_ORDER.indexOf(a[0]) - OP_ORDER.indexOf(b[0]));
  return { entries, overall: summary.overall ?? null };
}

const us = (v) => (v == null ? '-' : fmtMs(v / 1000));

function summaryTable(summary) {
  const { entries, overall } = opRows(summary);
  const row = (name, s) => [name, fmtCount(s.count), fmtRate(s.opsPerSec), us(s.meanUs), us(s.p50Us), us(s.p99Us), us(s.p999Us), us(s.maxUs), String(s.errors ?? 0)];
  const rows = entries.map(([op, s]) => row(op, s));
  if (overall && entries.length > 1) rows.push(row('overall', overall));
  const right = { align: 'right' };
  return formatTable(
    [{ header: 'operation' }, { header: 'count', ...right }, { header: 'ops/s', ...right }, { header: 'mean', ...right }, { header: 'p50', ...right }, { header: 'p99', ...right }, { header: 'p99.9', ...right }, { header: 'max', ...right }, { header: 'errors', ...right }],
    rows,
  );
}

/** One progress line: elapsed, interval ops/s, p99 so far per operation, errors so far. */
function progressLine(label, measurements, p) {
  const { entries } = opRows(measurements.summary());
  const errors = entries.reduce((n, [, s]) => n + (s.errors ?? 0), 0);
  const p99s = entries.map(([op, s]) => `${op} ${us(s.p99Us)}`).join(', ');
  const done = p.total == null ? fmtCount(p.done) : `${fmtCount(p.done)}/${fmtCount(p.total)}`;
  const behind = p.behindMs != null && p.behindMs > 1 ? `  behind ${fmtMs(p.behindMs)}` : '';
  return `  [${label}] ${p.elapsedSec.toFixed(0).padStart(4)} s  ${fmtCount(p.interval?.opsPerSec).padStart(6)} ops/s  ${done} done  p99 ${p99s || '-'}  errors ${errors}${behind}`;
}

// ---- one system: load + workloads ----------------------------------------------------------------

/**
 * Loads `records` records through `binding` and runs each workload. Returns { load, runs }
 * with summaries and timelines; writes a chart per run.
 */
async function benchSystem({ binding, system, opts, records, replicationFactor, chartInfo, files, shouldStop }) {
  await binding.setup({ recordCount: records, replicationFactor });
  const loadWorkload = new Workload(opts.workload[0], { recordCount: records, seed: opts.seed });
  log(`  load: ${records.toLocaleString('en-US')} records, ${opts.threads} threads`);
  const loadMeasurements = new Measurements({ startMs: performance.now() });
  const load = await runPhase({
    binding,
    workload: loadWorkload,
    phase: 'load',
    threads: opts.threads,
    recordCount: records,
    durationSec: opts.phaseTimeout,
    measurements: loadMeasurements,
    onProgress: (p) => log(progressLine(`${system} load`, loadMeasurements, p)),
    shouldStop,
  });
  const loadSummary = loadMeasurements.summary();
  log(`  loaded ${load.operations.toLocaleString('en-US')} records in ${fmtSeconds(load.seconds)}: ${fmtRate(load.opsPerSec, ' records/s')}, ${load.errors} errors`);
  const loadResult = phaseResult(load, loadSummary, loadMeasurements);
  loadMeasurements.close?.();
  if (load.errors > 0) log(`  load errors: ${JSON.stringify(load.errorsByKind)}; first: ${load.firstErrors[0]}`);

  const runs = [];
  let existing = records;
  for (const name of opts.workload) {
    if (shouldStop()) break;
    collectGarbage();
    const workload = new Workload(name, { recordCount: existing, seed: opts.seed + runs.length + 1, operationCount: opts.operations ?? 0 });
    const bound = [opts.operations ? `${opts.operations.toLocaleString('en-US')} operations` : null, opts.durationSec ? `${opts.durationSec} s` : null].filter(Boolean).join(' or ');
    log(heading(`${system}: workload ${name.toUpperCase()} (${CORE_WORKLOAD_DESCRIPTIONS[name]}), ${bound}, ${opts.threads} threads${opts.target ? `, target ${fmtRate(opts.target, ' ops/s')}` : ''}`));
    if (opts.warmup > 0) {
      const warm = new Measurements({ startMs: performance.now() });
      const w = await runPhase({ binding, workload, phase: 'run', threads: opts.threads, durationSec: opts.warmup, targetOpsPerSec: opts.target, measurements: warm, shouldStop });
      existing += warm.summary().operations.INSERT?.count ?? 0;
      log(`  warm-up: ${w.operations.toLocaleString('en-US')} operations in ${fmtSeconds(w.seconds)} (${fmtRate(w.opsPerSec, ' ops/s')}), not measured`);
      warm.close();
    }
    const measurements = new Measurements({ startMs: performance.now() });
    const run = await runPhase({
      binding,
      workload,
      phase: 'run',
      threads: opts.threads,
      operations: opts.operations,
      durationSec: opts.durationSec ?? opts.phaseTimeout,
      targetOpsPerSec: opts.target,
      measurements,
      onProgress: (p) => log(progressLine(`${system} ${name}`, measurements, p)),
      shouldStop,
    });
    const summary = measurements.summary();
    log('');
    log(summaryTable(summary));
    log(`  ${run.operations.toLocaleString('en-US')} operations in ${fmtSeconds(run.seconds)}: ${fmtRate(run.opsPerSec, ' ops/s')}`);
    if (run.schedule) {
      log(`  target ${fmtRate(run.schedule.targetOpsPerSec, ' ops/s')}: fell behind schedule by up to ${fmtMs(run.schedule.maxBehindMs)} (${run.schedule.missedStarts.toLocaleString('en-US')} intended starts missed); latencies are from the intended starts`);
    }
    if (run.errors > 0) log(`  errors: ${JSON.stringify(run.errorsByKind)}; first: ${run.firstErrors[0]}`);
    const result = { workload: name, ...phaseResult(run, summary, measurements), description: workload.describe() };
    const svgFile = `${files.base}-${name}${system === 'ringtail' ? '' : `-${system}`}${chartInfo.suffix ?? ''}.svg`;
    fs.writeFileSync(
      svgFile,
      renderChartSvg({
        title: `YCSB workload ${name.toUpperCase()} — ${system}${chartInfo.title ? `, ${chartInfo.title}` : ''}`,
        subtitle: `${CORE_WORKLOAD_DESCRIPTIONS[name]}; ${existing.toLocaleString('en-US')} records, ${opts.threads} threads${opts.target ? `, target ${fmtRate(opts.target, ' ops/s')}` : ', closed loop'}; ${new Date().toISOString().slice(0, 19)}Z`,
        timeline: result.timeline,
      }),
    );
    result.chart = svgFile;
    log(`  chart: ${svgFile}`);
    measurements.close?.();
    runs.push(result);
    existing += (opRows(summary).entries.find(([op]) => op === 'INSERT')?.[1].count ?? 0);
  }
  return { load: loadResult, runs, binding: binding.describe() };
}

function phaseResult(phase, summary, measurements) {
  return {
    operations: phase.operations,
    seconds: phase.seconds,
    opsPerSec: phase.opsPerSec,
    errors: phase.errors,
    errorsByKind: phase.errorsByKind,
    firstErrors: phase.firstErrors,
    schedule: phase.schedule,
    stoppedEarly: phase.stoppedEarly,
    summary,
    timeline: measurements.timeline,
  };
}

// ---- the comparison ------------------------------------------------------------------------

function comparisonRows(ringtail, reference) {
  const rows = [];
  for (const run of ringtail.runs) {
    const other = reference.runs.find((r) => r.workload === run.workload);
    if (!other) continue;
    const a = opRows(run.summary).overall ?? {};
    const b = opRows(other.summary).overall ?? {};
    rows.push({
      workload: run.workload,
      reference: reference.name,
      ringtailOpsPerSec: run.opsPerSec,
      referenceOpsPerSec: other.opsPerSec,
      throughputRatio: ratio(run.opsPerSec, other.opsPerSec),
      ringtailP99Us: a.p99Us ?? null,
      referenceP99Us: b.p99Us ?? null,
      p99Ratio: ratio(a.p99Us, b.p99Us),
      ringtailErrors: run.errors,
      referenceErrors: other.errors,
    });
  }
  rows.push({
    workload: 'load',
    reference: reference.name,
    ringtailOpsPerSec: ringtail.load.opsPerSec,
    referenceOpsPerSec: reference.load.opsPerSec,
    throughputRatio: ratio(ringtail.load.opsPerSec, reference.load.opsPerSec),
    ringtailP99Us: opRows(ringtail.load.summary).entries[0]?.[1].p99Us ?? null,
    referenceP99Us: opRows(reference.load.summary).entries[0]?.[1].p99Us ?? null,
    p99Ratio: null,
    ringtailErrors: ringtail.load.errors,
    referenceErrors: reference.load.errors,
  });
  const loadRow = rows.at(-1);
  loadRow.p99Ratio = ratio(loadRow.ringtailP99Us, loadRow.referenceP99Us);
  return rows;
}

function comparisonTable(rows) {
  const right = { align: 'right' };
  return formatTable(
    [{ header: 'workload' }, { header: 'vs' }, { header: 'ringtail ops/s', ...right }, { header: 'ref ops/s', ...right }, { header: 'ringtail/ref', ...right }, { header: 'ringtail p99', ...right }, { header: 'ref p99', ...right }, { header: 'p99 ringtail/ref', ...right }, { header: 'errors', ...right }],
    rows.map((r) => [
      r.workload.toUpperCase(),
      r.reference,
      fmtRate(r.ringtailOpsPerSec),
      fmtRate(r.referenceOpsPerSec),
      fmtRatio(r.throughputRatio),
      us(r.ringtailP99Us),
      us(r.referenceP99Us),
      fmtRatio(r.p99Ratio),
      `${r.ringtailErrors}/${r.referenceErrors}`,
    ]),
  );
}

// ---- main ------------------------------------------------------------------------------------

export async function main(argv) {
  const parsed = parseOptions(argv, SPEC);
  if (parsed.help) {
    log(usage());
    return 0;
  }
  const opts = checkOptions(parsed);
  const startedAt = new Date();
  const result = {
    ...resultHeader('ycsb', startedAt),
    params: { ...opts, help: undefined, out: undefined, dataDir: undefined, sweepRecords: opts.sweep ? opts.sweepRecords : undefined, sweepNodes: opts.sweep ? opts.sweepNodes : undefined },
    ringtail: null,
    references: [],
    comparison: null,
    sweep: null,
    error: null,
  };
  fs.mkdirSync(opts.out, { recursive: true });
  const files = { base: path.join(opts.out, `ycsb-${result.startedAt.replace(/:/g, '-')}`) };

  // Our SIGINT handler is registered before TempDirs' (which exits at once): it stops the phase
  // loops and kills every node first, so no process outlives a Ctrl-C.
  let clusters = null;
  let stopRequested = false;
  const onSignal = () => {
    stopRequested = true;
    clusters?.killAll();
    log('\ninterrupted: every node killed, temporary data removed');
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const tmp = new TempDirs(opts.dataDir, 'ringtail-bench-ycsb-');
  clusters = new LocalClusters(tmp, opts);
  const shouldStop = () => stopRequested;

  log(`ringtail YCSB benchmark — command: ${result.command}`);
  try {
    if (opts.sweep) result.sweep = await runSweep({ opts, clusters, files, shouldStop });
    else await runMain({ opts, clusters, tmp, files, result, shouldStop });
  } catch (e) {
    result.error = String(e?.stack ?? e);
    log(`error: ${e.message}`);
  } finally {
    clusters.killAll();
    tmp.removeAll();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  result.ok = result.error === null;
  result.finishedAt = new Date().toISOString();
  const file = writeResultFile(opts.out, result);
  log(`\nresults: ${file}`);
  return result.error === null ? 0 : 1;
}

async function runMain({ opts, clusters, tmp, files, result, shouldStop }) {
  let cluster = null;
  let hosts = opts.host;
  const nodes = hosts.length > 0 ? null : opts.nodes;
  if (hosts.length === 0) {
    log(heading(`ringtail: local cluster of ${nodes} nodes`));
    cluster = await clusters.start(nodes, 'cluster');
    hosts = cluster.nodes.map((n) => n.http);
  } else {
    log(heading(`ringtail: existing cluster at ${hosts.join(', ')}`));
  }
  const replicationFactor = opts.rf ?? Math.min(3, nodes ?? hosts.length);
  const binding = new RingtailBinding({ hosts, consistency: opts.consistency, tokenAware: opts.tokenAware, connectionsPerHost: opts.connectionsPerHost ?? opts.threads });
  const chartInfo = { title: `${nodes ?? 'existing'} node${nodes === 1 ? '' : 's'}, RF ${replicationFactor}, ${opts.consistency}${opts.tokenAware ? ', token-aware' : ''}` };
  log(`  ${chartInfo.title}; hosts ${hosts.join(', ')}`);
  try {
    result.ringtail = { nodes, replicationFactor, ...(await benchSystem({ binding, system: 'ringtail', opts, records: opts.records, replicationFactor, chartInfo, files, shouldStop })) };
  } finally {
    await binding.close();
    if (cluster !== null) await clusters.stop(cluster);
  }
  if (!opts.compare || shouldStop()) return;

  result.comparison = [];
  for (const name of ['redis', 'etcd']) {
    if (shouldStop()) break;
    log(heading(`reference: ${name}`));
    const dir = tmp.make(`ref-${name}`);
    const [ref] = await startReferences({ names: [name], dir, log, threads: opts.threads });
    if (ref.missing) {
      result.references.push({ name, missing: ref.missing, note: ref.note });
      continue;
    }
    try {
      const r = await benchSystem({ binding: ref.binding, system: name, opts, records: opts.records, replicationFactor: null, chartInfo: { title: ref.description }, files, shouldStop });
      const entry = { name, description: ref.description, note: ref.note, ...r };
      result.references.push(entry);
      result.comparison.push(...comparisonRows(result.ringtail, entry));
    } finally {
      await ref.binding.close?.();
      await ref.stop();
      tmp.remove(dir);
    }
  }
  log(heading('comparison: ringtail vs the references (same runner, threads and workloads)'));
  if (result.comparison.length > 0) log(comparisonTable(result.comparison));
  for (const r of result.references) if (r.missing) log(`  ${r.name}: not installed — ${r.missing}`);
}

async function runSweep({ opts, clusters, files, shouldStop }) {
  const points = [];
  const sweepOpts = { ...opts, workload: ['a'] };
  for (const nodes of opts.sweepNodes) {
    for (const records of opts.sweepRecords) {
      if (shouldStop()) return points;
      const replicationFactor = Math.min(3, nodes);
      log(heading(`sweep: workload A, ${nodes} node${nodes === 1 ? '' : 's'}, RF ${replicationFactor}, ${records.toLocaleString('en-US')} records`));
      const cluster = await clusters.start(nodes, `sweep-${nodes}-${records}`);
      const binding = new RingtailBinding({ hosts: cluster.nodes.map((n) => n.http), consistency: opts.consistency, tokenAware: opts.tokenAware, connectionsPerHost: opts.connectionsPerHost ?? opts.threads });
      let r;
      try {
        r = await benchSystem({
          binding,
          system: 'ringtail',
          opts: sweepOpts,
          records,
          replicationFactor,
          chartInfo: { title: `${nodes} nodes, RF ${replicationFactor}, ${opts.consistency}`, suffix: `-${nodes}n-${records}` },
          files,
          shouldStop,
        });
      } finally {
        await binding.close();
        await clusters.stop(cluster);
      }
      const run = r.runs[0];
      const { entries, overall } = run ? opRows(run.summary) : { entries: [], overall: null };
      const p99 = (op) => entries.find(([o]) => o === op)?.[1].p99Us ?? null;
      points.push({
        nodes,
        replicationFactor,
        records,
        loadRecordsPerSec: r.load.opsPerSec,
        opsPerSec: run?.opsPerSec ?? null,
        readP99Us: p99('READ'),
        updateP99Us: p99('UPDATE'),
        overallP99Us: overall?.p99Us ?? null,
        errors: (run?.errors ?? 0) + r.load.errors,
        load: r.load,
        run: run ?? null,
      });
    }
  }
  log(heading('sweep: workload A as nodes and data grow'));
  const right = { align: 'right' };
  log(
    formatTable(
      [{ header: 'nodes' }, { header: 'RF', ...right }, { header: 'records', ...right }, { header: 'load rec/s', ...right }, { header: 'ops/s', ...right }, { header: 'READ p99', ...right }, { header: 'UPDATE p99', ...right }, { header: 'errors', ...right }],
      points.map((p) => [String(p.nodes), String(p.replicationFactor), fmtCount(p.records), fmtRate(p.loadRecordsPerSec), fmtRate(p.opsPerSec), us(p.readP99Us), us(p.updateP99Us), String(p.errors)]),
    ),
  );
  return points;
}
