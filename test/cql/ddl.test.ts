/**
 * Schema statements against Cassandra's behaviour: keyspaces, tables, their options, ALTER,
 * DROP, TRUNCATE, USE, and the schema surviving a restart with the same version.
 */
import { describe, expect, it } from 'vitest';
import { AlreadyExists } from '../../src/errors.js';
import { tableCql } from '../../src/schema/describe.js';
import { execAll, KEYSPACE_DDL, useCql } from './kit.js';

describe('keyspaces', () => {
  const cql = useCql({ keyspace: false });

  it('CREATE KEYSPACE reports the change and stores the replication', async () => {
    const k = cql();
    expect(await k.exec(KEYSPACE_DDL)).toEqual({ kind: 'schema_change', change: 'CREATED', target: 'KEYSPACE', keyspace: 'ks', table: null, warnings: [], trace: null });
    await k.exec("CREATE KEYSPACE multi WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 3, 'dc2': 2} AND durable_writes = false");
    await k.exec("CREATE KEYSPACE qualified WITH replication = {'class': 'org.apache.cassandra.locator.SimpleStrategy', 'replication_factor': '2'}");
    const schema = k.db.schema.current;
    expect(schema.keyspace('ks')).toMatchObject({ replication: { class: 'SimpleStrategy', replicationFactor: 1 }, durableWrites: true });
    expect(schema.keyspace('multi')).toMatchObject({ replication: { class: 'NetworkTopologyStrategy', datacenters: { dc1: 3, dc2: 2 } }, durableWrites: false });
    expect(schema.keyspace('qualified')).toMatchObject({ replication: { class: 'SimpleStrategy', replicationFactor: 2 } });
  });

  it('CREATE KEYSPACE on an existing one: AlreadyExists with its fields, or nothing with IF NOT EXISTS', async () => {
    const k = cql();
    await k.exec(KEYSPACE_DDL);
    const version = k.db.schema.current.version;
    const e = await k.expectError(KEYSPACE_DDL, 'AlreadyExists', 'Cannot add existing keyspace "ks"');
    expect(e).toBeInstanceOf(AlreadyExists);
    expect(e.toJSON().error).toMatchObject({ keyspace: 'ks', table: '' });
    expect(await k.exec("CREATE KEYSPACE IF NOT EXISTS ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}")).toMatchObject({ kind: 'void' });
    expect(k.db.schema.current.keyspace('ks')!.replication).toEqual({ class: 'SimpleStrategy', replicationFactor: 1 });
    expect(k.db.schema.current.version).toBe(version);
  });

  const badKeyspaces: [string, string, string][] = [
    ["WITH replication = {'class': 'SimpleStrategy'}", 'ConfigurationError', 'SimpleStrategy requires a replication_factor strategy option.'],
    ["WITH replication = {'replication_factor': 1}", 'ConfigurationError', 'Missing replication strategy class'],
    ["WITH replication = {'class': 'FancyStrategy', 'replication_factor': 1}", 'ConfigurationError', "Unable to find replication strategy class 'org.apache.cassandra.locator.FancyStrategy'"],
    ["WITH replication = {'class': 'SimpleStrategy', 'replication_factor': -1}", 'ConfigurationError', 'Replication factor must be non-negative; found -1'],
    ["WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 'three'}", 'ConfigurationError', 'Replication factor must be numeric; found three'],
    ["WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1, 'dc1': 2}", 'ConfigurationError', 'Unrecognized strategy option {dc1} passed to SimpleStrategy for keyspace k2'],
    ["WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 'x'}", 'ConfigurationError', 'Replication factor must be numeric; found x'],
    ["WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1} AND durable_writes = 'maybe'", 'ConfigurationError', "Invalid value for property 'durable_writes': maybe"],
    ["WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1} AND colour = 'red'", 'ConfigurationError', "Unknown property 'colour'"],
    ['WITH durable_writes = true', 'ConfigurationError', "Missing mandatory option 'replication'"],
    ["WITH replication = 'SimpleStrategy'", 'ConfigurationError', "Invalid value for property 'replication': a map is expected"],
  ];
  it.each(badKeyspaces)('CREATE KEYSPACE k2 %s → %s', async (options, code, message) => {
    const k = cql();
    await k.expectError(`CREATE KEYSPACE k2 ${options}`, code, message);
    expect(k.db.schema.current.keyspace('k2')).toBeUndefined();
  });

  it('keyspace names follow the SPEC pattern; system keyspaces are not user-modifiable', async () => {
    const k = cql();
    const long = 'k'.repeat(49);
    await k.expectError(`CREATE KEYSPACE ${long} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`, 'Invalid', `Keyspace name must not be empty, more than 48 characters long, or contain non-alphanumeric-underscore characters (got '${long}')`);
    await k.exec(`CREATE KEYSPACE ${'k'.repeat(48)} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`);
    await k.exec(`CREATE KEYSPACE "MixedCase" WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`);
    expect(k.db.schema.current.keyspace('MixedCase')).toBeDefined();
    expect(k.db.schema.current.keyspace('mixedcase')).toBeUndefined();
    await k.expectError("CREATE KEYSPACE system WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}", 'Unauthorized', 'system keyspace is not user-modifiable.');
    await k.expectError('DROP KEYSPACE system_schema', 'Unauthorized', 'system_schema keyspace is not user-modifiable.');
  });

  it('ALTER KEYSPACE changes replication and durable_writes and the schema version', async () => {
    const k = cql();
    await k.exec(KEYSPACE_DDL);
    const before = k.db.schema.current.version;
    expect(await k.exec("ALTER KEYSPACE ks WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2}")).toMatchObject({ kind: 'schema_change', change: 'UPDATED', target: 'KEYSPACE', keyspace: 'ks', table: null });
    expect(k.db.schema.current.keyspace('ks')).toMatchObject({ replication: { class: 'NetworkTopologyStrategy', datacenters: { dc1: 2 } }, durableWrites: true });
    await k.exec('ALTER KEYSPACE ks WITH durable_writes = false');
    expect(k.db.schema.current.keyspace('ks')).toMatchObject({ replication: { class: 'NetworkTopologyStrategy' }, durableWrites: false });
    expect(k.db.schema.current.version).not.toBe(before);
    await k.expectError("ALTER KEYSPACE nope WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}", 'Invalid', "Keyspace 'nope' doesn't exist");
    await k.expectError("ALTER KEYSPACE ks WITH replication = {'class': 'SimpleStrategy'}", 'ConfigurationError', 'SimpleStrategy requires a replication_factor strategy option.');
  });

  it('DROP KEYSPACE removes it and its tables; IF EXISTS on a missing one does nothing', async () => {
    const k = cql();
    await execAll(k, [KEYSPACE_DDL, 'CREATE TABLE ks.t (k int PRIMARY KEY, v int)', 'INSERT INTO ks.t (k, v) VALUES (1, 1)']);
    expect(await k.exec('DROP KEYSPACE ks')).toMatchObject({ kind: 'schema_change', change: 'DROPPED', target: 'KEYSPACE', keyspace: 'ks', table: null });
    expect(k.db.schema.current.keyspace('ks')).toBeUndefined();
    await k.expectError('SELECT * FROM ks.t', 'Invalid', 'keyspace ks does not exist');
    await k.expectError('DROP KEYSPACE ks', 'Invalid', "Keyspace 'ks' doesn't exist");
    expect(await k.exec('DROP KEYSPACE IF EXISTS ks')).toMatchObject({ kind: 'void' });
    // Created again, the keyspace and table start empty.
    await execAll(k, [KEYSPACE_DDL, 'CREATE TABLE ks.t (k int PRIMARY KEY, v int)']);
    expect(await k.rows('SELECT * FROM ks.t')).toEqual([]);
  });

  it('USE answers set_keyspace for an existing keyspace only', async () => {
    const k = cql();
    await k.exec(KEYSPACE_DDL);
    expect(await k.exec('USE ks')).toEqual({ kind: 'set_keyspace', keyspace: 'ks', warnings: [], trace: null });
    expect(await k.exec('USE "ks"')).toMatchObject({ kind: 'set_keyspace', keyspace: 'ks' });
    await k.expectError('USE nope', 'Invalid', "Keyspace 'nope' does not exist");
    await k.expectError('USE "KS"', 'Invalid', "Keyspace 'KS' does not exist");
  });

  it('statements without a keyspace need one from the request', async () => {
    const k = cql();
    await execAll(k, [KEYSPACE_DDL, 'CREATE TABLE ks.t (k int PRIMARY KEY)']);
    const message = 'No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename';
    await k.expectError('SELECT * FROM t', 'Invalid', message, undefined, { keyspace: null });
    await k.expectError('CREATE TABLE t2 (k int PRIMARY KEY)', 'Invalid', message, undefined, { keyspace: null });
    expect(await k.rows('SELECT * FROM ks.t', undefined, { keyspace: null })).toEqual([]);
  });
});

describe('CREATE TABLE', () => {
  const cql = useCql();

  it('inline primary key: one partition key column, no clustering', async () => {
    const k = cql();
    expect(await k.exec('CREATE TABLE t (k int PRIMARY KEY, b text, a int)')).toEqual({ kind: 'schema_change', change: 'CREATED', target: 'TABLE', keyspace: 'ks', table: 't', warnings: [], trace: null });
    await k.exec("INSERT INTO t (k, a, b) VALUES (1, 2, 'x')");
    const r = await k.select('SELECT * FROM t');
    // Key columns first, then the others by name (Cassandra's SELECT * order).
    expect(r.columns).toEqual([
      { name: 'k', type: 'int' },
      { name: 'a', type: 'int' },
      { name: 'b', type: 'text' },
    ]);
    expect(r.rows).toEqual([{ k: 1, a: 2, b: 'x' }]);
    expect(Object.keys(r.rows[0]!)).toEqual(['k', 'a', 'b']);
  });

  it('composite partition key and several clustering columns with mixed order', async () => {
    const k = cql();
    await k.exec('CREATE TABLE t (p1 text, p2 int, c1 int, c2 text, v int, PRIMARY KEY ((p1, p2), c1, c2)) WITH CLUSTERING ORDER BY (c1 DESC, c2 ASC)');
    const t = k.db.schema.current.table('ks', 't')!;
    expect(t.columns.map((c) => [c.name, c.kind, c.position, c.descending])).toEqual([
      ['p1', 'partition_key', 0, false],
      ['p2', 'partition_key', 1, false],
      ['c1', 'clustering', 0, true],
      ['c2', 'clustering', 1, false],
      ['v', 'regular', -1, false],
    ]);
    for (const [c1, c2] of [[1, 'a'], [2, 'b'], [2, 'a'], [3, 'z']] as const) await k.exec('INSERT INTO t (p1, p2, c1, c2, v) VALUES (?, ?, ?, ?, ?)', ['x', 1, c1, c2, c1]);
    await k.exec("INSERT INTO t (p1, p2, c1, c2, v) VALUES ('x', 2, 9, 'q', 9)");
    expect(await k.rows("SELECT c1, c2 FROM t WHERE p1 = 'x' AND p2 = 1")).toEqual([
      { c1: 3, c2: 'z' },
      { c1: 2, c2: 'a' },
      { c1: 2, c2: 'b' },
      { c1: 1, c2: 'a' },
    ]);
    await k.expectError("SELECT * FROM t WHERE p1 = 'x'", 'Invalid', /ALLOW FILTERING$/);
    expect(await k.rows("SELECT p2, c1 FROM t WHERE p1 = 'x' AND p2 = 2")).toEqual([{ p2: 2, c1: 9 }]);
    expect(tableCql(t)).toContain('PRIMARY KEY ((p1, p2), c1, c2)\n) WITH CLUSTERING ORDER BY (c1 DESC, c2 ASC)');
  });

  it('PRIMARY KEY (k) and PRIMARY KEY ((k)) mean the same; quoted names keep their case', async () => {
    const k = cql();
    await k.exec('CREATE TABLE t1 (k int, v int, PRIMARY KEY ((k)))');
    await k.exec('CREATE TABLE "T2" ("Key" int, "Value" text, PRIMARY KEY ("Key"))');
    expect(k.db.schema.current.table('ks', 't1')!.columns.map((c) => c.kind)).toEqual(['partition_key', 'regular']);
    await k.exec('INSERT INTO "T2" ("Key", "Value") VALUES (1, \'a\')');
    expect(await k.rows('SELECT * FROM "T2"')).toEqual([{ Key: 1, Value: 'a' }]);
    await k.expectError('SELECT * FROM t2', 'Invalid', 'table t2 does not exist');
  });

  it('IF NOT EXISTS on an existing table does nothing, whatever the new definition; AlreadyExists otherwise', async () => {
    const k = cql();
    await k.exec('CREATE TABLE t (k int PRIMARY KEY, v int)');
    const version = k.db.schema.current.version;
    expect(await k.exec('CREATE TABLE IF NOT EXISTS t (x text PRIMARY KEY) WITH gc_grace_seconds = -1')).toMatchObject({ kind: 'void' });
    expect(k.db.schema.current.version).toBe(version);
    const e = await k.expectError('CREATE TABLE t (k int PRIMARY KEY)', 'AlreadyExists', 'Cannot add already existing table "t" to keyspace "ks"');
    expect(e.toJSON().error).toMatchObject({ keyspace: 'ks', table: 't' });
    await k.expectError('CREATE TABLE nope.t (k int PRIMARY KEY)', 'Invalid', "Keyspace 'nope' doesn't exist");
  });

  const badTables: [string, string, string][] = [
    ['t (k int, v int)', 'Invalid', "No PRIMARY KEY specifed for table 't' (exactly one required)"],
    ['ks.t (k int, v int)', 'Invalid', "No PRIMARY KEY specifed for table 'ks.t' (exactly one required)"],
    ['t (k int PRIMARY KEY, v int, PRIMARY KEY (k))', 'Invalid', "Multiple PRIMARY KEY specified for table 't' (exactly one required)"],
    ['t (k int PRIMARY KEY, v int PRIMARY KEY)', 'Invalid', "Multiple PRIMARY KEY specified for table 't' (exactly one required)"],
    ['t (k int, v int, v text, PRIMARY KEY (k))', 'Invalid', "Duplicate column 'v' declaration for table 't'"],
    ['t (k int, v int, PRIMARY KEY (x))', 'Invalid', "Unknown column 'x' referenced in PRIMARY KEY for table 't'"],
    ['t (k int, v int, PRIMARY KEY (k, k))', 'Invalid', "Duplicate column 'k' in PRIMARY KEY clause for table 't'"],
    ['t (k list<int>, v int, PRIMARY KEY (k))', 'Invalid', "Invalid non-frozen collection type list<int> for PRIMARY KEY column 'k'"],
    ['t (k int, c map<int, text>, PRIMARY KEY (k, c))', 'Invalid', "Invalid non-frozen collection type map<int, text> for PRIMARY KEY column 'c'"],
    ['t (k int, c int, d int, PRIMARY KEY (k, c, d)) WITH CLUSTERING ORDER BY (d DESC)', 'Invalid', 'Missing CLUSTERING ORDER for column c'],
    ['t (k int, c int, d int, PRIMARY KEY (k, c, d)) WITH CLUSTERING ORDER BY (d DESC, c ASC)', 'Invalid', 'The order of columns in the CLUSTERING ORDER directive must match that of the clustering columns (c must appear before d)'],
    ['t (k int, c int, v int, PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (c ASC, v DESC)', 'Invalid', 'Only clustering columns can be defined in CLUSTERING ORDER directive'],
    ['t (k int, c int, PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (c ASC, c DESC)', 'Invalid', "Duplicate column 'c' in CLUSTERING ORDER BY clause for table 't'"],
    ['t (k int, v int, PRIMARY KEY (k)) WITH CLUSTERING ORDER BY (k DESC)', 'Invalid', 'Only clustering columns can be defined in CLUSTERING ORDER directive'],
    ['t (k int, v int static, PRIMARY KEY (k))', 'Invalid', 'Static columns are only useful (and thus allowed) if the table has at least one clustering column'],
    ['t (k int, c int, v int static, PRIMARY KEY (k, c))', 'Invalid', 'static columns are not supported (column v)'],
    ['t (k int, c int, v counter, PRIMARY KEY (k, c))', 'Invalid', 'counter columns are not supported (column v)'],
    ['t (k counter PRIMARY KEY)', 'Invalid', "counter type is not supported for PRIMARY KEY column 'k'"],
    ['t (k int PRIMARY KEY, v duration)', 'Invalid', 'Unknown type duration'],
    ['t (k int PRIMARY KEY, v frozen<list<int>>)', 'Invalid', 'Frozen collections are not supported: frozen<list<int>>'],
    ['t (k int PRIMARY KEY, v list<set<int>>)', 'Invalid', 'Non-frozen collections are not allowed inside collections: list<set<int>>'],
    ['"bad-name" (k int PRIMARY KEY)', 'ConfigurationError', 'Table name must not be empty, more than 48 characters long, or contain non-alphanumeric-underscore characters (got "bad-name")'],
  ];
  it.each(badTables)('CREATE TABLE %s → %s', async (definition, code, message) => {
    const k = cql();
    await k.expectError(`CREATE TABLE ${definition}`, code, message);
    expect([...k.db.schema.current.tables()]).toEqual([]);
  });

  it('every table option is stored as given and printed by DESCRIBE', async () => {
    const k = cql();
    await k.exec(`CREATE TABLE t (k int PRIMARY KEY, v int) WITH default_time_to_live = 3600 AND gc_grace_seconds = 60
      AND conflict_resolution = 'siblings' AND read_repair = 'NONE' AND speculative_retry = '50ms'
      AND compaction = {'class': 'SizeTieredCompactionStrategy', 'min_threshold': 2, 'max_threshold': 8, 'enabled': 'false'}
      AND comment = 'hello' AND caching = {'keys': 'ALL'} AND bloom_filter_fp_chance = 0.01`);
    const t = k.db.schema.current.table('ks', 't')!;
    expect(t.params).toEqual({
      comment: 'hello',
      defaultTimeToLive: 3600,
      gcGraceSeconds: 60,
      conflictResolution: 'siblings',
      readRepair: 'NONE',
      speculativeRetry: '50ms',
      compaction: { class: 'SizeTieredCompactionStrategy', enabled: false, minThreshold: 2, maxThreshold: 8 },
    });
    expect(tableCql(t)).toBe(
      [
        'CREATE TABLE ks.t (',
        '    k int,',
        '    v int,',
        '    PRIMARY KEY (k)',
        ") WITH comment = 'hello'",
        "    AND compaction = {'class': 'org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy', 'enabled': 'false', 'max_threshold': '8', 'min_threshold': '2'}",
        "    AND conflict_resolution = 'siblings'",
        '    AND default_time_to_live = 3600',
        '    AND gc_grace_seconds = 60',
        "    AND read_repair = 'NONE'",
        "    AND speculative_retry = '50ms';",
      ].join('\n'),
    );
  });

  it('defaults, and the accepted spellings of each option', async () => {
    const k = cql();
    await k.exec('CREATE TABLE d (k int PRIMARY KEY)');
    expect(k.db.schema.current.table('ks', 'd')!.params).toEqual({
      comment: '',
      defaultTimeToLive: 0,
      gcGraceSeconds: 864000,
      conflictResolution: 'lww',
      readRepair: 'BLOCKING',
      speculativeRetry: '99p',
      compaction: { class: 'SizeTieredCompactionStrategy', enabled: true, minThreshold: 4, maxThreshold: 32 },
    });
    const cases: [string, Record<string, unknown>][] = [
      ["speculative_retry = 'NONE'", { speculativeRetry: 'NONE' }],
      ["speculative_retry = '95p'", { speculativeRetry: '95p' }],
      ["speculative_retry = '99.5PERCENTILE'", { speculativeRetry: '99.5p' }],
      ["speculative_retry = '10MS'", { speculativeRetry: '10ms' }],
      ["read_repair = 'blocking'", { readRepair: 'BLOCKING' }],
      ["conflict_resolution = 'LWW'", { conflictResolution: 'lww' }],
      ['default_time_to_live = 630720000', { defaultTimeToLive: 630720000 }],
      ['gc_grace_seconds = 0', { gcGraceSeconds: 0 }],
      ["compaction = {'class': 'org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy'}", { compaction: { class: 'SizeTieredCompactionStrategy', enabled: true, minThreshold: 4, maxThreshold: 32 } }],
    ];
    for (const [i, [option, params]] of cases.entries()) {
      await k.exec(`CREATE TABLE t${i} (k int PRIMARY KEY) WITH ${option}`);
      expect(k.db.schema.current.table('ks', `t${i}`)!.params, option).toMatchObject(params);
    }
  });

  const badOptions: [string, string][] = [
    ['default_time_to_live = -1', 'default_time_to_live must be greater than or equal to 0 (got -1)'],
    ['default_time_to_live = 630720001', 'default_time_to_live must be less than or equal to 630720000 (got 630720001)'],
    ["default_time_to_live = 'soon'", "Invalid integer value soon for 'default_time_to_live'"],
    ['gc_grace_seconds = -5', 'gc_grace_seconds must be greater than or equal to 0 (got -5)'],
    ['gc_grace_seconds = 1.5', "Invalid integer value 1.5 for 'gc_grace_seconds'"],
    ['gc_grace_seconds = 99999999999', "Invalid integer value 99999999999 for 'gc_grace_seconds'"],
    ["conflict_resolution = 'newest'", "Invalid value 'newest' for option 'conflict_resolution': 'lww' or 'siblings'"],
    ["read_repair = 'sometimes'", "Invalid value 'SOMETIMES' for option 'read_repair': 'BLOCKING' or 'NONE'"],
    ["speculative_retry = 'often'", "Invalid value often for option 'speculative_retry'"],
    ["speculative_retry = '100p'", "Invalid value 100p for option 'speculative_retry'"],
    ["compaction = {'class': 'LeveledCompactionStrategy'}", "Unable to find compaction strategy class 'LeveledCompactionStrategy' (ringtail has SizeTieredCompactionStrategy)"],
    ["compaction = {'min_threshold': 2}", "Missing sub-option 'class' for the 'compaction' option."],
    ["compaction = {'class': 'SizeTieredCompactionStrategy', 'min_threshold': 1}", 'Min compaction threshold cannot be less than 2 (got 1)'],
    ["compaction = {'class': 'SizeTieredCompactionStrategy', 'min_threshold': 0}", "Disabling compaction by setting compaction thresholds to 0 has been removed, set the compaction option 'enabled' to false instead."],
    ["compaction = {'class': 'SizeTieredCompactionStrategy', 'min_threshold': 8, 'max_threshold': 4}", 'Min compaction threshold (got 8) cannot be greater than max compaction threshold (got 4)'],
    ["compaction = {'class': 'SizeTieredCompactionStrategy', 'max_threshold': 'lots'}", "Invalid value lots for 'max_threshold' compaction sub-option - must be an integer"],
    ["compaction = {'class': 'SizeTieredCompactionStrategy', 'enabled': 'yes'}", "enabled should either be 'true' or 'false', not yes"],
    ["compaction = {'class': 'SizeTieredCompactionStrategy', 'tombstone_threshold': 0.2}", 'Properties specified [tombstone_threshold] are not understood by SizeTieredCompactionStrategy'],
    ["compaction = 'SizeTieredCompactionStrategy'", "Invalid value for property 'compaction': a map is expected"],
    ['colour = 1', "Unknown property 'colour'"],
  ];
  it.each(badOptions)('WITH %s → ConfigurationError', async (option, message) => {
    const k = cql();
    await k.expectError(`CREATE TABLE t (k int PRIMARY KEY) WITH ${option}`, 'ConfigurationError', message);
    expect(k.db.schema.current.table('ks', 't')).toBeUndefined();
  });

  it('a repeated option is a syntax error, as in Cassandra', async () => {
    await cql().expectError('CREATE TABLE t (k int PRIMARY KEY) WITH gc_grace_seconds = 1 AND gc_grace_seconds = 2', 'SyntaxError', 'line 1:66 Multiple definition for property gc_grace_seconds');
  });
});

describe('ALTER TABLE', () => {
  const cql = useCql();

  it('ADD makes a column that reads null in old rows and takes writes', async () => {
    const k = cql();
    await execAll(k, ['CREATE TABLE t (k int PRIMARY KEY, v int)', 'INSERT INTO t (k, v) VALUES (1, 1)']);
    expect(await k.exec('ALTER TABLE t ADD tags set<text>')).toEqual({ kind: 'schema_change', change: 'UPDATED', target: 'TABLE', keyspace: 'ks', table: 't', warnings: [], trace: null });
    await k.exec('ALTER TABLE t ADD (a text, z int)');
    await k.exec("INSERT INTO t (k, v, tags, a, z) VALUES (2, 2, {'x'}, 'A', 26)");
    const r = await k.select('SELECT * FROM t');
    expect(r.columns.map((c) => c.name)).toEqual(['k', 'a', 'tags', 'v', 'z']);
    expect(r.rows).toEqual([
      { k: 1, a: null, tags: null, v: 1, z: null },
      { k: 2, a: 'A', tags: ['x'], v: 2, z: 26 },
    ]);
  });

  it('DROP hides the column and its data, also after the column is added again', async () => {
    const k = cql();
    await execAll(k, ['CREATE TABLE t (k int, c int, v text, l list<int>, PRIMARY KEY (k, c))', "INSERT INTO t (k, c, v, l) VALUES (1, 1, 'old', [1, 2])", "UPDATE t SET v = 'only v' WHERE k = 1 AND c = 2"]);
    await k.flush('t');
    await k.exec("INSERT INTO t (k, c, v) VALUES (1, 3, 'memtable')");
    await k.exec('ALTER TABLE t DROP v');
    // The row kept alive only by v's cell is gone with it; the inserted rows stay.
    expect(await k.rows('SELECT * FROM t')).toEqual([
      { k: 1, c: 1, l: [1, 2] },
      { k: 1, c: 3, l: null },
    ]);
    await k.expectError('SELECT v FROM t', 'Invalid', 'Undefined column name v in selection clause');
    await k.expectError("INSERT INTO t (k, c, v) VALUES (1, 4, 'x')", 'Invalid', 'Undefined column name v in table ks.t');
    await k.exec('ALTER TABLE t ADD v text');
    expect(await k.rows('SELECT k, c, v FROM t')).toEqual([
      { k: 1, c: 1, v: null },
      { k: 1, c: 3, v: null },
    ]);
    await k.exec("INSERT INTO t (k, c, v) VALUES (1, 1, 'new')");
    await k.exec('ALTER TABLE t DROP l');
    await k.exec('ALTER TABLE t ADD l list<int>');
    expect(await k.rows('SELECT * FROM t')).toEqual([
      { k: 1, c: 1, l: null, v: 'new' },
      { k: 1, c: 3, l: null, v: null },
    ]);
    await k.reopen();
    expect(await k.rows('SELECT * FROM t')).toEqual([
      { k: 1, c: 1, l: null, v: 'new' },
      { k: 1, c: 3, l: null, v: null },
    ]);
  });

  it('WITH changes options and keeps the others', async () => {
    const k = cql();
    await k.exec("CREATE TABLE t (k int PRIMARY KEY) WITH gc_grace_seconds = 10 AND comment = 'c'");
    await k.exec('ALTER TABLE t WITH default_time_to_live = 5');
    expect(k.db.schema.current.table('ks', 't')!.params).toMatchObject({ gcGraceSeconds: 10, comment: 'c', defaultTimeToLive: 5 });
    await k.exec("ALTER TABLE t WITH compaction = {'class': 'SizeTieredCompactionStrategy', 'max_threshold': 16}");
    expect(k.db.schema.current.table('ks', 't')!.params.compaction).toEqual({ class: 'SizeTieredCompactionStrategy', enabled: true, minThreshold: 4, maxThreshold: 16 });
    await k.expectError('ALTER TABLE t WITH default_time_to_live = -2', 'ConfigurationError', 'default_time_to_live must be greater than or equal to 0 (got -2)');
    expect(k.db.schema.current.table('ks', 't')!.params.defaultTimeToLive).toBe(5);
  });

  const badAlters: [string, string, string][] = [
    ['ALTER TABLE t ADD v text', 'Invalid', "Column with name 'v' already exists"],
    ['ALTER TABLE t ADD k int', 'Invalid', "Column with name 'k' already exists"],
    ['ALTER TABLE t ADD (x int, x text)', 'Invalid', "Column with name 'x' already exists"],
    ['ALTER TABLE t ADD s int static', 'Invalid', 'static columns are not supported (column s)'],
    ['ALTER TABLE t ADD n counter', 'Invalid', 'counter columns are not supported (column n)'],
    ['ALTER TABLE t ADD old int', 'Invalid', "Cannot re-add previously dropped column 'old' of type int, incompatible with previous type text"],
    ['ALTER TABLE t DROP nope', 'Invalid', "Column nope was not found in table 'ks.t'"],
    ['ALTER TABLE t DROP k', 'Invalid', 'Cannot drop PRIMARY KEY column k'],
    ['ALTER TABLE t DROP c', 'Invalid', 'Cannot drop PRIMARY KEY column c'],
    ['ALTER TABLE nope ADD x int', 'Invalid', "Table 'ks.nope' doesn't exist"],
    ['ALTER TABLE t WITH colour = 1', 'ConfigurationError', "Unknown property 'colour'"],
  ];
  it.each(badAlters)('%s → %s', async (statement, code, message) => {
    const k = cql();
    await execAll(k, ['CREATE TABLE t (k int, c int, v text, old text, PRIMARY KEY (k, c))', 'ALTER TABLE t DROP old', "INSERT INTO t (k, c, v) VALUES (1, 1, 'a')"]);
    const before = k.db.schema.current.table('ks', 't');
    await k.expectError(statement, code, message);
    expect(k.db.schema.current.table('ks', 't')).toEqual(before);
  });
});

describe('DROP TABLE and TRUNCATE', () => {
  const cql = useCql();

  it('DROP TABLE removes the table and its data; IF EXISTS tolerates a missing one', async () => {
    const k = cql();
    await execAll(k, ['CREATE TABLE t (k int PRIMARY KEY, v int)', 'INSERT INTO t (k, v) VALUES (1, 1)']);
    await k.flush('t');
    await k.exec('INSERT INTO t (k, v) VALUES (2, 2)');
    const id = k.db.schema.current.table('ks', 't')!.id;
    expect(await k.exec('DROP TABLE t')).toEqual({ kind: 'schema_change', change: 'DROPPED', target: 'TABLE', keyspace: 'ks', table: 't', warnings: [], trace: null });
    expect(k.db.engine.table(id)).toBeUndefined();
    await k.expectError('SELECT * FROM t', 'Invalid', 'table t does not exist');
    await k.expectError('DROP TABLE t', 'Invalid', "Table 'ks.t' doesn't exist");
    expect(await k.exec('DROP TABLE IF EXISTS t')).toMatchObject({ kind: 'void' });
    expect(await k.exec('DROP TABLE IF EXISTS nope.t')).toMatchObject({ kind: 'void' });
    await k.exec('CREATE TABLE t (k int PRIMARY KEY, v int)');
    expect(k.db.schema.current.table('ks', 't')!.id).not.toBe(id);
    expect(await k.rows('SELECT * FROM t')).toEqual([]);
    await k.reopen();
    expect(await k.rows('SELECT * FROM t')).toEqual([]);
  });

  it('TRUNCATE empties memtables and SSTables and keeps the table', async () => {
    const k = cql();
    await execAll(k, ['CREATE TABLE t (k int PRIMARY KEY, v int)', 'INSERT INTO t (k, v) VALUES (1, 1)']);
    await k.flush('t');
    await k.exec('INSERT INTO t (k, v) VALUES (2, 2)');
    expect(await k.exec('TRUNCATE t')).toEqual({ kind: 'void', warnings: [], trace: null });
    expect(await k.rows('SELECT * FROM t')).toEqual([]);
    await k.exec('INSERT INTO t (k, v) VALUES (3, 3)');
    expect(await k.exec('TRUNCATE TABLE ks.t')).toMatchObject({ kind: 'void' });
    await k.exec('INSERT INTO t (k, v) VALUES (4, 4)');
    await k.reopen();
    expect(await k.rows('SELECT * FROM t')).toEqual([{ k: 4, v: 4 }]);
    await k.expectError('TRUNCATE nope', 'Invalid', 'table nope does not exist');
  });
});

describe('cached statements and schema changes', () => {
  const cql = useCql();

  it('a cached statement is planned again after the schema changes', async () => {
    const k = cql();
    await execAll(k, ['CREATE TABLE t (k int PRIMARY KEY, v int)', 'INSERT INTO t (k, v) VALUES (1, 1)']);
    const cached = k.db.processor.cachedStatements;
    expect((await k.select('SELECT * FROM t')).columns.map((c) => c.name)).toEqual(['k', 'v']);
    await k.exec('ALTER TABLE t ADD a text');
    expect((await k.select('SELECT * FROM t')).rows).toEqual([{ k: 1, a: null, v: 1 }]);
    await k.exec('INSERT INTO t (k, v) VALUES (?, ?)', [2, 2]);
    await k.exec('DROP TABLE t');
    await k.expectError('INSERT INTO t (k, v) VALUES (?, ?)', 'Invalid', 'table t does not exist', [3, 3]);
    await k.exec('CREATE TABLE t (k int PRIMARY KEY, v text)');
    await k.expectError('INSERT INTO t (k, v) VALUES (?, ?)', 'Invalid', 'Invalid value for column "v" of type text: 3', [3, 3]);
    await k.exec('INSERT INTO t (k, v) VALUES (?, ?)', [3, 'three']);
    expect(await k.rows('SELECT * FROM t')).toEqual([{ k: 3, v: 'three' }]);
    // The same text in another session keyspace is another plan.
    await k.exec("CREATE KEYSPACE ks2 WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    await k.exec('CREATE TABLE ks2.t (k int PRIMARY KEY, v text)');
    expect(await k.rows('SELECT * FROM t', undefined, { keyspace: 'ks2' })).toEqual([]);
    expect(await k.rows('SELECT * FROM t')).toEqual([{ k: 3, v: 'three' }]);
    expect(k.db.processor.cachedStatements).toBeGreaterThan(cached);
  });
});

describe('schema and data across a restart', () => {
  const cql = useCql();

  it('the same schema, version and rows come back, flushed or only in the commit log', async () => {
    const k = cql();
    await execAll(k, [
      "CREATE KEYSPACE other WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 3}",
      'CREATE TABLE ks.events (id int, at timestamp, msg text, PRIMARY KEY (id, at)) WITH CLUSTERING ORDER BY (at DESC) AND default_time_to_live = 100000',
      'CREATE TABLE other.kv (k text PRIMARY KEY, v blob, gone int)',
      "INSERT INTO ks.events (id, at, msg) VALUES (1, '2024-01-01', 'first')",
      "INSERT INTO other.kv (k, v, gone) VALUES ('a', 0x01, 1)",
    ]);
    await k.flush('events');
    await execAll(k, ["INSERT INTO ks.events (id, at, msg) VALUES (1, '2024-01-02', 'second')", 'ALTER TABLE other.kv DROP gone', "INSERT INTO other.kv (k, v) VALUES ('b', 0x02)"]);
    const version = k.db.schema.current.version;
    const tables = [...k.db.schema.current.tables()];
    const data = await k.snapshot();
    expect(data['ks.events']).toEqual([
      { id: 1, at: '2024-01-02T00:00:00.000Z', msg: 'second' },
      { id: 1, at: '2024-01-01T00:00:00.000Z', msg: 'first' },
    ]);
    expect(data['other.kv']).toHaveLength(2);
    expect(data['other.kv']).toEqual(expect.arrayContaining([{ k: 'a', v: '0x01' }, { k: 'b', v: '0x02' }]));
    await k.reopen();
    expect(k.db.schema.current.version).toBe(version);
    expect([...k.db.schema.current.tables()]).toEqual(tables);
    expect(await k.snapshot()).toEqual(data);
    // A second restart, after more DDL, still agrees.
    await k.exec('DROP TABLE other.kv');
    const version2 = k.db.schema.current.version;
    await k.reopen();
    expect(k.db.schema.current.version).toBe(version2);
    expect(k.db.schema.current.keyspace('other')!.tables.size).toBe(0);
  });

  it('two databases given the same DDL agree on the schema version', async () => {
    const k = cql();
    await k.exec('CREATE TABLE t (k int PRIMARY KEY, v int)');
    const other = await (await import('../helpers/cql-node.js')).openTestDatabase(`${k.dir}/second`);
    try {
      await other.cql(KEYSPACE_DDL);
      // Table ids differ (random), so the versions differ, as in Cassandra; the keyspace-only
      // schemas agree.
      const first = k.db.schema.current.version;
      expect(other.schema.current.version).not.toBe(first);
      await k.exec('DROP TABLE t');
      expect(k.db.schema.current.version).toBe(other.schema.current.version);
    } finally {
      await other.close();
    }
  });
});
