import { describe, expect, it } from 'vitest';
import { NO_USING, type Statement, type Term, type TypeExpr } from '../../../src/cql/ast.js';
import { MAX_BIND_MARKERS, MAX_NESTING_DEPTH, MAX_STATEMENT_CHARS, parse } from '../../../src/cql/parser.js';
import { CqlSyntaxError, InvalidRequest } from '../../../src/errors.js';

// ---- small builders for expected trees ----------------------------------------------------------

const int = (text: string): Term => ({ kind: 'integer', text });
const flt = (text: string): Term => ({ kind: 'float', text });
const str = (value: string): Term => ({ kind: 'string', value });
const bind = (index: number, name: string | null = null): Term => ({ kind: 'bind', index, name });
const fn = (name: string, ...args: Term[]): Term => ({ kind: 'function', name, args });
const native = (name: string): TypeExpr => ({ kind: 'native', name });
const table = (name: string, keyspace: string | null = null) => ({ keyspace, name });
const eq = (column: string, value: Term) => ({ kind: 'compare', column, op: '=', value }) as const;
const col = (name: string, type: TypeExpr, extra: { isStatic?: boolean; primaryKey?: boolean } = {}) => ({
  name,
  type,
  isStatic: extra.isStatic ?? false,
  primaryKey: extra.primaryKey ?? false,
});

function statementOf(text: string): Statement {
  return parse(text).statement;
}

function parseError(text: string): CqlSyntaxError | InvalidRequest {
  try {
    parse(text);
  } catch (e) {
    if (e instanceof CqlSyntaxError || e instanceof InvalidRequest) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(text)} not to parse`);
}

function syntaxError(text: string): CqlSyntaxError {
  const e = parseError(text);
  expect(e).toBeInstanceOf(CqlSyntaxError);
  return e as CqlSyntaxError;
}

// ---- schema statements ---------------------------------------------------------------------------

describe('parse: keyspaces, USE, TRUNCATE, DROP', () => {
  it.each<[string, Statement]>([
    [
      "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}",
      {
        kind: 'create_keyspace',
        ifNotExists: false,
        keyspace: 'ks',
        properties: [{ name: 'replication', value: { kind: 'map', entries: [{ key: str('class'), value: str('SimpleStrategy') }, { key: str('replication_factor'), value: int('3') }] } }],
      },
    ],
    [
      "create keyspace if not exists \"MyKs\" with replication = {'class': 'NetworkTopologyStrategy', 'dc1': 3, 'dc2': 2} and durable_writes = true;",
      {
        kind: 'create_keyspace',
        ifNotExists: true,
        keyspace: 'MyKs',
        properties: [
          { name: 'replication', value: { kind: 'map', entries: [{ key: str('class'), value: str('NetworkTopologyStrategy') }, { key: str('dc1'), value: int('3') }, { key: str('dc2'), value: int('2') }] } },
          { name: 'durable_writes', value: { kind: 'boolean', value: true } },
        ],
      },
    ],
    ["ALTER KEYSPACE Ks WITH replication = {}", { kind: 'alter_keyspace', keyspace: 'ks', properties: [{ name: 'replication', value: { kind: 'map', entries: [] } }] }],
    ['DROP KEYSPACE ks', { kind: 'drop_keyspace', ifExists: false, keyspace: 'ks' }],
    ['DROP KEYSPACE IF EXISTS ks', { kind: 'drop_keyspace', ifExists: true, keyspace: 'ks' }],
    ['USE Ks', { kind: 'use', keyspace: 'ks' }],
    ['USE "Ks";', { kind: 'use', keyspace: 'Ks' }],
    ['TRUNCATE t', { kind: 'truncate', table: table('t') }],
    ['TRUNCATE TABLE ks.t', { kind: 'truncate', table: table('t', 'ks') }],
    ['TRUNCATE COLUMNFAMILY ks.t', { kind: 'truncate', table: table('t', 'ks') }],
    ['DROP TABLE t', { kind: 'drop_table', ifExists: false, table: table('t') }],
    ['DROP TABLE IF EXISTS ks."T"', { kind: 'drop_table', ifExists: true, table: table('T', 'ks') }],
  ])('%s', (text, expected) => {
    expect(statementOf(text)).toEqual(expected);
  });
});

describe('parse: CREATE TABLE', () => {
  it.each<[string, Statement]>([
    [
      'CREATE TABLE t (id int PRIMARY KEY, name text)',
      { kind: 'create_table', ifNotExists: false, table: table('t'), columns: [col('id', native('int'), { primaryKey: true }), col('name', native('text'))], primaryKey: null, clusteringOrder: [], properties: [] },
    ],
    [
      'CREATE TABLE IF NOT EXISTS ks.events (p1 int, p2 text, c1 timestamp, c2 uuid, s varchar STATIC, v blob, PRIMARY KEY ((p1, p2), c1, c2)) WITH CLUSTERING ORDER BY (c1 DESC, c2 ASC) AND default_time_to_live = 3600 AND gc_grace_seconds = 0',
      {
        kind: 'create_table',
        ifNotExists: true,
        table: table('events', 'ks'),
        columns: [col('p1', native('int')), col('p2', native('text')), col('c1', native('timestamp')), col('c2', native('uuid')), col('s', native('varchar'), { isStatic: true }), col('v', native('blob'))],
        primaryKey: { partition: ['p1', 'p2'], clustering: ['c1', 'c2'] },
        clusteringOrder: [
          { column: 'c1', order: 'DESC' },
          { column: 'c2', order: 'ASC' },
        ],
        properties: [
          { name: 'default_time_to_live', value: int('3600') },
          { name: 'gc_grace_seconds', value: int('0') },
        ],
      },
    ],
    [
      "CREATE TABLE t (k int, c int, PRIMARY KEY (k, c),) WITH conflict_resolution = 'siblings' AND compaction = {'class': 'SizeTieredCompactionStrategy', 'min_threshold': 4} AND read_repair = 'NONE' AND speculative_retry = '99p'",
      {
        kind: 'create_table',
        ifNotExists: false,
        table: table('t'),
        columns: [col('k', native('int')), col('c', native('int'))],
        primaryKey: { partition: ['k'], clustering: ['c'] },
        clusteringOrder: [],
        properties: [
          { name: 'conflict_resolution', value: str('siblings') },
          { name: 'compaction', value: { kind: 'map', entries: [{ key: str('class'), value: str('SizeTieredCompactionStrategy') }, { key: str('min_threshold'), value: int('4') }] } },
          { name: 'read_repair', value: str('NONE') },
          { name: 'speculative_retry', value: str('99p') },
        ],
      },
    ],
    [
      'CREATE COLUMNFAMILY t (k int PRIMARY KEY, l list<int>, s set<frozen<map<text, bigint>>>, m map<timeuuid, frozen<list<text>>>)',
      {
        kind: 'create_table',
        ifNotExists: false,
        table: table('t'),
        columns: [
          col('k', native('int'), { primaryKey: true }),
          col('l', { kind: 'list', element: native('int') }),
          col('s', { kind: 'set', element: { kind: 'frozen', inner: { kind: 'map', key: native('text'), value: native('bigint') } } }),
          col('m', { kind: 'map', key: native('timeuuid'), value: { kind: 'frozen', inner: { kind: 'list', element: native('text') } } }),
        ],
        primaryKey: null,
        clusteringOrder: [],
        properties: [],
      },
    ],
    [
      // Unreserved keywords are column names; a quoted name keeps its case.
      'CREATE TABLE "Things" (key int, ttl int, writetime int, count int, type text, timestamp timestamp, date date, time time, text text, values int, json text, keys int, static int static, frozen int, distinct int, as int, "Select" int, PRIMARY KEY (key))',
      {
        kind: 'create_table',
        ifNotExists: false,
        table: table('Things'),
        columns: [
          col('key', native('int')),
          col('ttl', native('int')),
          col('writetime', native('int')),
          col('count', native('int')),
          col('type', native('text')),
          col('timestamp', native('timestamp')),
          col('date', native('date')),
          col('time', native('time')),
          col('text', native('text')),
          col('values', native('int')),
          col('json', native('text')),
          col('keys', native('int')),
          col('static', native('int'), { isStatic: true }),
          col('frozen', native('int')),
          col('distinct', native('int')),
          col('as', native('int')),
          col('Select', native('int')),
        ],
        primaryKey: { partition: ['key'], clustering: [] },
        clusteringOrder: [],
        properties: [],
      },
    ],
    [
      'CREATE TABLE t (a ascii, b bigint, c boolean, d counter, e decimal, f double, g float, h inet, i smallint, j tinyint, k varint PRIMARY KEY)',
      {
        kind: 'create_table',
        ifNotExists: false,
        table: table('t'),
        columns: [
          col('a', native('ascii')),
          col('b', native('bigint')),
          col('c', native('boolean')),
          col('d', native('counter')),
          col('e', native('decimal')),
          col('f', native('double')),
          col('g', native('float')),
          col('h', native('inet')),
          col('i', native('smallint')),
          col('j', native('tinyint')),
          col('k', native('varint'), { primaryKey: true }),
        ],
        primaryKey: null,
        clusteringOrder: [],
        properties: [],
      },
    ],
  ])('%s', (text, expected) => {
    expect(statementOf(text)).toEqual(expected);
  });
});

describe('parse: ALTER TABLE', () => {
  it.each<[string, Statement]>([
    ['ALTER TABLE t ADD c int', { kind: 'alter_table', table: table('t'), action: { kind: 'add', columns: [col('c', native('int'))] } }],
    ['ALTER TABLE ks.t ADD s text STATIC', { kind: 'alter_table', table: table('t', 'ks'), action: { kind: 'add', columns: [col('s', native('text'), { isStatic: true })] } }],
    [
      'ALTER TABLE t ADD (a int, b set<text>)',
      { kind: 'alter_table', table: table('t'), action: { kind: 'add', columns: [col('a', native('int')), col('b', { kind: 'set', element: native('text') })] } },
    ],
    ['ALTER TABLE t DROP c', { kind: 'alter_table', table: table('t'), action: { kind: 'drop', columns: ['c'] } }],
    ['ALTER TABLE t DROP (a, "B")', { kind: 'alter_table', table: table('t'), action: { kind: 'drop', columns: ['a', 'B'] } }],
    [
      "ALTER TABLE t WITH gc_grace_seconds = 10 AND read_repair = 'BLOCKING'",
      { kind: 'alter_table', table: table('t'), action: { kind: 'with', properties: [{ name: 'gc_grace_seconds', value: int('10') }, { name: 'read_repair', value: str('BLOCKING') }] } },
    ],
  ])('%s', (text, expected) => {
    expect(statementOf(text)).toEqual(expected);
  });
});

// ---- data statements -----------------------------------------------------------------------------

describe('parse: INSERT', () => {
  it.each<[string, Statement]>([
    ["INSERT INTO t (a, b) VALUES (1, 'x')", { kind: 'insert', table: table('t'), columns: ['a', 'b'], values: [int('1'), str('x')], ifNotExists: false, using: NO_USING }],
    [
      'INSERT INTO ks.t (a, "B") VALUES (?, ?) IF NOT EXISTS USING TTL 10 AND TIMESTAMP 123',
      { kind: 'insert', table: table('t', 'ks'), columns: ['a', 'B'], values: [bind(0), bind(1)], ifNotExists: true, using: { ttl: int('10'), timestamp: int('123') } },
    ],
    [
      'INSERT INTO t (a) VALUES (:a) USING TIMESTAMP :ts AND TTL :ttl',
      { kind: 'insert', table: table('t'), columns: ['a'], values: [bind(0, 'a')], ifNotExists: false, using: { ttl: bind(2, 'ttl'), timestamp: bind(1, 'ts') } },
    ],
    [
      "INSERT INTO t (k, l, s, m, e, tu, f) VALUES (-5, [1, 2], {'a', 'b'}, {'k': 1, 'j': -2}, {}, (1, 'x'), toTimestamp(now()))",
      {
        kind: 'insert',
        table: table('t'),
        columns: ['k', 'l', 's', 'm', 'e', 'tu', 'f'],
        values: [
          int('-5'),
          { kind: 'list', elements: [int('1'), int('2')] },
          { kind: 'set', elements: [str('a'), str('b')] },
          { kind: 'map', entries: [{ key: str('k'), value: int('1') }, { key: str('j'), value: int('-2') }] },
          { kind: 'map', entries: [] },
          { kind: 'tuple', elements: [int('1'), str('x')] },
          fn('totimestamp', fn('now')),
        ],
        ifNotExists: false,
        using: NO_USING,
      },
    ],
    [
      'INSERT INTO t (a, b, c, d, e, f, g, h, i) VALUES (1.5, -2e3, NaN, -Infinity, true, null, 123e4567-e89b-12d3-a456-426614174000, 0xCAFE, [])',
      {
        kind: 'insert',
        table: table('t'),
        columns: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'],
        values: [flt('1.5'), flt('-2e3'), flt('NaN'), flt('-Infinity'), { kind: 'boolean', value: true }, { kind: 'null' }, { kind: 'uuid', text: '123e4567-e89b-12d3-a456-426614174000' }, { kind: 'hex', text: '0xcafe' }, { kind: 'list', elements: [] }],
        ifNotExists: false,
        using: NO_USING,
      },
    ],
    [
      "INSERT INTO t (a) VALUES ($$it's$$)",
      { kind: 'insert', table: table('t'), columns: ['a'], values: [str("it's")], ifNotExists: false, using: NO_USING },
    ],
    [
      "INSERT INTO t JSON '{\"a\": 1}'",
      { kind: 'insert_json', table: table('t'), json: str('{"a": 1}'), defaultUnset: false, ifNotExists: false, using: NO_USING },
    ],
    [
      'INSERT INTO ks.t JSON ? DEFAULT UNSET IF NOT EXISTS USING TTL 5',
      { kind: 'insert_json', table: table('t', 'ks'), json: bind(0), defaultUnset: true, ifNotExists: true, using: { ttl: int('5'), timestamp: null } },
    ],
    [
      "INSERT INTO t JSON '{}' DEFAULT NULL",
      { kind: 'insert_json', table: table('t'), json: str('{}'), defaultUnset: false, ifNotExists: false, using: NO_USING },
    ],
    [
      // A table named json is still a table.
      'INSERT INTO json (a) VALUES (1)',
      { kind: 'insert', table: table('json'), columns: ['a'], values: [int('1')], ifNotExists: false, using: NO_USING },
    ],
  ])('%s', (text, expected) => {
    expect(statementOf(text)).toEqual(expected);
  });
});

describe('parse: UPDATE', () => {
  it.each<[string, Statement]>([
    [
      "UPDATE t SET a = 1, b = 'x' WHERE k = 1",
      { kind: 'update', table: table('t'), using: NO_USING, assignments: [{ kind: 'set', column: 'a', value: int('1') }, { kind: 'set', column: 'b', value: str('x') }], where: [eq('k', int('1'))], ifExists: false, conditions: [] },
    ],
    [
      "UPDATE ks.t USING TTL 60 AND TIMESTAMP 5 SET l = l + [1], l = [0] + l, s = s - {'x'}, m['k'] = 'v', l[2] = 7, n = n + 1, n = n - 1, n = n -1, n += 2, n -= 3 WHERE k = ? AND c >= 3",
      {
        kind: 'update',
        table: table('t', 'ks'),
        using: { ttl: int('60'), timestamp: int('5') },
        assignments: [
          { kind: 'add', column: 'l', value: { kind: 'list', elements: [int('1')] } },
          { kind: 'prepend', column: 'l', value: { kind: 'list', elements: [int('0')] } },
          { kind: 'subtract', column: 's', value: { kind: 'set', elements: [str('x')] } },
          { kind: 'set_element', column: 'm', element: str('k'), value: str('v') },
          { kind: 'set_element', column: 'l', element: int('2'), value: int('7') },
          { kind: 'add', column: 'n', value: int('1') },
          { kind: 'subtract', column: 'n', value: int('1') },
          { kind: 'add', column: 'n', value: int('-1') },
          { kind: 'add', column: 'n', value: int('2') },
          { kind: 'subtract', column: 'n', value: int('3') },
        ],
        where: [eq('k', bind(0)), { kind: 'compare', column: 'c', op: '>=', value: int('3') }],
        ifExists: false,
        conditions: [],
      },
    ],
    [
      'UPDATE t SET a = now() WHERE k = 1 IF EXISTS',
      { kind: 'update', table: table('t'), using: NO_USING, assignments: [{ kind: 'set', column: 'a', value: fn('now') }], where: [eq('k', int('1'))], ifExists: true, conditions: [] },
    ],
    [
      "UPDATE t SET a = 2 WHERE k = 1 IF a = 1 AND m['x'] != null AND b > ?",
      {
        kind: 'update',
        table: table('t'),
        using: NO_USING,
        assignments: [{ kind: 'set', column: 'a', value: int('2') }],
        where: [eq('k', int('1'))],
        ifExists: false,
        conditions: [
          { column: 'a', element: null, op: '=', value: int('1') },
          { column: 'm', element: str('x'), op: '!=', value: { kind: 'null' } },
          { column: 'b', element: null, op: '>', value: bind(0) },
        ],
      },
    ],
    [
      // Unreserved keywords as column names on either side of `=`.
      'UPDATE t SET key = key + 1, ttl = 3 WHERE type = 1',
      { kind: 'update', table: table('t'), using: NO_USING, assignments: [{ kind: 'add', column: 'key', value: int('1') }, { kind: 'set', column: 'ttl', value: int('3') }], where: [eq('type', int('1'))], ifExists: false, conditions: [] },
    ],
  ])('%s', (text, expected) => {
    expect(statementOf(text)).toEqual(expected);
  });
});

describe('parse: DELETE', () => {
  it.each<[string, Statement]>([
    ['DELETE FROM t WHERE k = 1', { kind: 'delete', table: table('t'), targets: [], using: NO_USING, where: [eq('k', int('1'))], ifExists: false, conditions: [] }],
    [
      "DELETE a, m['k'], l[0] FROM ks.t USING TIMESTAMP 99 WHERE k = 1 AND c > 2 AND c <= 5",
      {
        kind: 'delete',
        table: table('t', 'ks'),
        targets: [
          { column: 'a', element: null },
          { column: 'm', element: str('k') },
          { column: 'l', element: int('0') },
        ],
        using: { ttl: null, timestamp: int('99') },
        where: [eq('k', int('1')), { kind: 'compare', column: 'c', op: '>', value: int('2') }, { kind: 'compare', column: 'c', op: '<=', value: int('5') }],
        ifExists: false,
        conditions: [],
      },
    ],
    ['DELETE FROM t WHERE k IN (1, 2) IF EXISTS', { kind: 'delete', table: table('t'), targets: [], using: NO_USING, where: [{ kind: 'in', column: 'k', values: [int('1'), int('2')] }], ifExists: true, conditions: [] }],
    [
      'DELETE FROM t WHERE k = 1 IF a = 3',
      { kind: 'delete', table: table('t'), targets: [], using: NO_USING, where: [eq('k', int('1'))], ifExists: false, conditions: [{ column: 'a', element: null, op: '=', value: int('3') }] },
    ],
  ])('%s', (text, expected) => {
    expect(statementOf(text)).toEqual(expected);
  });
});

describe('parse: SELECT', () => {
  const base = { kind: 'select', table: table('t'), distinct: false, items: null, where: [], orderBy: [], perPartitionLimit: null, limit: null, allowFiltering: false } as const;
  it.each<[string, Statement]>([
    ['SELECT * FROM t', base],
    ['select * from KS.T;', { ...base, table: table('t', 'ks') }],
    ['SELECT DISTINCT k FROM t', { ...base, distinct: true, items: [{ selector: { kind: 'column', name: 'k' }, alias: null }] }],
    // `distinct` as a column name: nothing selectable follows it.
    ['SELECT distinct FROM t', { ...base, items: [{ selector: { kind: 'column', name: 'distinct' }, alias: null }] }],
    ['SELECT distinct, a FROM t', { ...base, items: [{ selector: { kind: 'column', name: 'distinct' }, alias: null }, { selector: { kind: 'column', name: 'a' }, alias: null }] }],
    ['SELECT DISTINCT token(k) FROM t', { ...base, distinct: true, items: [{ selector: { kind: 'token', columns: ['k'] }, alias: null }] }],
    [
      'SELECT a AS x, "B", COUNT(*), count(1) AS n, WRITETIME(v), TTL(v) AS t, token(p1, p2), toDate(ts), now(), toTimestamp(now()), blobAsText(b, 1), count(c), ttl, writetime, count FROM t',
      {
        ...base,
        items: [
          { selector: { kind: 'column', name: 'a' }, alias: 'x' },
          { selector: { kind: 'column', name: 'B' }, alias: null },
          { selector: { kind: 'count' }, alias: null },
          { selector: { kind: 'count' }, alias: 'n' },
          { selector: { kind: 'writetime', column: 'v' }, alias: null },
          { selector: { kind: 'ttl', column: 'v' }, alias: 't' },
          { selector: { kind: 'token', columns: ['p1', 'p2'] }, alias: null },
          { selector: { kind: 'function', name: 'todate', args: [{ kind: 'column', name: 'ts' }] }, alias: null },
          { selector: { kind: 'function', name: 'now', args: [] }, alias: null },
          { selector: { kind: 'function', name: 'totimestamp', args: [{ kind: 'function', name: 'now', args: [] }] }, alias: null },
          { selector: { kind: 'function', name: 'blobastext', args: [{ kind: 'column', name: 'b' }, int('1')] }, alias: null },
          { selector: { kind: 'function', name: 'count', args: [{ kind: 'column', name: 'c' }] }, alias: null },
          { selector: { kind: 'column', name: 'ttl' }, alias: null },
          { selector: { kind: 'column', name: 'writetime' }, alias: null },
          { selector: { kind: 'column', name: 'count' }, alias: null },
        ],
      },
    ],
    [
      "SELECT * FROM t WHERE k = 1 AND c != 2 AND c < 3 AND c <= 4 AND c > 5 AND c >= 6 AND k IN (1, ?) AND k IN ? AND k IN :ks AND k IN () AND l CONTAINS 'x' AND m CONTAINS KEY ? AND (c1, c2) > (1, 2) AND (c1, c2) <= ? AND token(k) > ? AND token(a, b) <= token(1, 2)",
      {
        ...base,
        where: [
          eq('k', int('1')),
          { kind: 'compare', column: 'c', op: '!=', value: int('2') },
          { kind: 'compare', column: 'c', op: '<', value: int('3') },
          { kind: 'compare', column: 'c', op: '<=', value: int('4') },
          { kind: 'compare', column: 'c', op: '>', value: int('5') },
          { kind: 'compare', column: 'c', op: '>=', value: int('6') },
          { kind: 'in', column: 'k', values: [int('1'), bind(0)] },
          { kind: 'in', column: 'k', values: { kind: 'bind', index: 1, name: null } },
          { kind: 'in', column: 'k', values: { kind: 'bind', index: 2, name: 'ks' } },
          { kind: 'in', column: 'k', values: [] },
          { kind: 'contains', column: 'l', key: false, value: str('x') },
          { kind: 'contains', column: 'm', key: true, value: bind(3) },
          { kind: 'multi_compare', columns: ['c1', 'c2'], op: '>', value: { kind: 'tuple', elements: [int('1'), int('2')] } },
          { kind: 'multi_compare', columns: ['c1', 'c2'], op: '<=', value: bind(4) },
          { kind: 'token', columns: ['k'], op: '>', value: bind(5) },
          { kind: 'token', columns: ['a', 'b'], op: '<=', value: fn('token', int('1'), int('2')) },
        ],
      },
    ],
    [
      'SELECT * FROM t WHERE k = 1 ORDER BY c1 DESC, c2 ASC, c3 PER PARTITION LIMIT 2 LIMIT ? ALLOW FILTERING',
      {
        ...base,
        where: [eq('k', int('1'))],
        orderBy: [
          { column: 'c1', order: 'DESC' },
          { column: 'c2', order: 'ASC' },
          { column: 'c3', order: 'ASC' },
        ],
        perPartitionLimit: int('2'),
        limit: bind(0),
        allowFiltering: true,
      },
    ],
    ['SELECT * FROM t LIMIT 10', { ...base, limit: int('10') }],
    ['SELECT * FROM t PER PARTITION LIMIT :n', { ...base, perPartitionLimit: bind(0, 'n') }],
    ['SELECT * FROM t ALLOW FILTERING', { ...base, allowFiltering: true }],
    [
      // Unreserved keywords as column, table and keyspace names.
      'SELECT key, values, type FROM type.values WHERE key = 1 AND filtering = 2 AND "WHERE" = 3',
      {
        ...base,
        table: table('values', 'type'),
        items: [
          { selector: { kind: 'column', name: 'key' }, alias: null },
          { selector: { kind: 'column', name: 'values' }, alias: null },
          { selector: { kind: 'column', name: 'type' }, alias: null },
        ],
        where: [eq('key', int('1')), eq('filtering', int('2')), eq('WHERE', int('3'))],
      },
    ],
  ])('%s', (text, expected) => {
    expect(statementOf(text)).toEqual(expected);
  });
});

describe('parse: BATCH', () => {
  it('parses a logged batch with its statements and USING', () => {
    const text = `BEGIN BATCH USING TIMESTAMP 7
      INSERT INTO t (a, b) VALUES (?, ?);
      UPDATE t SET b = ? WHERE a = ?
      DELETE FROM t WHERE a = :last;
    APPLY BATCH;`;
    const { statement, markers } = parse(text);
    expect(statement).toEqual({
      kind: 'batch',
      type: 'logged',
      using: { ttl: null, timestamp: int('7') },
      statements: [
        { kind: 'insert', table: table('t'), columns: ['a', 'b'], values: [bind(0), bind(1)], ifNotExists: false, using: NO_USING },
        { kind: 'update', table: table('t'), using: NO_USING, assignments: [{ kind: 'set', column: 'b', value: bind(2) }], where: [eq('a', bind(3))], ifExists: false, conditions: [] },
        { kind: 'delete', table: table('t'), targets: [], using: NO_USING, where: [eq('a', bind(4, 'last'))], ifExists: false, conditions: [] },
      ],
    });
    expect(markers).toEqual([null, null, null, null, 'last']);
  });

  it.each<[string, 'logged' | 'unlogged' | 'counter']>([
    ['BEGIN UNLOGGED BATCH INSERT INTO t (a) VALUES (1) APPLY BATCH', 'unlogged'],
    ['begin counter batch update c set n = n + 1 where k = 1; apply batch', 'counter'],
    ['BEGIN BATCH APPLY BATCH', 'logged'],
  ])('%s', (text, type) => {
    const statement = statementOf(text);
    expect(statement.kind).toBe('batch');
    expect(statement.kind === 'batch' && statement.type).toBe(type);
  });
});

describe('parse: bind markers', () => {
  it('numbers markers in order of appearance, with names', () => {
    const { markers, statement } = parse('SELECT * FROM t WHERE a = :A AND b IN ? AND c = ? AND d = :"Dee" AND e = :a LIMIT :lim');
    expect(markers).toEqual(['a', null, null, 'Dee', 'a', 'lim']);
    expect(statement.kind === 'select' && statement.limit).toEqual(bind(5, 'lim'));
  });

  it('numbers markers inside nested terms and USING', () => {
    const { markers, statement } = parse('UPDATE t USING TTL ? SET m = {?: [?, ?]}, l[?] = ? WHERE k = ? IF a = ?');
    expect(markers).toHaveLength(8);
    expect(statement).toMatchObject({
      using: { ttl: bind(0), timestamp: null },
      assignments: [
        { kind: 'set', column: 'm', value: { kind: 'map', entries: [{ key: bind(1), value: { kind: 'list', elements: [bind(2), bind(3)] } }] } },
        { kind: 'set_element', column: 'l', element: bind(4), value: bind(5) },
      ],
      where: [eq('k', bind(6))],
      conditions: [{ column: 'a', element: null, op: '=', value: bind(7) }],
    });
  });

  it('joins a named marker inside a map even without spaces', () => {
    expect(statementOf("INSERT INTO t (m) VALUES ({'k'::v, 'j':now()})")).toMatchObject({
      values: [{ kind: 'map', entries: [{ key: str('k'), value: bind(0, 'v') }, { key: str('j'), value: fn('now') }] }],
    });
  });

  it('has no markers in a statement without any', () => {
    expect(parse('SELECT * FROM t').markers).toEqual([]);
  });
});

describe('parse: comments and layout', () => {
  it('ignores comments and whitespace anywhere', () => {
    const text = `-- leading comment
      SELECT /* inline */ a // trailing
      FROM t -- more
      WHERE k = 1 ; -- after the semicolon
      /* and a block */`;
    expect(statementOf(text)).toMatchObject({ kind: 'select', items: [{ selector: { kind: 'column', name: 'a' } }], where: [eq('k', int('1'))] });
  });
});

// ---- errors --------------------------------------------------------------------------------------

describe('parse: syntax errors', () => {
  it.each<[string, string]>([
    ['SELECT * FRM t', "line 1:10 mismatched input 'FRM' expecting FROM"],
    ['SELEC * FROM t', "line 1:1 no viable alternative at input 'SELEC'"],
    ['', "line 1:1 no viable alternative at input '<EOF>'"],
    ['-- only a comment', "line 1:18 no viable alternative at input '<EOF>'"],
    ['SELECT * FROM t WHERE', "line 1:22 no viable alternative at input '<EOF>'"],
    ['SELECT * FROM t;;', "line 1:17 mismatched input ';' expecting EOF"],
    ['SELECT * FROM t; SELECT * FROM u', "line 1:18 mismatched input 'SELECT' expecting EOF"],
    ['SELECT * FROM t\nWHERE k = 1\n  LIMIT x', "line 3:9 no viable alternative at input 'x'"],
    ['INSERT INTO t (a) VALUES (1', "line 1:28 mismatched input '<EOF>' expecting ')'"],
    ['INSERT INTO t (a) VALUES ()', "line 1:27 no viable alternative at input ')'"],
    ['INSERT INTO t () VALUES (1)', "line 1:16 no viable alternative at input ')'"],
    ['CREATE TABLE select (a int PRIMARY KEY)', "line 1:14 no viable alternative at input 'select'"],
    ['SELECT * FROM t WHERE from = 1', "line 1:23 no viable alternative at input 'from'"],
    ['CREATE TABLE t (a int PRIMARY KEY) WITH CLUSTERING ORDER BY (a)', "line 1:63 no viable alternative at input ')'"],
    ['CREATE TABLE t (a int PRIMARY KEY) WITH x = 1 AND x = 2', "line 1:51 Multiple definition for property x"],
    ['CREATE TABLE t (a int PRIMARY KEY) WITH CLUSTERING ORDER BY (a ASC) AND CLUSTERING ORDER BY (a ASC)', "line 1:73 Multiple definition for property clustering order"],
    ['CREATE TABLE t (a int PRIMARY KEY) WITH x = ?', "line 1:45 no viable alternative at input '?'"],
    ['CREATE KEYSPACE ks WITH replication = {?: 1}', "line 1:40 bind variables are not supported in DDL queries"],
    ['CREATE KEYSPACE ks', "line 1:19 mismatched input '<EOF>' expecting WITH"],
    ['CREATE INDEX i ON t (a)', "line 1:8 no viable alternative at input 'INDEX'"],
    ['USE ?', 'line 1:5 Bind variables cannot be used for keyspace names'],
    ['SELECT * FROM ks.?', 'line 1:18 Bind variables cannot be used for table names'],
    ['SELECT * FROM ""', "line 1:15 no viable alternative at input '\"\"'"],
    ['INSERT INTO t (a) VALUES (1) USING TTL 1 AND TTL 2', 'line 1:46 Multiple definition for TTL'],
    ['INSERT INTO t (a) VALUES (1) USING TIMESTAMP 1 AND TIMESTAMP 2', 'line 1:52 Multiple definition for TIMESTAMP'],
    ['DELETE FROM t USING TTL 5 WHERE k = 1', "line 1:21 mismatched input 'TTL' expecting TIMESTAMP"],
    ['BEGIN BATCH SELECT * FROM t APPLY BATCH', "line 1:13 mismatched input 'SELECT' expecting APPLY"],
    ['BEGIN BATCH INSERT INTO t (a) VALUES (1);', "line 1:42 mismatched input '<EOF>' expecting APPLY"],
    ['UPDATE t SET a = b WHERE k = 1', "line 1:20 no viable alternative at input 'WHERE'"],
    ['UPDATE t SET a = 1 - a WHERE k = 1', "line 1:20 mismatched input '-' expecting WHERE"],
    ['SELECT * FROM t WHERE k = - 1', "line 1:27 no viable alternative at input '-'"],
    ['SELECT * FROM t WHERE (a, b) > 1', "line 1:32 no viable alternative at input '1'"],
    ["SELECT * FROM t WHERE k = 'unterminated", "line 1:40 mismatched character '<EOF>' expecting '''"],
    ['SELECT * FROM t WHERE k = 1 # 2', "line 1:29 no viable alternative at character '#'"],
    ['CREATE TABLE t (a list<int PRIMARY KEY)', "line 1:28 mismatched input 'PRIMARY' expecting '>'"],
    ['SELECT * FROM t GROUP BY k', "line 1:17 mismatched input 'GROUP' expecting EOF"],
    ['SELECT * FROM t ORDER c', "line 1:23 mismatched input 'c' expecting BY"],
    ['ALTER TABLE t RENAME a TO b', "line 1:15 no viable alternative at input 'RENAME'"],
    ['SELECT a AS FROM t', "line 1:13 no viable alternative at input 'FROM'"],
    [`SELECT * FROM t WHERE k = '${'x'.repeat(100)}' LIMIT x`, "line 1:136 no viable alternative at input 'x'"],
    [`SELECT * FROM t WHERE k = 1 ${'x'.repeat(100)}`, `line 1:29 mismatched input '${'x'.repeat(40)}...' expecting EOF`],
  ])('%s', (text, message) => {
    const e = syntaxError(text);
    expect(e.message).toBe(message);
    const [, line, column] = /^line (\d+):(\d+) /.exec(e.message)!;
    expect({ line: e.line, column: e.column }).toEqual({ line: Number(line), column: Number(column) });
    expect(e.code).toBe('SyntaxError');
  });

  it('reports lines and columns across lines', () => {
    const e = syntaxError('SELECT a,\n       b\nFROM t\nWHERE k = 1\nAND AND');
    expect({ line: e.line, column: e.column }).toEqual({ line: 5, column: 5 });
  });
});

describe('parse: invalid requests', () => {
  it.each<[string, string]>([
    ['UPDATE t SET c = d + 1 WHERE k = 1', 'Only expressions of the form X = X + <value> are supported.'],
    ['UPDATE t SET c = d - 1 WHERE k = 1', 'Only expressions of the form X = X - <value> are supported.'],
    ['UPDATE t SET c = d -1 WHERE k = 1', 'Only expressions of the form X = X - <value> are supported.'],
    ['UPDATE t SET l = [1] + d WHERE k = 1', 'Only expressions of the form X = <value> + X are supported.'],
    ['INSERT INTO t (a, b) VALUES (1)', 'Unmatched column names/values'],
    ['SELECT * FROM t WHERE (a, b) IN ((1, 2), (3, 4))', 'Multi-column IN relations are not supported'],
    ["SELECT * FROM t WHERE m['k'] = 1", 'Relations on map elements (m[…]) are not supported'],
    ['UPDATE t SET a = 1 WHERE k = 1 IF a IN (1, 2)', 'IN conditions are not supported'],
    ['UPDATE t SET a = 1 WHERE k = 1 IF l CONTAINS 1', 'CONTAINS conditions are not supported'],
    ['CREATE TABLE t (a int, PRIMARY KEY (a), PRIMARY KEY (a))', 'Multiple PRIMARY KEYs specified (exactly one required)'],
    ['CREATE TABLE t (a int PRIMARY KEY) WITH COMPACT STORAGE', 'COMPACT STORAGE tables are not supported'],
    ['CREATE TABLE t (a address PRIMARY KEY)', 'Unknown type address'],
    ['BEGIN BATCH USING TTL 5 INSERT INTO t (a) VALUES (1) APPLY BATCH', 'Global TTL on the BATCH statement is not supported.'],
  ])('%s', (text, message) => {
    const e = parseError(text);
    expect(e).toBeInstanceOf(InvalidRequest);
    expect(e.message).toBe(message);
  });

  it('reports a later syntax error before an earlier invalid part', () => {
    expect(syntaxError('UPDATE t SET c = d + 1 WHERE').message).toBe("line 1:29 no viable alternative at input '<EOF>'");
  });
});

describe('parse: bounds', () => {
  it(`refuses statements longer than ${MAX_STATEMENT_CHARS} characters`, () => {
    const text = `SELECT * FROM t WHERE k = '${'x'.repeat(MAX_STATEMENT_CHARS)}'`;
    const e = syntaxError(text);
    expect(e.message).toMatch(/^line 1:1 statement too long/);
  });

  it('accepts nesting up to the limit and refuses deeper nesting', () => {
    const nestedList = (depth: number): string => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
    expect(() => parse(`INSERT INTO t (a) VALUES (${nestedList(MAX_NESTING_DEPTH - 1)})`)).not.toThrow();
    const e = syntaxError(`INSERT INTO t (a) VALUES (${nestedList(MAX_NESTING_DEPTH + 1)})`);
    expect(e.message).toMatch(/nesting too deep/);
    const deepType = `CREATE TABLE t (a ${'frozen<'.repeat(MAX_NESTING_DEPTH + 1)}int${'>'.repeat(MAX_NESTING_DEPTH + 1)} PRIMARY KEY)`;
    expect(syntaxError(deepType).message).toMatch(/nesting too deep/);
    const deepCall = `SELECT ${'f('.repeat(MAX_NESTING_DEPTH + 1)}a${')'.repeat(MAX_NESTING_DEPTH + 1)} FROM t`;
    expect(syntaxError(deepCall).message).toMatch(/nesting too deep/);
    const deepTerm = `SELECT * FROM t WHERE k = ${'f('.repeat(100_000)}`;
    expect(syntaxError(deepTerm).message).toMatch(/nesting too deep/);
  });

  it(`refuses more than ${MAX_BIND_MARKERS} markers`, () => {
    const ok = `SELECT * FROM t WHERE k IN (${Array(MAX_BIND_MARKERS).fill('?').join(',')})`;
    expect(parse(ok).markers).toHaveLength(MAX_BIND_MARKERS);
    const e = parseError(`SELECT * FROM t WHERE k IN (${Array(MAX_BIND_MARKERS + 1).fill('?').join(',')})`);
    expect(e).toBeInstanceOf(InvalidRequest);
  });

  it('parses a typical INSERT in well under 50 µs', () => {
    const text = "INSERT INTO ks.users (id, name, email, age, tags) VALUES (?, 'ada', 'ada@example.com', 36, {'a', 'b'}) USING TTL 3600";
    for (let i = 0; i < 2_000; i++) parse(text);
    const runs = 20_000;
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) parse(text);
    const microsPerParse = ((performance.now() - t0) * 1000) / runs;
    expect(microsPerParse).toBeLessThan(50);
  });

  it('is linear: a 600 kB IN list parses quickly', () => {
    const text = `SELECT * FROM t WHERE k IN (${Array.from({ length: 100_000 }, (_, i) => i).join(', ')})`;
    const t0 = performance.now();
    const { statement } = parse(text);
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(statement.kind === 'select' && statement.where[0]?.kind === 'in' && Array.isArray(statement.where[0].values) && statement.where[0].values.length).toBe(100_000);
  });
});

describe('parse: no quadratic corners', () => {
  it.each<[string, string]>([
    ['many strings on one long line before a line break', `SELECT * FROM t WHERE k IN (${Array(60_000).fill("'ab'").join(',')})\n`],
    ['many block comments before a line break', `SELECT * FROM t WHERE k IN (${Array(60_000).fill('/**/1').join(',')})\n`],
    ['many properties', `CREATE TABLE t (k int PRIMARY KEY) WITH ${Array.from({ length: 30_000 }, (_, i) => `p${i} = 1`).join(' AND ')}`],
  ])('%s', (_name, text) => {
    const t0 = performance.now();
    parse(text);
    expect(performance.now() - t0).toBeLessThan(2_000);
  });
});

describe('parse with splitStatements', () => {
  it('parses every statement a shell script splits into', async () => {
    const { splitStatements } = await import('../../../src/cql/lexer.js');
    const script = `
      CREATE KEYSPACE IF NOT EXISTS ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1};
      USE ks; -- switch
      CREATE TABLE t (k int, c int, v text, PRIMARY KEY (k, c));
      BEGIN UNLOGGED BATCH
        INSERT INTO t (k, c, v) VALUES (1, 1, 'a;b');
        INSERT INTO t (k, c, v) VALUES (1, 2, $$c;d$$);
      APPLY BATCH;
      /* a comment; with a semicolon */
      SELECT * FROM t WHERE k = 1;
    `;
    const { statements, rest } = splitStatements(script);
    expect(rest.trim()).toBe('');
    expect(statements.map((s) => parse(s).statement.kind)).toEqual(['create_keyspace', 'use', 'create_table', 'batch', 'select']);
  });
});
