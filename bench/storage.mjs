/**
 * Storage benchmark: the single-node engine (commit log + memtable + SQLite SSTables +
 * compaction) against raw better-sqlite3 and classic-level (LevelDB) on the same workload.
 *
 *   npm run bench -- storage [--records N] [--reads-seconds S] [--out DIR]   (--help for all)
 *
 * Phases, each on a fresh store in a temporary directory:
 *   1. classic-level: ingest in random key order with db.batch() of --batch-size puts; point
 *      reads with the synchronous db.getSync().
 *   2. better-sqlite3: one WITHOUT ROWID table (page_size 16384, WAL, synchronous=NORMAL),
 *      the same rows in transactions of --batch-size; point reads with a prepared statement.
 *   3. ringtail, per commitlog_sync mode: ingest with --concurrency applies in flight, flushing
 *      (concurrently with the writers) into 16 SSTables (group), 4 (batch) or 1 (periodic);
 *      point reads with 16 SSTables, then a major compaction under a running read loop, then
 *      reads with 1 SSTable (group run); reads with 4 SSTables (batch run).
 * Every read is checked to find its row and every 16th value is compared byte for byte: a miss
 * or a wrong value fails the run. Event-loop delay is recorded during each engine ingest
 * (flushes running) and during the compaction.
 *
 * Results: a report on stdout and a JSON file <out>/storage-<ISO time>.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { pino } from 'pino';

import { parseOptions, usageText } from './lib/args.mjs';
import { collectGarbage, dirSize, onTmpfs, resultHeader, writeResultFile, settleDisk, TempDirs } from './lib/env.mjs';
import { LoopDelayMonitor } from './lib/loop-delay.mjs';
import { assertReadsOk, readLoop, runBounded, withTimeout } from './lib/loops.mjs';
import { fmtBytes, fmtMs, fmtRate, fmtRatio, fmtSeconds, nowSeconds, rate, ratio } from './lib/stats.mjs';
import { formatTable, heading } from './lib/table.mjs';
import { Workload } from './lib/workload.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ENGINE_MODULE = path.join(HERE, '..', 'dist', 'storage', 'engine', 'storage-engine.js');
/** The node's default compaction throttle: the benchmark measures what a node does out of the box. */
const DEFAULT_COMPACTION_MB_PER_S = JSON.parse(fs.readFileSync(path.join(HERE, '..', 'config', 'default.json'), 'utf8')).compaction_throughput_mb_per_s.default;
const COMMITLOG_MODULE = path.join(HERE, '..', 'dist', 'storage', 'commitlog', 'commit-log.js');

const MODES = {
  // flushes: how many times the memtable is flushed during (and at the end of) the ingest,
  // i.e. how many SSTables the ingest leaves behind.
  group: { flushes: 16, readsAfterIngest: true, majorCompaction: true },
  batch: { flushes: 4, readsAfterIngest: true, majorCompaction: false },
  periodic: { flushes: 1, readsAfterIngest: false, majorCompaction: false },
};
const BASELINES = ['classic-level', 'sqlite'];

const TARGETS = {
  ingestVsClassic: 1.0, // ringtail group-sync ingest rate ≥ classic-level batched ingest rate
  readsVsClassic: 0.5, // ringtail reads with 16 SSTables ≥ ½ classic-level getSync rate
  loopDelayP99Ms: 20, // event-loop delay p99 during flushes and compaction < 20 ms
};

const TS0 = 1_700_000_000_000_000; // µs; record i is written at TS0 + i
const TABLE = {
  id: '00000000-0000-4000-8000-000000000001',
  keyspace: 'bench',
  name: 'kv',
  gcGraceSeconds: 864000,
  compaction: { enabled: false },
};

export const SPEC = {
  records: { kind: 'int', default: 1_000_000, min: 1, help: 'rows to write' },
  'reads-seconds': { kind: 'number', default: 10, min: 0.01, help: 'seconds of random point reads per read phase' },
  out: { kind: 'string', default: path.join(HERE, 'out'), defaultText: 'bench/out', help: 'directory for the results JSON' },
  'data-dir': { kind: 'string', default: os.tmpdir(), defaultText: 'the OS temp dir', help: 'where the temporary stores are made (all removed at the end)' },
  'value-bytes': { kind: 'int', default: 1000, min: 1, max: 1 << 20, help: 'bytes per value' },
  concurrency: { kind: 'int', default: 256, min: 1, help: 'ringtail applies in flight during ingest' },
  'apply-burst': { kind: 'int', default: 64, min: 1, help: 'ringtail applies started per event-loop turn at most (the harness yields between bursts)' },
  'batch-size': { kind: 'int', default: 1000, min: 1, help: 'rows per classic-level batch and per SQLite transaction' },
  modes: { kind: 'list', default: Object.keys(MODES), choices: Object.keys(MODES), help: 'ringtail commitlog_sync modes to run' },
  baselines: { kind: 'list', default: BASELINES, choices: BASELINES, help: 'baselines to run' },
  seed: { kind: 'int', default: 42, min: 0, help: 'seed of the key order, values and read sequence' },
  'compaction-mb-per-s': { kind: 'number', default: DEFAULT_COMPACTION_MB_PER_S, min: 0, help: "compaction throttle in MiB/s, 0 = unthrottled (the node's default)" },
  'phase-timeout': { kind: 'number', min: 1, help: 'seconds before an ingest, flush or compaction counts as hung (default max(120, records/500))' },
  'check-targets': { kind: 'flag', help: 'exit with code 3 when a target fails' },
};

export function usage() {
  return `usage: npm run bench -- storage [options]\n\n${usageText(SPEC)}`;
}

const log = (s = '') => process.stdout.write(`${s}\n`);

export async function main(argv) {
  const opts = parseOptions(argv, SPEC);
  if (opts.help) {
    log(usage());
    return 0;
  }
  if (opts.modes.length === 0 && opts.baselines.length === 0) throw new Error('nothing to run: --modes and --baselines are both empty');
  const phaseTimeout = opts.phaseTimeout ?? Math.max(120, opts.records / 500);
  const startedAt = new Date();
  const result = {
    ...resultHeader('storage', startedAt),
    params: {
      records: opts.records,
      valueBytes: opts.valueBytes,
      readsSeconds: opts.readsSeconds,
      concurrency: opts.concurrency,
      applyBurst: opts.applyBurst,
      batchSize: opts.batchSize,
      modes: opts.modes,
      baselines: opts.baselines,
      seed: opts.seed,
      compactionMbPerS: opts.compactionMbPerS,
      phaseTimeoutSeconds: phaseTimeout,
      dataDir: path.resolve(opts.dataDir),
      gcBetweenPhases: typeof globalThis.gc === 'function',
    },
    baselines: {},
    engine: {},
    targets: [],
    warnings: [],
    error: null,
  };
  const warn = (msg) => {
    result.warnings.push(msg);
    log(`WARNING: ${msg}`);
  };

  const m = result.machine;
  log(`ringtail storage benchmark — ${opts.records.toLocaleString('en-US')} rows of ${opts.valueBytes} B`);
  log(`machine: ${m.cpuModel}, ${m.cores} cores, ${fmtBytes(m.totalMemBytes)} RAM, node ${m.node}, ${m.platform}`);
  log(`command: ${result.command}`);
  if (onTmpfs(opts.dataDir)) warn(`${opts.dataDir} is tmpfs: fsync is free there, so the commit-log numbers mean little (use --data-dir)`);

  // Load the engine first so a missing build fails before minutes of baselines.
  let engineModule = null;
  if (opts.modes.length > 0) engineModule = await loadEngine();

  const tmp = new TempDirs(opts.dataDir);
  let outcome = 0;
  try {
    const t0 = nowSeconds();
    const w = new Workload({ records: opts.records, valueSize: opts.valueBytes, seed: opts.seed });
    log(`workload generated in ${fmtSeconds(nowSeconds() - t0)} (outside timing); stores under ${tmp.root}`);

    const ctx = { w, opts, tmp, phaseTimeout, warn };
    // Each system starts on a quiet disk: the previous one's dirty pages are written back first,
    // so its write-back does not land in the next system's timings.
    if (opts.baselines.includes('classic-level')) result.baselines.classicLevel = await benchClassicLevel(ctx);
    settleDisk();
    if (opts.baselines.includes('sqlite')) result.baselines.sqlite = await benchSqlite(ctx);
    for (const mode of Object.keys(MODES)) {
      settleDisk();
      if (opts.modes.includes(mode)) result.engine[mode] = await benchEngine(ctx, engineModule, mode);
    }

    result.targets = evaluateTargets(result);
    report(result);
    result.ok = true;
    if (opts.checkTargets && result.targets.some((t) => t.pass === false)) outcome = 3;
  } catch (e) {
    result.error = e instanceof Error ? (e.stack ?? e.message) : String(e);
    throw e;
  } finally {
    tmp.removeAll();
    result.finishedAt = new Date().toISOString();
    const file = writeResultFile(opts.out, result);
    log(`\nresults: ${file}${result.ok ? '' : ' (run failed; partial results)'}`);
  }
  return outcome;
}

async function loadEngine() {
  if (!fs.existsSync(ENGINE_MODULE)) {
    throw new Error(`${path.relative(process.cwd(), ENGINE_MODULE)} not found: build the engine first (npm run build), or run only the baselines with --modes ''`);
  }
  const mod = await import(pathToFileURL(ENGINE_MODULE).href);
  if (typeof mod.StorageEngine?.open !== 'function') throw new Error(`${ENGINE_MODULE} does not export StorageEngine with a static open()`);
  let commitLogSoftLimitBytes = null;
  if (fs.existsSync(COMMITLOG_MODULE)) commitLogSoftLimitBytes = (await import(pathToFileURL(COMMITLOG_MODULE).href)).COMMITLOG_PENDING_SOFT_LIMIT_BYTES ?? null;
  return { StorageEngine: mod.StorageEngine, commitLogSoftLimitBytes };
}



function readsRecord(r, extra = {}) {
  return { ...extra, reads: r.reads, seconds: r.seconds, readsPerSec: r.readsPerSec, verified: r.verified, misses: r.misses, mismatches: r.mismatches };
}

function line(label, text) {
  log(`  ${label.padEnd(50)} ${text}`);
}

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

// ---------------------------------------------------------------- classic-level (LevelDB)

async function benchClassicLevel({ w, opts, tmp, phaseTimeout }) {
  log(heading('classic-level (LevelDB)'));
  const { ClassicLevel } = await import('classic-level');
  const dir = tmp.make('classic-level');
  const db = new ClassicLevel(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  try {
    if (typeof db.getSync !== 'function') throw new Error('this classic-level has no getSync(); the baseline expects classic-level ≥ 3');
    const n = w.records;
    const B = opts.batchSize;
    collectGarbage();
    const t0 = nowSeconds();
    const ingest = (async () => {
      for (let s = 0; s < n; s += B) {
        const e = Math.min(n, s + B);
        const ops = new Array(e - s);
        for (let k = s; k < e; k++) {
          const i = w.order[k];
          ops[k - s] = { type: 'put', key: w.key(i), value: w.value(i) };
        }
        await db.batch(ops);
      }
    })();
    await withTimeout(ingest, phaseTimeout, 'classic-level ingest');
    const seconds = nowSeconds() - t0;
    const ingestRec = { rows: n, seconds, rowsPerSec: rate(n, seconds), batchSize: B, diskBytes: dirSize(dir) };
    line(`ingest, db.batch() of ${B}`, `${fmtRate(ingestRec.rowsPerSec, ' rows/s')} (${fmtSeconds(seconds)}, ${fmtBytes(ingestRec.diskBytes)} on disk)`);

    // Read LevelDB in its settled state, as ringtail is read after its flushes have finished:
    // right after the ingest its background compaction is still merging level-0 files, and
    // reads then are several times slower (which would flatter ringtail's read target).
    const settle = await settleLevelDb(db, Math.min(120, phaseTimeout));
    ingestRec.settleSeconds = settle.seconds;
    ingestRec.level0FilesAtReads = settle.level0Files;
    line('  background compaction settled', `after ${fmtSeconds(settle.seconds)} (${settle.level0Files} level-0 files${settle.timedOut ? '; gave up waiting' : ''})`);

    collectGarbage();
    const r = await readLoop({
      get: (i) => db.getSync(w.key(i)),
      expected: (i) => w.value(i),
      nextIndex: w.randomIndexes(opts.seed + 1),
      seconds: opts.readsSeconds,
    });
    assertReadsOk('classic-level reads', r);
    line('point reads, db.getSync()', `${fmtRate(r.readsPerSec, ' reads/s')} (${r.reads.toLocaleString('en-US')} reads)`);
    return { options: { keyEncoding: 'buffer', valueEncoding: 'buffer', leveldbDefaults: true }, ingest: ingestRec, reads: readsRecord(r, { api: 'getSync' }) };
  } finally {
    await db.close();
    tmp.remove(dir);
  }
}

/** Waits (bounded) until LevelDB's stats stop changing for 1 s, i.e. no compaction is running. */
async function settleLevelDb(db, maxSeconds) {
  const t0 = nowSeconds();
  let last = db.getProperty('leveldb.stats');
  let stableSince = nowSeconds();
  let timedOut = false;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const now = nowSeconds();
    const stats = db.getProperty('leveldb.stats');
    if (stats !== last) {
      last = stats;
      stableSince = now;
    } else if (now - stableSince >= 1) break;
    if (now - t0 >= maxSeconds) {
      timedOut = true;
      break;
    }
  }
  return { seconds: nowSeconds() - t0, level0Files: Number(db.getProperty('leveldb.num-files-at-level0')), timedOut };
}

// ---------------------------------------------------------------- raw better-sqlite3

async function benchSqlite({ w, opts, tmp, phaseTimeout }) {
  log(heading('better-sqlite3 (one WITHOUT ROWID table)'));
  const { default: Database } = await import('better-sqlite3');
  const dir = tmp.make('sqlite');
  const db = new Database(path.join(dir, 'kv.db'));
  try {
    const pragmas = ['page_size = 16384', 'journal_mode = WAL', 'synchronous = NORMAL'];
    for (const p of pragmas) db.pragma(p);
    db.exec('CREATE TABLE kv (k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID');
    const insert = db.prepare('INSERT INTO kv (k, v) VALUES (?, ?)');
    const insertRange = db.transaction((s, e) => {
      for (let k = s; k < e; k++) {
        const i = w.order[k];
        insert.run(w.key(i), w.value(i));
      }
    });
    const n = w.records;
    const B = opts.batchSize;
    collectGarbage();
    const t0 = nowSeconds();
    for (let s = 0; s < n; s += B) {
      insertRange(s, Math.min(n, s + B));
      if (nowSeconds() - t0 > phaseTimeout) throw new Error(`sqlite ingest: timed out after ${phaseTimeout} s`);
    }
    const seconds = nowSeconds() - t0;
    const ingestRec = { rows: n, seconds, rowsPerSec: rate(n, seconds), batchSize: B, diskBytes: dirSize(dir) };
    line(`ingest, transactions of ${B}`, `${fmtRate(ingestRec.rowsPerSec, ' rows/s')} (${fmtSeconds(seconds)}, ${fmtBytes(ingestRec.diskBytes)} on disk incl. WAL)`);

    const get = db.prepare('SELECT v FROM kv WHERE k = ?').pluck();
    collectGarbage();
    const r = await readLoop({
      get: (i) => get.get(w.key(i)),
      expected: (i) => w.value(i),
      nextIndex: w.randomIndexes(opts.seed + 1),
      seconds: opts.readsSeconds,
    });
    assertReadsOk('sqlite reads', r);
    line('point reads, prepared get', `${fmtRate(r.readsPerSec, ' reads/s')} (${r.reads.toLocaleString('en-US')} reads)`);
    return { options: { pragmas }, ingest: ingestRec, reads: readsRecord(r, { api: 'prepared get' }) };
  } finally {
    db.close();
    tmp.remove(dir);
  }
}

// ---------------------------------------------------------------- ringtail engine

function partitionUpdate(w, i) {
  const ts = TS0 + i;
  return {
    token: w.token(i),
    key: w.key(i),
    rangeTombstones: [],
    rows: [
      {
        clustering: Buffer.alloc(0),
        liveness: { ts, ttl: 0, expiresAt: 0 },
        cells: [{ column: 'v', value: w.value(i), ts, ttl: 0, ldt: 0 }],
      },
    ],
  };
}

/**
 * The commit log never refuses an append: over its soft limit of unwritten bytes it logs a
 * warning and expects the caller to shed load (in `periodic` mode an apply resolves before its
 * write, so nothing else holds writers back). The benchmark's writers behave like the
 * coordinator should: stop starting applies above the limit, resume below half of it.
 */
function commitLogAdmission(engine, mod) {
  const limit = mod.commitLogSoftLimitBytes ?? 64 * 1024 * 1024;
  const pending = typeof engine.commitLogStats === 'function' ? () => engine.commitLogStats().pendingBytes : null;
  let paused = false;
  let pauses = 0;
  let pausedSince = 0;
  let pausedSeconds = 0;
  return {
    admit:
      pending === null
        ? undefined
        : () => {
            const bytes = pending();
            if (paused && bytes < limit / 2) {
              paused = false;
              pausedSeconds += nowSeconds() - pausedSince;
            } else if (!paused && bytes > limit) {
              paused = true;
              pauses++;
              pausedSince = nowSeconds();
            }
            return !paused;
          },
    summary: () => ({ limitBytes: limit, observed: pending !== null, pauses, pausedSeconds: pausedSeconds + (paused ? nowSeconds() - pausedSince : 0) }),
  };
}

/** readPartition → the value bytes of the partition's only cell, or null. */
function engineGetter(table, w) {
  return (i) => {
    const p = table.readPartition(w.token(i), w.key(i));
    if (p == null) return null;
    if (typeof p.then === 'function') throw new Error('table.readPartition() returned a promise; the benchmark expects a synchronous read');
    const row = p.rows[0];
    if (row === undefined) return null;
    const cell = row.cells[0];
    return cell === undefined ? null : cell.value;
  };
}

async function benchEngine({ w, opts, tmp, phaseTimeout, warn }, mod, mode) {
  const plan = MODES[mode];
  log(heading(`ringtail, commitlog_sync=${mode}`));
  const dataDir = tmp.make(`ringtail-${mode}`);
  // The engine logs (and swallows) background failures such as a failed flush: show warnings
  // and errors on stderr and fail the run if any error was logged.
  const engineErrors = [];
  const logger = pino(
    {
      level: 'warn',
      name: `ringtail-${mode}`,
      hooks: {
        logMethod(args, method, level) {
          if (level >= 50) engineErrors.push(args.find((a) => typeof a === 'string') ?? 'error');
          return method.apply(this, args);
        },
      },
    },
    pino.destination(2),
  );
  const checkEngineErrors = (when) => {
    if (engineErrors.length > 0) throw new Error(`ringtail ${mode}: the engine logged ${engineErrors.length} error(s) ${when}: ${engineErrors.slice(0, 3).join('; ')}`);
  };
  const engineOptions = {
    commitlogSync: mode,
    commitlogSyncPeriodMs: 10000,
    commitlogSyncGroupWindowMs: 2,
    commitlogSegmentSizeMb: 32,
    // Flushes are driven by the benchmark: keep the automatic threshold above everything written
    // (periodic holds all rows in one memtable; allow 2× the raw bytes for per-row overhead).
    memtableFlushThresholdMb: Math.max(1024, Math.ceil((2 * w.records * (w.valueSize + 100)) / 1048576)),
    compactionThroughputMbPerS: opts.compactionMbPerS,
  };
  const engine = await mod.StorageEngine.open({ ...engineOptions, dataDir, logger });
  const out = { mode, engineOptions, table: TABLE, ingest: null, reads: [], compaction: null, stats: {} };
  try {
    const table = engine.openTable(TABLE);
    await engine.replayCommitLog();
    const get = engineGetter(table, w);
    const expected = (i) => w.value(i);

    // Ingest: bounded concurrency; flushes start (not awaited) every records/flushes rows.
    const n = w.records;
    const step = Math.ceil(n / plan.flushes);
    // Each flush must find rows in the memtable: with more applies in flight than rows between two
    // flush points, every write since the last flush could still be waiting (e.g. for a memtable
    // slot) and a flush would seal nothing. Only matters for tiny --records.
    const concurrency = Math.min(opts.concurrency, Math.max(1, Math.floor(step / 2)));
    if (concurrency < opts.concurrency) line('(tiny run)', `${concurrency} applies in flight instead of ${opts.concurrency}, so that each of the ${plan.flushes} flushes has rows to flush`);
    const flushes = [];
    const admission = commitLogAdmission(engine, mod);
    collectGarbage();
    const mon = new LoopDelayMonitor(10).start();
    const t0 = nowSeconds();
    const writers = runBounded(n, concurrency, (k) => table.apply(partitionUpdate(w, w.order[k])), {
      yieldEvery: opts.applyBurst,
      admit: admission.admit,
      onIssued: (issued) => {
        if (issued % step === 0 && issued < n) {
          const f = table.flush();
          f.catch(() => {}); // observed by Promise.all below
          flushes.push(f);
        }
      },
    });
    await withTimeout(writers, phaseTimeout, `ringtail ${mode} ingest`);
    const writeSeconds = nowSeconds() - t0;
    await withTimeout(Promise.all(flushes), phaseTimeout, `ringtail ${mode} flushes`);
    await withTimeout(table.flush(), phaseTimeout, `ringtail ${mode} final flush`);
    const seconds = nowSeconds() - t0;
    const loopDelay = mon.stop();
    const afterIngest = table.stats();
    checkEngineErrors('during ingest');
    if (afterIngest.memtableBytes > 0 || afterIngest.flushingMemtables > 0) {
      throw new Error(`ringtail ${mode}: data left in memtables after the final flush (${afterIngest.memtableBytes} B, ${afterIngest.flushingMemtables} sealed): a flush failed`);
    }
    out.stats.afterIngest = afterIngest;
    out.ingest = {
      rows: n,
      seconds,
      rowsPerSec: rate(n, seconds),
      writeSeconds,
      concurrency,
      flushesRequested: flushes.length + 1,
      commitLogBackpressure: admission.summary(),
      sstables: afterIngest.sstableCount,
      sstableBytes: afterIngest.sstableBytes,
      diskBytes: dirSize(dataDir),
      loopDelay,
    };
    line(`ingest, ${concurrency} in flight, ${plural(flushes.length + 1, 'flush')}`.replace('flushs', 'flushes'), `${fmtRate(out.ingest.rowsPerSec, ' rows/s')} (${fmtSeconds(seconds)} incl. final flush; ${plural(afterIngest.sstableCount, 'SSTable')}, ${fmtBytes(afterIngest.sstableBytes)})`);
    line('  event-loop delay during ingest + flushes', delayText(loopDelay));
    const bp = out.ingest.commitLogBackpressure;
    if (bp.pauses > 0) line('  paused for the commit-log backlog', `${bp.pauses} times, ${fmtSeconds(bp.pausedSeconds)} in all (over ${fmtBytes(bp.limitBytes)} unwritten)`);
    if (afterIngest.sstableCount !== plan.flushes) warn(`${mode}: expected ${plan.flushes} SSTables after ingest, found ${afterIngest.sstableCount}`);

    const readPhase = async (label, seed) => {
      collectGarbage();
      const sstables = table.stats().sstableCount;
      const r = await readLoop({ get, expected, nextIndex: w.randomIndexes(seed), seconds: opts.readsSeconds });
      assertReadsOk(`ringtail ${mode} reads (${label})`, r);
      const rec = readsRecord(r, { label, sstables });
      out.reads.push(rec);
      line(`point reads, ${plural(sstables, 'SSTable')}${label ? ` (${label})` : ''}`, `${fmtRate(r.readsPerSec, ' reads/s')} (${r.reads.toLocaleString('en-US')} reads)`);
      return rec;
    };

    if (plan.readsAfterIngest) await readPhase('after ingest', opts.seed + 1);

    if (plan.majorCompaction) {
      const before = table.stats();
      collectGarbage();
      const cmon = new LoopDelayMonitor(10).start();
      let compacting = true;
      const c0 = nowSeconds();
      const compaction = withTimeout(table.compact({ major: true }), phaseTimeout, `ringtail ${mode} major compaction`).finally(() => {
        compacting = false;
      });
      const readsDuring = readLoop({ get, expected, nextIndex: w.randomIndexes(opts.seed + 2), shouldStop: () => !compacting, maxSeconds: phaseTimeout + 1 });
      let compactError = null;
      try {
        await compaction;
      } catch (e) {
        compactError = e;
      }
      const cSeconds = nowSeconds() - c0;
      const during = await readsDuring;
      const cLoopDelay = cmon.stop();
      if (compactError) throw compactError;
      assertReadsOk(`ringtail ${mode} reads during compaction`, during);
      checkEngineErrors('during the major compaction');
      const after = table.stats();
      out.stats.afterCompaction = after;
      out.compaction = {
        seconds: cSeconds,
        sstablesBefore: before.sstableCount,
        sstablesAfter: after.sstableCount,
        inputBytes: before.sstableBytes,
        outputBytes: after.sstableBytes,
        inputMiBPerSec: before.sstableBytes / 1048576 / cSeconds,
        loopDelay: cLoopDelay,
        readsDuring: readsRecord(during),
      };
      line(`major compaction, ${before.sstableCount} → ${plural(after.sstableCount, 'SSTable')}`, `${fmtSeconds(cSeconds)}, ${(out.compaction.inputMiBPerSec).toFixed(1)} MiB/s of input (${fmtBytes(before.sstableBytes)} → ${fmtBytes(after.sstableBytes)})`);
      line('  reads meanwhile', `${fmtRate(during.readsPerSec, ' reads/s')} (${during.reads.toLocaleString('en-US')} reads)`);
      line('  event-loop delay during compaction', delayText(cLoopDelay));
      if (after.sstableCount !== 1) warn(`${mode}: expected 1 SSTable after the major compaction, found ${after.sstableCount}`);
      await readPhase('after major compaction', opts.seed + 1);
    }
    out.stats.final = table.stats();
    checkEngineErrors('during reads');
    return out;
  } finally {
    await engine.close({ flush: false });
    tmp.remove(dataDir);
  }
}

// ---------------------------------------------------------------- targets and report

function delayText(ld) {
  return `p99 ${fmtMs(ld.p99Ms)}, max ${fmtMs(ld.maxMs)} (${ld.samples} samples at ${ld.resolutionMs} ms)`;
}

function engineReads(result, mode, label) {
  return result.engine[mode]?.reads.find((r) => r.label === label) ?? null;
}

function evaluateTargets(result) {
  const classic = result.baselines.classicLevel;
  const group = result.engine.group;
  const t = [];

  const ingestRatio = ratio(group?.ingest?.rowsPerSec, classic?.ingest?.rowsPerSec);
  t.push({
    name: 'ingest, group sync vs classic-level batched',
    measured: ingestRatio,
    unit: '×',
    required: `≥ ${TARGETS.ingestVsClassic.toFixed(2)}×`,
    pass: ingestRatio == null ? null : ingestRatio >= TARGETS.ingestVsClassic,
  });

  const reads16 = engineReads(result, 'group', 'after ingest');
  const readsRatio = ratio(reads16?.readsPerSec, classic?.reads?.readsPerSec);
  t.push({
    name: `point reads, ${reads16?.sstables ?? 16} SSTables vs classic-level getSync`,
    measured: readsRatio,
    unit: '×',
    required: `≥ ${TARGETS.readsVsClassic.toFixed(2)}×`,
    pass: readsRatio == null ? null : readsRatio >= TARGETS.readsVsClassic,
  });

  const windows = [group?.ingest?.loopDelay?.p99Ms, group?.compaction?.loopDelay?.p99Ms].filter((x) => x != null);
  const worst = windows.length === 2 ? Math.max(...windows) : null;
  t.push({
    name: 'event-loop delay p99 during flushes (group ingest) and compaction',
    measured: worst,
    unit: 'ms',
    required: `< ${TARGETS.loopDelayP99Ms} ms`,
    pass: worst == null ? null : worst < TARGETS.loopDelayP99Ms,
  });
  return t;
}

function report(result) {
  const classic = result.baselines.classicLevel;
  const sqlite = result.baselines.sqlite;
  const rows = [];
  const add = (what, store, r, base) => {
    rows.push([what, store, fmtRate(r, base === 'ingest' ? ' rows/s' : ' reads/s'), fmtRatio(ratio(r, classic?.[base]?.[`${base === 'ingest' ? 'rows' : 'reads'}PerSec`])), fmtRatio(ratio(r, sqlite?.[base]?.[`${base === 'ingest' ? 'rows' : 'reads'}PerSec`]))]);
  };
  if (classic) add('ingest', 'classic-level, batch', classic.ingest.rowsPerSec, 'ingest');
  if (sqlite) add('ingest', 'better-sqlite3, txn', sqlite.ingest.rowsPerSec, 'ingest');
  for (const [mode, e] of Object.entries(result.engine)) {
    add('ingest', `ringtail ${mode}, ${plural(e.ingest.sstables, 'SSTable')}`, e.ingest.rowsPerSec, 'ingest');
  }
  if (classic) add('point reads', 'classic-level getSync', classic.reads.readsPerSec, 'reads');
  if (sqlite) add('point reads', 'better-sqlite3 get', sqlite.reads.readsPerSec, 'reads');
  for (const [mode, e] of Object.entries(result.engine)) {
    for (const r of e.reads) add('point reads', `ringtail ${mode}, ${plural(r.sstables, 'SSTable')}`, r.readsPerSec, 'reads');
    if (e.compaction) add('point reads', `ringtail ${mode}, during compaction`, e.compaction.readsDuring.readsPerSec, 'reads');
  }
  log(heading('summary'));
  log(
    formatTable(
      [{ header: 'phase' }, { header: 'store' }, { header: 'rate', align: 'right' }, { header: 'vs classic-level', align: 'right' }, { header: 'vs sqlite', align: 'right' }],
      rows,
    ),
  );

  const delays = [];
  for (const [mode, e] of Object.entries(result.engine)) {
    const d = (label, ld) => delays.push([label, fmtMs(ld.p50Ms), fmtMs(ld.p99Ms), fmtMs(ld.maxMs), fmtMs(ld.p99BeyondTickMs), fmtMs(ld.maxBeyondTickMs)]);
    d(`ringtail ${mode} ingest + flushes`, e.ingest.loopDelay);
    if (e.compaction) d(`ringtail ${mode} major compaction + reads`, e.compaction.loopDelay);
  }
  if (delays.length > 0) {
    log(heading('event-loop delay (monitorEventLoopDelay, 10 ms tick; "beyond tick" = value − 10 ms)'));
    log(
      formatTable(
        [{ header: 'window' }, { header: 'p50', align: 'right' }, { header: 'p99', align: 'right' }, { header: 'max', align: 'right' }, { header: 'p99 beyond tick', align: 'right' }, { header: 'max beyond tick', align: 'right' }],
        delays,
      ),
    );
  }

  log(heading('targets'));
  log(
    formatTable(
      [{ header: 'target' }, { header: 'measured', align: 'right' }, { header: 'required', align: 'right' }, { header: 'result' }],
      result.targets.map((t) => [t.name, t.measured == null ? '-' : t.unit === 'ms' ? fmtMs(t.measured) : fmtRatio(t.measured), t.required, t.pass == null ? 'n/a (not run)' : t.pass ? 'PASS' : 'FAIL']),
    ),
  );
  if (result.warnings.length > 0) log(`\n${result.warnings.length} warning(s): ${result.warnings.join('; ')}`);
}

// Runnable directly too: node --expose-gc bench/storage.mjs [options]
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
