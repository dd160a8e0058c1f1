import { describe, expect, it } from 'vitest';
import { BATCH_FORMAT_VERSION, batchIdString, decodeBatch, encodeBatch, MAX_BATCH_MUTATIONS, type Batch } from '../../../src/batchlog/batchlog-store.js';
import { decodeBatchRemove, encodeBatchRemove } from '../../../src/batchlog/batchlog-verbs.js';
import { ByteWriter, CorruptDataError } from '../../../src/util/bytes.js';
import { update } from '../../helpers/batchlog-cluster.js';

const ID = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const BATCH: Batch = {
  id: ID,
  writtenAtMs: 1_700_000_000_123,
  mutations: [
    { tableId: 't-1', update: update('a', 'va', 10) },
    { tableId: 't-2', update: { ...update('b', 'vb', 11), deletion: { ts: 9, ldt: 100 } } },
  ],
};

describe('batch encoding (BATCH_STORE payload and system.batches cell)', () => {
  it('round-trips id, write time and every mutation with its timestamps', () => {
    const decoded = decodeBatch(encodeBatch(BATCH));
    expect(decoded.id).toEqual(ID);
    expect(decoded.writtenAtMs).toBe(BATCH.writtenAtMs);
    expect(decoded.mutations.map((m) => m.tableId)).toEqual(['t-1', 't-2']);
    expect(decoded.mutations[0]!.update.rows[0]!.cells[0]).toMatchObject({ column: 'v', ts: 10 });
    expect(decoded.mutations[1]!.update.deletion).toEqual({ ts: 9, ldt: 100 });
    expect(encodeBatch(decoded)).toEqual(encodeBatch(BATCH));
  });

  it('refuses other versions, truncation, trailing bytes and bad mutation counts', () => {
    const bytes = encodeBatch(BATCH);
    expect(() => decodeBatch(Buffer.concat([Buffer.from([BATCH_FORMAT_VERSION + 1]), bytes.subarray(1)]))).toThrow(CorruptDataError);
    expect(() => decodeBatch(bytes.subarray(0, bytes.length - 1))).toThrow(CorruptDataError);
    expect(() => decodeBatch(Buffer.concat([bytes, Buffer.from([0])]))).toThrow(CorruptDataError);
    for (const count of [0, MAX_BATCH_MUTATIONS + 1]) {
      const w = new ByteWriter().u8(BATCH_FORMAT_VERSION).bytes(ID).uvarint(1).uvarint(count);
      expect(() => decodeBatch(w.toBuffer())).toThrow(CorruptDataError);
    }
    // A count larger than the input holds fails on the missing bytes, without allocating for it.
    const lying = new ByteWriter().u8(BATCH_FORMAT_VERSION).bytes(ID).uvarint(1).uvarint(MAX_BATCH_MUTATIONS);
    expect(() => decodeBatch(lying.toBuffer())).toThrow(CorruptDataError);
  });

  it('encodes BATCH_REMOVE as version and id, strictly', () => {
    expect(decodeBatchRemove(encodeBatchRemove(ID))).toEqual(ID);
    expect(() => decodeBatchRemove(Buffer.from([BATCH_FORMAT_VERSION]))).toThrow(CorruptDataError);
    expect(() => decodeBatchRemove(Buffer.concat([encodeBatchRemove(ID), Buffer.from([1])]))).toThrow(CorruptDataError);
    expect(() => encodeBatchRemove(Buffer.alloc(3))).toThrow(RangeError);
  });

  it('prints batch ids as UUIDs', () => {
    expect(batchIdString(ID)).toBe('00112233-4455-6677-8899-aabbccddeeff');
  });
});
