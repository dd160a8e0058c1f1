import { describe, expect, it } from 'vitest';
import { InvalidRequest } from '../../../src/errors.js';
import type { CqlType, CqlValue, NativeTypeName } from '../../../src/schema/cql-type.js';
import { deserializeValue, serializeValue } from '../../../src/schema/values.js';

const nt = (name: NativeTypeName): CqlType => ({ kind: 'native', name });
const hex = (t: CqlType, v: CqlValue): string => serializeValue(t, v).toString('hex');
const back = (t: CqlType, h: string): CqlValue => deserializeValue(t, Buffer.from(h, 'hex'));

/** [type, value, Cassandra's bytes]: each checked both ways. */
const VECTORS: Array<[CqlType, CqlValue, string]> = [
  [nt('int'), 0, '00000000'],
  [nt('int'), 1, '00000001'],
  [nt('int'), -1, 'ffffffff'],
  [nt('int'), 2147483647, '7fffffff'],
  [nt('int'), -2147483648, '80000000'],
  [nt('smallint'), -32768, '8000'],
  [nt('smallint'), 32767, '7fff'],
  [nt('tinyint'), -128, '80'],
  [nt('tinyint'), 127, '7f'],
  [nt('bigint'), 9223372036854775807n, '7fffffffffffffff'],
  [nt('bigint'), -9223372036854775808n, '8000000000000000'],
  [nt('counter'), 42n, '000000000000002a'],
  [nt('varint'), 0n, '00'],
  [nt('varint'), 1n, '01'],
  [nt('varint'), -1n, 'ff'],
  [nt('varint'), 127n, '7f'],
  [nt('varint'), 128n, '0080'],
  [nt('varint'), -128n, '80'],
  [nt('varint'), -129n, 'ff7f'],
  [nt('varint'), 255n, '00ff'],
  [nt('varint'), 256n, '0100'],
  [nt('varint'), -256n, 'ff00'],
  [nt('varint'), -257n, 'feff'],
  [nt('varint'), 32767n, '7fff'],
  [nt('varint'), 32768n, '008000'],
  [nt('varint'), 2n ** 64n, '010000000000000000'],
  [nt('float'), 1, '3f800000'],
  [nt('float'), -0, '80000000'],
  [nt('float'), Infinity, '7f800000'],
  [nt('float'), NaN, '7fc00000'],
  [nt('double'), 1, '3ff0000000000000'],
  [nt('double'), -2.5, 'c004000000000000'],
  [nt('double'), NaN, '7ff8000000000000'],
  [nt('decimal'), { unscaled: 15n, scale: 1 }, '000000010f'],
  [nt('decimal'), { unscaled: -1n, scale: 2 }, '00000002ff'],
  [nt('decimal'), { unscaled: 0n, scale: 0 }, '0000000000'],
  [nt('decimal'), { unscaled: 128n, scale: -3 }, 'fffffffd0080'],
  [nt('boolean'), true, '01'],
  [nt('boolean'), false, '00'],
  [nt('uuid'), '550e8400-e29b-41d4-a716-446655440000', '550e8400e29b41d4a716446655440000'],
  [nt('timeuuid'), '13814000-1dd2-11b2-8080-808080808080', '138140001dd211b28080808080808080'],
  [nt('timestamp'), 0, '0000000000000000'],
  [nt('timestamp'), -1, 'ffffffffffffffff'],
  [nt('timestamp'), 1714564800000, '0000018f34069e00'],
  [nt('date'), 0, '80000000'],
  [nt('date'), -1, '7fffffff'],
  [nt('date'), -(2 ** 31), '00000000'],
  [nt('date'), 2 ** 31 - 1, 'ffffffff'],
  [nt('time'), 0n, '0000000000000000'],
  [nt('time'), 86_399_999_999_999n, '00004e94914effff'],
  [nt('text'), '', ''],
  [nt('text'), 'é😀', 'c3a9f09f9880'],
  [nt('ascii'), 'hi', '6869'],
  [nt('blob'), Buffer.alloc(0), ''],
  [nt('blob'), Buffer.from('cafe', 'hex'), 'cafe'],
  [nt('inet'), '127.0.0.1', '7f000001'],
  [nt('inet'), '::1', '00000000000000000000000000000001'],
  [nt('inet'), '::ffff:1.2.3.4', '00000000000000000000ffff01020304'],
  [{ kind: 'list', element: nt('int') }, [1, 2], '00000002' + '00000004' + '00000001' + '00000004' + '00000002'],
  [{ kind: 'list', element: nt('int') }, [], '00000000'],
  [{ kind: 'set', element: nt('text') }, ['a', 'b'], '00000002' + '00000001' + '61' + '00000001' + '62'],
  [{ kind: 'map', key: nt('text'), value: nt('int') }, [['a', 1]], '00000001' + '00000001' + '61' + '00000004' + '00000001'],
];

describe('native binary serialization', () => {
  it.each(VECTORS.map(([t, v, h]) => [JSON.stringify(t), t, v, h] as const))('%s known bytes', (_name, t, v, h) => {
    expect(hex(t, v)).toBe(h);
    const decoded = back(t, h);
    if (typeof v === 'number' && Number.isNaN(v)) expect(Number.isNaN(decoded)).toBe(true);
    else expect(decoded).toEqual(v);
    if (Object.is(v, -0)) expect(Object.is(decoded, -0)).toBe(true);
  });

  it('reads non-minimal varints and any non-zero boolean byte', () => {
    expect(back(nt('varint'), '0001')).toBe(1n);
    expect(back(nt('varint'), 'ffff')).toBe(-1n);
    expect(back(nt('boolean'), '02')).toBe(true);
  });

  it('normalizes sets and maps it reads (sorted, deduplicated, last map entry wins)', () => {
    const set: CqlType = { kind: 'set', element: nt('int') };
    expect(back(set, '00000003' + '0000000400000002' + '0000000400000001' + '0000000400000002')).toEqual([1, 2]);
    const map: CqlType = { kind: 'map', key: nt('text'), value: nt('int') };
    expect(back(map, '00000002' + '0000000162' + '0000000400000001' + '0000000162' + '0000000400000002')).toEqual([['b', 2]]);
  });
});

describe('malformed bytes', () => {
  const cases: Array<[CqlType, string]> = [
    [nt('int'), '000001'],
    [nt('int'), '0000000100'],
    [nt('bigint'), ''],
    [nt('varint'), ''],
    [nt('decimal'), '00000001'],
    [nt('boolean'), ''],
    [nt('uuid'), '00'],
    [nt('timeuuid'), '550e8400e29b41d4a716446655440000'],
    [nt('timestamp'), '7fffffffffffffff'],
    [nt('time'), 'ffffffffffffffff'],
    [nt('time'), '00004e94914f0000'],
    [nt('text'), 'c3'],
    [nt('text'), 'eda080'],
    [nt('ascii'), '80'],
    [nt('inet'), '0102'],
    [{ kind: 'list', element: nt('int') }, '000000'],
    [{ kind: 'list', element: nt('int') }, '7fffffff'],
    [{ kind: 'list', element: nt('int') }, 'ffffffff'],
    [{ kind: 'list', element: nt('int') }, '00000001ffffffff'],
    [{ kind: 'list', element: nt('int') }, '0000000100000009000000'],
    [{ kind: 'list', element: nt('int') }, '000000010000000400000001ff'],
    [{ kind: 'list', element: nt('int') }, '00000001000000020000'],
    [{ kind: 'map', key: nt('int'), value: nt('int') }, '000000010000000400000001'],
  ];

  it.each(cases.map(([t, h]) => [JSON.stringify(t), h, t] as const))('%s %s throws InvalidRequest', (_name, h, t) => {
    expect(() => back(t, h)).toThrow(InvalidRequest);
  });

  it('names the type in the message', () => {
    expect(() => back(nt('int'), '00')).toThrow('Invalid int value: expected 4 bytes, got 1');
  });

  it('never throws anything but InvalidRequest on random bytes', () => {
    const types: CqlType[] = [
      ...(['int', 'bigint', 'varint', 'decimal', 'float', 'uuid', 'timeuuid', 'timestamp', 'date', 'time', 'text', 'ascii', 'inet', 'boolean'] as const).map(nt),
      { kind: 'list', element: nt('text') },
      { kind: 'set', element: nt('int') },
      { kind: 'map', key: nt('uuid'), value: nt('decimal') },
    ];
    let seed = 12345;
    const nextByte = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) & 0xff;
    for (let i = 0; i < 500; i++) {
      const b = Buffer.from(Array.from({ length: nextByte() % 24 }, nextByte));
      for (const t of types) {
        try {
          const v = deserializeValue(t, b);
          expect(deserializeValue(t, serializeValue(t, v))).toEqual(v);
        } catch (e) {
          expect(e).toBeInstanceOf(InvalidRequest);
        }
      }
    }
  });
});
