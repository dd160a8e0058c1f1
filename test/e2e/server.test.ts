/**
 * One node as a real process (`ringtail server`), driven over HTTP through a realistic session
 * (issue #3 §5): a time series with a DESC clustering column, TTLs that count down and expire,
 * USING TIMESTAMP, a range delete, collections with element updates, paging through 10,000
 * rows; then a clean restart (SIGTERM → exit 0 within 10 s) and a `kill -9` restart, after
 * which every acknowledged write and the schema are still there.
 *
 * Needs a build: `bin/ringtail` runs `dist/` (`npm run build`), or set RINGTAIL_BIN to a
 * private build's launcher. Tests run in order and share one node and one data directory.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeHttp, cqlOk, httpJson, killAllNodes, postCql, ringtailBin, startNode, waitFor, type NodeProcess } from '../helpers/node-process.js';

const KS = 'telemetry';
/** Readings of one sensor, one a minute from T0. */
const T0_MS = Date.UTC(2024, 0, 15, 12, 0, 0);
const MINUTE_MS = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

type Row = Record<string, unknown>;
interface Rows {
  kind: 'rows';
  columns: { name: string; type: string }[];
  rows: Row[];
  paging_state: string | null;
}

let dir: string;
let node: NodeProcess;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringtail-e2e-server-'));
  node = await startNode({ dir });
});

afterAll(async () => {
  await killAllNodes();
  await closeHttp();
  fs.rmSync(dir, { recursive: true, force: true });
});

const cql = (query: string, extra: Record<string, unknown> = {}) => cqlOk(node.url, query, extra);
const select = (query: string, extra: Record<string, unknown> = {}) => cqlOk<Rows>(node.url, query, extra);

/** The value of the only column of the only row. */
async function single(query: string): Promise<unknown> {
  const result = await select(query);
  expect(result.rows).toHaveLength(1);
  return Object.values(result.rows[0]!)[0];
}

/** Every row of a query, following `paging_state` page by page. */
async function allPages(query: string, pageSize: number, onPage?: (rows: Row[]) => void): Promise<Row[]> {
  const out: Row[] = [];
  let pagingState: string | null = null;
  for (let pages = 0; ; pages++) {
    expect(pages).toBeLessThan(100_000);
    const page: Rows = await select(query, { page_size: pageSize, paging_state: pagingState });
    expect(page.rows.length).toBeLessThanOrEqual(pageSize);
    onPage?.(page.rows);
    out.push(...page.rows);
    if (page.paging_state === null) return out;
    pagingState = page.paging_state;
  }
}

describe('a session against one node', () => {
  it('serves health, metrics and an empty schema once started', async () => {
    expect((await httpJson('GET', `${node.url}/health`)).body).toEqual({ status: 'serving' });
    const metrics = await httpJson('GET', `${node.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/^nodejs_eventloop_lag_p99_seconds /m);
    const schema = await httpJson('GET', `${node.url}/v1/schema`);
    expect(schema.status).toBe(200);
    expect(schema.body.keyspaces.map((k: { name: string }) => k.name)).not.toContain(KS);
  });

  it('creates a keyspace and a time-series table with a DESC clustering column', async () => {
    expect(await cql(`CREATE KEYSPACE ${KS} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`)).toMatchObject({
      kind: 'schema_change', change: 'CREATED', target: 'KEYSPACE', keyspace: KS,
    });
    const again = await postCql(node.url, `CREATE KEYSPACE ${KS} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`);
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'AlreadyExists', keyspace: KS });

    expect(await cql(`USE ${KS}`)).toMatchObject({ kind: 'set_keyspace', keyspace: KS });
    expect(
      await cql(
        `CREATE TABLE readings (sensor text, ts timestamp, value double, note text, PRIMARY KEY (sensor, ts))
         WITH CLUSTERING ORDER BY (ts DESC)`,
        { keyspace: KS },
      ),
    ).toMatchObject({ kind: 'schema_change', change: 'CREATED', target: 'TABLE', keyspace: KS, table: 'readings' });
  });

  it('reads a time series back newest first, sliced, reversed and limited', async () => {
    for (const sensor of ['s1', 's2']) {
      for (let i = 0; i < 10; i++) {
        await cql(`INSERT INTO ${KS}.readings (sensor, ts, value, note) VALUES (?, ?, ?, ?)`, {
          params: [sensor, iso(T0_MS + i * MINUTE_MS), i + 0.5, `${sensor}-${i}`],
        });
      }
    }
    const expected = (sensor: string, i: number) => ({ sensor, ts: iso(T0_MS + i * MINUTE_MS), value: i + 0.5, note: `${sensor}-${i}` });

    const all = await select(`SELECT * FROM ${KS}.readings WHERE sensor = 's1'`);
    expect(all.columns.map((c) => c.name)).toEqual(['sensor', 'ts', 'note', 'value']);
    expect(all.rows).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0].map((i) => expected('s1', i)));
    expect(all.rows.map((r) => Object.keys(r))).toEqual(all.rows.map(() => ['sensor', 'ts', 'note', 'value']));

    const slice = await select(`SELECT sensor, ts, value, note FROM ${KS}.readings WHERE sensor = 's2' AND ts >= ? AND ts < ?`, {
      params: [iso(T0_MS + 3 * MINUTE_MS), iso(T0_MS + 7 * MINUTE_MS)],
    });
    expect(slice.rows).toEqual([6, 5, 4, 3].map((i) => expected('s2', i)));

    const ascending = await select(`SELECT sensor, ts, value, note FROM ${KS}.readings WHERE sensor = 's1' ORDER BY ts ASC LIMIT 3`);
    expect(ascending.rows).toEqual([0, 1, 2].map((i) => expected('s1', i)));

    expect(await single(`SELECT COUNT(*) FROM ${KS}.readings WHERE sensor = 's2'`)).toBe('10');
    expect(await single(`SELECT COUNT(*) FROM ${KS}.readings`)).toBe('20');

    const filtering = await postCql(node.url, `SELECT * FROM ${KS}.readings WHERE value > 3`);
    expect(filtering.status).toBe(400);
    expect(filtering.body.error.code).toBe('Invalid');
    expect(filtering.body.error.message).toContain('ALLOW FILTERING');
  });

  it('keeps USING TIMESTAMP as the write time and lets the newest write win', async () => {
    const ts = iso(T0_MS + 100 * MINUTE_MS);
    await cql(`INSERT INTO ${KS}.readings (sensor, ts, value) VALUES ('s3', '${ts}', 1.0) USING TIMESTAMP 1700000000000000`);
    await cql(`UPDATE ${KS}.readings USING TIMESTAMP 1600000000000000 SET value = 99.0 WHERE sensor = 's3' AND ts = '${ts}'`);
    expect(await single(`SELECT value FROM ${KS}.readings WHERE sensor = 's3' AND ts = '${ts}'`)).toBe(1.0);
    expect(await single(`SELECT WRITETIME(value) FROM ${KS}.readings WHERE sensor = 's3' AND ts = '${ts}'`)).toBe('1700000000000000');
  });

  it('counts TTLs down and expires a row whose TTL has passed', async () => {
    const ts = iso(T0_MS + 200 * MINUTE_MS);
    await cql(`INSERT INTO ${KS}.readings (sensor, ts, value, note) VALUES ('ttl', '${ts}', 2.5, 'lives an hour') USING TTL 3600`);
    const ttlQuery = `SELECT TTL(note) FROM ${KS}.readings WHERE sensor = 'ttl' AND ts = '${ts}'`;
    const first = (await single(ttlQuery)) as number;
    expect(first).toBeGreaterThan(3590);
    expect(first).toBeLessThanOrEqual(3600);
    await waitFor(async () => ((await single(ttlQuery)) as number) < first, 'TTL(note) to count down', 5000, 100);

    const shortTs = iso(T0_MS + 201 * MINUTE_MS);
    await cql(`INSERT INTO ${KS}.readings (sensor, ts, value, note) VALUES ('ttl', '${shortTs}', 3.5, 'short-lived') USING TTL 2`);
    const rowsOfTtlSensor = async () => (await select(`SELECT ts, note FROM ${KS}.readings WHERE sensor = 'ttl'`)).rows;
    expect(await rowsOfTtlSensor()).toEqual([{ ts: shortTs, note: 'short-lived' }, { ts, note: 'lives an hour' }]);
    await waitFor(async () => (await rowsOfTtlSensor()).length === 1, 'the TTL 2 row to expire', 10_000, 100);
    expect(await rowsOfTtlSensor()).toEqual([{ ts, note: 'lives an hour' }]);
  });

  it('deletes a clustering range, one row and one cell', async () => {
    await cql(`DELETE FROM ${KS}.readings WHERE sensor = 's2' AND ts > ? AND ts <= ?`, {
      params: [iso(T0_MS + 2 * MINUTE_MS), iso(T0_MS + 6 * MINUTE_MS)],
    });
    const minutes = async (sensor: string) =>
      (await select(`SELECT ts FROM ${KS}.readings WHERE sensor = '${sensor}'`)).rows.map((r) => (Date.parse(r.ts as string) - T0_MS) / MINUTE_MS);
    expect(await minutes('s2')).toEqual([9, 8, 7, 2, 1, 0]);

    await cql(`DELETE FROM ${KS}.readings WHERE sensor = 's2' AND ts = '${iso(T0_MS + 8 * MINUTE_MS)}'`);
    await cql(`DELETE note FROM ${KS}.readings WHERE sensor = 's2' AND ts = '${iso(T0_MS + 9 * MINUTE_MS)}'`);
    expect(await minutes('s2')).toEqual([9, 7, 2, 1, 0]);
    expect((await select(`SELECT note, value FROM ${KS}.readings WHERE sensor = 's2' LIMIT 1`)).rows).toEqual([{ note: null, value: 9.5 }]);
  });

  it('updates list, set and map columns element by element', async () => {
    await cql(`CREATE TABLE ${KS}.devices (id int PRIMARY KEY, name text, tags set<text>, samples list<int>, attrs map<text, text>)`);
    await cql(`INSERT INTO ${KS}.devices (id, name, tags, samples, attrs) VALUES (1, 'probe', {'outdoor', 'beta'}, [3, 4], {'fw': '1.0', 'site': 'north'})`);
    await cql(`UPDATE ${KS}.devices SET tags = tags + {'solar'}, samples = samples + [5], attrs['fw'] = '1.1' WHERE id = 1`);
    await cql(`UPDATE ${KS}.devices SET tags = tags - {'beta'}, samples = [1, 2] + samples WHERE id = 1`);
    await cql(`DELETE attrs['site'] FROM ${KS}.devices WHERE id = 1`);
    await cql(`UPDATE ${KS}.devices SET attrs = attrs + {'owner': 'ada'} WHERE id = 1`);
    const device = await select(`SELECT id, name, tags, samples, attrs FROM ${KS}.devices WHERE id = 1`);
    expect(device.rows).toEqual([{ id: 1, name: 'probe', tags: ['outdoor', 'solar'], samples: [1, 2, 3, 4, 5], attrs: { fw: '1.1', owner: 'ada' } }]);

    await cql(`UPDATE ${KS}.devices SET tags = tags - {'outdoor', 'solar'} WHERE id = 1`);
    expect((await select(`SELECT tags FROM ${KS}.devices WHERE id = 1`)).rows).toEqual([{ tags: null }]);
  });

  it('pages through 10,000 rows in order, within a partition and across the table', async () => {
    await cql(`CREATE TABLE ${KS}.events (day text, seq int, payload text, PRIMARY KEY (day, seq))`);
    const days = ['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-04'];
    const perDay = 2500;
    const payload = (day: string, seq: number) => `${day}#${seq}`;
    const batches: string[] = [];
    for (const day of days) {
      for (let from = 0; from < perDay; from += 100) {
        const inserts = [];
        for (let seq = from; seq < from + 100; seq++) inserts.push(`INSERT INTO ${KS}.events (day, seq, payload) VALUES ('${day}', ${seq}, '${payload(day, seq)}');`);
        batches.push(`BEGIN UNLOGGED BATCH ${inserts.join(' ')} APPLY BATCH`);
      }
    }
    const workers = Array.from({ length: 4 }, async (_, w) => {
      for (let b = w; b < batches.length; b += 4) await cql(batches[b]!);
    });
    await Promise.all(workers);

    // One partition, in clustering order, 300 rows a page.
    const oneDay = await allPages(`SELECT seq, payload FROM ${KS}.events WHERE day = '2024-01-03'`, 300);
    expect(oneDay).toHaveLength(perDay);
    oneDay.forEach((row, i) => expect(row).toEqual({ seq: i, payload: payload('2024-01-03', i) }));

    // The whole table, 1000 rows a page: partitions in token order, each complete and in order.
    let pages = 0;
    const everything = await allPages(`SELECT token(day), day, seq, payload FROM ${KS}.events`, 1000, () => pages++);
    expect(pages).toBeGreaterThanOrEqual(10);
    expect(everything).toHaveLength(days.length * perDay);
    const seen: string[] = [];
    let previousToken: bigint | null = null;
    everything.forEach((row, i) => {
      const [token, day, seq, text] = Object.values(row) as [string, string, number, string];
      if (seen.at(-1) !== day) {
        expect(seen, `partition ${day} appears twice`).not.toContain(day);
        seen.push(day);
        if (previousToken !== null) expect(BigInt(token) > previousToken, `token order at row ${i}`).toBe(true);
        previousToken = BigInt(token);
      }
      expect(seq).toBe(i % perDay);
      expect(text).toBe(payload(day, seq));
    });
    expect([...seen].sort()).toEqual(days);

    // A page size larger than the result ends with no paging state.
    const last = await select(`SELECT seq FROM ${KS}.events WHERE day = '2024-01-01' AND seq >= 2490`, { page_size: 100 });
    expect(last.rows.map((r) => r.seq)).toEqual([2490, 2491, 2492, 2493, 2494, 2495, 2496, 2497, 2498, 2499]);
    expect(last.paging_state).toBeNull();
  }, 180_000);
});

/** What the session left behind; checked after each restart. */
async function expectSessionData(tables = ['devices', 'events', 'readings']): Promise<void> {
  const s1 = await select(`SELECT ts, value FROM ${KS}.readings WHERE sensor = 's1'`);
  expect(s1.rows).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0].map((i) => ({ ts: iso(T0_MS + i * MINUTE_MS), value: i + 0.5 })));
  const s2 = await select(`SELECT ts FROM ${KS}.readings WHERE sensor = 's2'`);
  expect(s2.rows.map((r) => (Date.parse(r.ts as string) - T0_MS) / MINUTE_MS)).toEqual([9, 7, 2, 1, 0]);
  expect((await select(`SELECT note FROM ${KS}.readings WHERE sensor = 'ttl'`)).rows).toEqual([{ note: 'lives an hour' }]);
  expect((await select(`SELECT tags, samples, attrs FROM ${KS}.devices WHERE id = 1`)).rows).toEqual([
    { tags: null, samples: [1, 2, 3, 4, 5], attrs: { fw: '1.1', owner: 'ada' } },
  ]);
  expect(await single(`SELECT COUNT(*) FROM ${KS}.events`)).toBe('10000');
  const day = await allPages(`SELECT seq FROM ${KS}.events WHERE day = '2024-01-02'`, 5000);
  expect(day.map((r) => r.seq)).toEqual(Array.from({ length: 2500 }, (_, i) => i));

  const schema = await httpJson('GET', `${node.url}/v1/schema`);
  const keyspace = schema.body.keyspaces.find((k: { name: string }) => k.name === KS);
  expect(keyspace.tables.map((t: { name: string }) => t.name).sort()).toEqual(tables);
  const readings = keyspace.tables.find((t: { name: string }) => t.name === 'readings');
  expect(readings.cql).toMatch(/CLUSTERING ORDER BY \(ts DESC\)/);
}

describe('restarts', () => {
  it('stops on SIGTERM with exit code 0 within 10 s, and restarts with its data and schema', async () => {
    const schemaBefore = (await httpJson('GET', `${node.url}/v1/schema`)).body;
    const started = performance.now();
    const exit = await node.stop(10_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(performance.now() - started).toBeLessThan(10_000);

    node = await startNode({ dir });
    await expectSessionData();
    const schemaAfter = (await httpJson('GET', `${node.url}/v1/schema`)).body;
    expect(schemaAfter.version).toBe(schemaBefore.version);
    expect(schemaAfter.keyspaces).toEqual(schemaBefore.keyspaces);
  }, 60_000);

  it('keeps every acknowledged write across kill -9', async () => {
    await cql(`CREATE TABLE ${KS}.acks (id int PRIMARY KEY, v text)`);
    const acknowledged: number[] = [];
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let id = w; id < 400; id += 8) {
        await cql(`INSERT INTO ${KS}.acks (id, v) VALUES (?, ?)`, { params: [id, `v${id}`] });
        acknowledged.push(id);
      }
    });
    await Promise.all(writers);
    expect(acknowledged).toHaveLength(400);
    await cql(`UPDATE ${KS}.devices SET name = 'renamed' WHERE id = 1`);

    const exit = await node.kill();
    expect(exit.signal).toBe('SIGKILL');

    node = await startNode({ dir });
    const rows = await allPages(`SELECT id, v FROM ${KS}.acks`, 1000);
    expect(rows.map((r) => r.id).sort((a, b) => (a as number) - (b as number))).toEqual(Array.from({ length: 400 }, (_, i) => i));
    for (const r of rows) expect(r.v).toBe(`v${r.id}`);
    expect(await single(`SELECT name FROM ${KS}.devices WHERE id = 1`)).toBe('renamed');
    await expectSessionData(['acks', 'devices', 'events', 'readings']);
  }, 60_000);
});

describe('draining', () => {
  it('stops within 10 s under load, and keeps every write it acknowledged', async () => {
    await cql(`CREATE TABLE ${KS}.drained (id int PRIMARY KEY, v text)`);
    const acknowledged: number[] = [];
    let nextId = 0;
    let stopSent = false;
    const url = node.url;
    const writers = Array.from({ length: 8 }, async () => {
      for (;;) {
        const id = nextId++;
        try {
          const answer = await postCql(url, `INSERT INTO ${KS}.drained (id, v) VALUES (?, ?)`, { params: [id, `v${id}`] });
          if (answer.status === 200) acknowledged.push(id);
          else if (!stopSent || answer.body?.error?.code !== 'Overloaded') throw new Error(`${answer.status} ${answer.text}`);
        } catch (error) {
          if (!stopSent) throw error;
          return; // refused or reset once the node has stopped listening
        }
        if (stopSent && node.hasExited) return;
      }
    });
    await waitFor(() => acknowledged.length >= 300, '300 acknowledged writes', 20_000);
    const started = performance.now();
    stopSent = true;
    const exit = await node.stop(10_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(performance.now() - started).toBeLessThan(10_000);
    await Promise.all(writers);

    node = await startNode({ dir });
    const rows = await allPages(`SELECT id, v FROM ${KS}.drained`, 5000);
    const stored = new Map(rows.map((r) => [r.id as number, r.v]));
    for (const id of acknowledged) expect(stored.get(id), `acknowledged write ${id}`).toBe(`v${id}`);
  }, 60_000);
});

describe('the server command', () => {
  it('stops with exit code 0 on SIGINT, and ignores a second signal while it drains', async () => {
    node.signal('SIGINT');
    node.signal('SIGTERM');
    const exit = await node.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    const messages = node.logs().map((l) => l.msg);
    expect(messages).toContain('stopping');
    expect(messages).toContain('already stopping; signal ignored');
  }, 30_000);

  it('refuses a bad configuration with "config error:" and exit code 1', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [ringtailBin(), 'server', ...args], { cwd: dir, encoding: 'utf8', timeout: 20_000 });
    const missing = run('--config', path.join(dir, 'missing.json'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^config error: cannot read config file .*missing\.json/);
    const unknown = run('--config', path.join(dir, 'ringtail.json'), '--set', 'no_such_setting=1');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/^config error: unknown setting "no_such_setting"/);
    const wrongType = run('--config', path.join(dir, 'ringtail.json'), '--set', 'http_port=eighty');
    expect(wrongType.status).toBe(1);
    expect(wrongType.stderr).toMatch(/^config error: http_port: expected integer 0\.\.65535/);
  }, 60_000);

  it('exits 1 with a fatal log line when its HTTP port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const other = path.join(dir, 'port-taken');
      await expect(startNode({ dir: other, settings: { http_port: port } })).rejects.toThrow(/node exited \(\{"code":1,"signal":null\}\) before it was ready[\s\S]*"level":60[\s\S]*node failed to start/);
    } finally {
      blocker.close();
    }
  }, 30_000);
});
