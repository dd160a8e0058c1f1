/**
 * DELETE: cell, row, range (clustering slices, on ASC and DESC columns, with and without an
 * equality prefix) and partition tombstones, in memtables and SSTables, and the errors for
 * deletes Cassandra refuses.
 */
import { describe, expect, it } from 'vitest';
import { execAll, useCql, type CqlKit } from './kit.js';

const TABLE = (order: 'ASC' | 'DESC', order2: 'ASC' | 'DESC' = 'ASC') =>
  `CREATE TABLE t (k int, c1 int, c2 text, v int, w int, PRIMARY KEY (k, c1, c2)) WITH CLUSTERING ORDER BY (c1 ${order}, c2 ${order2})`;

/** Partition 1 gets c1 in 1..5 × c2 in {'a', 'b'}; partition 2 gets the same. */
async function fill(k: CqlKit): Promise<void> {
  for (const p of [1, 2]) for (let c1 = 1; c1 <= 5; c1++) for (const c2 of ['a', 'b']) await k.exec('INSERT INTO t (k, c1, c2, v, w) VALUES (?, ?, ?, ?, ?)', [p, c1, c2, c1, 0]);
}

async function keysOf(k: CqlKit, p = 1): Promise<string[]> {
  return (await k.rows('SELECT c1, c2 FROM t WHERE k = ?', [p])).map((r) => `${r.c1}${r.c2}`).sort();
}

const ALL = ['1a', '1b', '2a', '2b', '3a', '3b', '4a', '4b', '5a', '5b'];

describe('deletes', () => {
  const cql = useCql();

  it('cell delete nulls the cells; the inserted row stays', async () => {
    const k = cql();
    await k.exec(TABLE('ASC'));
    await fill(k);
    await k.exec("DELETE v, w FROM t WHERE k = 1 AND c1 = 2 AND c2 = 'a'");
    await k.exec("DELETE w FROM t WHERE k = 1 AND c1 IN (3, 4) AND c2 IN ('a', 'b')");
    const rows = await k.rows('SELECT c1, c2, v, w FROM t WHERE k = 1 AND c1 >= 2 AND c1 <= 4');
    expect(rows).toEqual([
      { c1: 2, c2: 'a', v: null, w: null },
      { c1: 2, c2: 'b', v: 2, w: 0 },
      { c1: 3, c2: 'a', v: 3, w: null },
      { c1: 3, c2: 'b', v: 3, w: null },
      { c1: 4, c2: 'a', v: 4, w: null },
      { c1: 4, c2: 'b', v: 4, w: null },
    ]);
  });

  it('row deletes, one row or several with IN', async () => {
    const k = cql();
    await k.exec(TABLE('ASC'));
    await fill(k);
    await k.exec("DELETE FROM t WHERE k = 1 AND c1 = 1 AND c2 = 'b'");
    await k.exec("DELETE FROM t WHERE k IN (1, 2) AND c1 IN (4, 5) AND c2 = 'a'");
    expect(await keysOf(k, 1)).toEqual(['1a', '2a', '2b', '3a', '3b', '4b', '5b']);
    expect(await keysOf(k, 2)).toEqual(['1a', '1b', '2a', '2b', '3a', '3b', '4b', '5b']);
  });

  for (const [order, order2] of [['ASC', 'ASC'], ['DESC', 'ASC'], ['ASC', 'DESC'], ['DESC', 'DESC']] as const) {
    it(`range deletes with clustering order (${order}, ${order2})`, async () => {
      const k = cql();
      await k.exec(TABLE(order, order2));
      const cases: [string, string[]][] = [
        ['c1 > 4', ['1a', '1b', '2a', '2b', '3a', '3b', '4a', '4b']],
        ['c1 < 2', ['2a', '2b', '3a', '3b', '4a', '4b', '5a', '5b']],
        ['c1 >= 2 AND c1 <= 3', ['1a', '1b', '4a', '4b', '5a', '5b']],
        ['c1 > 2 AND c1 < 4', ['1a', '1b', '2a', '2b', '4a', '4b', '5a', '5b']],
        ['c1 = 3', ['1a', '1b', '2a', '2b', '4a', '4b', '5a', '5b']],
        ['c1 IN (1, 5)', ['2a', '2b', '3a', '3b', '4a', '4b']],
        ["c1 = 3 AND c2 > 'a'", ['1a', '1b', '2a', '2b', '3a', '4a', '4b', '5a', '5b']],
        ["c1 = 3 AND c2 <= 'a'", ['1a', '1b', '2a', '2b', '3b', '4a', '4b', '5a', '5b']],
        ["c1 IN (2, 4) AND c2 < 'b'", ['1a', '1b', '2b', '3a', '3b', '4b', '5a', '5b']],
        ['c1 > 3 AND c1 < 3', ALL],
        ["(c1, c2) >= (2, 'b') AND (c1, c2) < (4, 'b')", ['1a', '1b', '2a', '4b', '5a', '5b']],
        ["(c1, c2) > (4, 'a')", ['1a', '1b', '2a', '2b', '3a', '3b', '4a']],
        ['(c1) <= (2)', ['3a', '3b', '4a', '4b', '5a', '5b']],
      ];
      for (const [where, left] of cases) {
        await k.exec('TRUNCATE t');
        await fill(k);
        // Half the rows are flushed: the tombstone must cover both sources.
        await k.flush('t');
        await k.exec('INSERT INTO t (k, c1, c2, v) VALUES (1, 3, ?, 33)', ['a']);
        await k.exec(`DELETE FROM t WHERE k = 1 AND ${where}`);
        expect(await keysOf(k, 1), where).toEqual(left);
        expect(await keysOf(k, 2), where).toEqual(ALL);
        // Written after the delete (newer timestamp), a row in the range is back.
        await k.exec("INSERT INTO t (k, c1, c2) VALUES (1, 9, 'z')");
        expect(await keysOf(k, 1), where).toEqual([...left, '9z']);
      }
    });
  }

  it('a range delete with an older timestamp spares newer rows', async () => {
    const k = cql();
    await k.exec(TABLE('DESC'));
    await k.exec("INSERT INTO t (k, c1, c2) VALUES (1, 1, 'a') USING TIMESTAMP 10");
    await k.exec("INSERT INTO t (k, c1, c2) VALUES (1, 2, 'a') USING TIMESTAMP 30");
    await k.exec("INSERT INTO t (k, c1, c2) VALUES (1, 3, 'a') USING TIMESTAMP 20");
    await k.exec('DELETE FROM t USING TIMESTAMP 20 WHERE k = 1 AND c1 >= 1');
    expect(await keysOf(k)).toEqual(['2a']);
  });

  it('partition deletes, with IN and over flushed data', async () => {
    const k = cql();
    await k.exec(TABLE('ASC'));
    await k.exec('CREATE TABLE s (k int PRIMARY KEY, v int)');
    await fill(k);
    await execAll(k, ['INSERT INTO s (k, v) VALUES (1, 1)', 'INSERT INTO s (k, v) VALUES (2, 2)', 'INSERT INTO s (k, v) VALUES (3, 3)']);
    await k.flush('t');
    await k.flush('s');
    await k.exec('DELETE FROM t WHERE k = 1');
    expect(await keysOf(k, 1)).toEqual([]);
    expect(await keysOf(k, 2)).toEqual(ALL);
    await k.exec('DELETE FROM s WHERE k IN (1, 3, 4)');
    expect(await k.rows('SELECT * FROM s')).toEqual([{ k: 2, v: 2 }]);
    // Cell delete on a table without clustering is a cell tombstone; the row stays.
    await k.exec('DELETE v FROM s WHERE k = 2');
    expect(await k.rows('SELECT * FROM s')).toEqual([{ k: 2, v: null }]);
    await k.exec('INSERT INTO t (k, c1, c2) VALUES (1, 1, ?)', ['n']);
    expect(await keysOf(k, 1)).toEqual(['1n']);
    await k.reopen();
    expect(await keysOf(k, 1)).toEqual(['1n']);
    expect(await k.rows('SELECT * FROM s')).toEqual([{ k: 2, v: null }]);
  });

  const badDeletes: [string, string][] = [
    ['DELETE FROM t WHERE c1 = 1', 'Some partition key parts are missing: k'],
    ['DELETE FROM t WHERE k = 1 AND v = 1', 'Non PRIMARY KEY columns found in where clause: v '],
    ['DELETE v FROM t WHERE k = 1 AND c1 > 1', 'Range deletions are not supported for specific columns'],
    ['DELETE v FROM t WHERE k = 1 AND c1 = 1', 'Range deletions are not supported for specific columns'],
    ["DELETE k FROM t WHERE k = 1 AND c1 = 1 AND c2 = 'a'", 'Invalid identifier k for deletion (should not be a PRIMARY KEY part)'],
    ["DELETE nope FROM t WHERE k = 1 AND c1 = 1 AND c2 = 'a'", 'Undefined column name nope in table ks.t'],
    ["DELETE FROM t WHERE k = 1 AND c2 = 'a'", 'PRIMARY KEY column "c2" cannot be restricted as preceding column "c1" is not restricted'],
    ["DELETE FROM t WHERE k = 1 AND c1 > 1 AND c2 = 'a'", 'Clustering column "c2" cannot be restricted (preceding column "c1" is restricted by a non-EQ relation)'],
    ['DELETE FROM t WHERE token(k) > 0', 'The token function cannot be used in WHERE clauses for DELETE statements'],
    ['DELETE FROM t WHERE k = 1 IF EXISTS', 'conditional updates are not supported'],
    ['DELETE FROM t WHERE k = 1 IF v = 1', 'conditional updates are not supported'],
    ['DELETE FROM t WHERE k = null', 'Invalid null value in condition for column k'],
    ['DELETE FROM t WHERE k = 1 AND c1 = null', 'Invalid null value in condition for column c1'],
    ['DELETE FROM t WHERE k = 1 AND c1 > null', 'Invalid null value in condition for column c1'],
    ['DELETE FROM nope WHERE k = 1', 'table nope does not exist'],
  ];
  it('a DELETE needs a WHERE clause (a syntax error, as in Cassandra)', async () => {
    const k = cql();
    await k.exec(TABLE('ASC'));
    await fill(k);
    await k.expectError('DELETE FROM t', 'SyntaxError', "line 1:14 mismatched input '<EOF>' expecting WHERE");
  });

  it.each(badDeletes)('%s → Invalid', async (statement, message) => {
    const k = cql();
    await k.exec(TABLE('ASC'));
    await fill(k);
    await k.expectError(statement, 'Invalid', message);
  });
});
