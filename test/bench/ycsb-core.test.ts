/**
 * The YCSB core of the benchmark harness (bench/ycsb): key hashing, request distributions,
 * workload operation mixes and key rules, latency measurements and the SVG chart. Pure and fast:
 * no I/O, seeded generators only.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

// bench/ is plain .mjs without type declarations: import through a computed URL (typed `any`
// at the boundary) so the strict TypeScript build does not need them.
async function load(rel: string): Promise<any> {
  const url = pathToFileURL(path.join(ROOT, rel)).href;
  return import(url);
}

let G: any;
let W: any;
let M: any;
let C: any;

beforeAll(async () => {
  [G, W, M, C] = await Promise.all([load('bench/ycsb/generators.mjs'), load('bench/ycsb/workloads.mjs'), load('bench/ycsb/measurements.mjs'), load('bench/ycsb/chart.mjs')]);
});

/** FNV-1 64 over the 8 little-endian bytes, written independently of the module (DataView). */
function referenceFnv(n: bigint): bigint {
  const bytes = new DataView(new ArrayBuffer(8));
  bytes.setBigInt64(0, n, true);
  let hash = 14695981039346656037n;
  for (let i = 0; i < 8; i++) {
    hash ^= BigInt(bytes.getUint8(i));
    hash = BigInt.asUintN(64, hash * 1099511628211n);
  }
  const signed = BigInt.asIntN(64, hash);
  return signed < 0n ? -signed : signed;
}

function zeta(n: number, theta = 0.99): number {
  let s = 0;
  for (let i = 1; i <= n; i++) s += 1 / Math.pow(i, theta);
  return s;
}

function countDraws(draw: () => number, draws: number, size: number): Int32Array {
  const counts = new Int32Array(size);
  for (let i = 0; i < draws; i++) {
    const v = draw();
    if (!Number.isInteger(v) || v < 0 || v >= size) throw new Error(`draw ${v} out of [0, ${size})`);
    counts[v]!++;
  }
  return counts;
}

describe('keys', () => {
  it('names keys "user" + YCSB FNV-64 hash, as YCSB does', () => {
    // YCSB's well-known first key (hashed insert order, record 0).
    expect(G.keyName(0)).toBe('user6284781860667377211');
    for (const n of [1, 2, 3, 42, 999_999, 123_456_789, 2 ** 40 + 7]) {
      expect(G.fnvHash64(n)).toBe(referenceFnv(BigInt(n)));
      expect(G.keyName(n)).toBe(`user${referenceFnv(BigInt(n))}`);
    }
    const keys = new Set(Array.from({ length: 10_000 }, (_, i) => G.keyName(i)));
    expect(keys.size).toBe(10_000);
  });

  it('is deterministic per seed', () => {
    const a = G.prng(7);
    const b = G.prng(7);
    const c = G.prng(8);
    const seqA = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(seqA);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(seqA);
    for (let i = 0; i < 1000; i++) {
      const d = G.randomDouble(a);
      expect(d >= 0 && d < 1).toBe(true);
    }
  });
});

describe('uniform', () => {
  it('covers the range evenly', () => {
    const u = new G.UniformChooser({ min: 0, max: 99, random: G.prng(1) });
    const counts = countDraws(() => u.next(), 100_000, 100);
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[99]).toBeGreaterThan(0);
    for (let bucket = 0; bucket < 10; bucket++) {
      let sum = 0;
      for (let i = bucket * 10; i < bucket * 10 + 10; i++) sum += counts[i]!;
      expect(Math.abs(sum / 100_000 - 0.1)).toBeLessThan(0.006);
    }
  });
});

describe('zipfian', () => {
  const items = 10_000;
  const draws = 200_000;

  it('stays in range, item 0 most popular, top 1% share as theta 0.99 predicts', () => {
    const z = new G.ZipfianChooser({ itemCount: items, random: G.prng(2) });
    const counts = countDraws(() => z.next(), draws, items);
    const max = Math.max(...counts);
    expect(counts[0]).toBe(max);
    expect(counts[0]!).toBeGreaterThan(counts[1]!);
    expect(counts[1]!).toBeGreaterThan(counts[2]!);
    // P(item 0) = 1/zeta(n) exactly in Gray's method.
    expect(counts[0]! / draws).toBeCloseTo(1 / zeta(items), 2);
    let top = 0;
    for (let i = 0; i < items / 100; i++) top += counts[i]!;
    const predicted = zeta(items / 100) / zeta(items); // ≈ 0.518
    expect(Math.abs(top / draws - predicted)).toBeLessThan(0.03);
  });

  it('grows the item count incrementally and keeps values in range', () => {
    const z = new G.ZipfianChooser({ itemCount: 1000, random: G.prng(3) });
    const counts = countDraws(() => z.next(), 20_000, 1000);
    expect(counts[0]).toBe(Math.max(...counts));
    const grown = countDraws(() => z.next(3000), 50_000, 3000);
    expect(grown[0]).toBe(Math.max(...grown));
    expect(grown.subarray(1000).some((c) => c > 0)).toBe(true);
    expect(z.itemCount).toBe(3000);
    expect(z.zetan).toBeCloseTo(zeta(3000), 9);
  });

  it('scrambled zipfian spreads the popular keys over the range', () => {
    const s = new G.ScrambledZipfianChooser({ min: 0, max: 9_999, random: G.prng(4) });
    const counts = countDraws(() => s.next(), 100_000, 10_000);
    const sorted = Array.from(counts).sort((a, b) => b - a);
    // Skewed: the hottest key is far above the uniform share (10 per key) …
    expect(sorted[0]!).toBeGreaterThan(1000);
    // … and the hottest keys are not simply the lowest numbers.
    const hottest = Array.from(counts.keys()).sort((a, b) => counts[b]! - counts[a]!).slice(0, 10);
    expect(hottest.some((k) => k > 1000)).toBe(true);
  });
});

describe('acknowledged counter and latest', () => {
  it('advances lastAcknowledged only over a contiguous prefix', () => {
    const c = new G.AcknowledgedCounter(100);
    expect(c.lastAcknowledged()).toBe(99);
    const [a, b, d] = [c.next(), c.next(), c.next()];
    expect([a, b, d]).toEqual([100, 101, 102]);
    c.acknowledge(102);
    c.acknowledge(101);
    expect(c.lastAcknowledged()).toBe(99);
    c.acknowledge(100);
    expect(c.lastAcknowledged()).toBe(102);
    expect(() => c.acknowledge(102)).toThrow();
    expect(() => c.acknowledge(103)).toThrow(); // never issued
  });

  it('latest favours the newest acknowledged keys and follows new inserts', () => {
    const counter = new G.AcknowledgedCounter(1000);
    const chooser = G.createKeyChooser('latest', { recordCount: 1000, counter, random: G.prng(5) });
    const counts = countDraws(() => chooser.nextKeyNumber(), 50_000, 2000);
    let newest = 0;
    for (let i = 990; i < 1000; i++) newest += counts[i]!;
    expect(newest / 50_000).toBeGreaterThan(0.3);
    expect(counts[999]).toBe(Math.max(...counts));
    for (let i = 1000; i < 2000; i++) expect(counts[i]).toBe(0);
    for (let i = 0; i < 500; i++) counter.acknowledge(counter.next());
    const after = countDraws(() => chooser.nextKeyNumber(), 20_000, 2000);
    expect(after[1499]).toBe(Math.max(...after));
    for (let i = 1500; i < 2000; i++) expect(after[i]).toBe(0);
  });
});

describe('workloads', () => {
  const expected: Record<string, Record<string, number>> = {
    a: { READ: 0.5, UPDATE: 0.5 },
    b: { READ: 0.95, UPDATE: 0.05 },
    c: { READ: 1 },
    d: { READ: 0.95, INSERT: 0.05 },
    e: { SCAN: 0.95, INSERT: 0.05 },
    f: { READ: 0.5, READMODIFYWRITE: 0.5 },
  };

  it('has YCSB core properties', () => {
    expect(W.CORE_WORKLOADS.e).toMatchObject({ maxscanlength: 100, scanlengthdistribution: 'uniform', requestdistribution: 'zipfian' });
    expect(W.CORE_WORKLOADS.d.requestdistribution).toBe('latest');
    for (const name of 'abcdef') expect(W.CORE_WORKLOADS[name]).toMatchObject({ fieldcount: 10, fieldlength: 100, readallfields: true, writeallfields: false });
  });

  it.each(Object.keys(expected))('workload %s draws operations in its proportions', (name) => {
    const w = new W.Workload(name, { recordCount: 1000, seed: 11 });
    const n = 100_000;
    const counts: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const op = w.nextOperation();
      counts[op] = (counts[op] ?? 0) + 1;
    }
    const want = expected[name]!;
    expect(Object.keys(counts).sort()).toEqual(Object.keys(want).sort());
    for (const [op, share] of Object.entries(want)) expect(Math.abs(counts[op]! / n - share)).toBeLessThan(0.01);
  });

  it('workload D inserts advance the counter and reads never pick unacknowledged keys', () => {
    const w = new W.Workload('workloadd', { recordCount: 1000, seed: 12 });
    const loaded = new Set(Array.from({ length: 1000 }, (_, i) => G.keyName(i)));
    const pending: { key: string; keyNumber: number }[] = [];
    const acknowledged = new Set<string>(loaded);
    const badReads: string[] = [];
    let inserts = 0;
    for (let i = 0; i < 20_000; i++) {
      const op = w.nextOperation();
      if (op === 'INSERT') {
        const ins = w.nextKeyForInsert();
        expect(ins.keyNumber).toBe(1000 + inserts++);
        expect(ins.key).toBe(G.keyName(ins.keyNumber));
        pending.push(ins);
        // Acknowledge in batches of three, out of order, like concurrent clients finishing late.
        if (pending.length === 3) {
          for (const done of [pending[2]!, pending[0]!, pending[1]!]) {
            w.acknowledgeInsert(done.keyNumber);
            acknowledged.add(done.key);
          }
          pending.length = 0;
        }
      } else {
        expect(op).toBe('READ');
        const key = w.nextKeyForRead();
        if (!acknowledged.has(key) || pending.some((p) => p.key === key)) badReads.push(key);
      }
    }
    expect(badReads).toEqual([]);
    expect(inserts).toBeGreaterThan(800);
    expect(w.insertCounter.lastAcknowledged()).toBe(1000 + inserts - pending.length - 1);
  });

  it('workload E scans 1..100 rows from requested keys; F reads and read-modify-writes', () => {
    const e = new W.Workload('e', { recordCount: 1000, seed: 13, operationCount: 10_000 });
    let sum = 0;
    let min = Infinity;
    let max = 0;
    for (let i = 0; i < 20_000; i++) {
      const len = e.scanLength();
      sum += len;
      min = Math.min(min, len);
      max = Math.max(max, len);
    }
    expect(min).toBe(1);
    expect(max).toBe(100);
    expect(Math.abs(sum / 20_000 - 50.5)).toBeLessThan(1.5);
    for (let i = 0; i < 1000; i++) expect(e.nextKeyForRead()).toMatch(/^user\d+$/);

    const f = new W.Workload('f', { recordCount: 100, seed: 14 });
    expect(f.readFields()).toBeNull(); // readallfields
    const insertValues = f.buildValues(true);
    expect(Object.keys(insertValues)).toEqual(f.fieldNames);
    expect(f.fieldNames).toEqual(Array.from({ length: 10 }, (_, i) => `field${i}`));
    for (const v of Object.values(insertValues)) expect(v as string).toHaveLength(100);
    const update = f.buildValues(false);
    expect(Object.keys(update)).toHaveLength(1);
    expect(f.fieldNames).toContain(Object.keys(update)[0]);
  });

  it('is deterministic for a seed and rejects bad properties', () => {
    const run = (seed: number) => {
      const w = new W.Workload('a', { recordCount: 500, seed });
      return Array.from({ length: 50 }, () => `${w.nextOperation()}:${w.nextKeyForRead()}:${Object.keys(w.buildValues(false))[0]}`);
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
    expect(() => new W.Workload('g', { recordCount: 10 })).toThrow(/unknown workload/);
    expect(() => new W.Workload({ readproportion: 0, updateproportion: 0 }, { recordCount: 10 })).toThrow(/sum to 0/);
    expect(() => new W.Workload({ requestdistribution: 'hotspot' }, { recordCount: 10 })).toThrow(/requestdistribution/);
  });
});

describe('measurements', () => {
  it('reports percentiles of known latencies, per operation and overall', () => {
    const m = new M.Measurements({ startMs: 0 });
    for (let i = 1; i <= 1000; i++) m.record('READ', i * 1000, true); // 1..1000 ms
    for (let i = 0; i < 100; i++) m.record('UPDATE', 500, true);
    m.record('UPDATE', 999_999, false);
    const s = m.summary(10_000);
    expect(s.seconds).toBe(10);
    const read = s.operations.READ;
    expect(read.count).toBe(1000);
    expect(read.errors).toBe(0);
    expect(read.opsPerSec).toBe(100);
    expect(read.p50Us / 500_000).toBeCloseTo(1, 2);
    expect(read.p95Us / 950_000).toBeCloseTo(1, 2);
    expect(read.p99Us / 990_000).toBeCloseTo(1, 2);
    expect(read.p999Us / 999_000).toBeCloseTo(1, 2);
    expect(read.maxUs / 1_000_000).toBeCloseTo(1, 2);
    expect(read.meanUs / 500_500).toBeCloseTo(1, 2);
    const update = s.operations.UPDATE;
    expect(update).toMatchObject({ count: 101, errors: 1, p50Us: 500, maxUs: 500 }); // failed op not in latencies
    expect(s.overall.count).toBe(1101);
    expect(s.overall.errors).toBe(1);
    m.close();
  });

  it('closes one interval per call and keeps a bounded timeline', () => {
    const m = new M.Measurements({ startMs: 5_000, maxTimelinePoints: 3 });
    for (let i = 0; i < 200; i++) m.record('READ', 100 + (i % 2) * 900, i % 50 !== 1); // 100 × 100 µs, 96 × 1000 µs, 4 failed
    const first = m.interval(6_000);
    expect(first).toMatchObject({ tSec: 1, intervalSec: 1, operations: 200, opsPerSec: 200, errors: 4, p50Us: 100 });
    expect(first.p99Us).toBe(1000);
    expect(first.byOp.READ).toMatchObject({ count: 200, errors: 4, p50Us: 100, p99Us: 1000 });
    const second = m.interval(6_500); // nothing recorded: empty half-second
    expect(second).toMatchObject({ tSec: 1.5, operations: 0, opsPerSec: 0, p50Us: null, p99Us: null });
    m.record('SCAN', 20, true);
    expect(m.interval(7_500).byOp).toEqual({ SCAN: { count: 1, errors: 0, opsPerSec: 1, p50Us: 20, p99Us: 20 } });
    m.interval(8_500);
    expect(m.timeline).toHaveLength(3);
    expect(m.timelineTruncated).toBe(true);
    expect(m.operations).toBe(201);
    m.record('READ', 0, true); // below 1 µs, clamped
    m.record('READ', 1e9, true); // above 60 s, clamped
    expect(m.summary(9_000).clampedCount).toBe(2);
    m.close();
  });
});

/** A minimal XML well-formedness check: one root, balanced tags, quoted attributes, no stray '<' or '&'. */
function checkWellFormed(xml: string): string {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  let root = '';
  const token = /<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>|<!--[\s\S]*?-->|([^<]+)|(<)/g;
  for (const m of body.matchAll(token)) {
    const [, close, name, , selfClose, text, stray] = m;
    if (stray) throw new Error(`stray '<' at ${m.index}`);
    if (text !== undefined) {
      if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);)/i.test(text)) throw new Error(`unescaped '&' at ${m.index}`);
      if (stack.length === 0 && text.trim()) throw new Error('text outside the root');
      continue;
    }
    if (!name) continue; // comment
    if (close) {
      if (stack.pop() !== name) throw new Error(`mismatched </${name}> at ${m.index}`);
    } else {
      if (stack.length === 0) {
        if (root) throw new Error('two root elements');
        root = name;
      }
      if (!selfClose) stack.push(name);
    }
  }
  if (stack.length) throw new Error(`unclosed <${stack.join('>, <')}>`);
  return root;
}

describe('chart', () => {
  it('renders a well-formed standalone SVG with both panels', () => {
    const m = new M.Measurements({ startMs: 0 });
    const r = G.prng(9);
    for (let s = 1; s <= 30; s++) {
      for (let i = 0; i < 300; i++) m.record(i % 2 ? 'READ' : 'UPDATE', 100 + G.randomBelow(r, 5000), !(s === 20 && i % 10 === 0));
      if (s !== 10) m.interval(s * 1000);
    }
    const title = 'YCSB workload a <ringtail> & friends';
    const svg = C.renderChartSvg({ title, subtitle: '3 nodes, RF 3 "QUORUM"', timeline: m.timeline });
    m.close();
    expect(checkWellFormed(svg)).toBe('svg');
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(svg).toContain('YCSB workload a &lt;ringtail&gt; &amp; friends');
    expect(svg).toContain('class="panel throughput"');
    expect(svg).toContain('class="panel latency"');
    expect(svg).toContain('Throughput (ops/s)');
    expect(svg).toContain('Latency percentiles (log scale)');
    for (const label of ['p50', 'p99', 'p99.9', 'errors/s']) expect(svg).toContain(`>${label}</text>`);
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
  });

  it('renders an empty timeline without failing', () => {
    const svg = C.renderChartSvg({ title: 'empty', timeline: [] });
    expect(checkWellFormed(svg)).toBe('svg');
    expect(svg).toContain('no data');
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
  });
});
