import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeHeader, decodeRow, encodeHeader, encodeRow, readUpdate, writeUpdate } from '../../../src/storage/data/codec.js';
import type { PartitionUpdate, Row } from '../../../src/storage/data/types.js';
import { ByteReader, ByteWriter, CorruptDataError } from '../../../src/util/bytes.js';
import { b, bound, cell, del, rangeTombstone, row, update } from '../../helpers/rows.js';

const sample: Row = row(
  'ck',
  [cell('a', 'hello', 1_700_000_000_000_001), cell('b', null, 7, { ldt: 99 }), cell('l', 'x', 8, { path: b('p1'), ttl: 60, ldt: 1234 })],
  { liveness: { ts: 5, ttl: 60, expiresAt: 1000 }, deletion: del(3, 4), complexDeletions: [{ column: 'l', deletion: del(2, 2) }], version: b('vv') },
);

describe('row and header codec', () => {
  it('round-trips every field', () => {
    expect(decodeRow(encodeRow(sample), b('ck'))).toEqual(sample);
    const header = { deletion: del(9, 10), rangeTombstones: [rangeTombstone(bound('a', true), null, del(1)), rangeTombstone(null, bound('z', false), del(2))] };
    expect(decodeHeader(encodeHeader(header))).toEqual(header);
  });

  it('is canonical: stored bytes re-encode to themselves (merged-entries passes single versions through as stored)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ column: fc.constantFrom('a', 'b', 'c'), value: fc.option(fc.string({ maxLength: 8 })), ts: fc.integer({ min: 0, max: 2 ** 40 }), ttl: fc.constantFrom(0, 60) }), { maxLength: 5 }),
        fc.boolean(),
        fc.option(fc.uint8Array({ minLength: 1, maxLength: 12 })),
        (cells, withDeletion, version) => {
          const unique = [...new Map(cells.map((c) => [c.column, c])).values()].sort((x, y) => (x.column < y.column ? -1 : 1));
          const r = row(
            'ck',
            unique.map((c) => cell(c.column, c.value, c.ts, c.ttl > 0 && c.value !== null ? { ttl: c.ttl, ldt: 1000 } : c.value === null ? { ldt: 5 } : {})),
            { ...(withDeletion ? { deletion: del(3, 4) } : {}), ...(version !== null ? { version: Buffer.from(version) } : {}) },
          );
          const stored = encodeRow(r);
          expect(encodeRow(decodeRow(stored, b('ck')))).toEqual(stored);
        },
      ),
    );
    const stored = encodeRow(sample);
    expect(encodeRow(decodeRow(stored, b('ck')))).toEqual(stored);
  });

  it('round-trips a partition update with a negative token', () => {
    const u: PartitionUpdate = update(-(2n ** 63n), 'key', [sample, row('ck2', [cell('a', 'v', 1)])], { deletion: del(1) });
    const w = new ByteWriter();
    writeUpdate(w, u);
    const back = readUpdate(new ByteReader(w.toBuffer()));
    expect(back.token).toBe(u.token);
    expect(back.rows).toEqual(u.rows);
    expect(back.deletion).toEqual(u.deletion);
  });

  it('rejects every truncation and random corruption with CorruptDataError, never anything else', () => {
    const bytes = encodeRow(sample);
    for (let n = 0; n < bytes.length; n++) expect(() => decodeRow(bytes.subarray(0, n), b('ck'))).toThrow(CorruptDataError);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (junk) => {
        try {
          decodeRow(Buffer.from(junk), b(''));
        } catch (err) {
          expect(err).toBeInstanceOf(CorruptDataError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
