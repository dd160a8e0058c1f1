/**
 * Time: TTLs (USING TTL, default_time_to_live, TTL(c), expiry of rows and cells, TTL 0) and
 * write timestamps (USING TIMESTAMP, the request's timestamp, WRITETIME(c), last write wins
 * with Cassandra's tie rules: a tombstone wins, then the greater value).
 */
import { describe, expect, it } from 'vitest';
import { execAll, useCql } from './kit.js';

/** A whole second, so that TTL arithmetic in seconds is exact in the tests. */
const T0_MS = 1_800_000_000_000;

describe('TTL', () => {
  const cql = useCql();

  it('USING TTL: the row and its cells expire exactly after n seconds; TTL(c) counts down', async () => {
    const k = cql();
    await k.exec('CREATE TABLE t (k int PRIMARY KEY, v int, w text)');
    k.db.clock.setMs(T0_MS);
    await k.exec("INSERT INTO t (k, v, w) VALUES (1, 1, 'a') USING TTL 100");
    await k.exec('INSERT INTO t (k, v) VALUES (2, 2)');
    expect(await k.rows('SELECT k, TTL(v), ttl(w) FROM t')).toEqual([
      { k: 1, 'ttl(v)': 100, 'ttl(w)': 100 },
      { k: 2, 'ttl(v)': null, 'ttl(w)': null },
    ]);
    k.db.clock.advanceMs(40_500);
    expect(await k.rows('SELECT TTL(v) FROM t WHERE k = 1')).toEqual([{ 'ttl(v)': 60 }]);
    await k.flush('t');
    k.db.clock.setMs(T0_MS + 99_999);
    expect(await k.rows('SELECT k, v, TTL(v) FROM t WHERE k = 1')).toEqual([{ k: 1, v: 1, 'ttl(v)': 1 }]);
    k.db.clock.setMs(T0_MS + 100_000);
    expect(await k.rows('SELECT * FROM t')).toEqual([{ k: 2, v: 2, w: null }]);
    await k.reopen();
    expect(await k.rows('SELECT * FROM t')).toEqual([{ k: 2, v: 2, w: null }]);
  });

  it('UPDATE USING TTL expires only the cells it wrote; a row without a marker goes with its last cell', async () => {
    const k = cql();
    await k.exec('CREATE TABLE t (k int, c int, v int, w int, PRIMARY KEY (k, c))');
    k.db.clock.setMs(T0_MS);
    await k.exec('INSERT INTO t (k, c, v, w) VALUES (1, 1, 1, 1)');
    await k.exec('UPDATE t USING TTL 10 SET v = 10 WHERE k = 1 AND c = 1');
    await k.exec('UPDATE t USING TTL 10 SET v = 20 WHERE k = 1 AND c = 2');
    await k.exec('UPDATE t USING TTL 20 SET w = 20 WHERE k = 1 AND c = 2');
    k.db.clock.setMs(T0_MS + 10_000);
    expect(await k.rows('SELECT c, v, w FROM t WHERE k = 1')).toEqual([
      { c: 1, v: null, w: 1 },
      { c: 2, v: null, w: 20 },
    ]);
    k.db.clock.setMs(T0_MS + 20_000);
    expect(await k.rows('SELECT c, v, w FROM t WHERE k = 1')).toEqual([{ c: 1, v: null, w: 1 }]);
  });

  it('default_time_to_live applies when a statement gives no TTL; USING TTL overrides it; TTL 0 means none', async () => {
    const k = cql();
    await k.exec('CREATE TABLE t (k int PRIMARY KEY, v int) WITH default_time_to_live = 50');
    k.db.clock.setMs(T0_MS);
    await execAll(k, ['INSERT INTO t (k, v) VALUES (1, 1)', 'INSERT INTO t (k, v) VALUES (2, 2) USING TTL 5', 'INSERT INTO t (k, v) VALUES (3, 3) USING TTL 0', 'UPDATE t SET v = 4 WHERE k = 4']);
    await k.exec('INSERT INTO t (k, v) VALUES (5, 5) USING TTL ?', [null]);
    expect(await k.rows('SELECT k, TTL(v) FROM t WHERE k IN (1, 2, 3, 4, 5)')).toEqual([
      { k: 1, 'ttl(v)': 50 },
      { k: 2, 'ttl(v)': 5 },
      { k: 3, 'ttl(v)': null },
      { k: 4, 'ttl(v)': 50 },
      { k: 5, 'ttl(v)': null },
    ]);
    k.db.clock.setMs(T0_MS + 5_000);
    expect((await k.rows('SELECT k FROM t WHERE k IN (1, 2, 3, 4, 5)')).map((r) => r.k)).toEqual([1, 3, 4, 5]);
    k.db.clock.setMs(T0_MS + 50_000);
    expect((await k.rows('SELECT k FROM t WHERE k IN (1, 2, 3, 4, 5)')).map((r) => r.k)).toEqual([3, 5]);
    // A later ALTER changes the default for new writes only.
    await k.exec('ALTER TABLE t WITH default_time_to_live = 0');
    await k.exec('INSERT INTO t (k, v) VALUES (6, 6)');
    expect(await k.rows('SELECT TTL(v) FROM t WHERE k = 6')).toEqual([{ 'ttl(v)': null }]);
  });

  it('TTL as a bound parameter, in either order with TIMESTAMP', async () => {
    const k = cql();
    await k.exec('CREATE TABLE t (k int PRIMARY KEY, v int)');
    k.db.clock.setMs(T0_MS);
    await k.exec('INSERT INTO t (k, v) VALUES (1, 1) USING TTL ? AND TIMESTAMP ?', [30, 1000]);
    await k.exec('INSERT INTO t (k, v) VALUES (2, 2) USING TIMESTAMP :ts AND TTL :ttl', { ts: 2000, ttl: 40 });
    await k.exec('UPDATE t USING TTL 60 AND TIMESTAMP 3000 SET v = 3 WHERE k = 3');
    expect(await k.rows('SELECT k, TTL(v), WRITETIME(v) FROM t WHERE k IN (1, 2, 3)')).toEqual([
      { k: 1, 'ttl(v)': 30, 'writetime(v)': '1000' },
      { k: 2, 'ttl(v)': 40, 'writetime(v)': '2000' },
      { k: 3, 'ttl(v)': 60, 'writetime(v)': '3000' },
    ]);
  });

  const badTtls: [string, unknown, string | RegExp][] = [
    ['-1', undefined, 'A TTL must be greater or equal to 0, but was -1'],
    ['630720001', undefined, 'ttl is too large. requested (630720001) maximum (630720000)'],
    ['?', -5, 'A TTL must be greater or equal to 0, but was -5'],
    // Like Cassandra's grammar, a TTL is an integer or a marker: a string does not parse.
    ["'ten'", undefined, /^line 1:\d+ no viable alternative at input ''ten''$/],
    ['?', 'ten', 'Invalid value for column "[ttl]" of type int: "ten"'],
    ['?', 2 ** 31, 'Invalid value for column "[ttl]" of type int: 2147483648 (out of range)'],
  ];
  it.each(badTtls)('USING TTL %s %j → Invalid', async (ttl, param, message) => {
    const k = cql();
    await execAll(k, ['CREATE TABLE t (k int PRIMARY KEY, v int)', 'INSERT INTO t (k, v) VALUES (1, 1)']);
    const params = param === undefined ? undefined : [param];
    const code = typeof message === 'string' ? 'Invalid' : 'SyntaxError';
    await k.expectError(`INSERT INTO t (k, v) VALUES (1, 2) USING TTL ${ttl}`, code, message, params);
    await k.expectError(`UPDATE t USING TTL ${ttl} SET v = 2 WHERE k = 1`, code, message, params);
  });
});

describe('write timestamps', () => {
  const cql = useCql();

  it('WRITETIME is the statement timestamp: the clock, the request timestamp, or USING TIMESTAMP', async () => {
    const k = cql();
    await k.exec('CREATE TABLE t (k int PRIMARY KEY, v int, w int)');
    await k.exec('INSERT INTO t (k, v) VALUES (1, 1)');
    const now = k.db.clock.nowMicros();
    await k.exec('INSERT INTO t (k, v) VALUES (2, 2)', undefined, { timestamp: 1234 });
    await k.exec('INSERT INTO t (k, v) VALUES (3, 3) USING TIMESTAMP 99', undefined, { timestamp: 1234 });
    expect(await k.rows('SELECT k, WRITETIME(v), writetime(w) FROM t WHERE k IN (1, 2, 3)')).toEqual([
      { k: 1, 'writetime(v)': String(now), 'writetime(w)': null },
      { k: 2, 'writetime(v)': '1234', 'writetime(w)': null },
      { k: 3, 'writetime(v)': '99', 'writetime(w)': null },
    ]);
    await k.expectError('SELECT WRITETIME(k) FROM t', 'Invalid', 'Cannot use selection function writeTime on PRIMARY KEY part k');
    await k.expectError('SELECT TTL(k) FROM t', 'Invalid', 'Cannot use selection function ttl on PRIMARY KEY part k');
  });

  it('an older write loses to a newer one, whatever the order they arrive in, flushed or not', async () => {
    const k = cql();
    await k.exec('CREATE TABLE t (k int PRIMARY KEY, v text)');
    await k.exec("INSERT INTO t (k, v) VALUES (1, 'new') USING TIMESTAMP 20");
    await k.flush('t');
    await k.exec("INSERT INTO t (k, v) VALUES (1, 'old') USING TIMESTAMP 10");
    await k.exec("UPDATE t USING TIMESTAMP 19 SET v = 'older' WHERE k = 1");
    expect(await k.rows('SELECT v, WRITETIME(v) FROM t')).toEqual([{ v: 'new', 'writetime(v)': '20' }]);
    await k.exec('DELETE v FROM t USING TIMESTAMP 15 WHERE k = 1');
    expect(await k.rows('SELECT v FROM t')).toEqual([{ v: 'new' }]);
    await k.exec('DELETE FROM t USING TIMESTAMP 21 WHERE k = 1');
    expect(await k.rows('SELECT v FROM t')).toEqual([]);
    await k.exec("INSERT INTO t (k, v) VALUES (1, 'after') USING TIMESTAMP 21");
    expect(await k.rows('SELECT v FROM t')).toEqual([]);
    await k.exec("INSERT INTO t (k, v) VALUES (1, 'after') USING TIMESTAMP 22");
    expect(await k.rows('SELECT v FROM t')).toEqual([{ v: 'after' }]);
  });

  it('ties: a tombstone wins, then the greater value (as bytes, like Cassandra)', async () => {
    const k = cql();
    await k.exec('CREATE TABLE t (k int PRIMARY KEY, v int, s text)');
    const cases: [string[], unknown][] = [
      [['INSERT INTO t (k, v) VALUES (1, 1) USING TIMESTAMP 5', 'INSERT INTO t (k, v) VALUES (1, 2) USING TIMESTAMP 5'], 2],
      [['INSERT INTO t (k, v) VALUES (2, 2) USING TIMESTAMP 5', 'INSERT INTO t (k, v) VALUES (2, 1) USING TIMESTAMP 5'], 2],
      // -1 is 0xffffffff: the greater byte string.
      [['INSERT INTO t (k, v) VALUES (3, -1) USING TIMESTAMP 5', 'INSERT INTO t (k, v) VALUES (3, 1000) USING TIMESTAMP 5'], -1],
      [['INSERT INTO t (k, v) VALUES (4, 7) USING TIMESTAMP 5', 'DELETE v FROM t USING TIMESTAMP 5 WHERE k = 4'], null],
      [['DELETE v FROM t USING TIMESTAMP 5 WHERE k = 5', 'INSERT INTO t (k, v) VALUES (5, 7) USING TIMESTAMP 5'], null],
      [['INSERT INTO t (k, v) VALUES (6, 7) USING TIMESTAMP 5', 'UPDATE t USING TIMESTAMP 5 SET v = null WHERE k = 6'], null],
    ];
    for (const [statements] of cases) await execAll(k, statements);
    expect([...(await k.rows('SELECT k, v FROM t'))].sort((a, b) => (a.k as number) - (b.k as number))).toEqual(
      cases.map(([, v], i) => ({ k: i + 1, v })),
    );
    await k.exec("INSERT INTO t (k, s) VALUES (9, 'b') USING TIMESTAMP 5");
    await k.flush('t');
    await k.exec("INSERT INTO t (k, s) VALUES (9, 'a') USING TIMESTAMP 5");
    await k.exec("INSERT INTO t (k, s) VALUES (9, 'ab') USING TIMESTAMP 5");
    expect(await k.rows('SELECT s FROM t WHERE k = 9')).toEqual([{ s: 'b' }]);
    // A row deletion at the same timestamp as the row's data removes it.
    await k.exec('DELETE FROM t USING TIMESTAMP 5 WHERE k = 9');
    expect(await k.rows('SELECT s FROM t WHERE k = 9')).toEqual([]);
  });

  it('bad timestamps are refused', async () => {
    const k = cql();
    await execAll(k, ['CREATE TABLE t (k int PRIMARY KEY, v int)', 'INSERT INTO t (k, v) VALUES (1, 1)']);
    await k.expectError('INSERT INTO t (k, v) VALUES (1, 2) USING TIMESTAMP ?', 'Invalid', 'Invalid null value of timestamp', [null]);
    await k.expectError("INSERT INTO t (k, v) VALUES (1, 2) USING TIMESTAMP 'now'", 'SyntaxError', "line 1:52 no viable alternative at input ''now''");
    await k.expectError('INSERT INTO t (k, v) VALUES (1, 2) USING TIMESTAMP 9223372036854775807', 'Invalid', 'Invalid timestamp 9223372036854775807: out of range');
    await k.expectError('UPDATE t USING TIMESTAMP ? SET v = 2 WHERE k = 1', 'Invalid', 'Invalid value for column "[timestamp]" of type bigint: 1.5 (not an integer)', [1.5]);
  });
});
