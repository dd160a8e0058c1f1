import { describe, expect, it } from 'vitest';
import { InvalidRequest } from '../../../src/errors.js';
import type { CqlType, CqlValue, NativeTypeName } from '../../../src/schema/cql-type.js';
import { valueFromJson, valueToJson } from '../../../src/schema/values.js';

const nt = (name: NativeTypeName): CqlType => ({ kind: 'native', name });
const list = (element: CqlType): CqlType => ({ kind: 'list', element });
const set = (element: CqlType): CqlType => ({ kind: 'set', element });
const map = (key: CqlType, value: CqlType): CqlType => ({ kind: 'map', key, value });

/** Through JSON text, as the HTTP layer does it. */
const wire = (t: CqlType, v: CqlValue): unknown => JSON.parse(JSON.stringify(valueToJson(t, v)));

describe('valueToJson (SPEC 3.1)', () => {
  const cases: Array<[CqlType, CqlValue, unknown]> = [
    [nt('text'), 'ada', 'ada'],
    [nt('ascii'), '', ''],
    [nt('inet'), '::1', '::1'],
    [nt('uuid'), '550e8400-e29b-41d4-a716-446655440000', '550e8400-e29b-41d4-a716-446655440000'],
    [nt('int'), -2147483648, -2147483648],
    [nt('smallint'), 7, 7],
    [nt('tinyint'), -1, -1],
    [nt('float'), Math.fround(0.1), 0.1],
    [nt('float'), NaN, 'NaN'],
    [nt('double'), Infinity, 'Infinity'],
    [nt('double'), -Infinity, '-Infinity'],
    [nt('double'), 2.5, 2.5],
    [nt('bigint'), -9223372036854775808n, '-9223372036854775808'],
    [nt('counter'), 3n, '3'],
    [nt('varint'), 10n ** 30n, '1000000000000000000000000000000'],
    [nt('decimal'), { unscaled: -150n, scale: 2 }, '-1.50'],
    [nt('boolean'), false, false],
    [nt('timestamp'), Date.UTC(2024, 4, 1, 12), '2024-05-01T12:00:00.000Z'],
    [nt('timestamp'), -86_400_000 * 365, '1969-01-01T00:00:00.000Z'],
    [nt('date'), 19844, '2024-05-01'],
    [nt('time'), 43_200_000_000_001n, '12:00:00.000000001'],
    [nt('blob'), Buffer.from('CAFE', 'hex'), '0xcafe'],
    [nt('blob'), Buffer.alloc(0), '0x'],
    [list(nt('int')), [3, 1, 3], [3, 1, 3]],
    [set(nt('text')), ['a', 'b'], ['a', 'b']],
    [map(nt('text'), nt('int')), [['a', 1], ['b', 2]], { a: 1, b: 2 }],
    [map(nt('int'), nt('text')), [[-1, 'x'], [1, 'y']], { '-1': 'x', '1': 'y' }],
    [map(nt('boolean'), nt('bigint')), [[true, 5n]], { true: '5' }],
    [map(nt('timestamp'), nt('double')), [[0, NaN]], { '1970-01-01T00:00:00.000Z': 'NaN' }],
    [nt('int'), null, null],
  ];

  it.each(cases.map(([t, v, j]) => [JSON.stringify(t), t, v, j] as const))('%s', (_name, t, v, j) => {
    expect(wire(t, v)).toEqual(j);
  });

  it('keeps a "__proto__" text key as an ordinary map key', () => {
    const json = valueToJson(map(nt('text'), nt('int')), [['__proto__', 1]]);
    expect(JSON.stringify(json)).toBe('{"__proto__":1}');
  });
});

describe('valueFromJson', () => {
  it('reads back everything valueToJson writes', () => {
    const samples: Array<[CqlType, CqlValue]> = [
      [nt('float'), Math.fround(0.1)],
      [nt('float'), -Infinity],
      [nt('double'), 5e-324],
      [nt('bigint'), 9223372036854775807n],
      [nt('varint'), -(10n ** 40n)],
      [nt('decimal'), { unscaled: 1n, scale: 101 }],
      [nt('timestamp'), -62_135_596_800_001],
      [nt('date'), -(2 ** 31)],
      [nt('time'), 0n],
      [nt('timeuuid'), '13814000-1dd2-11b2-8080-808080808080'],
      [nt('inet'), '2001:db8::1'],
      [nt('blob'), Buffer.from([0, 255])],
      [set(nt('int')), [-5, 0, 7]],
      [map(nt('int'), nt('text')), [[-1, 'x'], [2, 'y'], [10, 'z']]],
      [map(nt('uuid'), nt('boolean')), [['550e8400-e29b-41d4-a716-446655440000', true]]],
      [map(nt('date'), nt('float')), [[0, NaN]]],
    ];
    for (const [t, v] of samples) expect(valueFromJson(t, wire(t, v), 'c'), JSON.stringify(t)).toEqual(v);
  });

  it('accepts the looser input forms', () => {
    expect(valueFromJson(nt('bigint'), 42, 'c')).toBe(42n);
    expect(valueFromJson(nt('bigint'), '-42', 'c')).toBe(-42n);
    expect(valueFromJson(nt('varint'), '123456789012345678901234567890', 'c')).toBe(123456789012345678901234567890n);
    expect(valueFromJson(nt('int'), '42', 'c')).toBe(42);
    expect(valueFromJson(nt('int'), -0, 'c')).toBe(0);
    expect(valueFromJson(nt('decimal'), 0.1, 'c')).toEqual({ unscaled: 1n, scale: 1 });
    expect(valueFromJson(nt('decimal'), 1e21, 'c')).toEqual({ unscaled: 1n, scale: -21 });
    expect(valueFromJson(nt('decimal'), '-1.5e2', 'c')).toEqual({ unscaled: -15n, scale: -1 });
    expect(valueFromJson(nt('float'), 0.1, 'c')).toBe(Math.fround(0.1));
    expect(valueFromJson(nt('double'), '1e3', 'c')).toBe(1000);
    expect(valueFromJson(nt('boolean'), 'TRUE', 'c')).toBe(true);
    expect(valueFromJson(nt('timestamp'), 1714564800000, 'c')).toBe(1714564800000);
    expect(valueFromJson(nt('timestamp'), '2024-05-01 12:00+0000', 'c')).toBe(1714564800000);
    expect(valueFromJson(nt('date'), '2147483648', 'c')).toBe(0);
    expect(valueFromJson(nt('time'), '08:00:00', 'c')).toBe(28_800_000_000_000n);
    expect(valueFromJson(nt('uuid'), '550E8400-E29B-41D4-A716-446655440000', 'c')).toBe('550e8400-e29b-41d4-a716-446655440000');
    expect(valueFromJson(nt('inet'), '::ffff:10.0.0.1', 'c')).toBe('10.0.0.1');
    expect(valueFromJson(set(nt('int')), [3, 1, 3, 2], 'c')).toEqual([1, 2, 3]);
    expect(valueFromJson(map(nt('text'), nt('int')), [['b', 1], ['a', 2], ['b', 3]], 'c')).toEqual([['a', 2], ['b', 3]]);
    expect(valueFromJson(map(nt('int'), nt('int')), { '10': 1, '-2': 2 }, 'c')).toEqual([[-2, 2], [10, 1]]);
    expect(valueFromJson(list(nt('int')), [], 'c')).toEqual([]);
    expect(valueFromJson(nt('text'), null, 'c')).toBeNull();
    expect(valueFromJson(nt('text'), undefined, 'c')).toBeNull();
  });

  it('rejects wrong values with one message format naming the column', () => {
    const cases: Array<[CqlType, unknown, string]> = [
      [nt('int'), 'abc', 'Invalid value for column "age" of type int: "abc"'],
      [nt('int'), 1.5, 'Invalid value for column "age" of type int: 1.5 (not an integer)'],
      [nt('int'), 3000000000, 'Invalid value for column "age" of type int: 3000000000 (out of range)'],
      [nt('int'), true, 'Invalid value for column "age" of type int: true'],
      [nt('smallint'), 32768, 'Invalid value for column "age" of type smallint: 32768 (out of range)'],
      [nt('tinyint'), -129, 'Invalid value for column "age" of type tinyint: -129 (out of range)'],
      [nt('bigint'), '9223372036854775808', 'Invalid value for column "age" of type bigint: "9223372036854775808" (out of range)'],
      [nt('bigint'), 2 ** 60, 'Invalid value for column "age" of type bigint: 1152921504606847000 (beyond 2^53, pass it as a string)'],
      [nt('bigint'), 2 ** 63, 'Invalid value for column "age" of type bigint: 9223372036854776000 (out of range)'],
      [nt('int'), 1e20, 'Invalid value for column "age" of type int: 100000000000000000000 (out of range)'],
      [nt('varint'), 1e300, 'Invalid value for column "age" of type varint: 1e+300 (beyond 2^53, pass it as a string)'],
      [nt('varint'), '9'.repeat(5000), 'Invalid value for column "age" of type varint: "' + '9'.repeat(99) + '…'],
      [nt('text'), 5, 'Invalid value for column "age" of type text: 5'],
      [nt('text'), '\ud800', 'Invalid value for column "age" of type text: "\\ud800" (unpaired surrogate)'],
      [nt('ascii'), 'é', 'Invalid value for column "age" of type ascii: "é" (not a 7-bit ASCII string)'],
      [nt('boolean'), 'yes', 'Invalid value for column "age" of type boolean: "yes"'],
      [nt('decimal'), 'NaN', 'Invalid value for column "age" of type decimal: "NaN"'],
      [nt('float'), 'fast', 'Invalid value for column "age" of type float: "fast"'],
      [nt('uuid'), 'nope', 'Invalid value for column "age" of type uuid: "nope"'],
      [nt('timeuuid'), '550e8400-e29b-41d4-a716-446655440000', 'Invalid value for column "age" of type timeuuid: "550e8400-e29b-41d4-a716-446655440000" (not a version 1 UUID)'],
      [nt('timestamp'), 'yesterday', 'Invalid value for column "age" of type timestamp: "yesterday"'],
      [nt('timestamp'), 1.5, 'Invalid value for column "age" of type timestamp: 1.5 (not an integer)'],
      [nt('date'), 19844, 'Invalid value for column "age" of type date: 19844'],
      [nt('date'), '2024-02-30', 'Invalid value for column "age" of type date: "2024-02-30"'],
      [nt('time'), '25:00:00', 'Invalid value for column "age" of type time: "25:00:00"'],
      [nt('blob'), 'cafe', 'Invalid value for column "age" of type blob: "cafe"'],
      [nt('blob'), '0xcaf', 'Invalid value for column "age" of type blob: "0xcaf"'],
      [nt('inet'), 'localhost', 'Invalid value for column "age" of type inet: "localhost"'],
      [list(nt('int')), { a: 1 }, 'Invalid value for column "age" of type list<int>: {"a":1}'],
      [list(nt('int')), [1, 'x'], 'Invalid value for column "age" of type int: "x"'],
      [list(nt('int')), [1, null], 'Invalid value for column "age" of type int: null (null inside a collection)'],
      [map(nt('int'), nt('text')), { x: 'a' }, 'Invalid value for column "age" of type int: "x"'],
      [map(nt('int'), nt('text')), [[1]], 'Invalid value for column "age" of type map<int, text>: [1]'],
      [map(nt('int'), nt('text')), 'x', 'Invalid value for column "age" of type map<int, text>: "x"'],
    ];
    for (const [t, json, message] of cases) {
      expect(() => valueFromJson(t, json, 'age'), message).toThrow(InvalidRequest);
      expect(() => valueFromJson(t, json, 'age')).toThrow(message);
    }
  });

  it('cuts long values in messages', () => {
    let message = '';
    try {
      valueFromJson(nt('int'), 'x'.repeat(10_000), 'age');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message.length).toBeLessThan(200);
    expect(message.endsWith('…')).toBe(true);
  });
});
