/**
 * Crash test of the storage engine on a real child process (crash-writer.mjs, run from dist/):
 * per commitlog_sync mode (group, batch), one data directory, and a series of iterations, each:
 *
 *   1. start a writer (a new run id, so keys never collide; the same directory, so it replays the
 *      commit logs and opens the SSTables the previous, killed writer left), collect its `ACK`s;
 *   2. SIGKILL it at a moment chosen by a seeded PRNG: right after a flush started (possibly a
 *      flush of the replay), while a compaction runs (after 0..N more acks), or after a random
 *      number of acks;
 *   3. run `verify`: every write acknowledged by any writer so far reads back with its value, the
 *      table directory holds exactly the manifest's SSTables (no partial SSTable, no stray file),
 *      each passes SQLite's quick_check, and every partition in the table is a whole write.
 *
 * A kill counts as mid-flush (mid-compaction) when the child's last flush (compaction) line
 * before it died is a START: the operation had not returned. Iterations are added until both
 * quotas are met (bounded), and the test asserts them, so the interesting moments are really hit.
 *
 * Replay a failure with RINGTAIL_CRASH_SEED=<seed> (printed in the test name and in failures);
 * RINGTAIL_CRASH_KEEP=1 keeps the data directories.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, it } from 'vitest';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const WRITER = path.join(HERE, 'crash-writer.mjs');

const SEED = process.env.RINGTAIL_CRASH_SEED !== undefined ? Number(process.env.RINGTAIL_CRASH_SEED) >>> 0 : Math.floor(Math.random() * 2 ** 32);
const KEEP = process.env.RINGTAIL_CRASH_KEEP === '1';

const PLANNED_ITERATIONS = 12; // per mode: 4 flush kills, 4 compaction kills, 4 kills after N acks
const MIN_MID_FLUSH = 4; // per mode
const MIN_MID_COMPACTION = 4; // per mode
/** Per mode: kills after which a partial SSTable (`*.tmp`) was on disk for the restart to remove. */
const MIN_PARTIAL_ON_DISK = 1;
const MAX_EXTRA_ITERATIONS = 6; // per mode, only while a quota is not met
const KILL_POINT_DEADLINE_MS = 20_000;
const EXIT_DEADLINE_MS = 10_000;
const VERIFY_DEADLINE_MS = 30_000;

/** mulberry32 */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
const randInt = (rand: () => number, lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));

type KillKind = 'flush' | 'compaction' | 'acks';

interface KillPlan {
  readonly kind: KillKind;
  /** flush/compaction: operations (counting from the child's start) to let complete first. */
  readonly skipOps: number;
  /** flush/compaction: acks to wait for after the START while the operation still runs; acks: the kill point. */
  readonly acks: number;
}

function makePlan(rand: () => number, kind: KillKind): KillPlan {
  switch (kind) {
    case 'flush':
      return { kind, skipOps: randInt(rand, 0, 2), acks: rand() < 0.5 ? 0 : randInt(rand, 1, 16) };
    case 'compaction':
      return { kind, skipOps: randInt(rand, 0, 1), acks: rand() < 0.3 ? 0 : randInt(rand, 1, 300) };
    case 'acks':
      return { kind, skipOps: 0, acks: rand() < 0.3 ? randInt(rand, 1, 40) : randInt(rand, 41, 1000) };
  }
}

interface Verdict {
  checked: number;
  missingCount: number;
  missing: string[];
  badCount: number;
  badValues: string[];
  strayFiles: string[];
  missingSstables: string[];
  corruptSstables: string[];
  leftoversBeforeOpen: string[];
  missingBeforeOpen: string[];
  scanned: number;
  sstables: number;
  commitLogSegments: number;
  replay: Record<string, number>;
}

const live = new Set<ChildProcess>();
const dirs: string[] = [];
let failed = false;

afterAll(() => {
  for (const child of live) child.kill('SIGKILL');
  if (!KEEP && !failed) for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  else if (dirs.length > 0) console.log(`storage crash test data kept in ${dirs.join(', ')}`);
});

function startChild(args: string[], onLine: (line: string) => void): { child: ChildProcess; stderr: () => string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(process.execPath, [WRITER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let pending = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    const lines = (pending + s).split('\n');
    pending = lines.pop()!; // an incomplete last line waits for the rest
    for (const line of lines) onLine(line);
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  // 'close' (not 'exit'): every line the child wrote before dying has been read.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });
  return { child, stderr: () => stderr, exited };
}

/** Resolves with `promise`, or rejects after `ms` (the timer never keeps the process alive). */
function deadline<T>(promise: Promise<T>, ms: number, what: string | (() => string)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`deadline: ${typeof what === 'string' ? what : what()} after ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface WriterRun {
  readonly acked: string[];
  readonly midFlush: boolean;
  readonly midCompaction: boolean;
  readonly flushes: number;
  readonly compactions: number;
}

/** Runs one writer until the plan's kill point, kills it, waits for it to be gone. */
async function runWriter(dataDir: string, mode: string, runId: string, plan: KillPlan, context: string): Promise<WriterRun> {
  const acked: string[] = [];
  const last = { FLUSH: '', COMPACTION: '' };
  const started = { FLUSH: 0, COMPACTION: 0 };
  let armedAt = -1; // acked.length when the targeted operation started, or -1
  let killSent = false;
  let reachKillPoint!: () => void;
  const killPoint = new Promise<void>((resolve) => (reachKillPoint = resolve));
  const op = plan.kind === 'flush' ? 'FLUSH' : 'COMPACTION';

  const maybeKill = (): void => {
    if (killSent) return;
    const due = plan.kind === 'acks' ? acked.length >= plan.acks : armedAt >= 0 && acked.length - armedAt >= plan.acks;
    if (!due) return;
    killSent = true;
    run.child.kill('SIGKILL');
    reachKillPoint();
  };

  const events: string[] = []; // the last non-ACK lines, for failure messages
  const run = startChild(['write', dataDir, mode, runId, String(SEED)], (line) => {
    if (line.startsWith('ACK ')) {
      acked.push(line.slice(4));
    } else {
      events.push(line);
      if (events.length > 8) events.shift();
      const m = /^(FLUSH|COMPACTION)-(START|END) (\d+)$/.exec(line);
      if (m !== null) {
        const which = m[1] as 'FLUSH' | 'COMPACTION';
        last[which] = m[2]!;
        if (m[2] === 'START') started[which]++;
        if (plan.kind !== 'acks' && which === op) {
          // Arm on the START of the (skipOps+1)-th operation or any later one; an operation
          // that ends before the kill point disarms, and the next one re-arms.
          if (m[2] === 'START' && started[which] > plan.skipOps) armedAt = acked.length;
          else if (m[2] === 'END') armedAt = -1;
        }
      }
    }
    maybeKill();
  });

  try {
    await deadline(Promise.race([killPoint, run.exited]), KILL_POINT_DEADLINE_MS, () => `${context}: kill point ${JSON.stringify(plan)} not reached (acks ${acked.length}, flushes ${started.FLUSH}, compactions ${started.COMPACTION}; last lines: ${events.join(' | ')})\n${run.stderr()}`);
    if (!killSent) throw new Error(`${context}: the writer exited on its own before its kill point\n${run.stderr()}`);
  } finally {
    run.child.kill('SIGKILL'); // no-op once dead
  }
  const { code, signal } = await deadline(run.exited, EXIT_DEADLINE_MS, `${context}: the killed writer did not exit`);
  if (signal !== 'SIGKILL') throw new Error(`${context}: the writer ended with code ${code} / signal ${signal}, not by SIGKILL\n${run.stderr()}`);
  return {
    acked,
    midFlush: last.FLUSH === 'START',
    midCompaction: last.COMPACTION === 'START',
    flushes: started.FLUSH,
    compactions: started.COMPACTION,
  };
}

async function runVerify(dataDir: string, mode: string, keysFile: string, context: string): Promise<Verdict> {
  let verdict: Verdict | null = null;
  const run = startChild(['verify', dataDir, mode, keysFile], (line) => {
    if (line.startsWith('{')) verdict = JSON.parse(line) as Verdict;
  });
  try {
    const { code, signal } = await deadline(run.exited, VERIFY_DEADLINE_MS, `${context}: verify did not finish`);
    if (code !== 0 || verdict === null) throw new Error(`${context}: verify failed (code ${code}, signal ${signal})\n${run.stderr()}`);
    return verdict;
  } finally {
    run.child.kill('SIGKILL');
  }
}

function shuffled<T>(rand: () => number, items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randInt(rand, 0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

// The two modes run concurrently (separate directories and children): most of an iteration is
// process start-up and fsync waits, so this nearly halves the file's wall time.
describe.concurrent(`storage crash test (RINGTAIL_CRASH_SEED=${SEED})`, () => {
  for (const mode of ['group', 'batch'] as const) {
    it(`${mode}: every acknowledged write survives SIGKILL mid-flush, mid-compaction and at random points; no partial SSTable is visible`, { timeout: 120_000 }, async ({ expect }) => {
      const rand = prng(SEED ^ (mode === 'group' ? 0x67726f75 : 0x62617463));
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `ringtail-crash-${mode}-`));
      dirs.push(dataDir);
      const keysFile = path.join(dataDir, 'acked-keys.txt');
      fs.writeFileSync(keysFile, '');
      const kinds: KillKind[] = shuffled(rand, Array.from({ length: PLANNED_ITERATIONS }, (_, i) => (['flush', 'compaction', 'acks'] as const)[i % 3]!));
      const tally = { kills: 0, midFlush: 0, midCompaction: 0, partialOnDisk: 0, acked: 0 };
      const log: string[] = [];
      try {
        for (let i = 0; i < PLANNED_ITERATIONS + MAX_EXTRA_ITERATIONS; i++) {
          let kind = kinds[i];
          if (kind === undefined) {
            const compactionShort = tally.midCompaction < MIN_MID_COMPACTION || tally.partialOnDisk < MIN_PARTIAL_ON_DISK;
            if (!compactionShort && tally.midFlush >= MIN_MID_FLUSH) break;
            kind = compactionShort ? 'compaction' : 'flush'; // a compaction is the longest window for a partial SSTable
          }
          const plan = makePlan(rand, kind);
          const context = `RINGTAIL_CRASH_SEED=${SEED} ${mode} iteration ${i} ${JSON.stringify(plan)} (data dir ${dataDir})`;
          const t0 = performance.now();
          const writer = await runWriter(dataDir, mode, `r${i}`, plan, context);
          const t1 = performance.now();
          tally.kills++;
          if (writer.midFlush) tally.midFlush++;
          if (writer.midCompaction) tally.midCompaction++;
          tally.acked += writer.acked.length;
          if (writer.acked.length > 0) fs.appendFileSync(keysFile, writer.acked.join('\n') + '\n');

          const verdict = await runVerify(dataDir, mode, keysFile, context);
          const t2 = performance.now();
          if (verdict.leftoversBeforeOpen.some((f) => /^sst-\d+\.db\.tmp$/.test(f))) tally.partialOnDisk++;
          log.push(
            `${i} ${kind} acks=${writer.acked.length} flushes=${writer.flushes} compactions=${writer.compactions}` +
              `${writer.midFlush ? ' MID-FLUSH' : ''}${writer.midCompaction ? ' MID-COMPACTION' : ''}` +
              ` leftovers=[${verdict.leftoversBeforeOpen.join(' ')}] sstables=${verdict.sstables} segments=${verdict.commitLogSegments} replayed=${verdict.replay.applied}/${verdict.replay.records}` +
              ` writer=${Math.round(t1 - t0)}ms verify=${Math.round(t2 - t1)}ms`,
          );
          const problems = {
            missing: verdict.missing,
            badValues: verdict.badValues,
            strayFiles: verdict.strayFiles,
            missingSstables: verdict.missingSstables,
            corruptSstables: verdict.corruptSstables,
            missingBeforeOpen: verdict.missingBeforeOpen,
          };
          expect(problems, `${context}: after the restart (${verdict.missingCount} missing, ${verdict.badCount} bad of ${verdict.checked})\n${log.join('\n')}`).toEqual({
            missing: [],
            badValues: [],
            strayFiles: [],
            missingSstables: [],
            corruptSstables: [],
            missingBeforeOpen: [],
          });
          expect(verdict.checked).toBe(tally.acked);
          expect(verdict.scanned).toBeGreaterThanOrEqual(tally.acked);
        }
        console.log(`storage crash test ${mode} (RINGTAIL_CRASH_SEED=${SEED}): ${JSON.stringify(tally)}\n${log.join('\n')}`);
        expect(tally.kills).toBeGreaterThanOrEqual(10);
        expect(tally.midFlush, `mid-flush kills (RINGTAIL_CRASH_SEED=${SEED})\n${log.join('\n')}`).toBeGreaterThanOrEqual(MIN_MID_FLUSH);
        expect(tally.midCompaction, `mid-compaction kills (RINGTAIL_CRASH_SEED=${SEED})\n${log.join('\n')}`).toBeGreaterThanOrEqual(MIN_MID_COMPACTION);
        expect(tally.partialOnDisk, `kills leaving a partial SSTable (RINGTAIL_CRASH_SEED=${SEED})\n${log.join('\n')}`).toBeGreaterThanOrEqual(MIN_PARTIAL_ON_DISK);
      } catch (err) {
        failed = true;
        throw err;
      }
    });
  }
});
