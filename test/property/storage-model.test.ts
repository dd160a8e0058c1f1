/**
 * Property test of the single-node storage engine against a plain model (storage-model.ts):
 * random sequences of writes (cells, row markers, TTLs), deletes (cells, rows, clustering
 * ranges, partitions), clock moves, flushes, compactions and restarts (with and without a
 * flush, so that commit-log replay is exercised) must read back exactly like the model,
 * through point reads (random slices, direction, limit) and paged range scans (full ring and
 * sub-ranges, page sizes down to one row).
 *
 * Three properties:
 * - gc_grace of 10 days (nothing is ever purged), timestamps from a small range so that ties
 *   (value against value, tombstone, or expiring value) are common;
 * - gc_grace 0 with strictly increasing timestamps: purging must never change what is visible,
 *   and once everything is deleted and gc_grace has passed, a major compaction leaves no SSTable;
 * - timestamp ties between expiring and other versions of a cell or row marker, in a tiny
 *   key space: the answer must not depend on when (or whether) the versions were merged.
 *
 * Replay a failure with the seed and path fast-check prints, naming the property:
 *   FC_SEED=<seed> FC_PATH=<path> npx vitest run test/property/storage-model.test.ts -t '<name>'
 * FC_RUNS=<n> changes the number of runs, FC_TIME_LIMIT_MS the time box (see `timeBoxed`).
 * Flushes, compactions and commit-log segment deletions also run in the background, so a
 * replay can differ in timing (a timing-dependent failure may not shrink well). Workers run
 * from dist/: run `npm run build` after changing src/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/runtime/manual-clock.js';
import { MAX_TOKEN, MIN_TOKEN } from '../../src/storage/data/keys.js';
import type { Cell, ClusteringBound, PartitionUpdate, Row } from '../../src/storage/data/types.js';
import type { CommitLogSync, SliceQuery } from '../../src/storage/engine/api.js';
import { StorageEngine } from '../../src/storage/engine/storage-engine.js';
import type { TableStore } from '../../src/storage/engine/table-store.js';
import { comparePartitionKeys, compareBytes, StorageModel, type ModelPartitionKey, type VisiblePartition, type VisibleRow } from './storage-model.js';

// #region key space
/** Five partitions: extreme tokens, and a token collision whose keys are prefixes of each other. */
const PARTITIONS: ReadonlyArray<ModelPartitionKey> = [
  { token: MIN_TOKEN + 1n, key: Buffer.from('lo') },
  { token: -7n, key: Buffer.from('k0') },
  { token: 42n, key: Buffer.from('a') },
  { token: 42n, key: Buffer.from('ab') },
  { token: MAX_TOKEN, key: Buffer.from('hi') },
];
/** Tokens (decimal) for sub-range scans: the partitions' tokens and their neighbours. */
const SCAN_TOKENS: ReadonlyArray<string> = [MIN_TOKEN, MIN_TOKEN + 1n, -8n, -7n, 0n, 41n, 42n, MAX_TOKEN - 1n, MAX_TOKEN].map(String);
/** Clusterings (hex): several are prefixes of others; 0xff exercises the no-successor case. */
const CLUSTERINGS = ['', '00', '01', '0100', '0102', '01ff', '02', 'ff', 'ffff'];
/** Bound prefixes: every clustering plus prefixes that match no row exactly. */
const PREFIXES = [...CLUSTERINGS, '0101', '03', 'fe'];
const COLUMNS = ['a', 'b', 'c'];
/** Values (hex), including the empty value (live, unlike a tombstone). */
const VALUES = ['', '00', '01', '0100', '02'];
const START_MS = 1_700_000_000_000;
const MAX_TTL_SECONDS = 20;
// #endregion

// #region operations
interface BoundSpec {
  readonly prefix: string;
  readonly inclusive: boolean;
}

type Op =
  | { readonly t: 'write'; readonly p: number; readonly ck: string; readonly cells: ReadonlyArray<readonly [string, string]>; readonly marker: boolean; readonly ttl: number; readonly ts: number }
  | { readonly t: 'deleteCell'; readonly p: number; readonly ck: string; readonly column: string; readonly ts: number }
  | { readonly t: 'deleteRow'; readonly p: number; readonly ck: string; readonly ts: number }
  | { readonly t: 'deleteRange'; readonly p: number; readonly start: BoundSpec | null; readonly end: BoundSpec | null; readonly ts: number }
  | { readonly t: 'deletePartition'; readonly p: number; readonly ts: number }
  | { readonly t: 'advance'; readonly ms: number }
  | { readonly t: 'flush' }
  | { readonly t: 'compact'; readonly major: boolean }
  | { readonly t: 'restart'; readonly flush: boolean }
  | { readonly t: 'read'; readonly p: number; readonly start: BoundSpec | null; readonly end: BoundSpec | null; readonly reversed: boolean; readonly limit: number | undefined }
  | { readonly t: 'scan'; readonly pageRows: number; readonly startToken: string | null; readonly endToken: string | null; readonly yieldBetweenPages: boolean };

/** How much of the key space a property uses, and how its timestamps collide. */
interface OpSpace {
  /** Indexes into PARTITIONS. */
  readonly partitions: ReadonlyArray<number>;
  readonly clusterings: ReadonlyArray<string>;
  /** Prefixes for range-delete and slice bounds. */
  readonly prefixes: ReadonlyArray<string>;
  /** Timestamp slots 1..slots: small so that ties are common (see `TimestampPolicy`). */
  readonly slots: number;
  readonly columns: ReadonlyArray<string>;
  /** Relative weight of writes with a TTL (writes without one weigh 3). */
  readonly ttlWeight: number;
  /** Whether to generate deletes (cell, row, range, partition). */
  readonly deletes: boolean;
  readonly maxOps: number;
}

const FULL_SPACE: OpSpace = { partitions: PARTITIONS.map((_, i) => i), clusterings: CLUSTERINGS, prefixes: PREFIXES, slots: 8, columns: COLUMNS, ttlWeight: 1, deletes: true, maxOps: 200 };
/** Dense: three partitions (one token collision), three clusterings, two columns; many collisions per op. */
const DENSE_SPACE: OpSpace = { partitions: [1, 2, 3], clusterings: ['', '01', '0102'], prefixes: ['', '01', '0101', '0102'], slots: 3, columns: ['a', 'b'], ttlWeight: 1, deletes: true, maxOps: 100 };
/**
 * For timestamp ties between expiring and other versions: two partitions (a token collision),
 * two clusterings, one column, two timestamps, many TTLs, and no deletes (with two timestamps a
 * delete would shadow most writes; tombstone ties do not depend on time anyway).
 */
const TIE_SPACE: OpSpace = { partitions: [2, 3], clusterings: ['01', '0102'], prefixes: ['01', '0102'], slots: 2, columns: ['a'], ttlWeight: 3, deletes: false, maxOps: 40 };

function opsArb(space: OpSpace): fc.Arbitrary<Op[]> {
  const partitionArb = fc.constantFrom(...space.partitions);
  const ckArb = fc.constantFrom(...space.clusterings);
  const boundArb: fc.Arbitrary<BoundSpec | null> = fc.option(fc.record({ prefix: fc.constantFrom(...space.prefixes), inclusive: fc.boolean() }), { freq: 4 });
  const tsArb = fc.integer({ min: 1, max: space.slots });
  const ttlArb = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: space.ttlWeight, arbitrary: fc.integer({ min: 1, max: MAX_TTL_SECONDS }) });
  const columnArb = fc.constantFrom(...space.columns);
  const writeArb: fc.Arbitrary<Op> = fc
    .record({
      t: fc.constant('write' as const),
      p: partitionArb,
      ck: ckArb,
      cells: fc.uniqueArray(fc.tuple(columnArb, fc.constantFrom(...VALUES)), { maxLength: space.columns.length, selector: ([c]) => c }),
      marker: fc.boolean(),
      ttl: ttlArb,
      ts: tsArb,
    })
    // An UPDATE of no column writes nothing: make it an INSERT instead.
    .map((w) => (w.cells.length === 0 ? { ...w, marker: true } : w));
  const deleteArbs: fc.WeightedArbitrary<Op>[] = [
    { weight: 3, arbitrary: fc.record({ t: fc.constant('deleteCell' as const), p: partitionArb, ck: ckArb, column: columnArb, ts: tsArb }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('deleteRow' as const), p: partitionArb, ck: ckArb, ts: tsArb }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('deleteRange' as const), p: partitionArb, start: boundArb, end: boundArb, ts: tsArb }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('deletePartition' as const), p: partitionArb, ts: tsArb }) },
  ];
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 12, arbitrary: writeArb },
    ...(space.deletes ? deleteArbs : []),
    { weight: 2, arbitrary: fc.record({ t: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 15_000 }) }) },
    { weight: 2, arbitrary: fc.constant({ t: 'flush' as const }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('compact' as const), major: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('restart' as const), flush: fc.boolean() }) },
    {
      weight: 4,
      arbitrary: fc.record({
        t: fc.constant('read' as const),
        p: partitionArb,
        start: boundArb,
        end: boundArb,
        reversed: fc.boolean(),
        limit: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant('scan' as const),
        pageRows: fc.integer({ min: 1, max: 6 }),
        // Mostly the full ring (null bounds), sometimes a sub-range (startToken, endToken].
        startToken: fc.option(fc.constantFrom(...SCAN_TOKENS), { freq: 2, nil: null }),
        endToken: fc.option(fc.constantFrom(...SCAN_TOKENS), { freq: 2, nil: null }),
        yieldBetweenPages: fc.boolean(),
      }),
    },
  );
  // size 'max': lengths spread evenly over 1..maxOps (the default favours short arrays).
  return fc.array(opArb, { minLength: 1, maxLength: space.maxOps, size: 'max' });
}

interface RunConfig {
  readonly commitlogSync: CommitLogSync;
  readonly commitlogSegmentSizeMb: number;
  readonly memtableFlushThresholdMb: number;
  readonly memtableTotalSpaceMb: number | undefined;
  readonly compactionEnabled: boolean;
  readonly minThreshold: number;
  readonly maxThreshold: number;
}

/** Engine settings for a run; `smallMemtables` adds thresholds that flush every few writes. */
function configArb(smallMemtables: boolean): fc.Arbitrary<RunConfig> {
  return fc
    .record({
      commitlogSync: fc.constantFrom<CommitLogSync>('batch', 'periodic', 'group'),
      // 4 KiB segments: a run rolls over, frees and replays many of them.
      commitlogSegmentSizeMb: fc.constantFrom(1, 4096 / (1024 * 1024)),
      memtableFlushThresholdMb: smallMemtables ? fc.constantFrom(0.001, 0.004, 0.05) : fc.constant(0.05),
      memtableTotalSpaceMb: smallMemtables ? fc.option(fc.constantFrom(0.002, 0.01), { nil: undefined }) : fc.constant(undefined),
      compactionEnabled: fc.boolean(),
      minThreshold: fc.integer({ min: 2, max: 4 }),
      extra: fc.integer({ min: 0, max: 4 }),
    })
    .map(({ extra, ...c }) => ({ ...c, maxThreshold: c.minThreshold + extra }));
}

/**
 * How a write's timestamp slot becomes µs.
 * - `ties`: slot × 1000 for every write (with a TTL or not), so ties are common.
 * - `increasing`: strictly increasing across the whole run (the slot is ignored).
 */
type TimestampPolicy = 'ties' | 'increasing';
// #endregion

// #region engine harness
interface Harness {
  readonly dir: string;
  readonly clock: ManualClock;
  readonly config: RunConfig;
  readonly gcGraceSeconds: number;
  engine: StorageEngine;
  table: TableStore;
}

const TABLE_ID = '5a1f0c3e-0000-4000-8000-00000000beef';

async function openEngine(h: Pick<Harness, 'dir' | 'clock' | 'config' | 'gcGraceSeconds'>): Promise<{ engine: StorageEngine; table: TableStore }> {
  const engine = await StorageEngine.open({
    dataDir: h.dir,
    commitlogSync: h.config.commitlogSync,
    commitlogSyncPeriodMs: 1000,
    commitlogSyncGroupWindowMs: 1,
    commitlogSegmentSizeMb: h.config.commitlogSegmentSizeMb,
    memtableFlushThresholdMb: h.config.memtableFlushThresholdMb,
    ...(h.config.memtableTotalSpaceMb !== undefined ? { memtableTotalSpaceMb: h.config.memtableTotalSpaceMb } : {}),
    compactionThroughputMbPerS: 0,
    clock: h.clock,
  });
  try {
    const table = engine.openTable({
      id: TABLE_ID,
      keyspace: 'ks',
      name: 'model',
      gcGraceSeconds: h.gcGraceSeconds,
      compaction: { enabled: h.config.compactionEnabled, minThreshold: h.config.minThreshold, maxThreshold: h.config.maxThreshold },
    });
    await engine.replayCommitLog();
    return { engine, table };
  } catch (err) {
    await engine.close({ flush: false }).catch(() => undefined);
    throw err;
  }
}

function nowSec(clock: ManualClock): number {
  return Math.floor(clock.nowMs() / 1000);
}

function bound(b: BoundSpec | null): ClusteringBound | null {
  return b === null ? null : { prefix: Buffer.from(b.prefix, 'hex'), inclusive: b.inclusive };
}

function rowUpdate(pk: ModelPartitionKey, row: Row): PartitionUpdate {
  return { token: pk.token, key: pk.key, rangeTombstones: [], rows: [row] };
}

function cellLive(c: Cell, now: number): boolean {
  return c.value !== null && (c.ttl === 0 || c.ldt > now);
}

/** What SELECT sees of a row the engine returned: null when the row is not live. */
function visibleRow(row: Row, now: number): VisibleRow | null {
  const cells = row.cells.filter((c) => cellLive(c, now)).map((c) => [c.column, c.value!.toString('hex')] as const);
  const marker = row.liveness !== undefined && (row.liveness.ttl === 0 || row.liveness.expiresAt > now);
  if (cells.length === 0 && !marker) return null;
  return { ck: row.clustering.toString('hex'), cells: [...cells].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) };
}

/** A point read: checks the partition's identity and row order, returns what SELECT sees. */
function pointRead(table: TableStore, pk: ModelPartitionKey, now: number, query: SliceQuery = {}): VisibleRow[] {
  const p = table.readPartition(pk.token, pk.key, query);
  if (p === null) return [];
  expect({ token: p.token, key: p.key.toString('hex') }, 'point read of the wrong partition').toEqual({ token: pk.token, key: pk.key.toString('hex') });
  const direction = query.reversed === true ? -1 : 1;
  const out: VisibleRow[] = [];
  for (const [i, row] of p.rows.entries()) {
    if (i > 0) expect(direction * compareBytes(p.rows[i - 1]!.clustering, row.clustering), 'point read rows out of order or repeated').toBeLessThan(0);
    const v = visibleRow(row, now);
    if (v !== null) out.push(v);
  }
  return out;
}

/** Walks every page of a range scan; checks ring order and that no row comes back twice. */
async function scanAll(
  table: TableStore,
  now: () => number,
  startToken: bigint | null,
  endToken: bigint | null,
  pageRows: number,
  yieldBetweenPages: boolean,
): Promise<VisiblePartition[]> {
  const out: { token: bigint; key: Buffer; rows: VisibleRow[]; lastCk: Buffer | null }[] = [];
  let resume: Parameters<TableStore['scanRange']>[0]['resume'] = null;
  for (let pages = 0; ; pages++) {
    expect(pages, 'range scan does not terminate').toBeLessThan(10_000);
    const page = table.scanRange({ startToken, endToken, pageRows, resume });
    let liveInPage = 0;
    for (const p of page.partitions) {
      if (startToken !== null) expect(p.token > startToken, `scan returned token ${p.token} <= startToken ${startToken}`).toBe(true);
      if (endToken !== null) expect(p.token <= endToken, `scan returned token ${p.token} > endToken ${endToken}`).toBe(true);
      let last = out.at(-1);
      if (last === undefined || last.token !== p.token || !last.key.equals(p.key)) {
        if (last !== undefined) expect(comparePartitionKeys(last, p), 'scan partitions out of ring order').toBeLessThan(0);
        last = { token: p.token, key: Buffer.from(p.key), rows: [], lastCk: null };
        out.push(last);
      }
      for (const row of p.rows) {
        if (last.lastCk !== null) expect(compareBytes(last.lastCk, row.clustering), 'scan rows out of order or repeated').toBeLessThan(0);
        last.lastCk = Buffer.from(row.clustering);
        const v = visibleRow(row, now());
        if (v !== null) {
          last.rows.push(v);
          liveInPage++;
        }
      }
    }
    expect(liveInPage, 'a page holds at most pageRows live rows').toBeLessThanOrEqual(pageRows);
    if (page.next === null) break;
    resume = page.next;
    if (yieldBetweenPages) await nextTurn();
  }
  return out.filter((p) => p.rows.length > 0).map((p) => ({ token: p.token, key: p.key.toString('hex'), rows: p.rows }));
}

/** Reads every partition point-wise and by a full scan; both must equal the model. */
async function checkEverything(h: Harness, model: StorageModel, context: string): Promise<void> {
  const now = nowSec(h.clock);
  const expected = model.scan(now);
  const pointReads: VisiblePartition[] = [];
  for (const pk of PARTITIONS) {
    const rows = pointRead(h.table, pk, now);
    if (rows.length > 0) pointReads.push({ token: pk.token, key: pk.key.toString('hex'), rows });
  }
  expect(pointReads, `${context}: point reads of every partition`).toEqual(expected);
  const scanned = await scanAll(h.table, () => nowSec(h.clock), null, null, 3, false);
  expect(scanned, `${context}: full range scan`).toEqual(expected);
}
// #endregion

// #region the run
interface RunOptions {
  readonly gcGraceSeconds: number;
  readonly timestamps: TimestampPolicy;
  /** After the ops: delete everything, wait out gc_grace, major-compact; expect no SSTables. */
  readonly checkPurge: boolean;
}

async function runOps(config: RunConfig, ops: ReadonlyArray<Op>, options: RunOptions): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringtail-model-'));
  const clock = new ManualClock(START_MS);
  const base = { dir, clock, config, gcGraceSeconds: options.gcGraceSeconds };
  let h: Harness | null = null;
  try {
    h = { ...base, ...(await openEngine(base)) };
    const model = new StorageModel();
    let counter = 0;
    const tsOf = (slot: number): number => {
      switch (options.timestamps) {
        case 'ties':
          return slot * 1000;
        case 'increasing':
          return ++counter * 1000;
      }
    };
    const apply = (update: PartitionUpdate): Promise<void> => h!.table.apply(update);

    for (const [i, op] of ops.entries()) {
      const now = nowSec(clock);
      const where = `op #${i} ${JSON.stringify(op)}`;
      switch (op.t) {
        case 'write': {
          const pk = PARTITIONS[op.p]!;
          const ck = Buffer.from(op.ck, 'hex');
          if (op.cells.length === 0 && !op.marker) break; // an empty UPDATE writes nothing
          const ts = tsOf(op.ts);
          const expiresAt = op.ttl === 0 ? 0 : now + op.ttl;
          const cells: Cell[] = [...op.cells]
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([column, value]) => ({ column, value: Buffer.from(value, 'hex'), ts, ttl: op.ttl, ldt: expiresAt }));
          const liveness = op.marker ? { ts, ttl: op.ttl, expiresAt } : undefined;
          await apply(rowUpdate(pk, { clustering: ck, liveness, cells }));
          if (liveness !== undefined) model.record({ kind: 'marker', pk, ck, ts, ttl: op.ttl, expiresAt });
          for (const c of cells) model.record({ kind: 'cell', pk, ck, column: c.column, value: c.value, ts, ttl: c.ttl, ldt: c.ldt });
          break;
        }
        case 'deleteCell': {
          const pk = PARTITIONS[op.p]!;
          const ck = Buffer.from(op.ck, 'hex');
          const ts = tsOf(op.ts);
          await apply(rowUpdate(pk, { clustering: ck, cells: [{ column: op.column, value: null, ts, ttl: 0, ldt: now }] }));
          model.record({ kind: 'cell', pk, ck, column: op.column, value: null, ts, ttl: 0, ldt: now });
          break;
        }
        case 'deleteRow': {
          const pk = PARTITIONS[op.p]!;
          const ck = Buffer.from(op.ck, 'hex');
          const ts = tsOf(op.ts);
          await apply(rowUpdate(pk, { clustering: ck, deletion: { ts, ldt: now }, cells: [] }));
          model.record({ kind: 'rowDelete', pk, ck, ts });
          break;
        }
        case 'deleteRange': {
          const pk = PARTITIONS[op.p]!;
          const ts = tsOf(op.ts);
          await apply({ token: pk.token, key: pk.key, rows: [], rangeTombstones: [{ start: bound(op.start), end: bound(op.end), deletion: { ts, ldt: now } }] });
          model.record({ kind: 'rangeDelete', pk, start: bound(op.start), end: bound(op.end), ts });
          break;
        }
        case 'deletePartition': {
          const pk = PARTITIONS[op.p]!;
          const ts = tsOf(op.ts);
          await apply({ token: pk.token, key: pk.key, rows: [], rangeTombstones: [], deletion: { ts, ldt: now } });
          model.record({ kind: 'partitionDelete', pk, ts });
          break;
        }
        case 'advance':
          clock.advanceMs(op.ms);
          break;
        case 'flush':
          await h.table.flush();
          break;
        case 'compact':
          await h.table.compact({ major: op.major });
          if (op.major) await checkEverything(h, model, `after ${where}`);
          break;
        case 'restart': {
          const old = h;
          h = null;
          await old.engine.close({ flush: op.flush });
          h = { ...base, ...(await openEngine(base)) };
          await checkEverything(h, model, `after ${where}`);
          break;
        }
        case 'read': {
          const pk = PARTITIONS[op.p]!;
          const query = { start: bound(op.start), end: bound(op.end), reversed: op.reversed, limit: op.limit };
          const got = pointRead(h.table, pk, now, query);
          expect(got, `${where}: point read`).toEqual(model.select(pk, now, query));
          break;
        }
        case 'scan': {
          const startToken = op.startToken === null ? null : BigInt(op.startToken);
          const endToken = op.endToken === null ? null : BigInt(op.endToken);
          const got = await scanAll(h.table, () => nowSec(clock), startToken, endToken, op.pageRows, op.yieldBetweenPages);
          // The clock does not move during the scan, so one model answer applies to every page.
          expect(got, `${where}: range scan`).toEqual(model.scan(now, startToken, endToken));
          break;
        }
      }
    }
    await checkEverything(h, model, 'after the last op');
    clock.advanceMs(MAX_TTL_SECONDS * 1000 + 1000);
    await checkEverything(h, model, 'after the last op, once every TTL has run out');
    await h.table.flush();
    await h.engine.compactionSettled();
    await h.table.compact({ major: true });
    await checkEverything(h, model, 'after a final flush and major compaction');

    if (options.checkPurge) {
      // Delete every partition above every timestamp used, flush, let gc_grace pass, major-compact.
      const ts = (counter + 1_000_000) * 1000;
      for (const pk of PARTITIONS) {
        const update: PartitionUpdate = { token: pk.token, key: pk.key, rows: [], rangeTombstones: [], deletion: { ts, ldt: nowSec(clock) } };
        await h.table.apply(update);
        model.record({ kind: 'partitionDelete', pk, ts });
      }
      await h.table.flush();
      await h.engine.compactionSettled();
      clock.advanceMs((options.gcGraceSeconds + 1) * 1000);
      await h.table.compact({ major: true });
      const stats = h.table.stats();
      expect(stats.memtableBytes, 'nothing is left in memtables after a flush').toBe(0);
      expect(stats.flushingMemtables).toBe(0);
      expect({ sstableCount: stats.sstableCount, sstableBytes: stats.sstableBytes }, 'every tombstone past gc_grace is purged by a major compaction').toEqual({
        sstableCount: 0,
        sstableBytes: 0,
      });
      await checkEverything(h, model, 'after deleting everything and purging');
      const old = h;
      h = null;
      await old.engine.close({ flush: false });
      h = { ...base, ...(await openEngine(base)) };
      await checkEverything(h, model, 'after deleting everything, purging and a restart');
      expect(h.table.stats().sstableCount, 'purged data stays purged across a restart').toBe(0);
    }
  } finally {
    try {
      if (h !== null) await h.engine.close({ flush: false });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}
// #endregion

/**
 * Runs per property; FC_RUNS overrides, FC_SEED and FC_PATH replay a reported failure.
 * (No `interruptAfterTimeLimit`: on async properties it abandons the run in progress, which
 * then leaks its engine and temp dir. `timeBoxed` caps the time instead.)
 */
function fcParams(defaultRuns: number): fc.Parameters<[RunConfig, Op[]]> {
  const env = process.env;
  return {
    numRuns: env['FC_RUNS'] !== undefined ? Number(env['FC_RUNS']) : defaultRuns,
    ...(env['FC_SEED'] !== undefined ? { seed: Number(env['FC_SEED']) } : {}),
    ...(env['FC_PATH'] !== undefined ? { path: env['FC_PATH'] } : {}),
  };
}

/**
 * Caps a property's total time, mostly its shrinking once a failure is found: past the limit
 * (FC_TIME_LIMIT_MS overrides; none when replaying with FC_PATH) every further run passes at
 * once, so fast-check stops and reports the smallest counterexample found so far.
 */
function timeBoxed(limitMs: number, run: (config: RunConfig, ops: Op[]) => Promise<void>): (config: RunConfig, ops: Op[]) => Promise<void> {
  const env = process.env;
  const deadline = env['FC_PATH'] !== undefined ? Number.POSITIVE_INFINITY : performance.now() + Number(env['FC_TIME_LIMIT_MS'] ?? limitMs);
  return async (config, ops) => {
    if (performance.now() > deadline) return;
    await run(config, ops);
  };
}

/** Generous: the time box is checked between runs, and a failing property first shrinks. */
const TEST_TIMEOUT_MS = 30 * 60_000;

describe('storage engine vs. a plain model', () => {
  it('reads back exactly like the model (gc_grace 10 days: nothing is ever purged)', { timeout: TEST_TIMEOUT_MS }, async () => {
    await fc.assert(
      fc.asyncProperty(
        configArb(true),
        fc.oneof(opsArb(FULL_SPACE), opsArb(DENSE_SPACE)),
        timeBoxed(60_000, (config, ops) => runOps(config, ops, { gcGraceSeconds: 864_000, timestamps: 'ties', checkPurge: false })),
      ),
      fcParams(30),
    );
  });

  it('purging with gc_grace 0 never resurrects or drops live data, and purges tombstones', { timeout: TEST_TIMEOUT_MS }, async () => {
    await fc.assert(
      fc.asyncProperty(
        configArb(true),
        fc.oneof(opsArb(FULL_SPACE), opsArb(DENSE_SPACE)),
        timeBoxed(60_000, (config, ops) => runOps(config, ops, { gcGraceSeconds: 0, timestamps: 'increasing', checkPurge: true })),
      ),
      fcParams(15),
    );
  });

  it('resolves timestamp ties with expiring cells and markers the same whenever they are merged', { timeout: TEST_TIMEOUT_MS }, async () => {
    await fc.assert(
      fc.asyncProperty(
        configArb(false),
        opsArb(TIE_SPACE),
        timeBoxed(60_000, (config, ops) => runOps(config, ops, { gcGraceSeconds: 864_000, timestamps: 'ties', checkPurge: false })),
      ),
      fcParams(25),
    );
  });
});
