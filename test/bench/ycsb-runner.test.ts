/**
 * The YCSB harness (issue #6): the runner against an in-memory fake binding (closed loop bounded
 * by a count, open loop with a target whose latency is measured from the intended start, errors
 * counted per operation, progress once a second), the ringtail binding's token-aware choice of
 * host over a given ring, and one end-to-end smoke run of `bench/run.mjs ycsb` on a 1-node
 * cluster (needs dist/, built by `pretest`).
 *
 * The bench modules are plain .mjs without type declarations: they are loaded with dynamic
 * imports of file URLs (typed `any`).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useTmpDir } from '../helpers/tmpdir.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/* eslint-disable @typescript-eslint/no-explicit-any */
const load = (relative: string): Promise<any> => import(pathToFileURL(path.join(ROOT, relative)).href);

interface FakeOptions {
  /** Service time of every operation, ms (0: resolves in a microtask). */
  delayMs?: number;
  /** Operations whose sequence number n satisfies this throw. */
  failWhen?: (n: number) => boolean;
}

/** The YCSB DB interface over a Map, with an optional service time and injected failures. */
function fakeBinding({ delayMs = 0, failWhen = () => false }: FakeOptions = {}) {
  const rows = new Map<string, Record<string, string>>();
  let n = 0;
  const step = async (): Promise<void> => {
    const k = n++;
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (failWhen(k)) throw Object.assign(new Error(`injected failure ${k}`), { code: 'Injected' });
  };
  return {
    name: 'fake',
    rows,
    calls: () => n,
    describe: () => ({ name: 'fake' }),
    async setup() {},
    async insert(key: string, values: Record<string, string>) {
      await step();
      rows.set(key, { ...values });
    },
    async read(key: string) {
      await step();
      return rows.get(key) ?? null;
    },
    async update(key: string, values: Record<string, string>) {
      await step();
      const row = rows.get(key);
      if (row === undefined) throw new Error(`update of missing ${key}`);
      Object.assign(row, values);
    },
    async scan(_start: string, count: number) {
      await step();
      return [...rows.values()].slice(0, count);
    },
    async close() {},
  };
}

async function modules() {
  const [runner, workloads, measurements] = await Promise.all([load('bench/ycsb/runner.mjs'), load('bench/ycsb/workloads.mjs'), load('bench/ycsb/measurements.mjs')]);
  return { runPhase: runner.runPhase, Workload: workloads.Workload, Measurements: measurements.Measurements };
}

describe('YCSB runner', () => {
  it('loads every record, then runs a closed loop of exactly the requested operations', async () => {
    const { runPhase, Workload, Measurements } = await modules();
    const binding = fakeBinding();
    const records = 500;
    const loadMeasurements = new Measurements({ startMs: performance.now() });
    const loaded = await runPhase({ binding, workload: new Workload('a', { recordCount: records, seed: 3 }), phase: 'load', threads: 7, measurements: loadMeasurements });
    expect(loaded.operations).toBe(records);
    expect(loaded.errors).toBe(0);
    expect(binding.rows.size).toBe(records);
    expect(loadMeasurements.summary().operations.INSERT.count).toBe(records);

    const measurements = new Measurements({ startMs: performance.now() });
    const run = await runPhase({ binding, workload: new Workload('a', { recordCount: records, seed: 4 }), phase: 'run', threads: 8, operations: 2000, measurements });
    expect(run.operations).toBe(2000);
    expect(run.errors).toBe(0);
    expect(run.schedule).toBeNull();
    const summary = measurements.summary();
    expect(summary.overall.count).toBe(2000);
    // Workload A: about half reads, half updates.
    expect(summary.operations.READ.count).toBeGreaterThan(800);
    expect(summary.operations.UPDATE.count).toBeGreaterThan(800);
    expect(summary.operations.READ.count + summary.operations.UPDATE.count).toBe(2000);
    loadMeasurements.close();
    measurements.close();
  });

  it('runs inserts, scans and read-modify-writes (workloads D, E, F) against the loaded data without errors', async () => {
    const { runPhase, Workload, Measurements } = await modules();
    const binding = fakeBinding();
    const m0 = new Measurements({ startMs: performance.now() });
    await runPhase({ binding, workload: new Workload('d', { recordCount: 200, seed: 1 }), phase: 'load', threads: 4, measurements: m0 });
    let existing = 200;
    for (const name of ['d', 'e', 'f']) {
      const m = new Measurements({ startMs: performance.now() });
      const run = await runPhase({ binding, workload: new Workload(name, { recordCount: existing, seed: 9 }), phase: 'run', threads: 4, operations: 600, measurements: m });
      expect(run.errors, `${name}: ${run.firstErrors.join('; ')}`).toBe(0);
      const ops = m.summary().operations;
      if (name === 'f') expect(ops.READMODIFYWRITE.count).toBeGreaterThan(0);
      if (name === 'e') expect(ops.SCAN.count).toBeGreaterThan(0);
      existing += ops.INSERT?.count ?? 0;
      m.close();
    }
    expect(binding.rows.size).toBe(existing);
    m0.close();
  });

  it('counts failed operations per operation and error code, and keeps going', async () => {
    const { runPhase, Workload, Measurements } = await modules();
    const binding = fakeBinding();
    const m0 = new Measurements({ startMs: performance.now() });
    await runPhase({ binding, workload: new Workload('c', { recordCount: 100, seed: 1 }), phase: 'load', threads: 2, measurements: m0 });
    const failing = fakeBinding({ failWhen: (n) => n % 10 === 0 });
    for (const [k, v] of binding.rows) failing.rows.set(k, v);
    const m = new Measurements({ startMs: performance.now() });
    const run = await runPhase({ binding: failing, workload: new Workload('c', { recordCount: 100, seed: 2 }), phase: 'run', threads: 3, operations: 1000, measurements: m });
    expect(run.operations).toBe(1000);
    expect(run.errors).toBe(100);
    expect(run.errorsByKind).toEqual({ 'READ Injected': 100 });
    expect(run.firstErrors.length).toBeGreaterThan(0);
    expect(m.summary().operations.READ.errors).toBe(100);
    m0.close();
    m.close();
  });

  it('calls progress once a second with the interval throughput, and stops at the duration', async () => {
    const { runPhase, Workload, Measurements } = await modules();
    const binding = fakeBinding({ delayMs: 1 });
    const m0 = new Measurements({ startMs: performance.now() });
    await runPhase({ binding, workload: new Workload('c', { recordCount: 50, seed: 1 }), phase: 'load', threads: 5, measurements: m0 });
    const m = new Measurements({ startMs: performance.now() });
    const progress: any[] = [];
    const run = await runPhase({ binding, workload: new Workload('c', { recordCount: 50, seed: 1 }), phase: 'run', threads: 4, durationSec: 2.2, measurements: m, onProgress: (p: any) => progress.push(p) });
    expect(run.seconds).toBeGreaterThanOrEqual(2.2);
    expect(run.seconds).toBeLessThan(4);
    // Two full seconds and the final partial interval (skipped when under 50 ms: a late timer).
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.length).toBeLessThanOrEqual(3);
    expect(progress[0].interval.opsPerSec).toBeGreaterThan(0);
    expect(progress.map((p) => p.elapsedSec)).toEqual([...progress.map((p) => p.elapsedSec)].sort((a, b) => a - b));
    expect(m.timeline.length).toBe(progress.length);
    const inTimeline = m.timeline.reduce((n: number, p: any) => n + p.operations, 0);
    expect(inTimeline).toBeLessThanOrEqual(run.operations);
    expect(inTimeline).toBeGreaterThan(run.operations * 0.9);
    m0.close();
    m.close();
  });

  it('with a target, measures latency from the intended start: a slow system shows its queueing delay (coordinated omission corrected)', async () => {
    const { runPhase, Workload, Measurements } = await modules();
    const seed = fakeBinding();
    const m0 = new Measurements({ startMs: performance.now() });
    await runPhase({ binding: seed, workload: new Workload('c', { recordCount: 50, seed: 1 }), phase: 'load', threads: 1, measurements: m0 });
    const runWith = async (delayMs: number, targetOpsPerSec: number) => {
      const binding = fakeBinding({ delayMs });
      for (const [k, v] of seed.rows) binding.rows.set(k, v);
      const m = new Measurements({ startMs: performance.now() });
      const run = await runPhase({ binding, workload: new Workload('c', { recordCount: 50, seed: 5 }), phase: 'run', threads: 2, durationSec: 1, targetOpsPerSec, measurements: m });
      const summary = m.summary();
      m.close();
      return { run, summary };
    };

    // A quick system (3 ms per operation), 200 ops/s offered: keeps up; latency is about the
    // service time, never less (a timer firing early must not shorten it).
    const fast = await runWith(3, 200);
    expect(fast.run.schedule.targetOpsPerSec).toBe(200);
    expect(fast.run.schedule.intervalMs).toBe(10);
    expect(fast.run.operations).toBeGreaterThan(150);
    expect(fast.run.operations).toBeLessThanOrEqual(200);
    expect(fast.summary.overall.p50Us).toBeLessThan(20_000);
    expect(fast.summary.overall.p50Us).toBeGreaterThanOrEqual(2_000);
    expect(fast.run.schedule.missedStarts).toBeLessThan(20);

    // Each operation takes ≥ 25 ms but 2 threads are offered one every 10 ms each: they can do
    // about 80 of the 200 intended operations in the second, and every later one waited longer.
    const slow = await runWith(25, 200);
    expect(slow.run.operations).toBeLessThan(110);
    expect(slow.run.schedule.maxBehindMs).toBeGreaterThan(300);
    expect(slow.run.schedule.missedStarts).toBeGreaterThan(50);
    // A closed loop would report ~25 ms for every operation; from the intended start the p99
    // includes the time the operation spent waiting for its turn (~600 ms by the end).
    expect(slow.summary.overall.p99Us).toBeGreaterThan(300_000);
    expect(slow.summary.overall.maxUs).toBeGreaterThan(slow.summary.overall.p50Us);
    m0.close();
  });

  it('refuses an unbounded run phase', async () => {
    const { runPhase, Workload, Measurements } = await modules();
    const m = new Measurements({ startMs: performance.now() });
    await expect(runPhase({ binding: fakeBinding(), workload: new Workload('a', { recordCount: 10 }), phase: 'run', threads: 1, measurements: m })).rejects.toThrow(/bounded/);
    m.close();
  });
});

describe('ringtail binding: token-aware routing', () => {
  it('sends each key to a replica of its Murmur3 token on the given ring, and round-robin without a ring', async () => {
    const { RingtailBinding, TokenRouter, loadPartitioner, tokenOfKey } = await load('bench/ycsb/bindings/ringtail.mjs');
    const murmur3Token: (key: Uint8Array) => bigint = await loadPartitioner();
    const hosts = ['http://127.0.0.1:1', 'http://127.0.0.1:2', 'http://127.0.0.1:3'];
    const binding = new RingtailBinding({ hosts, consistency: 'QUORUM' });
    try {
      // Without a ring: round-robin over the hosts.
      expect(binding.hostForKey('user1')).toBeNull();
      const pools = [0, 1, 2, 3].map(() => binding.poolForKey('user1'));
      expect(new Set(pools.slice(0, 3)).size).toBe(3);
      expect(pools[3]).toBe(pools[0]);

      // A fake ring: 4 tokens per node, token m = 3j + i at -2^62 + m * 2^60, owned by node m mod 3.
      const hostIds = ['h-a', 'h-b', 'h-c'];
      const ring = [];
      for (let j = 0; j < 4; j++) for (let i = 0; i < 3; i++) ring.push({ token: String(-(2n ** 62n) + BigInt(3 * j + i) * 2n ** 60n), host_id: hostIds[i]! });
      ring.reverse(); // any order: the router sorts
      const nodes = hostIds.map((id, i) => ({ host_id: id, http: hosts[i] }));
      binding.useRing({ ring, nodes, replicationFactor: 1 });

      const sorted = ring.map((e) => ({ token: BigInt(e.token), host: e.host_id })).sort((a, b) => (a.token < b.token ? -1 : 1));
      const primaryOf = (token: bigint) => (sorted.find((e) => e.token >= token) ?? sorted[0]!).host;
      const seen = new Set<string>();
      for (let k = 0; k < 200; k++) {
        const key = `user${k * 7919}`;
        const token = murmur3Token(Buffer.from(key, 'utf8'));
        expect(tokenOfKey(key)).toBe(token);
        const expected = hosts[hostIds.indexOf(primaryOf(token))];
        expect(binding.hostForKey(key)).toBe(expected);
        seen.add(expected!);
      }
      expect(seen.size).toBe(3);

      // RF 2: the replicas are the primary and the next distinct node clockwise; requests spread over both.
      const router = new TokenRouter({ ring: ring.map((e) => ({ token: BigInt(e.token), hostId: e.host_id })), replicationFactor: 2 });
      const t = -(2n ** 62n) + 5n * 2n ** 60n - 1n; // just below h-c's token of index 5 → h-c, then h-a
      expect(router.replicas(t)).toEqual(['h-c', 'h-a']);
      const past = 2n ** 63n - 1n; // past the last token: wraps to the first (h-a), then h-b
      expect(router.replicas(past)).toEqual(['h-a', 'h-b']);
      binding.useRing({ ring, nodes, replicationFactor: 2 });
      const key = 'user42';
      const replicas = router.replicas(tokenOfKey(key)).map((id: string) => hosts[hostIds.indexOf(id)]);
      expect(new Set([0, 1, 2, 3].map((s) => binding.hostForKey(key, s)))).toEqual(new Set(replicas));
    } finally {
      await binding.close();
    }
  });
});

describe('bench ycsb end to end', () => {
  const tmp = useTmpDir('ringtail-ycsb-');

  it('ringtail bench passes its options to the benchmark (--help prints the YCSB options, exit 0)', async () => {
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['bin/ringtail', 'bench', '--help'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
      let so = '';
      child.stdout.setEncoding('utf8').on('data', (s: string) => (so += s));
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c, stdout: so }));
    });
    expect(code).toBe(0);
    expect(stdout).toMatch(/--workload/);
    expect(stdout).toMatch(/--token-aware/);
  });

  it('runs workload A on a 1-node cluster and writes the results JSON and the chart', async () => {
    const out = path.join(tmp(), 'out');
    const args = ['--expose-gc', 'bench/run.mjs', 'ycsb', '--nodes', '1', '--records', '2000', '--duration', '2', '--workload', 'a', '--threads', '8', '--out', out, '--data-dir', tmp()];
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let so = '';
      let se = '';
      child.stdout.setEncoding('utf8').on('data', (s: string) => (so += s));
      child.stderr.setEncoding('utf8').on('data', (s: string) => (se += s));
      const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
      child.on('error', reject);
      child.on('close', (c) => {
        clearTimeout(timer);
        resolve({ code: c, stdout: so, stderr: se });
      });
    });
    expect(code, `stdout:\n${stdout}\nstderr:\n${stderr}`).toBe(0);
    const files = fs.readdirSync(out);
    const json = files.find((f) => /^ycsb-.*\.json$/.test(f));
    const svg = files.find((f) => /^ycsb-.*-a\.svg$/.test(f));
    expect(json).toBeDefined();
    expect(svg).toBeDefined();
    const result = JSON.parse(fs.readFileSync(path.join(out, json!), 'utf8'));
    expect(result.ok).toBe(true);
    expect(result.ringtail.load.operations).toBe(2000);
    expect(result.ringtail.load.errors).toBe(0);
    const run = result.ringtail.runs[0];
    expect(run.workload).toBe('a');
    expect(run.operations).toBeGreaterThan(0);
    expect(run.errors).toBe(0);
    expect(run.summary.operations.READ.count).toBeGreaterThan(0);
    expect(run.timeline.length).toBeGreaterThanOrEqual(2);
    const chart = fs.readFileSync(path.join(out, svg!), 'utf8');
    expect(chart).toMatch(/^<svg|^<\?xml/);
    expect(stdout).toMatch(/READ .* UPDATE/s);
    // The cluster is gone with the temporary directory.
    expect(fs.readdirSync(tmp()).filter((f) => f.startsWith('ringtail-bench-ycsb-'))).toEqual([]);
  }, 60_000);
});
