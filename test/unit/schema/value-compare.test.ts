import { describe, expect, it } from 'vitest';
import type { CqlType, CqlValue, NativeTypeName } from '../../../src/schema/cql-type.js';
import { makeTimeUuid } from '../../../src/schema/timeuuid.js';
import { compareValues, normalizeCollection, normalizeMap, normalizeSet } from '../../../src/schema/values.js';

const nt = (name: NativeTypeName): CqlType => ({ kind: 'native', name });
const sorted = (t: CqlType, values: CqlValue[]): CqlValue[] => [...values].sort((a, b) => compareValues(t, a, b));

describe('compareValues per type', () => {
  it('orders text by UTF-8 bytes (code points), not UTF-16 code units', () => {
    // U+FF5E is one UTF-16 unit above the surrogates of U+1F600, but below it in UTF-8.
    expect(sorted(nt('text'), ['😀', '～', 'b', 'a', '', 'ab', 'é'])).toEqual(['', 'a', 'ab', 'b', 'é', '～', '😀']);
    expect(compareValues(nt('text'), '\ue000', '\u{10000}')).toBe(-1);
  });

  it('orders blobs and inets as unsigned bytes, shorter prefix first', () => {
    expect(sorted(nt('blob'), [Buffer.from([0xff]), Buffer.from([]), Buffer.from([0x00, 0x01]), Buffer.from([0x00])])).toEqual([
      Buffer.from([]),
      Buffer.from([0x00]),
      Buffer.from([0x00, 0x01]),
      Buffer.from([0xff]),
    ]);
    expect(sorted(nt('inet'), ['::1', '10.0.0.2', '10.0.0.10', '255.255.255.255', '::'])).toEqual(['::', '::1', '10.0.0.2', '10.0.0.10', '255.255.255.255']);
  });

  it('orders booleans false before true and signed numbers by value', () => {
    expect(sorted(nt('boolean'), [true, false])).toEqual([false, true]);
    expect(sorted(nt('varint'), [128n, -129n, 0n, -1n, 2n ** 70n])).toEqual([-129n, -1n, 0n, 128n, 2n ** 70n]);
    expect(sorted(nt('date'), [0, -1, 2 ** 31 - 1, -(2 ** 31)])).toEqual([-(2 ** 31), -1, 0, 2 ** 31 - 1]);
  });

  it('orders uuids by version, then v1 by time, then bytes unsigned (UUIDType)', () => {
    const early = makeTimeUuid(300_000, 0, 0xffffffffffffffffn);
    const late = makeTimeUuid(400_000, 0, 0n);
    // `late` has the smaller first byte, but the time decides among version-1 UUIDs.
    expect(late < early).toBe(true);
    expect(sorted(nt('uuid'), [
      'ffffffff-ffff-4fff-bfff-ffffffffffff',
      '00000000-0000-4000-8000-000000000000',
      late,
      early,
      '00000000-0000-0000-0000-000000000001',
    ])).toEqual([
      '00000000-0000-0000-0000-000000000001',
      early,
      late,
      '00000000-0000-4000-8000-000000000000',
      'ffffffff-ffff-4fff-bfff-ffffffffffff',
    ]);
    // Same time: the low half compares unsigned in UUIDType.
    expect(compareValues(nt('uuid'), makeTimeUuid(1000, 0, 0x80n << 56n), makeTimeUuid(1000, 0, 0x7fn << 56n))).toBe(1);
  });

  it('orders timeuuids by time, then the low half as signed bytes (TimeUUIDType)', () => {
    const t = nt('timeuuid');
    expect(compareValues(t, makeTimeUuid(1000, 0, 0x80n << 56n), makeTimeUuid(1000, 0, 0x7fn << 56n))).toBe(-1);
    expect(compareValues(t, makeTimeUuid(1000, 0, 0xffn), makeTimeUuid(1000, 0, 0x01n))).toBe(-1);
    expect(compareValues(t, makeTimeUuid(1000, 1, 0x7fn << 56n), makeTimeUuid(1000, 0, 0x80n << 56n))).toBe(1);
    expect(compareValues(t, makeTimeUuid(-1000, 0, 0n), makeTimeUuid(999, 0, 0n))).toBe(-1);
  });

  it('orders collections element by element, shorter prefix first', () => {
    const list: CqlType = { kind: 'list', element: nt('int') };
    expect(sorted(list, [[1, 2], [1], [], [0, 9], [1, 2, 0]])).toEqual([[], [0, 9], [1], [1, 2], [1, 2, 0]]);
    const map: CqlType = { kind: 'map', key: nt('text'), value: nt('int') };
    expect(sorted(map, [[['a', 2]], [['a', 1], ['b', 0]], [['a', 1]]])).toEqual([[['a', 1]], [['a', 1], ['b', 0]], [['a', 2]]]);
  });
});

describe('normal forms', () => {
  it('sorts and deduplicates sets in the element order', () => {
    expect(normalizeSet(nt('int'), [3, -1, 3, 0])).toEqual([-1, 0, 3]);
    expect(normalizeSet(nt('double'), [0, -0, NaN, NaN, -Infinity])).toEqual([-Infinity, -0, 0, NaN]);
    expect(normalizeSet(nt('decimal'), [{ unscaled: 10n, scale: 1 }, { unscaled: 1n, scale: 0 }])).toHaveLength(1);
  });

  it('sorts maps by key, the last of equal keys winning', () => {
    expect(normalizeMap(nt('text'), [['b', 1], ['a', 2], ['b', 3], ['a', 4]])).toEqual([['a', 4], ['b', 3]]);
  });

  it('leaves lists, scalars and null alone', () => {
    expect(normalizeCollection({ kind: 'list', element: nt('int') }, [3, 1, 3])).toEqual([3, 1, 3]);
    expect(normalizeCollection(nt('int'), 5)).toBe(5);
    expect(normalizeCollection({ kind: 'set', element: nt('int') }, null)).toBeNull();
    expect(normalizeCollection({ kind: 'set', element: nt('text') }, ['b', 'a'])).toEqual(['a', 'b']);
  });
});
