/**
 * Non-frozen collections: element-level updates of lists, sets and maps, whole replacement,
 * nulls and empties, element TTLs, and the errors Cassandra gives for each misuse.
 */
import { describe, expect, it } from 'vitest';
import { execAll, useCql, type CqlKit } from './kit.js';

const TABLE = 'CREATE TABLE t (k int, c int, l list<int>, s set<text>, m map<text, int>, mi map<int, text>, v int, PRIMARY KEY (k, c))';

async function one(k: CqlKit, columns = 'l, s, m'): Promise<Record<string, unknown> | undefined> {
  const rows = await k.rows(`SELECT ${columns} FROM t WHERE k = 1 AND c = 1`);
  return rows[0];
}

describe('lists', () => {
  const cql = useCql();

  it('append, prepend, set by index, remove by value, delete by index', async () => {
    const k = cql();
    await execAll(k, [TABLE, 'INSERT INTO t (k, c, l) VALUES (1, 1, [1, 2, 3])']);
    const steps: [string, unknown][] = [
      ['UPDATE t SET l = l + [4, 5] WHERE k = 1 AND c = 1', [1, 2, 3, 4, 5]],
      ['UPDATE t SET l = [-1, 0] + l WHERE k = 1 AND c = 1', [-1, 0, 1, 2, 3, 4, 5]],
      ['UPDATE t SET l = [-2] + l WHERE k = 1 AND c = 1', [-2, -1, 0, 1, 2, 3, 4, 5]],
      ['UPDATE t SET l = l + [2] WHERE k = 1 AND c = 1', [-2, -1, 0, 1, 2, 3, 4, 5, 2]],
      ['UPDATE t SET l[0] = 100 WHERE k = 1 AND c = 1', [100, -1, 0, 1, 2, 3, 4, 5, 2]],
      ['UPDATE t SET l[8] = 8 WHERE k = 1 AND c = 1', [100, -1, 0, 1, 2, 3, 4, 5, 8]],
      ['UPDATE t SET l = l - [2, 4, 99] WHERE k = 1 AND c = 1', [100, -1, 0, 1, 3, 5, 8]],
      ['DELETE l[1] FROM t WHERE k = 1 AND c = 1', [100, 0, 1, 3, 5, 8]],
      ['DELETE l[5] FROM t WHERE k = 1 AND c = 1', [100, 0, 1, 3, 5]],
      ['UPDATE t SET l[4] = null WHERE k = 1 AND c = 1', [100, 0, 1, 3]],
      ['UPDATE t SET l = l + [5] WHERE k = 1 AND c = 1', [100, 0, 1, 3, 5]],
      ['UPDATE t SET l = l + null WHERE k = 1 AND c = 1', [100, 0, 1, 3, 5]],
      ['UPDATE t SET l = l - null WHERE k = 1 AND c = 1', [100, 0, 1, 3, 5]],
      ['UPDATE t SET l = l + [] WHERE k = 1 AND c = 1', [100, 0, 1, 3, 5]],
      ['UPDATE t SET l = [7, 7] WHERE k = 1 AND c = 1', [7, 7]],
      ['UPDATE t SET l = l - [7] WHERE k = 1 AND c = 1', null],
    ];
    for (const [statement, expected] of steps) {
      await k.exec(statement);
      expect((await one(k, 'l'))!.l, statement).toEqual(expected);
    }
  });

  it('removing by value removes every occurrence, across flushed and unflushed elements', async () => {
    const k = cql();
    await execAll(k, [TABLE, 'INSERT INTO t (k, c, l) VALUES (1, 1, [1, 2, 1])']);
    await k.flush('t');
    await k.exec('UPDATE t SET l = l + [1, 3] WHERE k = 1 AND c = 1');
    expect((await one(k, 'l'))!.l).toEqual([1, 2, 1, 1, 3]);
    await k.exec('UPDATE t SET l = l - [1] WHERE k = 1 AND c = 1');
    expect((await one(k, 'l'))!.l).toEqual([2, 3]);
  });

  it('elements appended by later statements come later, whatever their write timestamps', async () => {
    const k = cql();
    await k.exec(TABLE);
    await k.exec('UPDATE t USING TIMESTAMP 100 SET l = l + [1] WHERE k = 1 AND c = 1');
    await k.exec('UPDATE t USING TIMESTAMP 100 SET l = l + [2] WHERE k = 1 AND c = 1');
    await k.exec('UPDATE t USING TIMESTAMP 50 SET l = l + [3] WHERE k = 1 AND c = 1');
    await k.exec('UPDATE t USING TIMESTAMP 100 SET l = [0] + l WHERE k = 1 AND c = 1');
    await k.exec('UPDATE t USING TIMESTAMP 100 SET l = [-1] + l WHERE k = 1 AND c = 1');
    expect((await one(k, 'l'))!.l).toEqual([-1, 0, 1, 2, 3]);
    // Statements in the same microsecond too.
    await k.exec('CREATE TABLE q (k int PRIMARY KEY, l list<text>)');
    for (const x of ['a', 'b', 'c', 'd']) await k.db.cql('UPDATE q SET l = l + [?] WHERE k = 1', [x]);
    for (const x of ['z', 'y']) await k.db.cql('UPDATE q SET l = [?] + l WHERE k = 1', [x]);
    expect(await k.rows('SELECT l FROM q')).toEqual([{ l: ['y', 'z', 'a', 'b', 'c', 'd'] }]);
  });

  it('misuse of list operations', async () => {
    const k = cql();
    await execAll(k, [TABLE, 'INSERT INTO t (k, c, l) VALUES (1, 1, [1, 2])', 'INSERT INTO t (k, c) VALUES (2, 1)']);
    const cases: [string, string][] = [
      ['UPDATE t SET l[2] = 5 WHERE k = 1 AND c = 1', 'List index 2 out of bound, list has size 2'],
      ['UPDATE t SET l[-1] = 5 WHERE k = 1 AND c = 1', 'List index -1 out of bound, list has size 2'],
      ['DELETE l[7] FROM t WHERE k = 1 AND c = 1', 'List index 7 out of bound, list has size 2'],
      ['UPDATE t SET l[0] = 5 WHERE k = 2 AND c = 1', 'Attempted to set an element on a list which is null'],
      ['DELETE l[0] FROM t WHERE k = 2 AND c = 1', 'Attempted to delete an element from a list which is null'],
      ['UPDATE t SET l[null] = 1 WHERE k = 1 AND c = 1', 'Invalid null value for list index'],
      ["UPDATE t SET l[0] = 'x' WHERE k = 1 AND c = 1", 'Invalid STRING constant (x) for "l" of type int'],
      ['UPDATE t SET l = l + [null] WHERE k = 1 AND c = 1', 'null is not supported inside collections'],
      ['UPDATE t SET l = l + {1} WHERE k = 1 AND c = 1', 'Invalid set literal for l of type list<int>'],
      ['UPDATE t SET l = l + 1 WHERE k = 1 AND c = 1', 'Invalid INTEGER constant (1) for "l" of type list<int>'],
    ];
    for (const [statement, message] of cases) await k.expectError(statement, 'Invalid', message);
    expect((await one(k, 'l'))!.l).toEqual([1, 2]);
  });
});

describe('sets', () => {
  const cql = useCql();

  it('add, remove, replace; elements sorted and unique; empty is null', async () => {
    const k = cql();
    await execAll(k, [TABLE, "INSERT INTO t (k, c, s) VALUES (1, 1, {'b', 'a'})"]);
    const steps: [string, unknown][] = [
      ["UPDATE t SET s = s + {'c', 'a'} WHERE k = 1 AND c = 1", ['a', 'b', 'c']],
      ["UPDATE t SET s = s - {'b', 'zzz'} WHERE k = 1 AND c = 1", ['a', 'c']],
      ["UPDATE t SET s = {'x', 'y', 'x'} WHERE k = 1 AND c = 1", ['x', 'y']],
      ['UPDATE t SET s = s + {} WHERE k = 1 AND c = 1', ['x', 'y']],
      ['UPDATE t SET s = s - {} WHERE k = 1 AND c = 1', ['x', 'y']],
      ["UPDATE t SET s = s + {'A', 'B'} WHERE k = 1 AND c = 1", ['A', 'B', 'x', 'y']],
      ['UPDATE t SET s = {} WHERE k = 1 AND c = 1', null],
      ["UPDATE t SET s = s + {'only'} WHERE k = 1 AND c = 1", ['only']],
      ['UPDATE t SET s = null WHERE k = 1 AND c = 1', null],
      ["UPDATE t SET s = s + {'back'} WHERE k = 1 AND c = 1", ['back']],
      ['DELETE s FROM t WHERE k = 1 AND c = 1', null],
    ];
    for (const [statement, expected] of steps) {
      await k.exec(statement);
      expect((await one(k, 's'))!.s, statement).toEqual(expected);
    }
  });

  it('misuse of set operations', async () => {
    const k = cql();
    await execAll(k, [TABLE, "INSERT INTO t (k, c, s) VALUES (1, 1, {'a'})"]);
    await k.expectError("UPDATE t SET s = s + {'b', null} WHERE k = 1 AND c = 1", 'Invalid', 'null is not supported inside collections');
    await k.expectError("UPDATE t SET s = ['b'] + s WHERE k = 1 AND c = 1", 'Invalid', 'Invalid operation (s = ? + s) for non list column s');
    await k.expectError("UPDATE t SET s['a'] = 'b' WHERE k = 1 AND c = 1", 'Invalid', 'Invalid operation (s[?] = ?) for non list/map column s');
    await k.expectError("DELETE s['a'] FROM t WHERE k = 1 AND c = 1", 'Invalid', 'Invalid operation (s[?]) for non list/map column s');
    await k.expectError("UPDATE t SET s = s + ['b'] WHERE k = 1 AND c = 1", 'Invalid', 'Invalid list literal for s of type set<text>');
    await k.expectError('UPDATE t SET s = s + ? WHERE k = 1 AND c = 1', 'Invalid', 'Invalid value for column "s" of type set<text>: "b"', ['b']);
    expect((await one(k, 's'))!.s).toEqual(['a']);
  });
});

describe('maps', () => {
  const cql = useCql();

  it('put by key, add, remove keys, delete an entry, replace; keys in key-type order', async () => {
    const k = cql();
    await execAll(k, [TABLE, "INSERT INTO t (k, c, m) VALUES (1, 1, {'b': 2, 'a': 1})"]);
    const steps: [string, unknown][] = [
      ["UPDATE t SET m['c'] = 3 WHERE k = 1 AND c = 1", { a: 1, b: 2, c: 3 }],
      ["UPDATE t SET m['a'] = 10 WHERE k = 1 AND c = 1", { a: 10, b: 2, c: 3 }],
      ["UPDATE t SET m = m + {'d': 4, 'b': 20} WHERE k = 1 AND c = 1", { a: 10, b: 20, c: 3, d: 4 }],
      ["UPDATE t SET m = m - {'a', 'zzz'} WHERE k = 1 AND c = 1", { b: 20, c: 3, d: 4 }],
      ["DELETE m['c'] FROM t WHERE k = 1 AND c = 1", { b: 20, d: 4 }],
      ["UPDATE t SET m['d'] = null WHERE k = 1 AND c = 1", { b: 20 }],
      ["UPDATE t SET m = {'x': 1} WHERE k = 1 AND c = 1", { x: 1 }],
      ['UPDATE t SET m = {} WHERE k = 1 AND c = 1', null],
      ["UPDATE t SET m = m + {'y': 2} WHERE k = 1 AND c = 1", { y: 2 }],
      ['DELETE m FROM t WHERE k = 1 AND c = 1', null],
    ];
    for (const [statement, expected] of steps) {
      await k.exec(statement);
      expect((await one(k, 'm'))!.m, statement).toEqual(expected);
    }
    await k.exec("UPDATE t SET mi = {10: 'ten', -1: 'minus one', 2: 'two'} WHERE k = 1 AND c = 1");
    await k.exec("UPDATE t SET mi[3] = 'three' WHERE k = 1 AND c = 1");
    const mi = (await one(k, 'mi'))!.mi as Record<string, string>;
    expect(mi).toEqual({ '-1': 'minus one', '2': 'two', '3': 'three', '10': 'ten' });
  });

  it('parameters: a JSON object or a list of pairs; keys read with the key type', async () => {
    const k = cql();
    await k.exec(TABLE);
    await k.exec('UPDATE t SET mi = ? WHERE k = 1 AND c = 1', [{ '5': 'five', '-5': 'minus five' }]);
    await k.exec('UPDATE t SET mi = mi + ? WHERE k = 1 AND c = 1', [[[7, 'seven']]]);
    await k.exec('UPDATE t SET mi[?] = ? WHERE k = 1 AND c = 1', [8, 'eight']);
    await k.exec('UPDATE t SET mi = mi - ? WHERE k = 1 AND c = 1', [[5]]);
    expect((await one(k, 'mi'))!.mi).toEqual({ '-5': 'minus five', '7': 'seven', '8': 'eight' });
    await k.expectError('UPDATE t SET mi = ? WHERE k = 1 AND c = 1', 'Invalid', 'Invalid value for column "mi" of type int: "five"', [{ five: 'x' }]);
  });

  it('misuse of map operations', async () => {
    const k = cql();
    await execAll(k, [TABLE, "INSERT INTO t (k, c, m) VALUES (1, 1, {'a': 1})"]);
    await k.expectError('UPDATE t SET m[null] = 1 WHERE k = 1 AND c = 1', 'Invalid', 'Invalid null value: clustering columns and collection elements cannot be null');
    await k.expectError("UPDATE t SET m = m + {'b': null} WHERE k = 1 AND c = 1", 'Invalid', 'null is not supported inside collections');
    await k.expectError("UPDATE t SET m = m - {'a': 1} WHERE k = 1 AND c = 1", 'Invalid', 'Invalid map literal for m of type set<text>');
    await k.expectError("UPDATE t SET m = {'a'} WHERE k = 1 AND c = 1", 'Invalid', 'Invalid set literal for m of type map<text, int>');
    await k.expectError("UPDATE t SET m[1] = 1 WHERE k = 1 AND c = 1", 'Invalid', 'Invalid INTEGER constant (1) for "m" of type text');
    await k.expectError('DELETE m[null] FROM t WHERE k = 1 AND c = 1', 'Invalid', 'Invalid null map key for m');
    expect((await one(k, 'm'))!.m).toEqual({ a: 1 });
  });
});

describe('collections and rows', () => {
  const cql = useCql();

  it('an UPDATE of elements makes a row; removing the last element removes it', async () => {
    const k = cql();
    await k.exec(TABLE);
    await k.exec("UPDATE t SET s = s + {'x'} WHERE k = 1 AND c = 1");
    expect(await k.rows('SELECT k, c, s FROM t')).toEqual([{ k: 1, c: 1, s: ['x'] }]);
    await k.exec("UPDATE t SET s = s - {'x'} WHERE k = 1 AND c = 1");
    expect(await k.rows('SELECT * FROM t')).toEqual([]);
    // An INSERT keeps the row alive with every collection null.
    await k.exec("INSERT INTO t (k, c, s) VALUES (1, 2, {'y'})");
    await k.exec("DELETE s FROM t WHERE k = 1 AND c = 2");
    expect(await k.rows('SELECT * FROM t')).toEqual([{ k: 1, c: 2, l: null, m: null, mi: null, s: null, v: null }]);
  });

  it('replacing a collection removes older elements, including flushed ones', async () => {
    const k = cql();
    await execAll(k, [TABLE, "INSERT INTO t (k, c, l, s, m) VALUES (1, 1, [1], {'a'}, {'a': 1})"]);
    await k.flush('t');
    await k.exec("UPDATE t SET l = l + [2], s = s + {'b'}, m['b'] = 2 WHERE k = 1 AND c = 1");
    await k.flush('t');
    await k.exec("INSERT INTO t (k, c, l, s, m) VALUES (1, 1, [9], {'z'}, {'z': 26})");
    expect(await one(k)).toEqual({ l: [9], s: ['z'], m: { z: 26 } });
    // An older replacement (lower timestamp) loses to the newer elements.
    await k.exec("UPDATE t USING TIMESTAMP 1 SET l = [0], s = {'0'}, m = {'0': 0} WHERE k = 1 AND c = 1");
    expect(await one(k)).toEqual({ l: [9], s: ['z'], m: { z: 26 } });
  });

  it('WRITETIME and TTL are refused on collections, as in Cassandra 4', async () => {
    const k = cql();
    await k.exec(TABLE);
    await k.expectError('SELECT WRITETIME(l) FROM t', 'Invalid', 'Cannot use selection function writeTime on non-frozen collection l');
    await k.expectError('SELECT TTL(m) FROM t', 'Invalid', 'Cannot use selection function ttl on non-frozen collection m');
  });
});

describe('element TTLs', () => {
  const cql = useCql();

  it('each element expires on its own TTL', async () => {
    const k = cql();
    await k.exec(TABLE);
    k.db.clock.setMs(1_800_000_000_000);
    await k.exec("INSERT INTO t (k, c, l, s, m, v) VALUES (1, 1, [1], {'a'}, {'a': 1}, 0)");
    await k.exec("UPDATE t USING TTL 10 SET l = l + [2], s = s + {'b'}, m['b'] = 2 WHERE k = 1 AND c = 1");
    await k.exec("UPDATE t USING TTL 20 SET m['a'] = 11, s = s + {'c'} WHERE k = 1 AND c = 1");
    expect(await one(k)).toEqual({ l: [1, 2], s: ['a', 'b', 'c'], m: { a: 11, b: 2 } });
    k.db.clock.advanceMs(9_999);
    expect(await one(k)).toEqual({ l: [1, 2], s: ['a', 'b', 'c'], m: { a: 11, b: 2 } });
    k.db.clock.advanceMs(1);
    expect(await one(k)).toEqual({ l: [1], s: ['a', 'c'], m: { a: 11 } });
    await k.flush('t');
    k.db.clock.advanceMs(10_000);
    // m['a'] was overwritten with a TTL: the entry goes, the untimed value under it is gone too.
    expect(await one(k)).toEqual({ l: [1], s: ['a'], m: null });
  });

  it('a collection inserted with a TTL expires whole, and the row with it', async () => {
    const k = cql();
    await k.exec(TABLE);
    k.db.clock.setMs(1_800_000_000_000);
    await k.exec("INSERT INTO t (k, c, l, m) VALUES (1, 1, [1, 2], {'a': 1}) USING TTL 5");
    await k.exec('UPDATE t SET l = l + [3] WHERE k = 1 AND c = 1');
    k.db.clock.advanceMs(5_000);
    expect(await k.rows('SELECT k, c, l, m FROM t')).toEqual([{ k: 1, c: 1, l: [3], m: null }]);
    await k.exec('UPDATE t SET l = l - [3] WHERE k = 1 AND c = 1');
    expect(await k.rows('SELECT * FROM t')).toEqual([]);
  });
});
