/**
 * The point-read fast path (src/cql/point-read.ts) answers exactly as the generic SELECT path:
 * every query here runs twice, once as it is (a page holds more than one row, so the fast path
 * may take it) and once with `page_size: 1` (always the generic reader), and the two results
 * must agree field for field, paging state aside. Also: which statements the fast path takes.
 */
import { describe, expect, it } from 'vitest';
import type { Select } from '../../src/cql/ast.js';
import { resolveTable } from '../../src/cql/execution-context.js';
import { parse } from '../../src/cql/parser.js';
import { preparePointRead } from '../../src/cql/point-read.js';
import type { RowsResult } from '../../src/cql/request.js';
import { prepareSelection } from '../../src/cql/selection.js';
import { planWhere } from '../../src/cql/where.js';
import { RequestError } from '../../src/errors.js';
import { useCql, type CqlKit, type Params } from './kit.js';

const TABLE = 'CREATE TABLE t (k bigint PRIMARY KEY, v text, n int, b blob, ts timestamp, m map<text, int>)';

/** Runs `query` on both paths and returns the fast path's result after checking they agree. */
async function both(k: CqlKit, query: string, params?: Params): Promise<RowsResult> {
  const fast = await k.select(query, params);
  const generic = await k.select(query, params, { pageSize: 1 });
  expect({ ...fast, paging_state: null }).toEqual({ ...generic, paging_state: null });
  expect(Object.keys(fast.rows[0] ?? {})).toEqual(Object.keys(generic.rows[0] ?? {}));
  expect(fast.paging_state).toBeNull();
  return fast;
}

async function bothFail(k: CqlKit, query: string, params?: Params): Promise<RequestError> {
  const errors: RequestError[] = [];
  for (const options of [{}, { pageSize: 1 }]) {
    try {
      await k.exec(query, params, options);
    } catch (e) {
      expect(e).toBeInstanceOf(RequestError);
      errors.push(e as RequestError);
    }
  }
  expect(errors).toHaveLength(2);
  expect({ code: errors[0]!.code, message: errors[0]!.message }).toEqual({ code: errors[1]!.code, message: errors[1]!.message });
  return errors[0]!;
}

function takesFastPath(k: CqlKit, query: string): boolean {
  const s = parse(query).statement as Select;
  const { table, layout } = resolveTable(k.db.schema.current, s.table, 'ks');
  const where = planWhere(s.where, layout, 'select', s.allowFiltering);
  return preparePointRead(table, layout, prepareSelection(s.items, layout), where, { distinct: s.distinct, ordered: s.orderBy.length > 0 }) !== null;
}

describe('point reads', () => {
  const cql = useCql();

  it('take single-partition reads of plain columns of tables without clustering columns, and nothing else', async () => {
    const k = cql();
    await k.exec(TABLE);
    await k.exec('CREATE TABLE c (k int, c int, v int, PRIMARY KEY (k, c))');
    await k.exec("CREATE TABLE s (k int PRIMARY KEY, v int) WITH conflict_resolution = 'siblings'");
    expect(takesFastPath(k, 'SELECT v FROM t WHERE k = ?')).toBe(true);
    expect(takesFastPath(k, 'SELECT k, v AS x, n, v FROM t WHERE k = 1 LIMIT 5')).toBe(true);
    expect(takesFastPath(k, 'SELECT v FROM t WHERE k IN (1)')).toBe(true);
    expect(takesFastPath(k, 'SELECT * FROM t WHERE k = 1')).toBe(false); // m is a collection
    expect(takesFastPath(k, 'SELECT v FROM t WHERE k IN (1, 2)')).toBe(false);
    expect(takesFastPath(k, 'SELECT v FROM t WHERE k IN ?')).toBe(false);
    expect(takesFastPath(k, 'SELECT writetime(v) FROM t WHERE k = 1')).toBe(false);
    expect(takesFastPath(k, 'SELECT COUNT(*) FROM t WHERE k = 1')).toBe(false);
    expect(takesFastPath(k, 'SELECT v FROM t WHERE k = 1 AND v = ? ALLOW FILTERING')).toBe(false);
    expect(takesFastPath(k, 'SELECT v FROM t')).toBe(false);
    expect(takesFastPath(k, 'SELECT v FROM c WHERE k = 1')).toBe(false);
    expect(takesFastPath(k, 'SELECT v FROM s WHERE k = 1')).toBe(false);
  });

  it('answer as the generic reader for live, partial, expired, deleted and missing rows', async () => {
    const k = cql();
    await k.exec(TABLE);
    await k.exec("INSERT INTO t (k, v, n, b, ts, m) VALUES (1, 'one', 1, 0xcafe, '2024-01-02T03:04:05.678Z', {'a': 1})");
    await k.exec('INSERT INTO t (k) VALUES (2)'); // a row marker only: the row exists with nulls
    await k.exec("UPDATE t SET v = 'three' WHERE k = 3"); // no marker
    await k.exec('DELETE v FROM t WHERE k = 3'); // … so the row is gone
    await k.exec("INSERT INTO t (k, v, n) VALUES (4, 'four', 4) USING TTL 10");
    await k.exec("INSERT INTO t (k, v) VALUES (5, 'five')");
    await k.exec('DELETE FROM t WHERE k = 5');
    await k.exec("INSERT INTO t (k, v) VALUES (6, 'six')");
    await k.exec('UPDATE t USING TTL 5 SET n = 6 WHERE k = 6');
    for (const id of [1, 2, 3, 4, 5, 6, 7]) {
      await both(k, 'SELECT k, v, n, b, ts FROM t WHERE k = ?', [id]);
      await both(k, 'SELECT v AS x, k, v FROM t WHERE k = ? LIMIT 3', [id]);
    }
    expect((await both(k, 'SELECT v, ts, b FROM t WHERE k = 1')).rows).toEqual([{ v: 'one', ts: '2024-01-02T03:04:05.678Z', b: '0xcafe' }]);
    expect((await both(k, 'SELECT k, v FROM t WHERE k = 2')).rows).toEqual([{ k: '2', v: null }]);
    expect((await both(k, 'SELECT v FROM t WHERE k = 3')).rows).toEqual([]);
    expect((await both(k, 'SELECT v FROM t WHERE k = 5')).rows).toEqual([]);
    k.db.clock.advanceMs(7_000);
    expect((await both(k, 'SELECT v, n FROM t WHERE k = 6')).rows).toEqual([{ v: 'six', n: null }]);
    expect((await both(k, 'SELECT v, n FROM t WHERE k = 4')).rows).toEqual([{ v: 'four', n: 4 }]);
    k.db.clock.advanceMs(4_000);
    expect((await both(k, 'SELECT v, n FROM t WHERE k = 4')).rows).toEqual([]);
  });

  it('answer as the generic reader from SSTables, memtables and both', async () => {
    const k = cql();
    await k.exec(TABLE);
    for (let id = 1; id <= 4; id++) await k.exec('INSERT INTO t (k, v, n) VALUES (?, ?, ?)', [id, `v${id}`, id]);
    await k.flush('t');
    await k.exec("UPDATE t SET v = 'newer' WHERE k = 2");
    await k.exec('DELETE FROM t WHERE k = 3');
    await k.exec("INSERT INTO t (k, v) VALUES (5, 'mem')");
    for (const id of [1, 2, 3, 4, 5, 6]) await both(k, 'SELECT k, v, n FROM t WHERE k = ?', [id]);
    expect((await both(k, 'SELECT v, n FROM t WHERE k = 2')).rows).toEqual([{ v: 'newer', n: 2 }]);
    expect((await both(k, 'SELECT v FROM t WHERE k = 3')).rows).toEqual([]);
    await k.flush('t');
    for (const id of [1, 2, 3, 4, 5, 6]) await both(k, 'SELECT k, v, n FROM t WHERE k = ?', [id]);
  });

  it('hide cells of a dropped column, also once a column of that name is added again', async () => {
    const k = cql();
    await k.exec(TABLE);
    await k.exec("INSERT INTO t (k, v, n) VALUES (1, 'a', 1)");
    await k.exec('UPDATE t SET n = 2 WHERE k = 2');
    await k.exec('ALTER TABLE t DROP n');
    await k.exec('ALTER TABLE t ADD n int');
    expect((await both(k, 'SELECT k, v, n FROM t WHERE k = 1')).rows).toEqual([{ k: '1', v: 'a', n: null }]);
    expect((await both(k, 'SELECT n FROM t WHERE k = 2')).rows).toEqual([]);
    await k.exec('UPDATE t SET n = 3 WHERE k = 2');
    expect((await both(k, 'SELECT k, n FROM t WHERE k = 2')).rows).toEqual([{ k: '2', n: 3 }]);
  });

  it('read composite partition keys', async () => {
    const k = cql();
    await k.exec('CREATE TABLE p (a int, b text, v double, PRIMARY KEY ((a, b)))');
    await k.exec("INSERT INTO p (a, b, v) VALUES (1, 'x', 1.5)");
    expect((await both(k, 'SELECT b, v, a FROM p WHERE a = ? AND b = ?', [1, 'x'])).rows).toEqual([{ b: 'x', v: 1.5, a: 1 }]);
    expect((await both(k, 'SELECT v FROM p WHERE b = ? AND a = ?', ['y', 1])).rows).toEqual([]);
  });

  it('fail with the generic reader’s errors', async () => {
    const k = cql();
    await k.exec(TABLE);
    await k.exec('CREATE TABLE txt (k text PRIMARY KEY, v int)');
    expect((await bothFail(k, 'SELECT v FROM t WHERE k = ?', [null])).message).toBe('Invalid null value in condition for column k');
    expect((await bothFail(k, 'SELECT v FROM t WHERE k = ?', ['nope'])).code).toBe('Invalid');
    expect((await bothFail(k, 'SELECT v FROM txt WHERE k = ?', [''])).message).toBe('Key may not be empty');
    expect((await bothFail(k, 'SELECT v FROM t WHERE k = 1 LIMIT ?', [0])).message).toBe('LIMIT must be strictly positive');
  });
});
