/**
 * Paging (SPEC 3.1 `page_size` / `paging_state`): over thousands of rows across partitions
 * and within one, with LIMIT and PER PARTITION LIMIT, reversed, filtered, and resumed on a
 * fresh processor and after a restart. Pages concatenate to exactly the unpaged result.
 */
import { describe, expect, it } from 'vitest';
import { LocalDataPath } from '../../src/cql/data-path.js';
import { QueryProcessor } from '../../src/cql/query-processor.js';
import type { CqlRequest, RowsResult } from '../../src/cql/request.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { useCql, type CqlKit, type Params } from './kit.js';

const PARTITIONS = 12;
const ROWS_PER_PARTITION = 250;
const BIG_PARTITION_ROWS = 3000;

/** 12 partitions × 250 rows in `t`; one partition of 3000 rows (c DESC) in `big`. */
async function load(k: CqlKit): Promise<void> {
  await k.exec('CREATE TABLE t (k int, c int, v text, PRIMARY KEY (k, c))');
  await k.exec('CREATE TABLE big (k int, c int, v int, PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (c DESC)');
  for (let p = 0; p < PARTITIONS; p++) {
    for (let c = 0; c < ROWS_PER_PARTITION; c += 50) {
      const statements = Array.from({ length: 50 }, (_, i) => `INSERT INTO t (k, c, v) VALUES (${p}, ${c + i}, 'v${p}.${c + i}')`);
      await k.exec(`BEGIN UNLOGGED BATCH ${statements.join('; ')} APPLY BATCH`);
    }
    if (p === 5) await k.flush('t');
  }
  for (let c = 0; c < BIG_PARTITION_ROWS; c += 100) {
    const statements = Array.from({ length: 100 }, (_, i) => `INSERT INTO big (k, c, v) VALUES (1, ${c + i}, ${c + i})`);
    await k.exec(`BEGIN UNLOGGED BATCH ${statements.join('; ')} APPLY BATCH`);
    if (c === 1000) await k.flush('big');
  }
}

interface Paged {
  readonly rows: Record<string, unknown>[];
  readonly pages: number[];
}

/** Runs a query page by page; checks every page but the last is full. */
async function allPages(run: (request: Partial<CqlRequest>) => Promise<RowsResult>, pageSize: number, maxPages = 100_000): Promise<Paged> {
  const rows: Record<string, unknown>[] = [];
  const pages: number[] = [];
  let state: string | null = null;
  for (;;) {
    const r: RowsResult = await run({ pageSize, pagingState: state });
    rows.push(...r.rows);
    pages.push(r.rows.length);
    expect(r.rows.length).toBeLessThanOrEqual(pageSize);
    state = r.paging_state;
    if (state === null) break;
    expect(r.rows.length).toBe(pageSize);
    if (pages.length > maxPages) throw new Error('too many pages');
  }
  return { rows, pages };
}

function pager(k: CqlKit, query: string, params?: Params): (request: Partial<CqlRequest>) => Promise<RowsResult> {
  return (request) => k.select(query, params, request);
}

describe('paging', () => {
  // Thousands of writes: no fsync per write (the restart below closes cleanly, flushing).
  const cql = useCql({ overrides: ['commitlog_sync=periodic'] });

  it('pages concatenate to the unpaged result, for scans, IN, slices, limits and reversed reads', { timeout: 60_000 }, async () => {
    const k = cql();
    await load(k);
    const queries: [string, number][] = [
      ['SELECT k, c FROM t', PARTITIONS * ROWS_PER_PARTITION],
      ['SELECT k, c FROM t LIMIT 1001', 1001],
      ['SELECT k, c FROM t PER PARTITION LIMIT 7', PARTITIONS * 7],
      ['SELECT k, c FROM t PER PARTITION LIMIT 100 LIMIT 333', 333],
      ['SELECT k, c FROM t WHERE k IN (3, 1, 7)', 3 * ROWS_PER_PARTITION],
      ['SELECT k, c FROM t WHERE k IN (3, 1, 7) PER PARTITION LIMIT 60 LIMIT 150', 150],
      ['SELECT k, c FROM t WHERE k IN (3, 1, 7) AND c >= 100 AND c < 110', 30],
      ['SELECT k, c FROM t WHERE k IN (2, 4) AND c IN (5, 249, 0, 77)', 8],
      ['SELECT k, c FROM t WHERE k = 4 ORDER BY c DESC', ROWS_PER_PARTITION],
      ['SELECT k, c FROM t WHERE k = 4 AND c IN (5, 249, 0, 77) ORDER BY c DESC', 4],
      ['SELECT k, c FROM t WHERE c > 240 ALLOW FILTERING', PARTITIONS * 9],
      ["SELECT k, c FROM t WHERE v = 'v3.17' ALLOW FILTERING", 1],
      ['SELECT k, c FROM t WHERE token(k) > 0', -1],
      ['SELECT c FROM big WHERE k = 1', BIG_PARTITION_ROWS],
      ['SELECT c FROM big WHERE k = 1 ORDER BY c ASC', BIG_PARTITION_ROWS],
      ['SELECT c FROM big WHERE k = 1 AND c < 2500 AND c >= 500 ORDER BY c ASC LIMIT 1500', 1500],
      ['SELECT c FROM big', BIG_PARTITION_ROWS],
      ['SELECT c FROM big PER PARTITION LIMIT 10', 10],
      ['SELECT DISTINCT k FROM t', PARTITIONS],
    ];
    for (const [query, count] of queries) {
      const whole = await k.rows(query, undefined, { pageSize: 1_000_000 });
      if (count >= 0) expect(whole, query).toHaveLength(count);
      for (const pageSize of [1, 7, 100, 1000]) {
        if (pageSize === 1 && whole.length > 1500) continue;
        const paged = await allPages(pager(k, query), pageSize);
        expect(paged.rows, `${query} (pages of ${pageSize})`).toEqual(whole);
      }
    }
  });

  it('the default page is 5000 rows', async () => {
    const k = cql();
    await load(k);
    const first = await k.select('SELECT k, c FROM t');
    expect(first.rows).toHaveLength(3000);
    expect(first.paging_state).toBeNull();
    await k.exec('CREATE TABLE w (k int, c int, PRIMARY KEY (k, c))');
    for (let c = 0; c < 5200; c += 200) {
      const statements = Array.from({ length: 200 }, (_, i) => `INSERT INTO w (k, c) VALUES (0, ${c + i})`);
      await k.exec(`BEGIN UNLOGGED BATCH ${statements.join('; ')} APPLY BATCH`);
    }
    const page = await k.select('SELECT c FROM w WHERE k = 0');
    expect(page.rows).toHaveLength(5000);
    expect(page.paging_state).not.toBeNull();
    const rest = await k.select('SELECT c FROM w WHERE k = 0', undefined, { pagingState: page.paging_state });
    expect(rest.rows.map((r) => r.c)).toEqual(Array.from({ length: 200 }, (_, i) => 5000 + i));
    expect(rest.paging_state).toBeNull();
  });

  it('a paging state works on a fresh processor and after a restart', async () => {
    const k = cql();
    await load(k);
    const query = 'SELECT k, c, v FROM t WHERE k IN (1, 2) PER PARTITION LIMIT 200';
    const whole = await k.rows(query);
    const first = await k.select(query, undefined, { pageSize: 150 });
    const fresh = new QueryProcessor({ schema: k.db.schema, dataPath: new LocalDataPath(k.db.engine), clock: k.db.clock, random: new SeededRandom(99), defaultConsistency: 'ONE' });
    const second = await fresh.execute({ query, keyspace: 'ks', pageSize: 150, pagingState: first.paging_state });
    if (second.kind !== 'rows') throw new Error('rows expected');
    const scan = await k.select('SELECT k, c FROM t', undefined, { pageSize: 1234 });
    await k.reopen();
    const third = await k.select(query, undefined, { pageSize: 150, pagingState: second.paging_state });
    expect([...first.rows, ...second.rows, ...third.rows]).toEqual(whole);
    expect(third.paging_state).toBeNull();
    const scanRest = await allPages((r) => k.select('SELECT k, c FROM t', undefined, { ...r, pagingState: r.pagingState ?? scan.paging_state }), 1234);
    expect([...scan.rows, ...scanRest.rows]).toEqual(await k.rows('SELECT k, c FROM t'));
  });

  it('rows written or deleted between pages: the next page starts after the last row returned', async () => {
    const k = cql();
    await k.exec('CREATE TABLE t (k int, c int, PRIMARY KEY (k, c))');
    for (let c = 0; c < 10; c++) await k.exec('INSERT INTO t (k, c) VALUES (1, ?)', [c * 10]);
    const first = await k.select('SELECT c FROM t WHERE k = 1', undefined, { pageSize: 4 });
    expect(first.rows.map((r) => r.c)).toEqual([0, 10, 20, 30]);
    await k.exec('INSERT INTO t (k, c) VALUES (1, 5)');
    await k.exec('INSERT INTO t (k, c) VALUES (1, 35)');
    await k.exec('DELETE FROM t WHERE k = 1 AND c >= 40 AND c <= 50');
    await k.exec('DELETE FROM t WHERE k = 1 AND c = 30');
    const second = await k.select('SELECT c FROM t WHERE k = 1', undefined, { pageSize: 4, pagingState: first.paging_state });
    expect(second.rows.map((r) => r.c)).toEqual([35, 60, 70, 80]);
    const third = await k.select('SELECT c FROM t WHERE k = 1', undefined, { pageSize: 4, pagingState: second.paging_state });
    expect(third.rows.map((r) => r.c)).toEqual([90]);
    expect(third.paging_state).toBeNull();
  });

  it('a paging state from another query, or garbage, is refused', async () => {
    const k = cql();
    await k.exec('CREATE TABLE t (k int, c int, PRIMARY KEY (k, c))');
    for (let c = 0; c < 5; c++) await k.exec('INSERT INTO t (k, c) VALUES (1, ?)', [c]);
    const first = await k.select('SELECT c FROM t WHERE k = 1', undefined, { pageSize: 2 });
    expect(first.paging_state).not.toBeNull();
    await k.expectError('SELECT c FROM t WHERE k = 2', 'Invalid', 'Invalid value for the paging state', undefined, { pageSize: 2, pagingState: first.paging_state });
    await k.expectError('SELECT c FROM t WHERE k = 1', 'Invalid', 'Invalid value for the paging state', undefined, { pageSize: 2, pagingState: 'bm9wZQ' });
    await k.expectError('SELECT c FROM t WHERE k = 1', 'Invalid', 'Invalid value for the paging state', undefined, { pageSize: 2, pagingState: '!!!' });
    await k.expectError('SELECT c FROM t WHERE k = 1', 'Invalid', 'page_size must be positive', undefined, { pageSize: 0 });
    // A bound statement pages like any other.
    const bound = await k.select('SELECT c FROM t WHERE k = ?', [1], { pageSize: 2 });
    const next = await k.select('SELECT c FROM t WHERE k = ?', [1], { pageSize: 2, pagingState: bound.paging_state });
    expect(next.rows.map((r) => r.c)).toEqual([2, 3]);
  });
});
