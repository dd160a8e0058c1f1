/**
 * Every SPEC 4 type through CQL: literals, positional and named parameters, SPEC 3.1's JSON
 * encoding of results, and each native type as a clustering column in ASC and DESC order,
 * with slices (negative numbers, text order, timeuuid order, …).
 */
import { describe, expect, it } from 'vitest';
import { makeTimeUuid } from '../../src/schema/timeuuid.js';
import { useCql } from './kit.js';

interface TypeCase {
  readonly type: string;
  /** CQL literal → expected JSON. */
  readonly literals: readonly (readonly [string, unknown])[];
  /** Parameter JSON → expected JSON. */
  readonly params: readonly (readonly [unknown, unknown])[];
}

const T1 = makeTimeUuid(1_700_000_000_000, 0, 0x8000_0000_0000_0001n);

const TYPES: readonly TypeCase[] = [
  { type: 'ascii', literals: [["'abc'", 'abc'], ["''", ''], ["'it''s'", "it's"]], params: [['xyz', 'xyz']] },
  { type: 'text', literals: [["'héllo 日本'", 'héllo 日本'], ["''", ''], ['$$dollar \'quoted\'$$', "dollar 'quoted'"]], params: [['😀', '😀']] },
  { type: 'varchar', literals: [["'v'", 'v']], params: [['w', 'w']] },
  {
    type: 'int',
    literals: [['-2147483648', -2147483648], ['2147483647', 2147483647], ['0', 0], ['-7', -7]],
    params: [[42, 42], ['-42', -42]],
  },
  {
    type: 'bigint',
    literals: [['-9223372036854775808', '-9223372036854775808'], ['9223372036854775807', '9223372036854775807'], ['12', '12']],
    params: [[9007199254740991, '9007199254740991'], ['-9223372036854775808', '-9223372036854775808']],
  },
  { type: 'smallint', literals: [['-32768', -32768], ['32767', 32767]], params: [[-5, -5], ['300', 300]] },
  { type: 'tinyint', literals: [['-128', -128], ['127', 127]], params: [[3, 3], ['-3', -3]] },
  {
    type: 'varint',
    literals: [['123456789012345678901234567890', '123456789012345678901234567890'], ['-1', '-1'], ['0', '0']],
    params: [[17, '17'], ['-99999999999999999999999', '-99999999999999999999999']],
  },
  { type: 'float', literals: [['0.1', 0.1], ['-2.5', -2.5], ['1e10', 1e10], ['NaN', 'NaN'], ['Infinity', 'Infinity'], ['-Infinity', '-Infinity'], ['3', 3]], params: [[1.25, 1.25], ['0.5', 0.5], ['NaN', 'NaN']] },
  { type: 'double', literals: [['3.141592653589793', 3.141592653589793], ['-1e-300', -1e-300], ['-Infinity', '-Infinity'], ['7', 7]], params: [[0.1, 0.1], ['-Infinity', '-Infinity']] },
  {
    type: 'decimal',
    literals: [['-12.340', '-12.340'], ['0.000001', '0.000001'], ['123456789012345678901234567890.5', '123456789012345678901234567890.5'], ['1E+3', '1000'], ['5', '5']],
    params: [[1.5, '1.5'], ['-0.10', '-0.10']],
  },
  { type: 'boolean', literals: [['true', true], ['FALSE', false]], params: [[true, true], ['false', false]] },
  {
    type: 'uuid',
    literals: [['550e8400-e29b-41d4-a716-446655440000', '550e8400-e29b-41d4-a716-446655440000'], ['550E8400-E29B-41D4-A716-446655440000', '550e8400-e29b-41d4-a716-446655440000'], ["'550e8400-e29b-41d4-a716-446655440000'", '550e8400-e29b-41d4-a716-446655440000']],
    params: [[T1, T1], ['550E8400-E29B-41D4-A716-446655440000', '550e8400-e29b-41d4-a716-446655440000']],
  },
  { type: 'timeuuid', literals: [[T1, T1], ['50554d6e-29bb-11e5-b345-feff819cdc9f', '50554d6e-29bb-11e5-b345-feff819cdc9f']], params: [[T1, T1]] },
  {
    type: 'timestamp',
    literals: [
      ["'2024-01-02 03:04:05.678+0000'", '2024-01-02T03:04:05.678Z'],
      ["'2024-01-02T03:04:05Z'", '2024-01-02T03:04:05.000Z'],
      ["'2024-01-02'", '2024-01-02T00:00:00.000Z'],
      ["'2024-01-02 05:00+0200'", '2024-01-02T03:00:00.000Z'],
      ['1700000000000', '2023-11-14T22:13:20.000Z'],
      ['-1', '1969-12-31T23:59:59.999Z'],
    ],
    params: [[0, '1970-01-01T00:00:00.000Z'], ['2024-05-01T12:00:00.000Z', '2024-05-01T12:00:00.000Z'], [1714564800123, '2024-05-01T12:00:00.123Z']],
  },
  { type: 'date', literals: [["'2024-02-29'", '2024-02-29'], ["'1969-12-31'", '1969-12-31'], ["'0001-01-01'", '0001-01-01']], params: [['1970-01-01', '1970-01-01']] },
  {
    type: 'time',
    literals: [["'13:14:15.123456789'", '13:14:15.123456789'], ["'00:00:00'", '00:00:00.000000000'], ["'23:59:59.5'", '23:59:59.500000000']],
    params: [['08:00:00', '08:00:00.000000000'], ['1000000000', '00:00:01.000000000']],
  },
  { type: 'blob', literals: [['0xCAFE', '0xcafe'], ['0x', '0x']], params: [['0x00ff', '0x00ff']] },
  { type: 'inet', literals: [["'192.168.0.1'", '192.168.0.1'], ["'::1'", '::1'], ["'2001:0db8:0000:0000:0000:0000:0000:0001'", '2001:db8::1']], params: [['10.0.0.1', '10.0.0.1'], ['FE80::1', 'fe80::1']] },
  { type: 'list<int>', literals: [['[3, 1, 3]', [3, 1, 3]], ['[]', null]], params: [[[5, 4], [5, 4]], [[], null]] },
  { type: 'set<text>', literals: [["{'b', 'a', 'b'}", ['a', 'b']], ['{}', null]], params: [[['z', 'y', 'z'], ['y', 'z']]] },
  { type: 'map<text, int>', literals: [["{'b': 2, 'a': 1}", { a: 1, b: 2 }], ['{}', null]], params: [[{ x: 1 }, { x: 1 }], [[['k', 2]], { k: 2 }]] },
  { type: 'map<int, boolean>', literals: [['{2: true, -1: false}', { '-1': false, '2': true }]], params: [[{ '7': true }, { '7': true }]] },
  { type: 'map<timestamp, text>', literals: [["{'2024-01-01': 'new year'}", { '2024-01-01T00:00:00.000Z': 'new year' }]], params: [[{ '2024-01-01T00:00:00.000Z': 'x' }, { '2024-01-01T00:00:00.000Z': 'x' }]] },
  { type: 'set<bigint>', literals: [['{10, -10, 9223372036854775807}', ['-10', '10', '9223372036854775807']]], params: [[[1, '2'], ['1', '2']]] },
  { type: 'list<blob>', literals: [['[0x01, 0x]', ['0x01', '0x']]], params: [[['0xab'], ['0xab']]] },
  { type: 'set<timeuuid>', literals: [[`{${T1}}`, [T1]]], params: [[[T1], [T1]]] },
  { type: 'map<uuid, date>', literals: [["{550e8400-e29b-41d4-a716-446655440000: '2024-01-01'}", { '550e8400-e29b-41d4-a716-446655440000': '2024-01-01' }]], params: [] },
];

describe('values of every type', () => {
  const cql = useCql();

  it.each(TYPES)('$type: literals, positional and named parameters, JSON results', async ({ type, literals, params }) => {
    const k = cql();
    await k.exec(`CREATE TABLE t (k int PRIMARY KEY, v ${type})`);
    const r0 = await k.select('SELECT v FROM t');
    expect(r0.columns).toEqual([{ name: 'v', type: type === 'varchar' ? 'text' : type.replace(/,\s*/g, ', ') }]);
    let key = 0;
    for (const [literal, json] of literals) {
      key++;
      await k.exec(`INSERT INTO t (k, v) VALUES (${key}, ${literal})`);
      expect(await k.rows(`SELECT v FROM t WHERE k = ${key}`), literal).toEqual([{ v: json }]);
    }
    for (const [param, json] of params) {
      key++;
      await k.exec('INSERT INTO t (k, v) VALUES (?, ?)', [key, param]);
      expect(await k.rows('SELECT v FROM t WHERE k = ?', [key]), JSON.stringify(param)).toEqual([{ v: json }]);
      key++;
      await k.exec('UPDATE t SET v = :value WHERE k = :key', { key, value: param });
      // UPDATE writes no row marker: a row whose only value is empty does not exist.
      expect(await k.rows('SELECT v FROM t WHERE k = :k', { k: key }), JSON.stringify(param)).toEqual(json === null ? [] : [{ v: json }]);
    }
    // null through a literal and a parameter deletes the value; the inserted row stays.
    await k.exec('INSERT INTO t (k, v) VALUES (100, ?)', [params[0]?.[0] ?? null]);
    await k.exec('INSERT INTO t (k, v) VALUES (101, ?)', [params[0]?.[0] ?? null]);
    await k.exec('UPDATE t SET v = null WHERE k = 100');
    await k.exec('UPDATE t SET v = ? WHERE k = 101', [null]);
    expect(await k.rows('SELECT k, v FROM t WHERE k IN (101, 100)')).toEqual([
      { k: 100, v: null },
      { k: 101, v: null },
    ]);
  });

  it('the JSON encoding of a whole row keeps the column order and writes absent cells as null', async () => {
    const k = cql();
    await k.exec('CREATE TABLE t (k int PRIMARY KEY, z text, a bigint, m map<int, text>)');
    await k.exec("INSERT INTO t (k, a) VALUES (1, 5)");
    const r = await k.select('SELECT z, k, m, a FROM t');
    expect(r.columns).toEqual([
      { name: 'z', type: 'text' },
      { name: 'k', type: 'int' },
      { name: 'm', type: 'map<int, text>' },
      { name: 'a', type: 'bigint' },
    ]);
    expect(r.rows).toEqual([{ z: null, k: 1, m: null, a: '5' }]);
    expect(Object.keys(r.rows[0]!)).toEqual(['z', 'k', 'm', 'a']);
    expect(JSON.stringify(r.rows[0])).toBe('{"z":null,"k":1,"m":null,"a":"5"}');
  });

  const badValues: [string, string, unknown, string][] = [
    ['int', "'x'", undefined, 'Invalid STRING constant (x) for "v" of type int'],
    ['int', '2147483648', undefined, "Unable to make int from '2147483648'"],
    ['int', '1.5', undefined, 'Invalid FLOAT constant (1.5) for "v" of type int'],
    ['int', '?', 1.5, 'Invalid value for column "v" of type int: 1.5 (not an integer)'],
    ['int', '?', 'seven', 'Invalid value for column "v" of type int: "seven"'],
    ['bigint', '?', 2 ** 60, 'Invalid value for column "v" of type bigint: 1152921504606847000 (beyond 2^53, pass it as a string)'],
    ['tinyint', '128', undefined, "Unable to make byte from '128'"],
    ['smallint', '?', 40000, 'Invalid value for column "v" of type smallint: 40000 (out of range)'],
    ['ascii', "'é'", undefined, "Invalid ASCII character in string literal: 'é'"],
    ['text', '1', undefined, 'Invalid INTEGER constant (1) for "v" of type text'],
    ['boolean', "'yes'", undefined, 'Invalid STRING constant (yes) for "v" of type boolean'],
    ['timeuuid', '550e8400-e29b-41d4-a716-446655440000', undefined, 'TimeUUID supports only version 1 UUIDs'],
    ['uuid', "'not-a-uuid'", undefined, "Unable to make UUID from 'not-a-uuid'"],
    ['timestamp', "'yesterday'", undefined, "Unable to coerce 'yesterday' to a formatted date (long)"],
    ['date', "'2024-13-01'", undefined, "Unable to coerce '2024-13-01' to a formatted date (long)"],
    ['time', "'25:00:00'", undefined, "(TimeType) Unable to coerce '25:00:00' to a formatted time (long)"],
    ['blob', "'cafe'", undefined, 'Invalid STRING constant (cafe) for "v" of type blob'],
    ['blob', '?', 'cafe', 'Invalid value for column "v" of type blob: "cafe"'],
    ['inet', "'1.2.3'", undefined, "Unable to make inet address from '1.2.3'"],
    ['list<int>', '{1}', undefined, 'Invalid set literal for v of type list<int>'],
    ['set<int>', '[1]', undefined, 'Invalid list literal for v of type set<int>'],
    ['map<text, int>', '[1]', undefined, 'Invalid list literal for v of type map<text, int>'],
    ['list<int>', '[1, null]', undefined, 'null is not supported inside collections'],
    ['set<int>', '?', [1, null], 'Invalid value for column "v" of type int: null (null inside a collection)'],
    ['map<text, int>', "{'a': 'b'}", undefined, 'Invalid STRING constant (b) for "v" of type int'],
    ['int', '(1, 2)', undefined, 'Invalid tuple literal for v of type int'],
  ];
  it.each(badValues)('%s ← %s %j is refused: %s', async (type, literal, param, message) => {
    const k = cql();
    await k.exec(`CREATE TABLE t (k int PRIMARY KEY, v ${type})`);
    await k.exec('INSERT INTO t (k) VALUES (1)');
    await k.expectError(`INSERT INTO t (k, v) VALUES (1, ${literal})`, 'Invalid', message, literal === '?' ? [param] : undefined);
    await k.expectError(`UPDATE t SET v = ${literal} WHERE k = 1`, 'Invalid', message, literal === '?' ? [param] : undefined);
  });

  it('parameters: counts must match, named markers need an object, every name bound', async () => {
    const k = cql();
    await k.exec('CREATE TABLE t (k int PRIMARY KEY, v int)');
    await k.expectError('INSERT INTO t (k, v) VALUES (?, ?)', 'Invalid', 'There were 2 markers(?) in CQL but 1 bound variables', [1]);
    await k.expectError('INSERT INTO t (k, v) VALUES (?, ?)', 'Invalid', 'There were 2 markers(?) in CQL but 0 bound variables');
    await k.expectError('INSERT INTO t (k, v) VALUES (1, 2)', 'Invalid', 'There were 0 markers(?) in CQL but 1 bound variables', [1]);
    await k.expectError('INSERT INTO t (k, v) VALUES (:k, :v)', 'Invalid', 'No value bound for :v', { k: 1 });
    await k.expectError('INSERT INTO t (k, v) VALUES (?, ?)', 'Invalid', "Marker 0 is a positional '?': bind it with a params list, not an object", { k: 1 });
    // Named markers may also be bound by position; a name used twice takes one value.
    await k.exec('INSERT INTO t (k, v) VALUES (:k, :v)', [1, 10]);
    await k.exec('UPDATE t SET v = :x WHERE k = :x', { x: 2 });
    expect(await k.rows('SELECT * FROM t')).toEqual([
      { k: 1, v: 10 },
      { k: 2, v: 2 },
    ]);
  });
});

interface OrderCase {
  readonly type: string;
  /** Literals in ascending Cassandra order, with their JSON. */
  readonly ascending: readonly (readonly [string, unknown])[];
}

const tu = (ms: number, seq: bigint): string => makeTimeUuid(ms, 0, seq);

const ORDERS: readonly OrderCase[] = [
  { type: 'int', ascending: [['-2147483648', -2147483648], ['-10', -10], ['-1', -1], ['0', 0], ['1', 1], ['9', 9], ['10', 10], ['2147483647', 2147483647]] },
  { type: 'bigint', ascending: [['-9223372036854775808', '-9223372036854775808'], ['-4294967296', '-4294967296'], ['-1', '-1'], ['0', '0'], ['255', '255'], ['256', '256'], ['9223372036854775807', '9223372036854775807']] },
  { type: 'smallint', ascending: [['-32768', -32768], ['-1', -1], ['0', 0], ['1', 1], ['32767', 32767]] },
  { type: 'tinyint', ascending: [['-128', -128], ['-1', -1], ['0', 0], ['1', 1], ['127', 127]] },
  { type: 'varint', ascending: [['-100000000000000000000', '-100000000000000000000'], ['-256', '-256'], ['-255', '-255'], ['-1', '-1'], ['0', '0'], ['1', '1'], ['255', '255'], ['256', '256'], ['100000000000000000000', '100000000000000000000']] },
  { type: 'float', ascending: [['-Infinity', '-Infinity'], ['-1e30', -1e30], ['-1.5', -1.5], ['-0.25', -0.25], ['0', 0], ['0.25', 0.25], ['1.5', 1.5], ['Infinity', 'Infinity'], ['NaN', 'NaN']] },
  { type: 'double', ascending: [['-Infinity', '-Infinity'], ['-1e300', -1e300], ['-1.5', -1.5], ['-5e-324', -5e-324], ['0', 0], ['5e-324', 5e-324], ['2.5', 2.5], ['Infinity', 'Infinity'], ['NaN', 'NaN']] },
  { type: 'decimal', ascending: [['-100.5', '-100.5'], ['-1.5', '-1.5'], ['-1', '-1'], ['-0.001', '-0.001'], ['0', '0'], ['0.001', '0.001'], ['0.01', '0.01'], ['1', '1'], ['1.5', '1.5'], ['10', '10'], ['1E+3', '1000']] },
  { type: 'text', ascending: [["''", ''], ["'A'", 'A'], ["'Z'", 'Z'], ["'a'", 'a'], ["'ab'", 'ab'], ["'b'", 'b'], ["'é'", 'é'], ["'日本'", '日本'], ["'😀'", '😀']] },
  { type: 'ascii', ascending: [["''", ''], ["' '", ' '], ["'A'", 'A'], ["'AB'", 'AB'], ["'B'", 'B'], ["'a'", 'a'], ["'~'", '~']] },
  { type: 'boolean', ascending: [['false', false], ['true', true]] },
  {
    type: 'timeuuid',
    ascending: [
      [tu(-12_219_292_800_000, 0x8080808080808080n), tu(-12_219_292_800_000, 0x8080808080808080n)],
      [tu(0, 0x8000000000000000n), tu(0, 0x8000000000000000n)],
      [tu(1_700_000_000_000, 0x8000000000000000n), tu(1_700_000_000_000, 0x8000000000000000n)],
      // Same time: Cassandra compares the clock-sequence-and-node bytes as signed bytes.
      [tu(1_700_000_000_001, 0x8000000000000000n), tu(1_700_000_000_001, 0x8000000000000000n)],
      [tu(1_700_000_000_001, 0x00000000000000ffn), tu(1_700_000_000_001, 0x00000000000000ffn)],
      [tu(1_700_000_000_001, 0x7f00000000000000n), tu(1_700_000_000_001, 0x7f00000000000000n)],
      [tu(2_000_000_000_000, 0x8000000000000000n), tu(2_000_000_000_000, 0x8000000000000000n)],
    ],
  },
  {
    type: 'uuid',
    ascending: [
      // Version first, then (version 1) the time, then the low half unsigned.
      ['00000000-0000-1000-8000-000000000000', '00000000-0000-1000-8000-000000000000'],
      ['ffffffff-ffff-1000-8000-000000000000', 'ffffffff-ffff-1000-8000-000000000000'],
      ['00000000-0000-1001-8000-000000000000', '00000000-0000-1001-8000-000000000000'],
      ['00000000-0000-4000-0000-000000000000', '00000000-0000-4000-0000-000000000000'],
      ['00000000-0000-4000-8000-000000000000', '00000000-0000-4000-8000-000000000000'],
      ['00000000-0001-4000-0000-000000000000', '00000000-0001-4000-0000-000000000000'],
      ['ffffffff-ffff-4fff-ffff-ffffffffffff', 'ffffffff-ffff-4fff-ffff-ffffffffffff'],
    ],
  },
  { type: 'timestamp', ascending: [["'1900-01-01'", '1900-01-01T00:00:00.000Z'], ["'1969-12-31 23:59:59.999Z'", '1969-12-31T23:59:59.999Z'], ['0', '1970-01-01T00:00:00.000Z'], ["'2024-01-01'", '2024-01-01T00:00:00.000Z'], ["'2024-01-01 00:00:00.001Z'", '2024-01-01T00:00:00.001Z'], ["'2262-01-01'", '2262-01-01T00:00:00.000Z']] },
  { type: 'date', ascending: [["'1000-01-01'", '1000-01-01'], ["'1969-12-31'", '1969-12-31'], ["'1970-01-01'", '1970-01-01'], ["'2024-02-29'", '2024-02-29'], ["'9999-12-31'", '9999-12-31']] },
  { type: 'time', ascending: [["'00:00:00'", '00:00:00.000000000'], ["'00:00:00.000000001'", '00:00:00.000000001'], ["'00:00:01'", '00:00:01.000000000'], ["'12:00:00'", '12:00:00.000000000'], ["'23:59:59.999999999'", '23:59:59.999999999']] },
  { type: 'blob', ascending: [['0x', '0x'], ['0x00', '0x00'], ['0x0000', '0x0000'], ['0x0001', '0x0001'], ['0x01', '0x01'], ['0x01ff', '0x01ff'], ['0xff', '0xff']] },
  { type: 'inet', ascending: [["'::1'", '::1'], ["'1.2.3.4'", '1.2.3.4'], ["'10.0.0.1'", '10.0.0.1'], ["'192.168.0.1'", '192.168.0.1'], ["'fe80::1'", 'fe80::1']] },
];

describe('native types as clustering columns', () => {
  const cql = useCql();

  for (const order of ['ASC', 'DESC'] as const) {
    it.each(ORDERS)(`$type ${order}: rows in order, slices, ORDER BY`, async ({ type, ascending }) => {
      const k = cql();
      await k.exec(`CREATE TABLE t (k int, c ${type}, v int, PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (c ${order})`);
      // Insert in a scrambled order.
      const n = ascending.length;
      const scrambled = ascending.map((x, i) => ({ x, i })).sort((a, b) => ((a.i * 7) % n) - ((b.i * 7) % n));
      for (const { x, i } of scrambled) await k.exec(`INSERT INTO t (k, c, v) VALUES (1, ${x[0]}, ${i})`);
      const asc = ascending.map(([, json], i) => ({ c: json, v: i }));
      const stored = order === 'ASC' ? asc : [...asc].reverse();
      const reversed = [...stored].reverse();
      expect(await k.rows('SELECT c, v FROM t WHERE k = 1')).toEqual(stored);
      expect(await k.rows(`SELECT c, v FROM t WHERE k = 1 ORDER BY c ${order === 'ASC' ? 'DESC' : 'ASC'}`)).toEqual(reversed);
      expect(await k.rows(`SELECT c, v FROM t WHERE k = 1 ORDER BY c ${order}`)).toEqual(stored);
      const inOrder = (rows: typeof asc) => (order === 'ASC' ? rows : [...rows].reverse());
      const m = Math.floor(n / 2);
      const mid = ascending[m]![0];
      expect(await k.rows(`SELECT c, v FROM t WHERE k = 1 AND c > ${mid}`), `c > ${mid}`).toEqual(inOrder(asc.slice(m + 1)));
      expect(await k.rows(`SELECT c, v FROM t WHERE k = 1 AND c >= ${mid}`), `c >= ${mid}`).toEqual(inOrder(asc.slice(m)));
      expect(await k.rows(`SELECT c, v FROM t WHERE k = 1 AND c < ${mid}`), `c < ${mid}`).toEqual(inOrder(asc.slice(0, m)));
      expect(await k.rows(`SELECT c, v FROM t WHERE k = 1 AND c <= ${mid}`), `c <= ${mid}`).toEqual(inOrder(asc.slice(0, m + 1)));
      if (n < 4) return;
      const lo = ascending[1]![0];
      const hi = ascending[n - 2]![0];
      expect(await k.rows(`SELECT c, v FROM t WHERE k = 1 AND c > ${lo} AND c < ${hi}`), `${lo} < c < ${hi}`).toEqual(inOrder(asc.slice(2, n - 2)));
      expect(await k.rows(`SELECT c, v FROM t WHERE k = 1 AND c >= ${lo} AND c <= ${hi} ORDER BY c ${order === 'ASC' ? 'DESC' : 'ASC'}`)).toEqual([...inOrder(asc.slice(1, n - 1))].reverse());
      // Equality and IN find exactly the value written (IN answers in clustering order).
      expect(await k.rows(`SELECT c, v FROM t WHERE k = 1 AND c = ${mid}`)).toEqual([asc[m]]);
      expect(await k.rows(`SELECT c, v FROM t WHERE k = 1 AND c IN (${hi}, ${lo})`)).toEqual(inOrder([asc[1]!, asc[n - 2]!]));
      // The same slices through bound parameters (the JSON encoding reads back).
      expect(await k.rows('SELECT c, v FROM t WHERE k = 1 AND c > ? AND c <= ?', [ascending[1]![1], ascending[n - 2]![1]])).toEqual(inOrder(asc.slice(2, n - 1)));
    });

    it.each(ORDERS)(`$type ${order}: every non-empty value works as a partition key`, async ({ type, ascending }) => {
      const k = cql();
      // Every non-empty value also works as a partition key (an empty one is refused there).
      await k.exec(`CREATE TABLE p (k ${type} PRIMARY KEY, v int)`);
      const keyable = ascending.filter(([literal]) => literal !== "''" && literal !== '0x');
      for (const [literal] of keyable) await k.exec(`INSERT INTO p (k, v) VALUES (${literal}, 1)`);
      const keys = (await k.rows('SELECT k FROM p')).map((r) => r.k);
      expect([...keys].sort()).toEqual(keyable.map(([, json]) => json).sort());
      for (const [literal, json] of keyable) expect(await k.rows(`SELECT k FROM p WHERE k = ${literal}`)).toEqual([{ k: json }]);
    });
  }
});
