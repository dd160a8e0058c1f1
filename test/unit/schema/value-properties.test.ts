/**
 * Properties over every type: compareValues is a total order that agrees with numeric value,
 * and the binary, JSON and literal codecs round-trip every value.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Constant } from '../../../src/cql/ast.js';
import type { CqlDecimal, CqlType, CqlValue, NativeTypeName } from '../../../src/schema/cql-type.js';
import { makeTimeUuid, MAX_TIMEUUID_UNIX_MS, UUID_EPOCH_UNIX_MS, uuidFromBytes } from '../../../src/schema/timeuuid.js';
import { formatType } from '../../../src/schema/type-names.js';
import { inetBytesToText, MAX_DATE_DAYS, MAX_TIMESTAMP_MS, MIN_DATE_DAYS, NANOS_PER_DAY } from '../../../src/schema/value-formats.js';
import {
  compareValues,
  deserializeValue,
  formatCqlLiteral,
  isValueOfType,
  normalizeCollection,
  serializeValue,
  valueFromConstant,
  valueFromJson,
  valueToJson,
} from '../../../src/schema/values.js';

const RUNS = { numRuns: 100 };
const nt = (name: NativeTypeName): CqlType => ({ kind: 'native', name });

const bytes = (min: number, max: number): fc.Arbitrary<Buffer> => fc.uint8Array({ minLength: min, maxLength: max }).map((u) => Buffer.from(u));
const edgeBigints = [0n, 1n, -1n, 127n, 128n, -128n, -129n, 255n, 256n, -256n, -257n, 2n ** 63n - 1n, -(2n ** 63n)];

const NATIVE: Record<NativeTypeName, fc.Arbitrary<CqlValue>> = {
  ascii: fc.string({ unit: 'binary-ascii', maxLength: 8 }),
  text: fc.string({ unit: 'binary', maxLength: 8 }),
  int: fc.integer(),
  smallint: fc.integer({ min: -32768, max: 32767 }),
  tinyint: fc.integer({ min: -128, max: 127 }),
  bigint: fc.oneof(fc.constantFrom(...edgeBigints), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
  counter: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  varint: fc.oneof(fc.constantFrom(...edgeBigints), fc.bigInt({ min: -(2n ** 130n), max: 2n ** 130n })),
  float: fc.oneof(fc.constantFrom(0, -0, NaN, Infinity, -Infinity), fc.float()),
  double: fc.oneof(fc.constantFrom(0, -0, NaN, Infinity, -Infinity, Number.MIN_VALUE), fc.double()),
  decimal: fc.record({
    unscaled: fc.oneof(fc.constantFrom(0n, 1n, -1n, 128n, -129n), fc.bigInt({ min: -(10n ** 25n), max: 10n ** 25n })),
    scale: fc.oneof(fc.integer({ min: -5, max: 12 }), fc.integer({ min: -150, max: 150 })),
  }),
  boolean: fc.boolean(),
  uuid: bytes(16, 16).map(uuidFromBytes),
  timeuuid: fc
    .tuple(fc.integer({ min: UUID_EPOCH_UNIX_MS, max: MAX_TIMEUUID_UNIX_MS }), fc.integer({ min: 0, max: 9999 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }))
    .map(([ms, sub, low]) => makeTimeUuid(ms, sub, low)),
  timestamp: fc.oneof(fc.integer({ min: -3e12, max: 3e12 }), fc.integer({ min: -MAX_TIMESTAMP_MS, max: MAX_TIMESTAMP_MS })),
  date: fc.oneof(fc.integer({ min: -800_000, max: 800_000 }), fc.integer({ min: MIN_DATE_DAYS, max: MAX_DATE_DAYS })),
  time: fc.bigInt({ min: 0n, max: NANOS_PER_DAY - 1n }),
  blob: bytes(0, 8),
  inet: fc.oneof(bytes(4, 4), bytes(16, 16), bytes(4, 4).map((b) => Buffer.concat([Buffer.from('00000000000000000000ffff', 'hex'), b]))).map(inetBytesToText),
};

const NATIVE_TYPES = Object.keys(NATIVE) as NativeTypeName[];
const ELEMENT_TYPES: NativeTypeName[] = ['int', 'text', 'varint', 'double', 'uuid', 'timeuuid', 'decimal', 'inet', 'blob'];

function arbitraryOf(t: CqlType): fc.Arbitrary<CqlValue> {
  switch (t.kind) {
    case 'native':
      return NATIVE[t.name];
    case 'list':
      return fc.array(arbitraryOf(t.element), { maxLength: 4 });
    case 'set':
      return fc.array(arbitraryOf(t.element), { maxLength: 4 }).map((v) => normalizeCollection(t, v));
    case 'map':
      return fc.array(fc.tuple(arbitraryOf(t.key), arbitraryOf(t.value)), { maxLength: 4 }).map((v) => normalizeCollection(t, v));
  }
}

const ALL_TYPES: CqlType[] = [
  ...NATIVE_TYPES.map(nt),
  ...ELEMENT_TYPES.map((e): CqlType => ({ kind: 'list', element: nt(e) })),
  ...ELEMENT_TYPES.map((e): CqlType => ({ kind: 'set', element: nt(e) })),
  { kind: 'map', key: nt('text'), value: nt('bigint') },
  { kind: 'map', key: nt('int'), value: nt('float') },
  { kind: 'map', key: nt('timeuuid'), value: nt('date') },
  { kind: 'map', key: nt('decimal'), value: nt('inet') },
];

function show(v: CqlValue): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : Buffer.isBuffer(x) ? x.toString('hex') : x));
}

/** Same value: compareValues 0, and the same representation (floats by Object.is, decimals with their scale). */
function expectSame(t: CqlType, got: CqlValue, want: CqlValue): void {
  expect(compareValues(t, got, want), `${formatType(t)}: ${show(got)} vs ${show(want)}`).toBe(0);
  if (t.kind === 'native' && (t.name === 'float' || t.name === 'double')) expect(Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want))).toBe(true);
  else expect(got).toEqual(want);
}

/**
 * What JSON can carry of a value: JSON text has no −0 (JSON.stringify writes 0), and an
 * IPv4-mapped IPv6 inet is read back as its IPv4 address, as Cassandra reads it.
 */
function afterJson(t: CqlType, v: CqlValue): CqlValue {
  if (t.kind === 'list' || t.kind === 'set') return normalizeCollection(t, (v as CqlValue[]).map((e) => afterJson(t.element, e)));
  if (t.kind === 'map') return normalizeCollection(t, (v as Array<[CqlValue, CqlValue]>).map(([k, x]) => [afterJson(t.key, k), afterJson(t.value, x)]));
  if (Object.is(v, -0)) return 0;
  if (t.name === 'inet' && (v as string).startsWith('::ffff:') && (v as string).includes('.')) return (v as string).slice(7);
  return v;
}

describe.each(ALL_TYPES.map((t) => [formatType(t), t] as const))('%s', (_name, t) => {
  const arb = arbitraryOf(t);

  it('generated values have the in-memory shape', () => {
    fc.assert(fc.property(arb, (v) => isValueOfType(t, v)), RUNS);
  });

  it('compareValues is a total order', () => {
    fc.assert(
      fc.property(arb, arb, arb, (a, b, c) => {
        expect(compareValues(t, a, a)).toBe(0);
        const ab = Math.sign(compareValues(t, a, b));
        expect(Math.sign(compareValues(t, b, a))).toBe(-ab || 0);
        const sorted = [a, b, c].sort((x, y) => compareValues(t, x, y));
        expect(compareValues(t, sorted[0]!, sorted[1]!)).toBeLessThanOrEqual(0);
        expect(compareValues(t, sorted[1]!, sorted[2]!)).toBeLessThanOrEqual(0);
        expect(compareValues(t, sorted[0]!, sorted[2]!)).toBeLessThanOrEqual(0);
      }),
      RUNS,
    );
  });

  it('deserialize ∘ serialize is the identity', () => {
    fc.assert(
      fc.property(arb, (v) => {
        expectSame(t, deserializeValue(t, serializeValue(t, v)), v);
      }),
      RUNS,
    );
  });

  it('valueFromJson ∘ valueToJson is the identity, through JSON text', () => {
    fc.assert(
      fc.property(arb, (v) => {
        const json = JSON.parse(JSON.stringify(valueToJson(t, v))) as unknown;
        const back = valueFromJson(t, json, 'c');
        const want = afterJson(t, v);
        // Plain decimal text keeps the value but not a negative scale (1E+3 prints as 1000).
        if (t.kind === 'native' && t.name !== 'decimal') expectSame(t, back, want);
        else expect(compareValues(t, back, want), `${show(back)} vs ${show(want)}`).toBe(0);
      }),
      RUNS,
    );
  });
});

describe('literals read back through valueFromConstant', () => {
  function constantOf(t: NativeTypeName, text: string): Constant {
    if (text.startsWith("'")) return { kind: 'string', value: text.slice(1, -1).replaceAll("''", "'") };
    if (text.startsWith('0x')) return { kind: 'hex', text };
    if (t === 'boolean') return { kind: 'boolean', value: text === 'true' };
    if (t === 'uuid' || t === 'timeuuid') return { kind: 'uuid', text };
    return /^-?\d+$/.test(text) ? { kind: 'integer', text } : { kind: 'float', text };
  }

  it.each(NATIVE_TYPES.filter((n) => n !== 'inet'))('%s', (name) => {
    const t = nt(name);
    fc.assert(
      fc.property(NATIVE[name], (v) => {
        const back = valueFromConstant(t, constantOf(name, formatCqlLiteral(t, v)), 'c');
        if (name === 'decimal') expect(compareValues(t, back, v)).toBe(0);
        else expectSame(t, back, v);
      }),
      RUNS,
    );
  });
});

describe('compareValues agrees with value', () => {
  it('for every integer type and for floats (Java Double.compare on −0 and NaN)', () => {
    for (const name of ['int', 'smallint', 'tinyint', 'timestamp', 'date'] as const) {
      fc.assert(fc.property(NATIVE[name], NATIVE[name], (a, b) => Math.sign(compareValues(nt(name), a, b)) === Math.sign((a as number) - (b as number))), RUNS);
    }
    for (const name of ['bigint', 'varint', 'time'] as const) {
      fc.assert(fc.property(NATIVE[name], NATIVE[name], (a, b) => Math.sign(compareValues(nt(name), a, b)) === ((a as bigint) < (b as bigint) ? -1 : (a as bigint) > (b as bigint) ? 1 : 0)), RUNS);
    }
    fc.assert(
      fc.property(fc.double({ noNaN: true }), fc.double({ noNaN: true }), (a, b) => {
        if (a !== b) expect(Math.sign(compareValues(nt('double'), a, b))).toBe(a < b ? -1 : 1);
      }),
      RUNS,
    );
    const ordered = [-Infinity, -1, -0, 0, 1, Infinity, NaN];
    for (let i = 0; i + 1 < ordered.length; i++) expect(compareValues(nt('double'), ordered[i]!, ordered[i + 1]!)).toBe(-1);
    expect(compareValues(nt('float'), NaN, NaN)).toBe(0);
  });

  it('for decimals, by exact value whatever the scale', () => {
    const d = (unscaled: bigint, scale: number): CqlDecimal => ({ unscaled, scale });
    expect(compareValues(nt('decimal'), d(10n, 1), d(100n, 2))).toBe(0);
    expect(compareValues(nt('decimal'), d(1n, -3), d(1000n, 0))).toBe(0);
    expect(compareValues(nt('decimal'), d(-1n, 0), d(1n, 2_000_000_000))).toBe(-1);
    expect(compareValues(nt('decimal'), d(1n, -2_000_000_000), d(9n, 0))).toBe(1);
    expect(compareValues(nt('decimal'), d(-1n, -2_000_000_000), d(-9n, 0))).toBe(-1);
    expect(compareValues(nt('decimal'), d(15n, 1), d(2n, 0))).toBe(-1);
    fc.assert(
      fc.property(NATIVE.decimal, NATIVE.decimal, (a, b) => {
        const x = a as CqlDecimal;
        const y = b as CqlDecimal;
        const shift = Math.max(x.scale, y.scale) + 150;
        const scaled = (v: CqlDecimal): bigint => v.unscaled * 10n ** BigInt(shift - v.scale);
        const want = scaled(x) < scaled(y) ? -1 : scaled(x) > scaled(y) ? 1 : 0;
        expect(Math.sign(compareValues(nt('decimal'), a, b))).toBe(want);
      }),
      RUNS,
    );
  });
});
