/** The CQL shell's pure parts: value and table formatting, commands, DESCRIBE, HELP, statement splitting. */
import { describe, expect, it } from 'vitest';
import { isShellCommandLine, parseQualifiedName, parseShellCommand, quoteIdentifier } from '../../src/cli/cql-shell/commands.js';
import { describe as describeSchema, DescribeError } from '../../src/cli/cql-shell/describe.js';
import { formatTable, formatVertical } from '../../src/cli/cql-shell/format-table.js';
import { displayWidth, formatTimestamp, formatValue, parseCqlType } from '../../src/cli/cql-shell/format-value.js';
import { helpText } from '../../src/cli/cql-shell/help.js';
import { StatementBuffer, StatementTooLong } from '../../src/cli/cql-shell/statement-buffer.js';
import { FAKE_SCHEMA } from '../helpers/fake-cql-server.js';

const fmt = (value: unknown, type: string | null) => formatValue(value, type === null ? null : parseCqlType(type));

describe('formatValue', () => {
  it('parses nested CQL types and rejects malformed ones', () => {
    expect(parseCqlType('map<text, frozen<list<int>>>')).toEqual({
      name: 'map',
      params: [
        { name: 'text', params: [] },
        { name: 'frozen', params: [{ name: 'list', params: [{ name: 'int', params: [] }] }] },
      ],
    });
    expect(parseCqlType('list<int')).toBeNull();
    expect(parseCqlType('map<text,>')).toBeNull();
  });

  it('shows scalars as cqlsh does', () => {
    expect(fmt(null, 'int')).toBe('null');
    expect(fmt(42, 'int')).toBe('42');
    expect(fmt('12345678901234567890', 'varint')).toBe('12345678901234567890');
    expect(fmt(true, 'boolean')).toBe('True');
    expect(fmt(false, 'boolean')).toBe('False');
    expect(fmt('ada', 'text')).toBe('ada');
    expect(fmt('2024-01-02T03:04:05.678Z', 'timestamp')).toBe('2024-01-02 03:04:05.678000+0000');
    expect(fmt('0xcafe', 'blob')).toBe('0xcafe');
    expect(fmt('1.5', 'decimal')).toBe('1.5');
  });

  it('escapes control characters so a value stays on one line', () => {
    expect(fmt('a\nb\tc\u0007\\', 'text')).toBe('a\\nb\\tc\\x07\\\\');
  });

  it('shows collections with quoted text inside', () => {
    expect(fmt(['a', "it's"], 'list<text>')).toBe("['a', 'it''s']");
    expect(fmt(['x', 'y'], 'set<text>')).toBe("{'x', 'y'}");
    expect(fmt([1, 2], 'frozen<set<int>>')).toBe('{1, 2}');
    expect(fmt({ k: 1, 'k 2': 2 }, 'map<text, int>')).toBe("{'k': 1, 'k 2': 2}");
    expect(fmt({ '1': 'one', '2': null }, 'map<int, text>')).toBe("{1: 'one', 2: null}");
    expect(fmt({ a: [true] }, 'map<text, list<boolean>>')).toBe("{'a': [True]}");
  });

  it('formats a value from its JSON shape when the type is unknown or does not match', () => {
    expect(fmt([1, 'a', { b: null }], null)).toBe("[1, 'a', {'b': null}]");
    expect(fmt('not a list', 'list<int>')).toBe('not a list');
    expect(fmt(3, 'mystery<')).toBe('3');
  });

  it('counts display width in terminal columns', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('日本')).toBe(4);
    expect(displayWidth('e\u0301')).toBe(1);
    expect(formatTimestamp('not a time')).toBe('not a time');
  });
});

describe('formatTable', () => {
  const columns = [
    { name: 'id', type: 'int' },
    { name: 'name', type: 'text' },
  ];

  it("aligns numbers right and text left, in cqlsh's layout", () => {
    const lines = formatTable(columns, [{ id: 1, name: 'ada' }, { id: 22, name: null }, { id: 333, name: 'grace hopper' }], { header: true });
    expect(lines).toEqual([
      ' id  | name',
      '-----+--------------',
      '   1 | ada',
      '  22 | null',
      ' 333 | grace hopper',
    ]);
  });

  it('prints only the header for no rows, and no header for a continued table', () => {
    expect(formatTable(columns, [], { header: true })).toEqual([' id | name', '----+------']);
    expect(formatTable(columns, [{ id: 5, name: 'x' }], { header: false })).toEqual(['  5 | x']);
  });

  it('keeps wide characters aligned', () => {
    expect(formatTable(columns, [{ id: 1, name: '日本' }, { id: 2, name: 'abcde' }], { header: true })).toEqual([
      ' id | name',
      '----+-------',
      '  1 | 日本',
      '  2 | abcde',
    ]);
  });

  it('shows siblings as one more column', () => {
    const lines = formatTable(columns, [{ id: 7, name: 'b', $siblings: [{ id: 7, name: 'a' }, { id: 7, name: 'b' }] }, { id: 8, name: 'c' }], { header: true });
    expect(lines[0]).toBe(' id | name | $siblings');
    expect(lines[2]).toBe("  7 | b    | [{id: 7, name: 'a'}, {id: 7, name: 'b'}]");
    expect(lines[3]).toBe('  8 | c    | null');
  });

  it('takes the columns from the rows when the server sent none', () => {
    expect(formatTable(undefined, [{ a: 1, b: 'x' }], { header: true })).toEqual([' a | b', '---+---', ' 1 | x']);
  });

  it('prints vertical records with EXPAND, numbered across pages', () => {
    expect(formatVertical(columns, [{ id: 1, name: 'ada' }, { id: 2, name: null }], 11)).toEqual([
      '@ Row 11',
      '------+------',
      ' id   | 1',
      ' name | ada',
      '',
      '@ Row 12',
      '------+------',
      ' id   | 2',
      ' name | null',
      '',
    ]);
  });
});

describe('shell commands', () => {
  it('recognises commands case-insensitively, with or without ;', () => {
    expect(parseShellCommand('consistency quorum;')).toEqual({ kind: 'consistency', level: 'QUORUM' });
    expect(parseShellCommand('CONSISTENCY')).toEqual({ kind: 'consistency', level: null });
    expect(parseShellCommand('PAGING 50')).toEqual({ kind: 'paging', setting: 50 });
    expect(parseShellCommand('paging off')).toEqual({ kind: 'paging', setting: 'off' });
    expect(parseShellCommand('Expand ON')).toEqual({ kind: 'expand', on: true });
    expect(parseShellCommand('tracing off')).toEqual({ kind: 'tracing', on: false });
    expect(parseShellCommand('quit')).toEqual({ kind: 'exit' });
    expect(parseShellCommand("SOURCE 'my file.cql'")).toEqual({ kind: 'source', path: 'my file.cql' });
    expect(parseShellCommand('help select')).toEqual({ kind: 'help', topic: 'SELECT' });
    expect(parseShellCommand('SELECT * FROM t')).toBeNull();
    expect(parseShellCommand('USE ks')).toBeNull();
  });

  it('reports misuse instead of guessing', () => {
    expect(parseShellCommand('CONSISTENCY SOMETIMES')).toMatchObject({ kind: 'usage', message: expect.stringContaining('SOMETIMES') });
    expect(parseShellCommand('PAGING maybe')).toMatchObject({ kind: 'usage' });
    expect(parseShellCommand('EXPAND sideways')).toMatchObject({ kind: 'usage' });
    expect(parseShellCommand('DESCRIBE')).toMatchObject({ kind: 'usage' });
    expect(parseShellCommand('SOURCE')).toMatchObject({ kind: 'usage' });
  });

  it('parses every DESCRIBE form', () => {
    const target = (s: string) => (parseShellCommand(s) as { target: unknown }).target;
    expect(target('DESCRIBE KEYSPACES')).toEqual({ kind: 'keyspaces' });
    expect(target('desc keyspace')).toEqual({ kind: 'keyspace', name: null });
    expect(target('DESCRIBE KEYSPACE "MyKs"')).toEqual({ kind: 'keyspace', name: 'MyKs' });
    expect(target('DESCRIBE TABLES')).toEqual({ kind: 'tables' });
    expect(target('DESCRIBE TABLE shop.Users')).toEqual({ kind: 'table', table: { keyspace: 'shop', name: 'users' } });
    expect(target('DESCRIBE FULL SCHEMA')).toEqual({ kind: 'schema', full: true });
    expect(target('DESCRIBE CLUSTER')).toEqual({ kind: 'cluster' });
    expect(target('DESCRIBE shop')).toEqual({ kind: 'name', target: { keyspace: null, name: 'shop' } });
  });

  it('knows which lines are complete commands without ;', () => {
    expect(isShellCommandLine('EXIT')).toBe(true);
    expect(isShellCommandLine('  use shop  ')).toBe(true);
    expect(isShellCommandLine('USE')).toBe(false);
    expect(isShellCommandLine('SELECT * FROM t')).toBe(false);
    expect(isShellCommandLine('CONSISTENCY ONE; SELECT 1;')).toBe(false);
  });

  it('quotes names only when they need it', () => {
    expect(quoteIdentifier('shop')).toBe('shop');
    expect(quoteIdentifier('MyKs')).toBe('"MyKs"');
    expect(quoteIdentifier('a"b')).toBe('"a""b"');
    expect(parseQualifiedName('"a""b".t')).toEqual({ keyspace: 'a"b', name: 't' });
    expect(parseQualifiedName('not a name')).toBeNull();
  });
});

describe('DESCRIBE', () => {
  it('lists keyspaces and tables', () => {
    expect(describeSchema(FAKE_SCHEMA, { kind: 'keyspaces' }, null)).toBe('\nshop    system\n\n');
    expect(describeSchema(FAKE_SCHEMA, { kind: 'tables' }, 'shop')).toBe('\nusers       numbers     empty       conflicted\n\n');
    expect(describeSchema(FAKE_SCHEMA, { kind: 'tables' }, null)).toContain('Keyspace system\n---------------\nlocal\n');
  });

  it('prints the DDL of a keyspace, a table and the schema', () => {
    const ks = describeSchema(FAKE_SCHEMA, { kind: 'keyspace', name: 'shop' }, null);
    expect(ks).toContain('CREATE KEYSPACE shop');
    expect(ks).toContain('CREATE TABLE shop.conflicted');
    expect(describeSchema(FAKE_SCHEMA, { kind: 'table', table: { keyspace: null, name: 'users' } }, 'shop')).toBe(`\n${FAKE_SCHEMA.keyspaces[0]!.tables[0]!.cql}\n\n`);
    const schema = describeSchema(FAKE_SCHEMA, { kind: 'schema', full: false }, null);
    expect(schema).toContain('CREATE TABLE shop.users');
    expect(schema).not.toContain('system');
    expect(describeSchema(FAKE_SCHEMA, { kind: 'schema', full: true }, null)).toContain('CREATE TABLE system.local');
    expect(describeSchema(FAKE_SCHEMA, { kind: 'cluster' }, null)).toContain('Cluster: Fake Cluster\nPartitioner: org.apache.cassandra.dht.Murmur3Partitioner');
    expect(describeSchema(FAKE_SCHEMA, { kind: 'name', target: { keyspace: null, name: 'numbers' } }, 'shop')).toContain('CREATE TABLE shop.numbers');
  });

  it('explains what is missing', () => {
    expect(() => describeSchema(FAKE_SCHEMA, { kind: 'keyspace', name: 'nope' }, null)).toThrow(new DescribeError("Keyspace 'nope' not found"));
    expect(() => describeSchema(FAKE_SCHEMA, { kind: 'table', table: { keyspace: null, name: 'users' } }, null)).toThrow(/No keyspace specified/);
    expect(() => describeSchema(FAKE_SCHEMA, { kind: 'table', table: { keyspace: 'shop', name: 'nope' } }, null)).toThrow("Table 'nope' not found in keyspace 'shop'");
  });
});

describe('HELP', () => {
  it('lists topics and explains one, under any spelling', () => {
    expect(helpText(null)).toContain('Documented shell commands:');
    expect(helpText('paging')).toContain('---MORE---');
    expect(helpText('desc')).toContain('DESCRIBE KEYSPACES');
    expect(helpText('create table')).toContain('PRIMARY KEY');
    expect(helpText('nonsense')).toBeNull();
  });
});

describe('StatementBuffer', () => {
  it('collects a statement over several lines until ;', () => {
    const b = new StatementBuffer();
    expect(b.push('SELECT *')).toEqual([]);
    expect(b.isEmpty).toBe(false);
    expect(b.push('FROM t')).toEqual([]);
    expect(b.push("WHERE s = 'a;b';")).toEqual(["SELECT *\nFROM t\nWHERE s = 'a;b'"]);
    expect(b.isEmpty).toBe(true);
  });

  it('takes shell commands without ;, alone on a line or after the last statement', () => {
    const b = new StatementBuffer();
    expect(b.push('EXIT')).toEqual(['EXIT']);
    expect(b.push('INSERT INTO t (a) VALUES (1); CONSISTENCY ALL')).toEqual(['INSERT INTO t (a) VALUES (1)', 'CONSISTENCY ALL']);
    expect(b.push('SELECT a; SELECT b; SEL')).toEqual(['SELECT a', 'SELECT b']);
    expect(b.isEmpty).toBe(false);
  });

  it('goes back to the primary prompt after comments, not inside a string', () => {
    const b = new StatementBuffer();
    expect(b.push('-- just a comment')).toEqual([]);
    expect(b.isEmpty).toBe(true);
    expect(b.push("INSERT INTO t (s) VALUES ('-- not a comment")).toEqual([]);
    expect(b.push("');")).toEqual(["INSERT INTO t (s) VALUES ('-- not a comment\n')"]);
  });

  it('keeps a batch whole', () => {
    const b = new StatementBuffer();
    expect(b.push('BEGIN BATCH')).toEqual([]);
    expect(b.push("INSERT INTO t (a) VALUES (1);")).toEqual([]);
    expect(b.push("UPDATE t SET b = 'batch' WHERE a = 2;")).toEqual([]);
    expect(b.push('APPLY BATCH;')).toEqual(["BEGIN BATCH\nINSERT INTO t (a) VALUES (1);\nUPDATE t SET b = 'batch' WHERE a = 2;\nAPPLY BATCH"]);
  });

  it('hands back an unterminated statement at the end, and drops one that is too long', () => {
    const b = new StatementBuffer(20);
    b.push('SELECT 1');
    expect(b.finish()).toBe('SELECT 1');
    expect(b.finish()).toBeNull();
    expect(() => b.push('x'.repeat(30))).toThrow(StatementTooLong);
    expect(b.isEmpty).toBe(true);
  });
});
