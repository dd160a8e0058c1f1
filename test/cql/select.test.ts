/**
 * SELECT against Cassandra's behaviour: selectors and aliases, partition key IN, clustering
 * slices and tuple slices, ORDER BY, LIMIT, PER PARTITION LIMIT, COUNT(*), DISTINCT, token()
 * (as a selector and for range scans over the whole ring), and the ALLOW FILTERING rules with
 * Cassandra's messages.
 */
import { describe, expect, it } from 'vitest';
import { FILTERING_MESSAGE } from '../../src/cql/where.js';
import { murmur3Token } from '../../src/ring/murmur3.js';
import { serializePartitionKey } from '../../src/ring/partition-key.js';
import { execAll, useCql, type CqlKit } from './kit.js';

/** Partitions k = 1..3; clustering (c1 int ASC, c2 text DESC); v = c1 * 10. */
async function timeline(k: CqlKit): Promise<void> {
  await k.exec('CREATE TABLE t (k int, c1 int, c2 text, v int, tags set<text>, PRIMARY KEY (k, c1, c2)) WITH CLUSTERING ORDER BY (c1 ASC, c2 DESC)');
  for (const p of [1, 2, 3]) {
    for (let c1 = 1; c1 <= 4; c1++) for (const c2 of ['a', 'b']) await k.exec('INSERT INTO t (k, c1, c2, v) VALUES (?, ?, ?, ?)', [p, c1, c2, c1 * 10 + p]);
  }
}

const keysOf = (rows: readonly Record<string, unknown>[]) => rows.map((r) => `${String(r.k ?? '')}:${String(r.c1)}${String(r.c2)}`);

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

describe('selectors', () => {
  const cql = useCql();

  it('*, column lists in any order, repeated columns and aliases', async () => {
    const k = cql();
    await timeline(k);
    const star = await k.select('SELECT * FROM t WHERE k = 1 AND c1 = 1');
    expect(star.columns.map((c) => c.name)).toEqual(['k', 'c1', 'c2', 'tags', 'v']);
    expect(star.rows).toEqual([
      { k: 1, c1: 1, c2: 'b', tags: null, v: 11 },
      { k: 1, c1: 1, c2: 'a', tags: null, v: 11 },
    ]);
    const list = await k.select('SELECT v AS value, c2, k AS "Key", v FROM t WHERE k = 2 AND c1 = 3 AND c2 = \'a\'');
    expect(list.columns).toEqual([
      { name: 'value', type: 'int' },
      { name: 'c2', type: 'text' },
      { name: 'Key', type: 'int' },
      { name: 'v', type: 'int' },
    ]);
    expect(list.rows).toEqual([{ value: 32, c2: 'a', Key: 2, v: 32 }]);
    expect(Object.keys(list.rows[0]!)).toEqual(['value', 'c2', 'Key', 'v']);
    await k.expectError('SELECT nope FROM t', 'Invalid', 'Undefined column name nope in selection clause');
    await k.expectError('SELECT v AS x, k AS x FROM t', 'Invalid', 'Duplicate alias x');
  });

  it('an empty result still describes its columns', async () => {
    const k = cql();
    await timeline(k);
    const r = await k.select('SELECT k, v FROM t WHERE k = 99');
    expect(r).toEqual({ kind: 'rows', columns: [{ name: 'k', type: 'int' }, { name: 'v', type: 'int' }], rows: [], paging_state: null, context: null, conflicts: 0, warnings: [], trace: null });
  });
});

describe('WHERE on keys', () => {
  const cql = useCql();

  it('partition key IN: key order, duplicates once, missing keys skipped', async () => {
    const k = cql();
    await timeline(k);
    const rows = await k.rows('SELECT k, c1, c2 FROM t WHERE k IN (3, 1, 3, 99) AND c1 = 1');
    expect(keysOf(rows)).toEqual(['1:1b', '1:1a', '3:1b', '3:1a']);
    const bound = await k.rows('SELECT k, c1, c2 FROM t WHERE k IN ? AND c1 = ? AND c2 = ?', [[2, 1], 4, 'b']);
    expect(keysOf(bound)).toEqual(['1:4b', '2:4b']);
    expect(await k.rows('SELECT k FROM t WHERE k IN ()')).toEqual([]);
  });

  it('an empty partition key is refused; an empty component of a composite key is not', async () => {
    const k = cql();
    await k.exec('CREATE TABLE s (k text PRIMARY KEY, v int)');
    await k.exec('CREATE TABLE p (a text, b blob, v int, PRIMARY KEY ((a, b)))');
    await k.expectError("SELECT * FROM s WHERE k = ''", 'Invalid', 'Key may not be empty');
    await k.expectError("INSERT INTO s (k, v) VALUES ('', 1)", 'Invalid', 'Key may not be empty');
    await k.expectError("UPDATE s SET v = 1 WHERE k = ''", 'Invalid', 'Key may not be empty');
    await k.expectError("DELETE FROM s WHERE k = ''", 'Invalid', 'Key may not be empty');
    await k.exec("INSERT INTO p (a, b, v) VALUES ('', 0x, 1)");
    expect(await k.rows("SELECT * FROM p WHERE a = '' AND b = 0x")).toEqual([{ a: '', b: '0x', v: 1 }]);
  });

  it('composite partition keys: every component by = or IN', async () => {
    const k = cql();
    await k.exec('CREATE TABLE p (a text, b int, c int, v int, PRIMARY KEY ((a, b), c))');
    for (const a of ['x', 'y']) for (const b of [1, 2]) await k.exec('INSERT INTO p (a, b, c, v) VALUES (?, ?, 0, ?)', [a, b, b]);
    expect(await k.rows("SELECT a, b FROM p WHERE a IN ('y', 'x') AND b IN (2, 1)")).toEqual([
      { a: 'x', b: 1 },
      { a: 'x', b: 2 },
      { a: 'y', b: 1 },
      { a: 'y', b: 2 },
    ]);
    expect(await k.rows("SELECT a, b, v FROM p WHERE a = 'y' AND b = 2")).toEqual([{ a: 'y', b: 2, v: 2 }]);
    await k.expectError("SELECT * FROM p WHERE a = 'x'", 'Invalid', FILTERING_MESSAGE);
    expect(await k.rows("SELECT a, b FROM p WHERE a = 'x' ALLOW FILTERING")).toHaveLength(2);
  });

  it('clustering: = on a prefix then a slice; IN; slices on a DESC column', async () => {
    const k = cql();
    await timeline(k);
    const cases: [string, string[]][] = [
      ['c1 = 2', ['1:2b', '1:2a']],
      ['c1 > 2', ['1:3b', '1:3a', '1:4b', '1:4a']],
      ['c1 >= 2 AND c1 < 4', ['1:2b', '1:2a', '1:3b', '1:3a']],
      ['c1 <= 1', ['1:1b', '1:1a']],
      ["c1 = 2 AND c2 > 'a'", ['1:2b']],
      ["c1 = 2 AND c2 <= 'a'", ['1:2a']],
      ["c1 = 2 AND c2 >= 'a' AND c2 < 'b'", ['1:2a']],
      ["c1 IN (4, 1) AND c2 < 'b'", ['1:1a', '1:4a']],
      ["c1 IN (4, 1) AND c2 IN ('a', 'b')", ['1:1b', '1:1a', '1:4b', '1:4a']],
      ["c1 = 3 AND c2 = 'b'", ['1:3b']],
      ["c1 > 2 AND c1 < 2", []],
      // Tuple order is value order, column by column, whatever the clustering order (c2 is DESC).
      ["(c1, c2) > (3, 'a')", ['1:3b', '1:4b', '1:4a']],
      ["(c1, c2) >= (3, 'a')", ['1:3b', '1:3a', '1:4b', '1:4a']],
      ["(c1, c2) < (2, 'b')", ['1:1b', '1:1a', '1:2a']],
      ["(c1, c2) > (1, 'a') AND (c1, c2) <= (3, 'b')", ['1:1b', '1:2b', '1:2a', '1:3b', '1:3a']],
      ["(c1, c2) > (1, 'a') AND (c1, c2) < (3, 'b')", ['1:1b', '1:2b', '1:2a', '1:3a']],
      ["(c1, c2) = (2, 'a')", ['1:2a']],
      ['(c1) > (3)', ['1:4b', '1:4a']],
    ];
    for (const [where, expected] of cases) expect(keysOf(await k.rows(`SELECT k, c1, c2 FROM t WHERE k = 1 AND ${where}`)), where).toEqual(expected);
    expect(keysOf(await k.rows('SELECT k, c1, c2 FROM t WHERE k = 1 AND (c1, c2) > ? AND (c1, c2) < ?', [[1, 'a'], [2, 'b']]))).toEqual(['1:1b', '1:2a']);
  });

  const badWheres: [string, string][] = [
    ['k = 1 AND c2 = \'a\'', 'PRIMARY KEY column "c2" cannot be restricted as preceding column "c1" is not restricted'],
    ["k = 1 AND c1 > 1 AND c2 = 'a'", 'Clustering column "c2" cannot be restricted (preceding column "c1" is restricted by a non-EQ relation)'],
    ['k = 1 AND c1 > 1 AND c1 > 2', 'More than one restriction was found for the start bound on c1'],
    ['k = 1 AND c1 < 1 AND c1 <= 2', 'More than one restriction was found for the end bound on c1'],
    ['k = 1 AND c1 = 1 AND c1 = 2', 'c1 cannot be restricted by more than one relation if it includes an Equal'],
    ['k = 1 AND c1 = 1 AND c1 > 0', 'c1 cannot be restricted by more than one relation if it includes an Equal'],
    ['k = 1 AND c1 != 1', 'Unsupported "!=" relation: c1 != 1'],
    ["k = 1 AND v != 'x' ALLOW FILTERING", 'Unsupported "!=" relation: v != \'x\''],
    ['k = 1 AND nope = 1', 'Undefined column name nope in table ks.t'],
    ['k = 1 AND c1 = 1 AND (c1, c2) > (1, \'a\')', 'Mixing single column relations and multi column relations on clustering columns is not allowed'],
    ["k = 1 AND (c1, c2) > (1, 'a') AND c2 = 'a'", 'Mixing single column relations and multi column relations on clustering columns is not allowed'],
    ["k = 1 AND (c2, c1) > ('a', 1)", 'Multi-column relations can only be applied to clustering columns, in order: (c1, c2)'],
    ['k = 1 AND (c1, c2) > (1)', 'Expected 2 elements in value tuple, but got 1'],
    ['k = 1 AND (c1, c2) > (1, null)', 'Invalid null value in condition for column c2'],
    ['k = null', 'Invalid null value in condition for column k'],
    ['k = 1 AND c1 IN (1, null)', 'Invalid null value in condition for column c1'],
    ["k = 1 AND c1 = 'x'", 'Invalid STRING constant (x) for "c1" of type int'],
    ['k = 1 AND tags CONTAINS 1 ALLOW FILTERING', 'Invalid INTEGER constant (1) for "tags" of type text'],
    ['k = 1 AND v CONTAINS 1 ALLOW FILTERING', 'Cannot use CONTAINS on non-collection column v'],
    ["k = 1 AND tags CONTAINS KEY 'a' ALLOW FILTERING", 'Cannot use CONTAINS KEY on non-map column tags'],
  ];
  it.each(badWheres)('WHERE %s → Invalid', async (where, message) => {
    const k = cql();
    await timeline(k);
    await k.expectError(`SELECT * FROM t WHERE ${where}`, 'Invalid', message);
  });
});

describe('ORDER BY', () => {
  const cql = useCql();

  it('reverses the clustering order of one or all columns together', async () => {
    const k = cql();
    await timeline(k);
    const asc = ['1:1b', '1:1a', '1:2b', '1:2a', '1:3b', '1:3a', '1:4b', '1:4a'];
    expect(keysOf(await k.rows('SELECT k, c1, c2 FROM t WHERE k = 1 ORDER BY c1 ASC'))).toEqual(asc);
    expect(keysOf(await k.rows('SELECT k, c1, c2 FROM t WHERE k = 1 ORDER BY c1 ASC, c2 DESC'))).toEqual(asc);
    expect(keysOf(await k.rows('SELECT k, c1, c2 FROM t WHERE k = 1 ORDER BY c1 DESC'))).toEqual([...asc].reverse());
    expect(keysOf(await k.rows('SELECT k, c1, c2 FROM t WHERE k = 1 ORDER BY c1 DESC, c2 ASC'))).toEqual([...asc].reverse());
    expect(keysOf(await k.rows('SELECT k, c1, c2 FROM t WHERE k = 1 AND c1 IN (1, 3) ORDER BY c1 DESC'))).toEqual(['1:3a', '1:3b', '1:1a', '1:1b']);
    expect(keysOf(await k.rows("SELECT k, c1, c2 FROM t WHERE k = 1 AND c1 = 2 ORDER BY c1 DESC, c2 ASC"))).toEqual(['1:2a', '1:2b']);
    expect(keysOf(await k.rows('SELECT k, c1, c2 FROM t WHERE k = 1 AND c1 > 2 ORDER BY c1 DESC LIMIT 3'))).toEqual(['1:4a', '1:4b', '1:3a']);
  });

  it('with IN on the partition key: rows of all partitions merged, then LIMIT', async () => {
    const k = cql();
    await timeline(k);
    expect(keysOf(await k.rows('SELECT k, c1, c2 FROM t WHERE k IN (3, 1) AND c1 >= 3 ORDER BY c1 DESC'))).toEqual(['1:4a', '3:4a', '1:4b', '3:4b', '1:3a', '3:3a', '1:3b', '3:3b']);
    expect(keysOf(await k.rows('SELECT k, c1, c2 FROM t WHERE k IN (3, 1) ORDER BY c1 ASC LIMIT 3'))).toEqual(['1:1b', '3:1b', '1:1a']);
    expect(keysOf(await k.rows('SELECT k, c1, c2 FROM t WHERE k IN (2, 1) ORDER BY c1 DESC PER PARTITION LIMIT 1'))).toEqual(['1:4a', '2:4a']);
    // More rows than one page: Cassandra cannot page this query.
    await k.expectError('SELECT * FROM t WHERE k IN (1, 2) ORDER BY c1 DESC', 'Invalid', 'Cannot page queries with both ORDER BY and a IN restriction on the partition key; you must either remove the ORDER BY or the IN and sort client side, or disable paging for this query', undefined, { pageSize: 5 });
    expect(await k.rows('SELECT * FROM t WHERE k IN (1, 2) ORDER BY c1 DESC LIMIT 5', undefined, { pageSize: 5 })).toHaveLength(5);
  });

  const badOrders: [string, string][] = [
    ['SELECT * FROM t ORDER BY c1 DESC', 'ORDER BY is only supported when the partition key is restricted by an EQ or an IN.'],
    ['SELECT * FROM t WHERE token(k) > 0 ORDER BY c1 DESC', 'ORDER BY is only supported when the partition key is restricted by an EQ or an IN.'],
    ['SELECT * FROM t WHERE k = 1 ORDER BY v DESC', 'Order by is currently only supported on the clustered columns of the PRIMARY KEY, got v'],
    ['SELECT * FROM t WHERE k = 1 ORDER BY k DESC', 'Order by is currently only supported on the clustered columns of the PRIMARY KEY, got k'],
    ['SELECT * FROM t WHERE k = 1 ORDER BY c2 DESC', 'Order by currently only supports the ordering of columns following their declared order in the PRIMARY KEY'],
    ['SELECT * FROM t WHERE k = 1 ORDER BY c1 DESC, c2 DESC', 'Unsupported order by relation'],
    ['SELECT * FROM t WHERE k = 1 ORDER BY nope DESC', 'Undefined column name nope'],
  ];
  it.each(badOrders)('%s → Invalid', async (query, message) => {
    const k = cql();
    await timeline(k);
    await k.expectError(query, 'Invalid', message);
  });
});

describe('LIMIT, PER PARTITION LIMIT, COUNT, DISTINCT', () => {
  const cql = useCql();

  it('LIMIT and PER PARTITION LIMIT, literal or bound', async () => {
    const k = cql();
    await timeline(k);
    expect(keysOf(await k.rows('SELECT k, c1, c2 FROM t WHERE k = 1 LIMIT 3'))).toEqual(['1:1b', '1:1a', '1:2b']);
    expect(keysOf(await k.rows('SELECT k, c1, c2 FROM t WHERE k IN (1, 2) PER PARTITION LIMIT 2'))).toEqual(['1:1b', '1:1a', '2:1b', '2:1a']);
    expect(keysOf(await k.rows('SELECT k, c1, c2 FROM t WHERE k IN (1, 2) PER PARTITION LIMIT 2 LIMIT 3'))).toEqual(['1:1b', '1:1a', '2:1b']);
    expect(keysOf(await k.rows('SELECT k, c1, c2 FROM t WHERE k = 1 AND c1 IN (2, 3) PER PARTITION LIMIT 3'))).toEqual(['1:2b', '1:2a', '1:3b']);
    expect(await k.rows('SELECT k, c1, c2 FROM t PER PARTITION LIMIT ? LIMIT ?', [1, 2])).toHaveLength(2);
    const scan = await k.rows('SELECT k, c1, c2 FROM t PER PARTITION LIMIT 1');
    expect(scan.map((r) => `${String(r.c1)}${String(r.c2)}`)).toEqual(['1b', '1b', '1b']);
    expect(new Set(scan.map((r) => r.k))).toEqual(new Set([1, 2, 3]));
    await k.expectError('SELECT * FROM t LIMIT 0', 'Invalid', 'LIMIT must be strictly positive');
    await k.expectError('SELECT * FROM t LIMIT ?', 'Invalid', 'LIMIT must be strictly positive', [-1]);
    await k.expectError('SELECT * FROM t LIMIT ?', 'Invalid', 'Invalid null value of limit', [null]);
    await k.expectError('SELECT * FROM t PER PARTITION LIMIT 0', 'Invalid', 'PER PARTITION LIMIT must be strictly positive');
  });

  it('COUNT(*) counts rows after filtering and PER PARTITION LIMIT, not LIMIT', async () => {
    const k = cql();
    await timeline(k);
    const cases: [string, string][] = [
      ['SELECT COUNT(*) FROM t WHERE k = 1', '8'],
      ['SELECT count(1) FROM t WHERE k = 1 AND c1 > 2', '4'],
      ['SELECT COUNT(*) FROM t WHERE k IN (1, 2) PER PARTITION LIMIT 3', '6'],
      ['SELECT COUNT(*) FROM t WHERE k = 1 LIMIT 2', '8'],
      ['SELECT COUNT(*) FROM t WHERE k = 42', '0'],
      ['SELECT COUNT(*) FROM t WHERE v > 31 ALLOW FILTERING', '10'],
    ];
    for (const [query, count] of cases) {
      const r = await k.select(query, undefined, { pageSize: 2 });
      expect(r.columns, query).toEqual([{ name: 'count', type: 'bigint' }]);
      expect(r.rows, query).toEqual([{ count }]);
      expect(r.paging_state).toBeNull();
    }
    const all = await k.select('SELECT COUNT(*) AS n FROM t');
    expect(all.rows).toEqual([{ n: '24' }]);
    expect(all.warnings).toEqual(['Aggregation query used without partition key']);
  });

  it('DISTINCT returns each partition key once', async () => {
    const k = cql();
    await timeline(k);
    await k.exec('CREATE TABLE p (a int, b int, c int, PRIMARY KEY ((a, b), c))');
    await execAll(k, ['INSERT INTO p (a, b, c) VALUES (1, 1, 1)', 'INSERT INTO p (a, b, c) VALUES (1, 1, 2)', 'INSERT INTO p (a, b, c) VALUES (1, 2, 1)']);
    const distinct = await k.rows('SELECT DISTINCT k FROM t');
    expect(distinct.map((r) => r.k).sort()).toEqual([1, 2, 3]);
    expect(await k.rows('SELECT DISTINCT k FROM t WHERE k IN (3, 1)')).toEqual([{ k: 1 }, { k: 3 }]);
    expect(await k.rows('SELECT DISTINCT a, b FROM p WHERE a = 1 AND b = 1')).toEqual([{ a: 1, b: 1 }]);
    await k.expectError('SELECT DISTINCT k, c1 FROM t', 'Invalid', 'SELECT DISTINCT queries must only request partition key columns and/or static columns (not c1)');
    await k.expectError('SELECT DISTINCT a FROM p', 'Invalid', 'SELECT DISTINCT queries must request all the partition key columns');
    await k.expectError('SELECT DISTINCT a, a FROM p', 'Invalid', 'SELECT DISTINCT queries must request all the partition key columns');
  });
});

describe('token()', () => {
  const cql = useCql();

  it('token(pk) is the Murmur3 token of the serialized partition key', async () => {
    const k = cql();
    await timeline(k);
    await k.exec('CREATE TABLE p (a text, b int, PRIMARY KEY ((a, b)))');
    await k.exec("INSERT INTO p (a, b) VALUES ('x', 7)");
    const r = await k.select('SELECT token(k), k FROM t WHERE k = 2 LIMIT 1');
    expect(r.columns).toEqual([
      { name: 'system.token(k)', type: 'bigint' },
      { name: 'k', type: 'int' },
    ]);
    expect(r.rows).toEqual([{ 'system.token(k)': String(murmur3Token(int32(2))), k: 2 }]);
    const composite = await k.rows('SELECT token(a, b) AS t FROM p');
    expect(composite).toEqual([{ t: String(murmur3Token(serializePartitionKey([Buffer.from('x'), int32(7)]))) }]);
    await k.expectError('SELECT token(b, a) FROM p', 'Invalid', 'Invalid arguments for token(): the partition key columns are (a, b)');
  });

  it('token ranges partition the ring: every row exactly once, in token order', async () => {
    const k = cql();
    await k.exec('CREATE TABLE r (k int PRIMARY KEY, v int)');
    for (let i = 0; i < 200; i++) await k.exec('INSERT INTO r (k, v) VALUES (?, ?)', [i, i]);
    await k.flush('r');
    for (let i = 200; i < 300; i++) await k.exec('INSERT INTO r (k, v) VALUES (?, ?)', [i, i]);
    const all = await k.rows('SELECT token(k) AS t, k FROM r');
    expect(all).toHaveLength(300);
    const tokens = all.map((r) => BigInt(r.t as string));
    expect([...tokens].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(tokens);
    // Split the ring at 7 points; (a, b] ranges plus the two ends cover each row once.
    const splits = [-(2n ** 62n), -(10n ** 15n), 0n, 1n, 10n ** 12n, 2n ** 61n, 2n ** 62n + 5n];
    const seen: number[] = [];
    const first = await k.rows('SELECT k FROM r WHERE token(k) <= ?', [String(splits[0])]);
    seen.push(...first.map((r) => r.k as number));
    for (let i = 0; i + 1 < splits.length; i++) {
      const part = await k.rows('SELECT token(k) AS t, k FROM r WHERE token(k) > ? AND token(k) <= ?', [String(splits[i]), String(splits[i + 1])]);
      for (const r of part) {
        const t = BigInt(r.t as string);
        expect(t > splits[i]! && t <= splits[i + 1]!).toBe(true);
      }
      seen.push(...part.map((r) => r.k as number));
    }
    seen.push(...(await k.rows(`SELECT k FROM r WHERE token(k) > ${splits.at(-1)}`)).map((r) => r.k as number));
    expect(seen).toEqual(all.map((r) => r.k));
    // Inclusive and exclusive bounds at an existing token, and token(k) = t.
    const t5 = all[5]!.t as string;
    expect((await k.rows(`SELECT k FROM r WHERE token(k) >= ${t5} AND token(k) <= ${t5}`)).map((r) => r.k)).toEqual([all[5]!.k]);
    expect((await k.rows(`SELECT k FROM r WHERE token(k) = ${t5}`)).map((r) => r.k)).toEqual([all[5]!.k]);
    expect(await k.rows(`SELECT k FROM r WHERE token(k) > ${t5} AND token(k) <= ${t5}`)).toEqual([]);
    expect(await k.rows(`SELECT k FROM r WHERE token(k) > ${t5} AND token(k) < ${all[6]!.t as string}`)).toEqual([]);
    expect(await k.rows(`SELECT k FROM r WHERE token(k) > ${all[9]!.t as string} AND token(k) < ${t5}`)).toEqual([]);
    expect(await k.rows('SELECT k FROM r WHERE token(k) >= -9223372036854775808')).toHaveLength(300);
    expect(await k.rows('SELECT k FROM r WHERE token(k) <= 9223372036854775807')).toHaveLength(300);
    expect(await k.rows('SELECT k FROM r WHERE token(k) > 9223372036854775807')).toEqual([]);
  });

  it('token restrictions combine with filtering, and refuse = or IN on the key', async () => {
    const k = cql();
    await timeline(k);
    const rows = await k.rows('SELECT k, c1, c2 FROM t WHERE token(k) >= ? AND c1 = 4 ALLOW FILTERING', [String(murmur3Token(int32(2)))]);
    expect(rows.every((r) => r.c1 === 4)).toBe(true);
    await k.expectError('SELECT * FROM t WHERE token(k) > 0 AND c1 = 4', 'Invalid', FILTERING_MESSAGE);
    await k.expectError('SELECT * FROM t WHERE token(k) > 0 AND k = 1', 'Invalid', 'Columns of the partition key cannot be restricted by token() and = or IN at the same time');
    await k.expectError('SELECT * FROM t WHERE token(c1) > 0', 'Invalid', 'The token function arguments must be in the partition key order: k');
    await k.expectError('SELECT * FROM t WHERE token(k) > 0 AND token(k) > 1', 'Invalid', 'More than one restriction was found for the start bound on token');
    await k.expectError("SELECT * FROM t WHERE token(k) > 'x'", 'Invalid', 'Invalid STRING constant (x) for "token" of type bigint');
  });
});

describe('ALLOW FILTERING', () => {
  const cql = useCql();

  const needsFiltering = [
    'SELECT * FROM t WHERE c1 = 1',
    'SELECT * FROM t WHERE c1 > 1',
    "SELECT * FROM t WHERE c1 = 1 AND c2 = 'a'",
    'SELECT * FROM t WHERE v = 11',
    'SELECT * FROM t WHERE k = 1 AND v = 11',
    "SELECT * FROM t WHERE k = 1 AND c1 = 1 AND v > 10",
    'SELECT * FROM t WHERE k > 1',
    "SELECT * FROM t WHERE tags CONTAINS 'x'",
    "SELECT * FROM t WHERE (c1, c2) > (1, 'a')",
  ];
  it.each(needsFiltering)('%s needs ALLOW FILTERING', async (query) => {
    const k = cql();
    await timeline(k);
    await k.expectError(query, 'Invalid', FILTERING_MESSAGE);
  });

  it('with ALLOW FILTERING, the same queries filter rows', async () => {
    const k = cql();
    await timeline(k);
    await k.exec("UPDATE t SET tags = {'x', 'y'} WHERE k = 2 AND c1 = 3 AND c2 = 'a'");
    const cases: [string, string[]][] = [
      ["SELECT k, c1, c2 FROM t WHERE k = 1 AND c2 = 'a' ALLOW FILTERING", ['1:1a', '1:2a', '1:3a', '1:4a']],
      ["SELECT k, c1, c2 FROM t WHERE k = 1 AND c1 > 2 AND c2 = 'b' ALLOW FILTERING", ['1:3b', '1:4b']],
      ['SELECT k, c1, c2 FROM t WHERE k = 2 AND v >= 32 ALLOW FILTERING', ['2:3b', '2:3a', '2:4b', '2:4a']],
      ['SELECT k, c1, c2 FROM t WHERE k = 3 AND v IN (13, 43) ALLOW FILTERING', ['3:1b', '3:1a', '3:4b', '3:4a']],
      ["SELECT k, c1, c2 FROM t WHERE tags CONTAINS 'y' ALLOW FILTERING", ['2:3a']],
      ["SELECT k, c1, c2 FROM t WHERE k = 1 AND c1 = 4 AND c2 < 'b' AND v = 41 ALLOW FILTERING", ['1:4a']],
    ];
    for (const [query, expected] of cases) expect(keysOf(await k.rows(query)), query).toEqual(expected);
    const sorted = async (query: string) => keysOf(await k.rows(query)).sort();
    expect(await sorted("SELECT k, c1, c2 FROM t WHERE c1 = 2 AND c2 = 'a' ALLOW FILTERING")).toEqual(['1:2a', '2:2a', '3:2a']);
    expect(await sorted('SELECT k, c1, c2 FROM t WHERE v = 22 ALLOW FILTERING')).toEqual(['2:2a', '2:2b']);
    expect(await sorted('SELECT k, c1, c2 FROM t WHERE k > 2 ALLOW FILTERING')).toEqual(['3:1a', '3:1b', '3:2a', '3:2b', '3:3a', '3:3b', '3:4a', '3:4b']);
    expect(await sorted("SELECT k, c1, c2 FROM t WHERE (c1, c2) >= (4, 'a') ALLOW FILTERING")).toEqual(['1:4a', '1:4b', '2:4a', '2:4b', '3:4a', '3:4b']);
    expect(await sorted('SELECT k, c1, c2 FROM t WHERE c1 > 3 AND v < 43 ALLOW FILTERING')).toEqual(['1:4a', '1:4b', '2:4a', '2:4b']);
  });

  it('a map filter with CONTAINS KEY and CONTAINS', async () => {
    const k = cql();
    await k.exec('CREATE TABLE m (k int PRIMARY KEY, m map<text, int>)');
    await execAll(k, ["INSERT INTO m (k, m) VALUES (1, {'a': 1})", "INSERT INTO m (k, m) VALUES (2, {'b': 1})", 'INSERT INTO m (k) VALUES (3)']);
    expect(await k.rows("SELECT k FROM m WHERE m CONTAINS KEY 'b' ALLOW FILTERING")).toEqual([{ k: 2 }]);
    expect((await k.rows('SELECT k FROM m WHERE m CONTAINS 1 ALLOW FILTERING')).map((r) => r.k).sort()).toEqual([1, 2]);
  });
});
