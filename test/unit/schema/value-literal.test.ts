import { describe, expect, it } from 'vitest';
import type { Constant } from '../../../src/cql/ast.js';
import { InvalidRequest } from '../../../src/errors.js';
import type { CqlType, CqlValue, NativeTypeName } from '../../../src/schema/cql-type.js';
import { formatCqlLiteral, valueFromConstant } from '../../../src/schema/values.js';

const nt = (name: NativeTypeName): CqlType => ({ kind: 'native', name });
const str = (value: string): Constant => ({ kind: 'string', value });
const int = (text: string): Constant => ({ kind: 'integer', text });
const flt = (text: string): Constant => ({ kind: 'float', text });
const uuid = (text: string): Constant => ({ kind: 'uuid', text });
const hex = (text: string): Constant => ({ kind: 'hex', text });
const bool = (value: boolean): Constant => ({ kind: 'boolean', value });

function message(t: CqlType, c: Constant, column = 'age'): string {
  try {
    valueFromConstant(t, c, column);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidRequest);
    return (e as Error).message;
  }
  throw new Error('expected InvalidRequest');
}

/**
 * A minimal reader of the literals formatCqlLiteral prints, standing in for the CQL lexer
 * (scalars only): enough to check that printed literals read back through valueFromConstant.
 */
function literalConstant(text: string): Constant {
  if (text === 'null') return { kind: 'null' };
  if (text === 'true' || text === 'false') return bool(text === 'true');
  if (text.startsWith("'")) return str(text.slice(1, -1).replaceAll("''", "'"));
  if (text.startsWith('0x')) return hex(text);
  if (/^[0-9a-f]{8}-/.test(text)) return uuid(text);
  if (/^-?\d+$/.test(text)) return int(text);
  return flt(text);
}

describe('valueFromConstant', () => {
  const accepted: Array<[CqlType, Constant, CqlValue]> = [
    [nt('text'), str("it's"), "it's"],
    [nt('text'), str(''), ''],
    [nt('text'), str('日本😀'), '日本😀'],
    [nt('ascii'), str('plain'), 'plain'],
    [nt('int'), int('-2147483648'), -2147483648],
    [nt('int'), int('+7'), 7],
    [nt('smallint'), int('32767'), 32767],
    [nt('tinyint'), int('-128'), -128],
    [nt('bigint'), int('9223372036854775807'), 9223372036854775807n],
    [nt('counter'), int('-1'), -1n],
    [nt('varint'), int('-129'), -129n],
    [nt('varint'), int('123456789012345678901234567890'), 123456789012345678901234567890n],
    [nt('decimal'), int('10'), { unscaled: 10n, scale: 0 }],
    [nt('decimal'), flt('-0.050'), { unscaled: -50n, scale: 3 }],
    [nt('decimal'), flt('1.5e10'), { unscaled: 15n, scale: -9 }],
    [nt('float'), flt('0.1'), Math.fround(0.1)],
    [nt('float'), flt('1e40'), Infinity],
    [nt('float'), int('16777217'), 16777216],
    [nt('double'), flt('NaN'), NaN],
    [nt('double'), flt('-Infinity'), -Infinity],
    [nt('double'), flt('-0.0'), -0],
    [nt('double'), int('3'), 3],
    [nt('boolean'), bool(true), true],
    [nt('uuid'), uuid('550e8400-e29b-41d4-a716-446655440000'), '550e8400-e29b-41d4-a716-446655440000'],
    [nt('uuid'), str('550E8400-E29B-41D4-A716-446655440000'), '550e8400-e29b-41d4-a716-446655440000'],
    [nt('timeuuid'), uuid('13814000-1dd2-11b2-8080-808080808080'), '13814000-1dd2-11b2-8080-808080808080'],
    [nt('timestamp'), str('2024-05-01'), Date.UTC(2024, 4, 1)],
    [nt('timestamp'), str('2024-05-01 12:00'), Date.UTC(2024, 4, 1, 12)],
    [nt('timestamp'), str('2024-05-01 12:00:00'), Date.UTC(2024, 4, 1, 12)],
    [nt('timestamp'), str('2024-05-01T12:00:00.123Z'), Date.UTC(2024, 4, 1, 12, 0, 0, 123)],
    [nt('timestamp'), str('2024-05-01 12:00:00+01:00'), Date.UTC(2024, 4, 1, 11)],
    [nt('timestamp'), str('1900-01-01'), Date.UTC(1900, 0, 1)],
    [nt('timestamp'), str('1714564800000'), 1714564800000],
    [nt('timestamp'), int('-1000'), -1000],
    [nt('date'), str('2024-05-01'), 19844],
    [nt('date'), str('1969-12-31'), -1],
    [nt('date'), int('2147483648'), 0],
    [nt('time'), str('12:34:56.789'), 45_296_789_000_000n],
    [nt('time'), int('1'), 1n],
    [nt('inet'), str('10.0.0.1'), '10.0.0.1'],
    [nt('inet'), str('2001:DB8::0:1'), '2001:db8::1'],
    [nt('blob'), hex('0xcafe'), Buffer.from('cafe', 'hex')],
    [nt('blob'), hex('0x'), Buffer.alloc(0)],
    [nt('int'), { kind: 'null' }, null],
    [{ kind: 'list', element: nt('int') }, { kind: 'null' }, null],
  ];

  it.each(accepted.map(([t, c, v]) => [JSON.stringify(t), JSON.stringify(c), t, c, v] as const))('%s %s', (_t, _c, t, c, v) => {
    const got = valueFromConstant(t, c, 'col');
    if (typeof v === 'number' && Number.isNaN(v)) expect(Number.isNaN(got)).toBe(true);
    else expect(got).toEqual(v);
    if (Object.is(v, -0)) expect(Object.is(got, -0)).toBe(true);
  });

  it("refuses constants of the wrong kind with Cassandra's message", () => {
    expect(message(nt('int'), str('abc'))).toBe('Invalid STRING constant (abc) for "age" of type int');
    expect(message(nt('text'), int('1'), 'name')).toBe('Invalid INTEGER constant (1) for "name" of type text');
    expect(message(nt('int'), flt('1.5'))).toBe('Invalid FLOAT constant (1.5) for "age" of type int');
    expect(message(nt('text'), bool(true))).toBe('Invalid BOOLEAN constant (true) for "age" of type text');
    expect(message(nt('text'), uuid('550e8400-e29b-41d4-a716-446655440000'))).toBe('Invalid UUID constant (550e8400-e29b-41d4-a716-446655440000) for "age" of type text');
    expect(message(nt('text'), hex('0xcafe'))).toBe('Invalid HEX constant (0xcafe) for "age" of type text');
    expect(message(nt('blob'), str('cafe'))).toBe('Invalid STRING constant (cafe) for "age" of type blob');
    expect(message(nt('boolean'), str('true'))).toBe('Invalid STRING constant (true) for "age" of type boolean');
    expect(message(nt('timestamp'), flt('1.5'))).toBe('Invalid FLOAT constant (1.5) for "age" of type timestamp');
    expect(message({ kind: 'list', element: nt('int') }, int('1'), 'l')).toBe('Invalid INTEGER constant (1) for "l" of type list<int>');
    expect(message({ kind: 'map', key: nt('text'), value: nt('int') }, str('x'), 'm')).toBe('Invalid STRING constant (x) for "m" of type map<text, int>');
  });

  it("refuses unreadable or out-of-range constants with the type's own message", () => {
    expect(message(nt('int'), int('3000000000'))).toBe("Unable to make int from '3000000000'");
    expect(message(nt('int'), int('-2147483649'))).toBe("Unable to make int from '-2147483649'");
    expect(message(nt('smallint'), int('32768'))).toBe("Unable to make short from '32768'");
    expect(message(nt('tinyint'), int('-129'))).toBe("Unable to make byte from '-129'");
    expect(message(nt('bigint'), int('9223372036854775808'))).toBe("Unable to make long from '9223372036854775808'");
    expect(message(nt('counter'), int('9223372036854775808'))).toBe("Unable to make long from '9223372036854775808'");
    expect(message(nt('decimal'), flt('NaN'))).toBe("unable to make BigDecimal from 'NaN'");
    expect(message(nt('decimal'), flt('1e2147483649'))).toBe("unable to make BigDecimal from '1e2147483649'");
    expect(message(nt('ascii'), str('café'))).toBe("Invalid ASCII character in string literal: 'café'");
    expect(message(nt('inet'), str('example.com'))).toBe("Unable to make inet address from 'example.com'");
    expect(message(nt('uuid'), str('nope'))).toBe("Unable to make UUID from 'nope'");
    expect(message(nt('timeuuid'), uuid('550e8400-e29b-41d4-a716-446655440000'))).toBe('TimeUUID supports only version 1 UUIDs');
    expect(message(nt('timeuuid'), str('nope'))).toBe('Unknown timeuuid representation: nope');
    expect(message(nt('timestamp'), str('2024-13-01'))).toBe("Unable to coerce '2024-13-01' to a formatted date (long)");
    expect(message(nt('timestamp'), int('99999999999999999999'))).toBe("Unable to make long (for date) from: '99999999999999999999'");
    expect(message(nt('date'), str('2024-02-30'))).toBe("Unable to coerce '2024-02-30' to a formatted date (long)");
    expect(message(nt('date'), int('4294967296'))).toBe("Unable to make unsigned int (for date) from: '4294967296'");
    expect(message(nt('time'), str('25:00:00'))).toBe("(TimeType) Unable to coerce '25:00:00' to a formatted time (long)");
    expect(message(nt('time'), int('86400000000000'))).toBe("Unable to make long (for time) from: '86400000000000'");
    expect(message(nt('blob'), hex('0xabc'))).toBe("cannot parse 'abc' as hex bytes");
    expect(message(nt('text'), str('\ud800'))).toBe('String contains an unpaired UTF-16 surrogate');
  });

  it('cuts long input in messages', () => {
    expect(message(nt('int'), str('y'.repeat(5000))).length).toBeLessThan(300);
  });
});

describe('formatCqlLiteral', () => {
  const cases: Array<[CqlType, CqlValue, string]> = [
    [nt('text'), "it's", "'it''s'"],
    [nt('ascii'), '', "''"],
    [nt('int'), 42, '42'],
    [nt('bigint'), -9223372036854775808n, '-9223372036854775808'],
    [nt('varint'), 10n ** 20n, '100000000000000000000'],
    [nt('decimal'), { unscaled: -150n, scale: 2 }, '-1.50'],
    [nt('decimal'), { unscaled: 1n, scale: 101 }, '1E-101'],
    [nt('float'), Math.fround(0.1), '0.1'],
    [nt('float'), -0, '-0.0'],
    [nt('double'), NaN, 'NaN'],
    [nt('double'), -Infinity, '-Infinity'],
    [nt('double'), 1e21, '1e+21'],
    [nt('boolean'), true, 'true'],
    [nt('uuid'), '550e8400-e29b-41d4-a716-446655440000', '550e8400-e29b-41d4-a716-446655440000'],
    [nt('timestamp'), Date.UTC(2024, 4, 1, 12), "'2024-05-01 12:00:00.000+0000'"],
    [nt('date'), 19844, "'2024-05-01'"],
    [nt('time'), 45_296_789_000_000n, "'12:34:56.789000000'"],
    [nt('blob'), Buffer.from('cafe', 'hex'), '0xcafe'],
    [nt('inet'), '::1', "'::1'"],
    [{ kind: 'list', element: nt('int') }, [1, 2], '[1, 2]'],
    [{ kind: 'set', element: nt('text') }, ['a', "b'c"], "{'a', 'b''c'}"],
    [{ kind: 'map', key: nt('text'), value: nt('int') }, [['a', 1]], "{'a': 1}"],
    [{ kind: 'map', key: nt('text'), value: nt('int') }, [], '{}'],
    [nt('int'), null, 'null'],
  ];

  it.each(cases.map(([t, v, s]) => [s, t, v] as const))('%s', (s, t, v) => {
    expect(formatCqlLiteral(t, v)).toBe(s);
  });

  it('prints scalars that read back as the same value', () => {
    for (const [t, v] of cases) {
      if (t.kind !== 'native' || v === null) continue;
      const got = valueFromConstant(t, literalConstant(formatCqlLiteral(t, v)), 'c');
      if (typeof v === 'number' && Number.isNaN(v)) expect(Number.isNaN(got)).toBe(true);
      else expect(got, formatCqlLiteral(t, v)).toEqual(v);
    }
  });
});
