/**
 * BATCH (logged and unlogged, one timestamp for the whole batch, all or nothing on bad input),
 * INSERT … JSON (DEFAULT NULL / DEFAULT UNSET, unknown keys, wrong types), and conditional
 * statements, which are refused with `Invalid: conditional updates are not supported` and
 * write nothing.
 */
import { describe, expect, it } from 'vitest';
import { execAll, useCql } from './kit.js';

const TABLES = [
  'CREATE TABLE t (k int, c int, v text, n int, PRIMARY KEY (k, c))',
  'CREATE TABLE u (id text PRIMARY KEY, tags set<text>, score bigint)',
];

describe('BATCH', () => {
  const cql = useCql();

  for (const kind of ['', 'UNLOGGED ']) {
    it(`BEGIN ${kind}BATCH applies every statement with one timestamp`, async () => {
      const k = cql();
      await execAll(k, TABLES);
      const r = await k.exec(`BEGIN ${kind}BATCH
          INSERT INTO t (k, c, v) VALUES (1, 1, 'a');
          INSERT INTO t (k, c, v) VALUES (2, 1, 'b');
          UPDATE t SET n = 5 WHERE k = 1 AND c = 1;
          UPDATE u SET tags = tags + {'x'} WHERE id = 'me';
          DELETE FROM t WHERE k = 3 AND c = 1
        APPLY BATCH`);
      expect(r).toEqual({ kind: 'void', warnings: [], trace: null });
      const now = String(k.db.clock.nowMicros());
      expect(await k.rows('SELECT k, c, v, n, WRITETIME(v), WRITETIME(n) FROM t')).toEqual([
        { k: 1, c: 1, v: 'a', n: 5, 'writetime(v)': now, 'writetime(n)': now },
        { k: 2, c: 1, v: 'b', n: null, 'writetime(v)': now, 'writetime(n)': null },
      ]);
      expect(await k.rows('SELECT * FROM u')).toEqual([{ id: 'me', score: null, tags: ['x'] }]);
    });
  }

  it('within one batch the same cell resolves by the tie rules (a tombstone wins, then the greater value)', async () => {
    const k = cql();
    await execAll(k, TABLES);
    await k.exec("BEGIN BATCH INSERT INTO t (k, c, v) VALUES (1, 1, 'b'); UPDATE t SET v = 'a' WHERE k = 1 AND c = 1; APPLY BATCH");
    expect(await k.rows('SELECT v FROM t WHERE k = 1')).toEqual([{ v: 'b' }]);
    await k.exec("BEGIN BATCH INSERT INTO t (k, c, v) VALUES (2, 1, 'x'); DELETE FROM t WHERE k = 2 AND c = 1; APPLY BATCH");
    expect(await k.rows('SELECT v FROM t WHERE k = 2')).toEqual([]);
    await k.exec("BEGIN BATCH INSERT INTO t (k, c, v) VALUES (3, 1, 'x'); DELETE v FROM t WHERE k = 3 AND c = 1; APPLY BATCH");
    expect(await k.rows('SELECT v FROM t WHERE k = 3')).toEqual([{ v: null }]);
  });

  it('USING TIMESTAMP on the batch or on its statements; parameters numbered across statements', async () => {
    const k = cql();
    await execAll(k, TABLES);
    await k.exec("BEGIN BATCH USING TIMESTAMP 1000 INSERT INTO t (k, c, v) VALUES (?, ?, ?); INSERT INTO t (k, c, v) VALUES (?, 2, 'y') APPLY BATCH", [1, 1, 'x', 1]);
    await k.exec("BEGIN BATCH INSERT INTO t (k, c, v) VALUES (1, 3, 'z') USING TIMESTAMP 7; UPDATE t USING TIMESTAMP 8 SET v = :v WHERE k = 1 AND c = :c APPLY BATCH", { v: 'w', c: 4 });
    await k.exec('BEGIN BATCH USING TIMESTAMP ? UPDATE t SET n = 1 WHERE k = 1 AND c = 1 APPLY BATCH', [2000]);
    expect(await k.rows('SELECT c, v, WRITETIME(v), WRITETIME(n) FROM t WHERE k = 1')).toEqual([
      { c: 1, v: 'x', 'writetime(v)': '1000', 'writetime(n)': '2000' },
      { c: 2, v: 'y', 'writetime(v)': '1000', 'writetime(n)': null },
      { c: 3, v: 'z', 'writetime(v)': '7', 'writetime(n)': null },
      { c: 4, v: 'w', 'writetime(v)': '8', 'writetime(n)': null },
    ]);
    await k.exec("BEGIN BATCH INSERT INTO t (k, c, v) VALUES (9, 9, 'r') APPLY BATCH", undefined, { timestamp: 4242 });
    expect(await k.rows('SELECT WRITETIME(v) FROM t WHERE k = 9')).toEqual([{ 'writetime(v)': '4242' }]);
  });

  it('a statement with TTL inside a batch keeps its TTL', async () => {
    const k = cql();
    await execAll(k, TABLES);
    await k.exec("BEGIN BATCH INSERT INTO t (k, c, v) VALUES (1, 1, 'a') USING TTL 100; INSERT INTO t (k, c, v) VALUES (1, 2, 'b') APPLY BATCH");
    expect(await k.rows('SELECT c, TTL(v) FROM t WHERE k = 1')).toEqual([
      { c: 1, 'ttl(v)': 100 },
      { c: 2, 'ttl(v)': null },
    ]);
  });

  const badBatches: [string, string, string, unknown[]?][] = [
    ["BEGIN BATCH USING TIMESTAMP 5 INSERT INTO t (k, c, v) VALUES (1, 1, 'a') USING TIMESTAMP 6 APPLY BATCH", 'Invalid', 'Timestamp must be set either on BATCH or individual statements'],
    ["BEGIN BATCH USING TTL 5 INSERT INTO t (k, c, v) VALUES (1, 1, 'a') APPLY BATCH", 'Invalid', 'Global TTL on the BATCH statement is not supported.'],
    ["BEGIN COUNTER BATCH UPDATE t SET v = 'a' WHERE k = 1 AND c = 1 APPLY BATCH", 'Invalid', 'counter columns are not supported'],
    ["BEGIN BATCH INSERT INTO t (k, c, v) VALUES (1, 1, 'a'); INSERT INTO t (k, c, v) VALUES (2, 1, 5) APPLY BATCH", 'Invalid', 'Invalid INTEGER constant (5) for "v" of type text'],
    ["BEGIN BATCH INSERT INTO t (k, c, v) VALUES (1, 1, 'a'); INSERT INTO nope (k) VALUES (1) APPLY BATCH", 'Invalid', 'table nope does not exist'],
    ["BEGIN BATCH INSERT INTO t (k, c, v) VALUES (?, 1, 'a'); INSERT INTO t (k, c, v) VALUES (?, 1, 'a') APPLY BATCH", 'Invalid', 'Invalid value for column "k" of type int: "x"', [1, 'x']],
    ["BEGIN BATCH INSERT INTO t (k, c, v) VALUES (1, 1, 'a'); UPDATE t SET v = 'b' WHERE k = 1 AND c = 1 IF v = 'a' APPLY BATCH", 'Invalid', 'conditional updates are not supported'],
    ["BEGIN BATCH INSERT INTO t (k, c, v) VALUES (1, 1, 'a') IF NOT EXISTS APPLY BATCH", 'Invalid', 'conditional updates are not supported'],
    ['BEGIN BATCH UPDATE t SET v = null WHERE k = 1 AND c = 1; UPDATE t SET l[0] = 1 WHERE k = 1 AND c = 1 APPLY BATCH', 'Invalid', 'Undefined column name l in table ks.t'],
    ["BEGIN BATCH USING TIMESTAMP ? INSERT INTO t (k, c, v) VALUES (1, 1, 'a') APPLY BATCH", 'Invalid', 'Invalid value for column "[timestamp]" of type bigint: 1152921504606847000 (beyond 2^53, pass it as a string)', [2 ** 60]],
    ["BEGIN BATCH USING TIMESTAMP ? INSERT INTO t (k, c, v) VALUES (1, 1, 'a') APPLY BATCH", 'Invalid', 'Invalid null value of timestamp', [null]],
    ["BEGIN BATCH SELECT * FROM t APPLY BATCH", 'SyntaxError', "line 1:13 mismatched input 'SELECT' expecting APPLY"],
  ];
  it.each(badBatches)('%s → %s (nothing written)', async (batch, code, message, params) => {
    const k = cql();
    await execAll(k, TABLES);
    await k.exec("INSERT INTO t (k, c, v) VALUES (1, 1, 'before')");
    await k.expectError(batch, code, message, params);
  });
});

describe('INSERT JSON', () => {
  const cql = useCql();

  it('maps JSON keys to columns (case-insensitive unless quoted) with SPEC 3.1 values', async () => {
    const k = cql();
    await k.exec('CREATE TABLE j (k int, "Mixed" text, ts timestamp, b bigint, m map<int, text>, s set<date>, l list<blob>, u uuid, PRIMARY KEY (k))');
    await k.exec(
      `INSERT INTO j JSON '{"K": 1, "\\"Mixed\\"": "yes", "ts": "2024-01-02T03:04:05.006Z", "b": "9223372036854775807", "m": {"2": "two", "1": "one"}, "s": ["2024-01-02", "2024-01-01"], "l": ["0x01"], "u": "550E8400-E29B-41D4-A716-446655440000"}'`,
    );
    await k.exec('INSERT INTO j JSON ?', [JSON.stringify({ k: 2, ts: 1704164645006, b: 12 })]);
    expect(await k.rows('SELECT * FROM j')).toEqual([
      { k: 1, Mixed: 'yes', b: '9223372036854775807', l: ['0x01'], m: { '1': 'one', '2': 'two' }, s: ['2024-01-01', '2024-01-02'], ts: '2024-01-02T03:04:05.006Z', u: '550e8400-e29b-41d4-a716-446655440000' },
      { k: 2, Mixed: null, b: '12', l: null, m: null, s: null, ts: '2024-01-02T03:04:05.006Z', u: null },
    ]);
  });

  it('DEFAULT NULL (the default) clears omitted columns; DEFAULT UNSET leaves them', async () => {
    const k = cql();
    await execAll(k, TABLES);
    await k.exec("INSERT INTO t (k, c, v, n) VALUES (1, 1, 'v', 1)");
    await k.exec("INSERT INTO t (k, c, v, n) VALUES (1, 2, 'v', 2)");
    await k.exec('INSERT INTO t JSON \'{"k": 1, "c": 1, "n": 10}\'');
    await k.exec('INSERT INTO t JSON \'{"k": 1, "c": 2, "n": 20}\' DEFAULT UNSET');
    await k.exec('INSERT INTO t JSON \'{"k": 1, "c": 3, "v": null}\' DEFAULT NULL');
    expect(await k.rows('SELECT c, v, n FROM t WHERE k = 1')).toEqual([
      { c: 1, v: null, n: 10 },
      { c: 2, v: 'v', n: 20 },
      { c: 3, v: null, n: null },
    ]);
  });

  it('USING TTL and TIMESTAMP apply to JSON inserts', async () => {
    const k = cql();
    await execAll(k, TABLES);
    await k.exec('INSERT INTO t JSON \'{"k": 1, "c": 1, "v": "x"}\' USING TTL 60 AND TIMESTAMP 77');
    expect(await k.rows('SELECT TTL(v), WRITETIME(v) FROM t')).toEqual([{ 'ttl(v)': 60, 'writetime(v)': '77' }]);
  });

  const badJson: [string, unknown[] | undefined, string | RegExp][] = [
    ['INSERT INTO t JSON \'{"k": 1, "c": 1, "nope": 1}\'', undefined, 'JSON values map contains unrecognized column: nope'],
    ['INSERT INTO t JSON \'{"k": 1, "c": 1, "V": "x", "\\"V\\"": "y"}\'', undefined, 'JSON values map contains unrecognized column: "V"'],
    ['INSERT INTO t JSON \'{"k": 1, "c": "one"}\'', undefined, 'Invalid value for column "c" of type int: "one"'],
    ['INSERT INTO t JSON \'{"k": 1, "c": 1, "v": 5}\'', undefined, 'Invalid value for column "v" of type text: 5'],
    ['INSERT INTO t JSON \'{"k": 1, "c": 1.5}\'', undefined, 'Invalid value for column "c" of type int: 1.5 (not an integer)'],
    ['INSERT INTO t JSON \'{"k": 1}\'', undefined, 'Invalid null value in condition for column c'],
    ['INSERT INTO t JSON \'{"c": 1, "k": null}\'', undefined, 'Invalid null value in condition for column k'],
    ["INSERT INTO t JSON '[1, 2]'", undefined, 'Could not decode JSON string as a map: not an object'],
    ["INSERT INTO t JSON 'null'", undefined, 'Could not decode JSON string as a map: not an object'],
    ["INSERT INTO t JSON '{\"k\": 1,'", undefined, /^Could not decode JSON string as a map: /],
    ['INSERT INTO t JSON ?', [null], 'Got null for INSERT JSON values'],
    ['INSERT INTO t JSON ?', [42], 'Invalid value for column "[json]" of type text: 42'],
    ['INSERT INTO u JSON \'{"id": "a", "tags": "x"}\'', undefined, 'Invalid value for column "tags" of type set<text>: "x"'],
    ['INSERT INTO u JSON \'{"id": "a", "score": 1e300}\'', undefined, 'Invalid value for column "score" of type bigint: 1e+300 (out of range)'],
    ['INSERT INTO u JSON \'{"id": ""}\'', undefined, 'Key may not be empty'],
    ['INSERT INTO t JSON \'{"k": 1, "c": 1}\' IF NOT EXISTS', undefined, 'conditional updates are not supported'],
  ];
  it.each(badJson)('%s %j → Invalid', async (statement, params, message) => {
    const k = cql();
    await execAll(k, TABLES);
    await k.exec("INSERT INTO t (k, c, v) VALUES (1, 1, 'before')");
    await k.expectError(statement, 'Invalid', message, params);
  });
});

describe('conditional statements', () => {
  const cql = useCql();

  const conditional = [
    "INSERT INTO t (k, c, v) VALUES (1, 1, 'new') IF NOT EXISTS",
    "INSERT INTO t (k, c, v) VALUES (2, 1, 'new') IF NOT EXISTS USING TTL 10",
    "UPDATE t SET v = 'new' WHERE k = 1 AND c = 1 IF EXISTS",
    "UPDATE t SET v = 'new' WHERE k = 1 AND c = 1 IF v = 'old'",
    "UPDATE t SET v = 'new' WHERE k = 1 AND c = 1 IF v != 'x' AND n = 1",
    "UPDATE t SET v = 'new' WHERE k = 9 AND c = 9 IF EXISTS",
    'DELETE FROM t WHERE k = 1 AND c = 1 IF EXISTS',
    "DELETE v FROM t WHERE k = 1 AND c = 1 IF v = 'old'",
    'DELETE FROM t WHERE k = 1 AND c = 1 IF n > 0',
  ];
  it.each(conditional)('%s → Invalid: conditional updates are not supported', async (statement) => {
    const k = cql();
    await execAll(k, TABLES);
    await k.exec("INSERT INTO t (k, c, v, n) VALUES (1, 1, 'old', 1)");
    await k.expectError(statement, 'Invalid', 'conditional updates are not supported');
    // Again, planned from the statement cache: still refused, never ignored.
    await k.expectError(statement, 'Invalid', 'conditional updates are not supported');
    expect(await k.rows('SELECT v FROM t WHERE k = 1 AND c = 1')).toEqual([{ v: 'old' }]);
  });

  it('SERIAL consistency on a plain write is refused as in Cassandra', async () => {
    const k = cql();
    await execAll(k, TABLES);
    await k.expectError("INSERT INTO t (k, c, v) VALUES (1, 1, 'x')", 'Invalid', 'You must use conditional updates for serializable writes', undefined, { consistency: 'SERIAL' });
    await k.expectError('SELECT * FROM t', 'Invalid', 'ANY ConsistencyLevel is only supported for writes', undefined, { consistency: 'ANY' });
    await k.expectError('SELECT * FROM t', 'Invalid', 'Unknown consistency level SOME', undefined, { consistency: 'SOME' as never });
  });
});
