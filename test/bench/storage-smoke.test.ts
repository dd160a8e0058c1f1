/**
 * Smoke test of the benchmark harness: runs `bench/run.mjs storage` as a child process with tiny
 * sizes against the built engine (dist/, built by `pretest`) and checks the results JSON: every
 * phase ran, found every row it read, and produced positive rates. It checks the harness, not
 * the performance targets (those need the full-size run: `npm run bench -- storage`).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const RECORDS = 3000;

interface RunOutput {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runBench(args: string[], timeoutMs: number): Promise<RunOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', 'bench/run.mjs', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

interface LoopDelay {
  samples: number;
  p99Ms: number | null;
  maxMs: number | null;
}
interface Reads {
  reads: number;
  readsPerSec: number;
  misses: number;
  mismatches: number;
  verified: number;
  sstables?: number;
  label?: string;
}
interface Ingest {
  rows: number;
  rowsPerSec: number;
  sstables?: number;
  loopDelay?: LoopDelay;
}
interface EngineRun {
  ingest: Ingest;
  reads: Reads[];
  compaction: null | { sstablesBefore: number; sstablesAfter: number; inputMiBPerSec: number; loopDelay: LoopDelay; readsDuring: Reads };
}
interface StorageResult {
  bench: string;
  ok: boolean;
  error: string | null;
  command: string;
  machine: { cpuModel: string; cores: number; totalMemBytes: number; node: string };
  params: { records: number; readsSeconds: number };
  baselines: { classicLevel: { ingest: Ingest; reads: Reads }; sqlite: { ingest: Ingest; reads: Reads } };
  engine: { group: EngineRun; batch: EngineRun; periodic: EngineRun };
  targets: { name: string; measured: number | null; pass: boolean | null }[];
}

function expectReadsOk(r: Reads | undefined): void {
  expect(r).toBeDefined();
  expect(r!.reads).toBeGreaterThan(0);
  expect(r!.readsPerSec).toBeGreaterThan(0);
  expect(r!.verified).toBeGreaterThan(0);
  expect(r!.misses).toBe(0);
  expect(r!.mismatches).toBe(0);
}

describe('bench/run.mjs', () => {
  it('lists the available benchmarks for an unknown name', async () => {
    const out = await runBench(['no-such-bench'], 15_000);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("unknown benchmark 'no-such-bench'");
    expect(out.stderr).toContain('storage');
  });
});

describe('storage benchmark, tiny sizes', () => {
  let tmp: string;
  let run: RunOutput;
  let result: StorageResult;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ringtail-bench-smoke-'));
    const outDir = path.join(tmp, 'out');
    const dataDir = path.join(tmp, 'data');
    fs.mkdirSync(dataDir);
    run = await runBench(['storage', '--records', String(RECORDS), '--reads-seconds', '0.3', '--out', outDir, '--data-dir', dataDir], 55_000);
    const files = fs.existsSync(outDir) ? fs.readdirSync(outDir) : [];
    if (run.code !== 0 || files.length !== 1) {
      throw new Error(`bench exited with ${run.code}, wrote ${JSON.stringify(files)}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`);
    }
    expect(files[0]).toMatch(/^storage-\d{4}-\d\d-\d\dT[\d-]+\.\d{3}Z\.json$/);
    result = JSON.parse(fs.readFileSync(path.join(outDir, files[0]!), 'utf8')) as StorageResult;
  }, 60_000);

  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('writes a complete result with the machine and the command', () => {
    expect(result.bench).toBe('storage');
    expect(result.ok).toBe(true);
    expect(result.error).toBeNull();
    expect(result.params.records).toBe(RECORDS);
    expect(result.command).toContain('storage --records 3000');
    expect(result.machine.cores).toBeGreaterThan(0);
    expect(result.machine.totalMemBytes).toBeGreaterThan(0);
    expect(result.machine.node).toBe(process.version);
    expect(result.machine.cpuModel.length).toBeGreaterThan(0);
  });

  it('measures both baselines', () => {
    for (const b of [result.baselines.classicLevel, result.baselines.sqlite]) {
      expect(b.ingest.rows).toBe(RECORDS);
      expect(b.ingest.rowsPerSec).toBeGreaterThan(0);
      expectReadsOk(b.reads);
    }
  });

  it('ingests into 16, 4 and 1 SSTables and reads them back', () => {
    const { group, batch, periodic } = result.engine;
    for (const [run, sstables] of [[group, 16], [batch, 4], [periodic, 1]] as const) {
      expect(run.ingest.rows).toBe(RECORDS);
      expect(run.ingest.rowsPerSec).toBeGreaterThan(0);
      expect(run.ingest.sstables).toBe(sstables);
      expect(run.ingest.loopDelay!.samples).toBeGreaterThanOrEqual(0);
    }
    expect(group.reads.map((r) => r.sstables)).toEqual([16, 1]);
    expect(batch.reads.map((r) => r.sstables)).toEqual([4]);
    expect(periodic.reads).toEqual([]);
    for (const r of [...group.reads, ...batch.reads]) expectReadsOk(r);
  });

  it('times a major compaction while reads keep running', () => {
    const c = result.engine.group.compaction!;
    expect(c.sstablesBefore).toBe(16);
    expect(c.sstablesAfter).toBe(1);
    expect(c.inputMiBPerSec).toBeGreaterThan(0);
    expectReadsOk(c.readsDuring);
    expect(c.loopDelay.samples).toBeGreaterThan(0);
    expect(c.loopDelay.p99Ms).toBeGreaterThan(0);
  });

  it('evaluates the three targets and prints the report', () => {
    expect(result.targets).toHaveLength(3);
    for (const t of result.targets) {
      expect(typeof t.pass).toBe('boolean');
      expect(t.measured).toBeGreaterThan(0);
    }
    expect(run.stdout).toContain('== targets ==');
    expect(run.stdout).toMatch(/PASS|FAIL/);
  });

  it('removes its temporary stores', () => {
    expect(fs.readdirSync(path.join(tmp, 'data'))).toEqual([]);
  });
});
