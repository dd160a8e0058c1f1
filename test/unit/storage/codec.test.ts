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
