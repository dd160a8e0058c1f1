/**
 * Child process of the storage crash test (storage-crash.test.ts), run from the built engine
 * (dist/). Two modes:
 *
 *   node crash-writer.mjs write  <dataDir> <group|batch> <runId> <seed>
 *     Opens the engine with a tiny memtable (flush every few hundred writes), 1 MB commit-log
 *     segments (they roll and get deleted) and size-tiered compaction at minThreshold 4, replays
 *     the commit log, then writes forever with WRITERS concurrent writers. Each write is a new
 *     partition `${runId}:${n}` with one row (liveness marker + one cell whose 200..2000-byte value
 *     is derived from the key). Prints to stdout, one line each, synchronously (nothing is lost
 *     to buffering when the parent sends SIGKILL):
 *       READY {replay stats}              after the commit log was replayed
 *       ACK <key>                         after `table.apply` resolved: the write is acknowledged
 *       FLUSH-START <n> / FLUSH-END <n>   around each memtable flush (worker write → rename →
 *                                         manifest → commit-log discard)
 *       COMPACTION-START <n> / COMPACTION-END <n>   around each compaction
 *     The flush/compaction lines come from wrapping the table's flush and compaction steps
 *     (`flushMemtable`, `compactSstables`): the engine has no hooks, and polling `stats()` or the
 *     directory misses short flushes. If those methods are renamed this fails loudly.
 *
 *   node crash-writer.mjs verify <dataDir> <group|batch> <keysFile>
 *     Looks at the table directory as the crash left it, opens the engine (which deletes crash
 *     leftovers) without flushing or compacting (so it changes nothing else on disk), replays,
 *     reads back every key of <keysFile> (one per line), scans the whole table checking every
 *     value, checks the directory holds exactly the SSTables of the manifest and that each one
 *     passes SQLite's quick_check, then closes without flushing. Prints one JSON line:
 *       {"checked","missing","badValues","strayFiles","missingSstables","corruptSstables",
 *        "leftoversBeforeOpen","missingBeforeOpen","scanned","sstables","commitLogSegments","replay"}
 *
 * Any unexpected error (an unhandled rejection included) prints to stderr and exits 1.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DIST = path.join(HERE, '..', '..', 'dist', 'storage');
const { StorageEngine } = await import(path.join(DIST, 'engine', 'storage-engine.js'));

const TABLE = {
  id: '0c7a5e00-0000-4000-8000-00000000c4a5',
  keyspace: 'crash',
  name: 'kv',
  gcGraceSeconds: 864000,
};
const WRITERS = 32;
const MIN_VALUE_BYTES = 200;
const MAX_VALUE_BYTES = 2000;

function die(what, err) {
  writeAll(2, `crash-writer ${what}: ${err?.stack ?? String(err)}\n`);
  process.exit(1);
}
process.on('unhandledRejection', (err) => die('unhandled rejection', err));
process.on('uncaughtException', (err) => die('uncaught exception', err));

/** Synchronous write of a whole string (the parent reads stdout through a pipe). */
function writeAll(fd, text) {
  const buf = Buffer.from(text, 'utf8');
  let done = 0;
  while (done < buf.length) {
    try {
      done += fs.writeSync(fd, buf, done, buf.length - done);
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err;
    }
  }
}
const out = (line) => writeAll(1, `${line}\n`);

// #region deterministic keys, tokens and values
/** A signed 64-bit token: the first 8 bytes of the key's SHA-256. */
function tokenOf(key) {
  return createHash('sha256').update(key, 'utf8').digest().readBigInt64BE(0);
}

/** 200..2000 bytes of SHAKE-256 of the key (the length from its SHA-256): checkable from the key alone. */
function valueOf(key) {
  const length = MIN_VALUE_BYTES + (createHash('sha256').update(key, 'utf8').digest().readUInt16BE(8) % (MAX_VALUE_BYTES - MIN_VALUE_BYTES + 1));
  return createHash('shake256', { outputLength: length }).update(key, 'utf8').digest();
}
// #endregion

function engineOptions(dataDir, sync, overrides = {}) {
  return {
    dataDir,
    commitlogSync: sync,
    commitlogSyncPeriodMs: 1000,
    commitlogSyncGroupWindowMs: 2,
    commitlogSegmentSizeMb: 1,
    memtableFlushThresholdMb: 0.125,
    compactionThroughputMbPerS: 0,
    ...overrides,
  };
}

function tableDir(dataDir) {
  return path.join(dataDir, 'data', TABLE.keyspace, `${TABLE.name}-${TABLE.id.replaceAll('-', '')}`);
}

/** Prints START/END lines around an async method of `target` (an own-property override). */
function announce(target, method, label) {
  const original = target[method];
  if (typeof original !== 'function') throw new Error(`TableStore.${method} not found: update crash-writer.mjs to the engine's flush/compaction code`);
  let n = 0;
  target[method] = async function (...args) {
    const id = ++n;
    out(`${label}-START ${id}`);
    try {
      return await original.apply(this, args);
    } finally {
      out(`${label}-END ${id}`);
    }
  };
}

async function write(dataDir, sync, runId, seed) {
  const engine = await StorageEngine.open(engineOptions(dataDir, sync));
  const table = engine.openTable({ ...TABLE, compaction: { enabled: true, minThreshold: 4, maxThreshold: 32 } });
  announce(table, 'flushMemtable', 'FLUSH');
  announce(table, 'compactSstables', 'COMPACTION');
  const replay = await engine.replayCommitLog();
  out(`READY ${JSON.stringify({ ...replay, seed })}`);

  let counter = 0;
  let lastTs = 0;
  const nextTs = () => (lastTs = Math.max(Date.now() * 1000, lastTs + 1));
  async function writer() {
    for (;;) {
      const key = `${runId}:${counter++}`;
      const ts = nextTs();
      await table.apply({
        token: tokenOf(key),
        key: Buffer.from(key, 'utf8'),
        rangeTombstones: [],
        rows: [{ clustering: Buffer.alloc(0), liveness: { ts, ttl: 0, expiresAt: 0 }, cells: [{ column: 'v', value: valueOf(key), ts, ttl: 0, ldt: 0 }] }],
      });
      out(`ACK ${key}`);
    }
  }
  await Promise.all(Array.from({ length: WRITERS }, writer));
}

/** Files of the table directory that the manifest does not account for, and listed SSTables that are absent. */
function inspectDir(dir) {
  const manifestFile = path.join(dir, 'MANIFEST.json');
  const manifest = fs.existsSync(manifestFile) ? JSON.parse(fs.readFileSync(manifestFile, 'utf8')) : { sstables: [] };
  const live = new Set(manifest.sstables.map((g) => `sst-${String(g).padStart(8, '0')}.db`));
  const names = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  return {
    manifest,
    live,
    stray: names.filter((n) => n !== 'MANIFEST.json' && !live.has(n)),
    missing: [...live].filter((n) => !names.includes(n)),
  };
}

async function verify(dataDir, sync, keysFile) {
  const dir = tableDir(dataDir);
  const before = inspectDir(dir);
  const logDir = path.join(dataDir, 'commitlog');
  const commitLogSegments = fs.existsSync(logDir) ? fs.readdirSync(logDir).filter((n) => n.endsWith('.log')).length : 0;
  // Open without flushing or compacting: verification must not change what the next writer finds.
  const engine = await StorageEngine.open(engineOptions(dataDir, sync, { memtableFlushThresholdMb: 1024 }));
  const table = engine.openTable({ ...TABLE, compaction: { enabled: false } });
  const opened = inspectDir(dir); // the table's open deletes leftovers synchronously
  const replay = await engine.replayCommitLog();

  const keys = fs.readFileSync(keysFile, 'utf8').split('\n').filter((k) => k.length > 0);
  const missing = [];
  const badValues = [];
  let missingCount = 0;
  let badCount = 0;
  const check = (key, partition) => {
    const row = partition?.rows?.[0];
    const cell = row?.cells?.find((c) => c.column === 'v');
    if (row === undefined || row.liveness === undefined || cell === undefined) {
      if (missingCount++ < 20) missing.push(key);
    } else if (partition.rows.length !== 1 || cell.value === null || !Buffer.from(cell.value).equals(valueOf(key))) {
      if (badCount++ < 20) badValues.push(key);
    }
  };
  for (const key of keys) check(key, table.readPartition(tokenOf(key), Buffer.from(key, 'utf8')));

  // Every partition in the table (acknowledged or not) must be a whole, correct write.
  let scanned = 0;
  let resume = null;
  do {
    const page = table.scanRange({ startToken: null, endToken: null, resume, pageRows: 1000 });
    for (const p of page.partitions) {
      scanned++;
      check(Buffer.from(p.key).toString('utf8'), p);
    }
    resume = page.next;
  } while (resume !== null);

  const corruptSstables = [];
  for (const name of opened.live) {
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) continue;
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const result = db.pragma('quick_check', { simple: true });
      if (result !== 'ok') corruptSstables.push(`${name}: ${result}`);
    } catch (err) {
      corruptSstables.push(`${name}: ${err.message}`);
    } finally {
      db.close();
    }
  }
  await engine.close({ flush: false });
  const after = inspectDir(dir);

  out(
    JSON.stringify({
      checked: keys.length,
      missingCount,
      missing,
      badCount,
      badValues,
      strayFiles: [...new Set([...opened.stray, ...after.stray])],
      missingSstables: [...new Set([...opened.missing, ...after.missing])],
      corruptSstables,
      leftoversBeforeOpen: before.stray,
      missingBeforeOpen: before.missing,
      scanned,
      sstables: opened.live.size,
      commitLogSegments,
      replay,
    }),
  );
}

const [mode, dataDir, sync, ...rest] = process.argv.slice(2);
if (!['group', 'batch', 'periodic'].includes(sync) || dataDir === undefined) die('usage', new Error('crash-writer.mjs write|verify <dataDir> <sync> ...'));
if (mode === 'write') {
  await write(dataDir, sync, rest[0], rest[1] ?? '');
} else if (mode === 'verify') {
  await verify(dataDir, sync, rest[0]);
  process.exit(0);
} else {
  die('usage', new Error(`unknown mode ${mode}`));
}
