import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  coveringDeletion,
  isRowLive,
  mergeRows,
  purgeRow,
  reconcileCells,
  removeShadowed,
} from '../../../src/storage/data/reconcile.js';
import type { Cell, Row } from '../../../src/storage/data/types.js';
import { b, bound, cell, del, rangeTombstone, row, values } from '../../helpers/rows.js';

const NOW = 1_700_000_000;

describe('cell reconciliation (last write wins)', () => {
  it.each([
    ['the higher timestamp wins', cell('c', 'old', 1), cell('c', 'new', 2), 'new'],
    ['a tombstone wins a timestamp tie', cell('c', 'v', 5), cell('c', null, 5, { ldt: NOW }), null],
    ['then the greater value wins a tie', cell('c', 'apple', 5), cell('c', 'banana', 5), 'banana'],
    ['an older tombstone loses', cell('c', null, 4, { ldt: NOW }), cell('c', 'v', 5), 'v'],
    ['then the longer-lived of equal values', cell('c', 'v', 5, { ttl: 10, ldt: NOW + 10 }), cell('c', 'v', 5), 'v'],
  ])('%s', (_name, x, y, expected) => {
    expect(reconcileCells(x, y).value?.toString() ?? null).toBe(expected);
    expect(reconcileCells(y, x).value?.toString() ?? null).toBe(expected);
  });

  it('never depends on the clock: an expired cell breaks a tie as it did while live', () => {
    const expiring = cell('c', 'a', 5, { ttl: 10, ldt: NOW + 10 });
    const permanent = cell('c', 'z', 5);
    expect(reconcileCells(expiring, permanent)).toBe(permanent);
    expect(reconcileCells(permanent, expiring)).toBe(permanent);
    const sameValue = cell('c', 'a', 5);
    expect(reconcileCells(expiring, sameValue)).toBe(sameValue); // lives longer
  });
});

const arbCell: fc.Arbitrary<Cell> = fc.record({
  column: fc.constantFrom('a', 'b'),
  value: fc.option(fc.constantFrom('x', 'y', 'z').map(b), { nil: null }),
  ts: fc.integer({ min: 1, max: 4 }),
  ttl: fc.constantFrom(0, 0, 10),
  ldt: fc.constantFrom(NOW - 5, NOW + 5),
}).map((c) => (c.value === null || c.ttl === 0 ? { ...c, ttl: 0 } : c));

const arbRow: fc.Arbitrary<Row> = fc.record({
  cells: fc.uniqueArray(arbCell, { selector: (c) => c.column, maxLength: 2 }).map((cs) => cs.sort((x, y) => (x.column < y.column ? -1 : 1))),
  liveness: fc.option(fc.record({ ts: fc.integer({ min: 1, max: 4 }), ttl: fc.constantFrom(0, 5, 10), expiresAt: fc.constantFrom(NOW - 1, NOW + 1) }).map((l) => (l.ttl === 0 ? { ...l, expiresAt: 0 } : l)), { nil: undefined }),
  deletion: fc.option(fc.record({ ts: fc.integer({ min: 1, max: 4 }), ldt: fc.constant(NOW) }), { nil: undefined }),
}).map((r) => ({ clustering: b('k'), ...r }));

describe('row merge is a semilattice join', () => {
  const same = (x: Row, y: Row): void => expect(JSON.stringify(x)).toEqual(JSON.stringify(y));
  it('commutative, associative, idempotent', () => {
    fc.assert(
      fc.property(arbRow, arbRow, arbRow, (x, y, z) => {
        same(mergeRows(x, y), mergeRows(y, x));
        same(mergeRows(mergeRows(x, y), z), mergeRows(x, mergeRows(y, z)));
        same(mergeRows(mergeRows(x, x), x), mergeRows(x, x));
      }),
      { numRuns: 500 },
    );
  });
});

describe('tombstones shadow what they cover', () => {
  it('a row deletion removes older cells and the marker, keeps newer cells', () => {
    const r = row('k', [cell('a', 'old', 3), cell('b', 'new', 7)], { liveness: { ts: 3, ttl: 0, expiresAt: 0 }, deletion: del(5) });
    const out = removeShadowed(r, undefined)!;
    expect(values(out)).toEqual({ b: 'new' });
    expect(out.liveness).toBeUndefined();
    expect(out.deletion).toEqual(del(5));
  });

  it('a partition deletion at a timestamp shadows data written at that same timestamp', () => {
    expect(removeShadowed(row('k', [cell('a', 'v', 5)]), del(5))).toBeNull();
  });

  it('range tombstones cover clustering prefixes with inclusive and exclusive ends', () => {
    const header = {
      rangeTombstones: [
        rangeTombstone(bound('b', true), bound('d', false), del(10)),
        rangeTombstone(bound('m', false), null, del(20)),
      ],
    };
    const covered = (c: string): number | undefined => coveringDeletion(header, b(c))?.ts;
    expect(covered('a')).toBeUndefined();
    expect(covered('b')).toBe(10);
    expect(covered('b1')).toBe(10);
    expect(covered('c9')).toBe(10);
    expect(covered('d')).toBeUndefined();
    expect(covered('d1')).toBeUndefined();
    expect(covered('m')).toBeUndefined(); // exclusive start excludes the prefix itself…
    expect(covered('m5')).toBeUndefined(); // …and everything that starts with it
    expect(covered('n')).toBe(20);
  });

  it('a collection deletion removes only older elements of that column', () => {
    const r = row('k', [cell('l', 'x', 3, { path: b('1') }), cell('l', 'y', 6, { path: b('2') }), cell('s', 'v', 1)], {
      complexDeletions: [{ column: 'l', deletion: del(5) }],
    });
    expect(values(removeShadowed(r, undefined)!)).toEqual({ 'l[2]': 'y', s: 'v' });
  });
});

describe('TTL and gc_grace', () => {
  it('an expired cell is not live, an unexpired one is', () => {
    expect(isRowLive(row('k', [cell('a', 'v', 1, { ttl: 10, ldt: NOW + 1 })]), NOW)).toBe(true);
    expect(isRowLive(row('k', [cell('a', 'v', 1, { ttl: 10, ldt: NOW })]), NOW)).toBe(false);
  });

  const rule = (gcBeforeSec: number, maxPurgeableTs = Number.POSITIVE_INFINITY) => ({ gcBeforeSec, maxPurgeableTs, nowSec: NOW });

  it('purges tombstones only after gc_grace', () => {
    const r = row('k', [cell('a', null, 5, { ldt: NOW - 100 })]);
    expect(purgeRow(r, rule(NOW - 200))).not.toBeNull();
    expect(purgeRow(r, rule(NOW - 50))).toBeNull();
  });

  it('keeps a tombstone that may still shadow data outside the compaction', () => {
    const r = row('k', [cell('a', null, 5, { ldt: NOW - 100 })]);
    expect(purgeRow(r, rule(NOW, 5))).not.toBeNull();
    expect(purgeRow(r, rule(NOW, 6))).toBeNull();
  });

  it('keeps an expired cell as it is (it still shadows older data), then drops it once past gc_grace', () => {
    const expired = row('k', [cell('a', 'v', 5, { ttl: 100, ldt: NOW - 10 })]); // written at NOW-110
    expect(purgeRow(expired, rule(NOW - 1000))).toEqual(expired);
    expect(purgeRow(expired, rule(NOW - 100))).toBeNull();
    expect(isRowLive(expired, NOW)).toBe(false);
  });
});
