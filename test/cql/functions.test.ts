/**
 * The SPEC 4 functions (now, uuid, toTimestamp, toDate, currentTimestamp, minTimeuuid,
 * maxTimeuuid, and Cassandra's currentDate / currentTimeUUID) in INSERT values, in WHERE
 * and as selectors, with the manual clock pinning "now".
 */
import { describe, expect, it } from 'vitest';
import { timeUuidUnixMs } from '../../src/schema/timeuuid.js';
import { execAll, useCql } from './kit.js';

const NOW_MS = 1_700_000_000_000; // the test clock's start: 2023-11-14T22:13:20Z
const UUID_V1 = /^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('functions', () => {
  const cql = useCql();

  it('in INSERT values: now(), uuid(), toTimestamp(), toDate(), currentTimestamp(), currentDate()', async () => {
    const k = cql();
    await k.exec('CREATE TABLE t (k int PRIMARY KEY, tu timeuuid, u uuid, ts timestamp, d date, ts2 timestamp, d2 date, d3 date, ts3 timestamp)');
    await k.exec("INSERT INTO t (k, tu, u, ts, d, ts2, d2, d3, ts3) VALUES (1, now(), uuid(), toTimestamp(now()), toDate(now()), currentTimestamp(), currentDate(), toDate('2024-02-29 23:59:59+0000'), toTimestamp('2024-03-01'))");
    const [row] = await k.rows('SELECT * FROM t');
    expect(row).toMatchObject({ k: 1, ts: '2023-11-14T22:13:20.000Z', d: '2023-11-14', ts2: '2023-11-14T22:13:20.000Z', d2: '2023-11-14', d3: '2024-02-29', ts3: '2024-03-01T00:00:00.000Z' });
    expect(row!.tu).toMatch(UUID_V1);
    expect(timeUuidUnixMs(row!.tu as string)).toBe(NOW_MS);
    expect(row!.u).toMatch(UUID_V4);
    // uuid columns take a timeuuid too.
    await k.exec('INSERT INTO t (k, u) VALUES (2, now())');
    expect((await k.rows('SELECT u FROM t WHERE k = 2'))[0]!.u).toMatch(UUID_V1);
  });

  it('now() never repeats and increases, even within one millisecond', async () => {
    const k = cql();
    await k.exec('CREATE TABLE t (k int, tu timeuuid, PRIMARY KEY (k, tu))');
    for (let i = 0; i < 50; i++) await k.exec('INSERT INTO t (k, tu) VALUES (1, now())');
    k.db.clock.advanceMs(1);
    await k.exec('INSERT INTO t (k, tu) VALUES (1, now())');
    const uuids = (await k.rows('SELECT tu FROM t WHERE k = 1')).map((r) => r.tu as string);
    expect(new Set(uuids).size).toBe(51);
    expect(uuids.map((u) => timeUuidUnixMs(u))).toEqual([...Array.from({ length: 50 }, () => NOW_MS), NOW_MS + 1]);
    // Rows come back in timeuuid (time) order, which is the order they were made in.
    const inserted = (await k.rows('SELECT tu FROM t WHERE k = 1 ORDER BY tu DESC')).map((r) => r.tu as string);
    expect(inserted).toEqual([...uuids].reverse());
  });

  it('minTimeuuid / maxTimeuuid bound timeuuid slices in WHERE', async () => {
    const k = cql();
    await k.exec('CREATE TABLE t (k int, tu timeuuid, v int, PRIMARY KEY (k, tu))');
    const days = ['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-04'];
    for (const [i, day] of days.entries()) {
      k.db.clock.setMs(Date.parse(`${day}T12:00:00Z`));
      await k.exec('INSERT INTO t (k, tu, v) VALUES (1, now(), ?)', [i]);
    }
    const v = async (where: string, params?: unknown[]) => (await k.rows(`SELECT v FROM t WHERE k = 1 AND ${where}`, params)).map((r) => r.v);
    expect(await v("tu > maxTimeuuid('2024-01-02') AND tu < minTimeuuid('2024-01-04')")).toEqual([1, 2]);
    expect(await v("tu >= minTimeuuid('2024-01-02 12:00:00+0000') AND tu <= maxTimeuuid('2024-01-02 12:00:00+0000')")).toEqual([1]);
    expect(await v('tu < minTimeuuid(?)', ['2024-01-03T00:00:00.000Z'])).toEqual([0, 1]);
    expect(await v('tu > maxTimeuuid(?)', [Date.parse('2024-01-03T13:00:00Z')])).toEqual([3]);
    expect(await v('tu < now()')).toEqual([0, 1, 2, 3]);
    expect(await v('tu > now()')).toEqual([]);
  });

  it('as selectors, applied to columns and constants', async () => {
    const k = cql();
    await k.exec('CREATE TABLE t (k int PRIMARY KEY, tu timeuuid, ts timestamp, d date, n int)');
    k.db.clock.setMs(Date.parse('2024-05-01T10:20:30.456Z'));
    await k.exec("INSERT INTO t (k, tu, ts, d, n) VALUES (1, now(), '2024-02-29 23:00:00+0000', '2024-03-01', 5)");
    const r = await k.select("SELECT toDate(ts), toTimestamp(tu), toDate(tu), toTimestamp(d), toDate(currentTimestamp()), minTimeuuid('2024-01-01'), toTimestamp(maxTimeuuid('2024-01-01')), currentDate() AS today FROM t");
    expect(r.columns).toEqual([
      { name: 'system.todate(ts)', type: 'date' },
      { name: 'system.totimestamp(tu)', type: 'timestamp' },
      { name: 'system.todate(tu)', type: 'date' },
      { name: 'system.totimestamp(d)', type: 'timestamp' },
      { name: 'system.todate(currenttimestamp())', type: 'date' },
      { name: "system.mintimeuuid('2024-01-01')", type: 'timeuuid' },
      { name: "system.totimestamp(maxtimeuuid('2024-01-01'))", type: 'timestamp' },
      { name: 'today', type: 'date' },
    ]);
    expect(r.rows).toEqual([
      {
        'system.todate(ts)': '2024-02-29',
        'system.totimestamp(tu)': '2024-05-01T10:20:30.456Z',
        'system.todate(tu)': '2024-05-01',
        'system.totimestamp(d)': '2024-03-01T00:00:00.000Z',
        'system.todate(currenttimestamp())': '2024-05-01',
        "system.mintimeuuid('2024-01-01')": expect.stringMatching(UUID_V1),
        "system.totimestamp(maxtimeuuid('2024-01-01'))": '2024-01-01T00:00:00.000Z',
        today: '2024-05-01',
      },
    ]);
    const now = await k.rows('SELECT now(), uuid() AS id FROM t');
    expect(now[0]!['system.now()']).toMatch(UUID_V1);
    expect(now[0]!.id).toMatch(UUID_V4);
  });

  it('type and arity errors', async () => {
    const k = cql();
    await execAll(k, ['CREATE TABLE t (k int PRIMARY KEY, tu timeuuid, ts timestamp, n int)', 'INSERT INTO t (k) VALUES (1)']);
    const cases: [string, string][] = [
      ['INSERT INTO t (k, ts) VALUES (1, now())', 'Type error: cannot assign result of function system.now (type timeuuid) to ts (type timestamp)'],
      ['INSERT INTO t (k, tu) VALUES (1, uuid())', 'Type error: cannot assign result of function system.uuid (type uuid) to tu (type timeuuid)'],
      ['INSERT INTO t (k, n) VALUES (1, currentTimestamp())', 'Type error: cannot assign result of function system.currenttimestamp (type timestamp) to n (type int)'],
      ['INSERT INTO t (k, tu) VALUES (1, nope())', "Unknown function 'nope'"],
      ['INSERT INTO t (k, tu) VALUES (1, now(1))', 'Invalid number of arguments in call to function now: 0 required but 1 provided'],
      ['INSERT INTO t (k, ts) VALUES (1, toTimestamp(uuid()))', 'Type error: uuid() (type uuid) cannot be passed as argument 0 of function totimestamp'],
      ['SELECT toDate(n) FROM t', 'Type error: n (type int) cannot be passed as argument 0 of function todate'],
      ["SELECT minTimeuuid('soon') FROM t", "Unable to coerce 'soon' to a formatted date (long)"],
      ['SELECT nope(k) FROM t', "Unknown function 'nope'"],
      ['SELECT k FROM t WHERE k = now()', 'Type error: cannot assign result of function system.now (type timeuuid) to k (type int)'],
    ];
    for (const [statement, message] of cases) await k.expectError(statement, 'Invalid', message);
  });
});
