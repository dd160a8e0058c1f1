import { afterEach, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../helpers/cql-node.js';
import { useTmpDir } from '../helpers/tmpdir.js';

const dir = useTmpDir();
let db: TestDatabase | null = null;
afterEach(async () => {
  await db?.close();
  db = null;
});

describe('smoke', () => {
  it('creates, inserts, selects', async () => {
    db = await openTestDatabase(dir());
    await db.cql("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    await db.cql('CREATE TABLE ks.t (id int, ts timestamp, v text, tags set<text>, PRIMARY KEY (id, ts)) WITH CLUSTERING ORDER BY (ts DESC)');
    await db.cql("INSERT INTO t (id, ts, v, tags) VALUES (1, '2024-01-01 00:00:00+0000', 'a', {'x', 'y'})");
    await db.cql('INSERT INTO t (id, ts, v) VALUES (?, ?, ?)', [1, '2024-01-02T00:00:00.000Z', 'b']);
    const rows = await db.rows('SELECT * FROM t WHERE id = 1');
    expect(rows.map((r) => r.v)).toEqual(['b', 'a']);
  });
});
