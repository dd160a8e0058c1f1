/**
 * The replica verbs' cheap paths (issue #5 §5): encodings through a shared scratch writer, the
 * received mutation bytes reused as the commit-log record, one-shot digests, and handlers that
 * answer reads synchronously.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DIGEST_BYTES,
  decodeDataResponse,
  decodeDigestResponse,
  decodeMutation,
  decodeReadCommand,
  encodeDataResponse,
  encodeDigestResponse,
  encodeMutation,
  encodeReadCommand,
  logRecordOfMutation,
  partitionDigest,
  registerReplicaVerbs,
} from '../../../src/coordinator/replica-verbs.js';
import { Verb } from '../../../src/messaging/verbs.js';
import { readUpdate } from '../../../src/storage/data/codec.js';
import type { Partition, PartitionUpdate } from '../../../src/storage/data/types.js';
import type { TableStore } from '../../../src/storage/engine/table-store.js';
import { ByteReader } from '../../../src/util/bytes.js';
import { silentLogger } from '../../../src/util/logger.js';
import { openEngine, TABLE } from '../../helpers/engine.js';
import { bound, cell, del, rangeTombstone, row, update } from '../../helpers/rows.js';
import { useTmpDir } from '../../helpers/tmpdir.js';

const big = (n: number): string => 'v'.repeat(n);

function sample(): PartitionUpdate {
  return update(
    -7n,
    'key',
    [row('a', [cell('v', big(3000), 10)], { liveness: { ts: 10, ttl: 0, expiresAt: 0 }, version: Buffer.from([1, 2, 3]) }), row('b', [cell('v', null, 11)])],
    { deletion: del(3), rangeTombstones: [rangeTombstone(bound('c', true), bound('d', false), del(9))] },
  );
}

/** The storage engine's commit-log record payload: `string(tableId) update`. */
function decodeLogRecord(record: Buffer): { tableId: string; update: PartitionUpdate } {
  const r = new ByteReader(record);
  const tableId = r.string();
  const decoded = readUpdate(r);
  expect(r.remaining).toBe(0);
  return { tableId, update: decoded };
}

type Handler = (from: unknown, payload: Uint8Array) => unknown;

function handlersFor(table: Partial<TableStore>): Map<number, Handler> {
  const handlers = new Map<number, Handler>();
  registerReplicaVerbs({ registerHandler: (verb, h) => void handlers.set(verb, h as Handler) }, { table: () => table as TableStore }, silentLogger);
  return handlers;
}

describe('replica message encodings through the scratch writer', () => {
  it('every encoding is an independent copy: a later encode does not change an earlier result', () => {
    const first = encodeMutation('t1', sample());
    const firstCopy = Buffer.from(first);
    const second = encodeMutation('t2', update(1n, 'other', [row('x', [cell('v', big(20_000), 1)])]));
    encodeReadCommand({ tableId: 't3', token: 5n, key: Buffer.from('k'), slice: { limit: 3 } });
    expect(first.equals(firstCopy)).toBe(true);
    expect(decodeMutation(first)).toEqual({ tableId: 't1', update: sample() });
    expect(decodeMutation(second).update.key.toString()).toBe('other');
  });

  it('a mutation request minus its version byte is the commit-log record of the same update', () => {
    const payload = encodeMutation('table-id', sample());
    const record = logRecordOfMutation(payload);
    expect(record.length).toBe(payload.length - 1);
    expect(decodeLogRecord(record)).toEqual({ tableId: 'table-id', update: sample() });
  });

  it('the digest is still the first 16 bytes of the SHA-256 of the data response (format unchanged)', () => {
    const partition: Partition = { ...sample() };
    const response = encodeDataResponse(partition);
    const expected = createHash('sha256').update(response).digest().subarray(0, DIGEST_BYTES);
    expect(partitionDigest(partition).equals(expected)).toBe(true);
    expect(decodeDataResponse(response)).toEqual(partition);
    expect(partitionDigest(null).equals(createHash('sha256').update(Buffer.alloc(0)).digest().subarray(0, DIGEST_BYTES))).toBe(true);
    const digestResponse = encodeDigestResponse(expected);
    expect(digestResponse.length).toBe(1 + DIGEST_BYTES);
    expect(decodeDigestResponse(digestResponse).equals(expected)).toBe(true);
  });
});

describe('replica handlers', () => {
  it('READ_DATA and READ_DIGEST answer synchronously with the encoded partition and its digest', () => {
    const partition: Partition = { ...sample() };
    const handlers = handlersFor({ readPartition: () => partition });
    const command = encodeReadCommand({ tableId: 't', token: -7n, key: Buffer.from('key'), slice: {} });
    const data = handlers.get(Verb.READ_DATA)!(null, command);
    const digest = handlers.get(Verb.READ_DIGEST)!(null, command);
    expect(data).toBeInstanceOf(Uint8Array);
    expect(digest).toBeInstanceOf(Uint8Array);
    expect(decodeDataResponse(data as Uint8Array)).toEqual(partition);
    expect(decodeDigestResponse(digest as Uint8Array).equals(partitionDigest(partition))).toBe(true);
    expect(decodeReadCommand(command).key.toString()).toBe('key');
  });

  it('a read of an unknown table or a corrupt request throws at once (the peer gets an error response)', () => {
    const handlers = new Map<number, Handler>();
    registerReplicaVerbs({ registerHandler: (verb, h) => void handlers.set(verb, h as Handler) }, { table: () => undefined }, silentLogger);
    const command = encodeReadCommand({ tableId: 't', token: 1n, key: Buffer.from('k'), slice: {} });
    expect(() => handlers.get(Verb.READ_DIGEST)!(null, command)).toThrow(/unknown table/);
    expect(() => handlers.get(Verb.READ_DATA)!(null, Buffer.from([9]))).toThrow();
  });

  it('MUTATION applies the decoded update with the received bytes as its commit-log record', async () => {
    const applied: { update: PartitionUpdate; logRecord: Buffer | undefined }[] = [];
    const handlers = handlersFor({
      apply: (u: PartitionUpdate, logRecord?: Buffer) => {
        applied.push({ update: u, logRecord: logRecord === undefined ? undefined : Buffer.from(logRecord) });
        return Promise.resolve();
      },
    });
    const payload = encodeMutation('t', sample());
    const answer = await (handlers.get(Verb.MUTATION)!(null, payload) as Promise<Uint8Array>);
    expect(answer.length).toBe(0);
    expect(applied).toHaveLength(1);
    expect(applied[0]!.update).toEqual(sample());
    expect(decodeLogRecord(applied[0]!.logRecord!)).toEqual({ tableId: 't', update: sample() });
  });

  it('MUTATION rejects when the store refuses the write', async () => {
    const handlers = handlersFor({ apply: () => Promise.reject(new Error('disk on fire')) });
    await expect(handlers.get(Verb.MUTATION)!(null, encodeMutation('t', sample())) as Promise<unknown>).rejects.toThrow('disk on fire');
  });
});

describe('TableStore.apply with a commit-log record', () => {
  const tmp = useTmpDir('ringtail-hot-path-');

  it('passes the record to the commit log and the write replays to the same rows after a restart', async () => {
    const dir = path.join(tmp(), 'node');
    const { engine, table } = await openEngine(dir);
    const u = update(3n, 'p', [row('r', [cell('v', big(500), 42)])]);
    const payload = encodeMutation(TABLE.id, u);
    await table.apply(u, logRecordOfMutation(payload));
    await table.applyWith(
      () => update(3n, 'p', [row('s', [cell('v', 'second', 43)])]),
      (built) => logRecordOfMutation(encodeMutation(TABLE.id, built)),
    );
    await engine.close({ flush: false });
    const reopened = await openEngine(dir);
    try {
      const partition = reopened.table.readPartition(3n, Buffer.from('p'));
      expect(partition?.rows.map((r) => [r.clustering.toString(), r.cells[0]!.value!.toString()])).toEqual([
        ['r', big(500)],
        ['s', 'second'],
      ]);
    } finally {
      await reopened.engine.close({ flush: false });
    }
  });

  it('a closed table rejects instead of throwing', async () => {
    const { engine, table } = await openEngine(path.join(tmp(), 'node'));
    await engine.close({ flush: false });
    await expect(table.apply(update(1n, 'k', [row('r', [cell('v', 'x', 1)])]))).rejects.toThrow();
    await expect(table.applyWith(() => update(1n, 'k', []), () => undefined)).rejects.toThrow();
  });
});
