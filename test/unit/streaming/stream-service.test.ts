/**
 * StreamService's own logic with fakes (no threads, no sockets, manual time): session slots,
 * pages in flight, retries with backoff, failure naming the push, the snapshot released and the
 * reader stopped on every path, the receiving side's checks, and the push-request verb.
 */
import { describe, expect, it } from 'vitest';
import { RemoteError } from '../../../src/messaging/errors.js';
import type { MessageHandler } from '../../../src/messaging/messaging-service.js';
import type { PeerAddress } from '../../../src/messaging/peer.js';
import { Verb } from '../../../src/messaging/verbs.js';
import type { TokenRange } from '../../../src/ring/token-metadata.js';
import type { PartitionUpdate } from '../../../src/storage/data/types.js';
import type { StorageEngine } from '../../../src/storage/engine/storage-engine.js';
import { MAX_CONCURRENT_SESSIONS, MAX_PAGES_IN_FLIGHT } from '../../../src/streaming/limits.js';
import { decodeStreamResult, encodeApplyRequest, encodePushRequest } from '../../../src/streaming/stream-messages.js';
import { encodeStreamPage, type StreamPage } from '../../../src/streaming/stream-page.js';
import { StreamFailedError, StreamService, type StreamServiceOptions } from '../../../src/streaming/stream-service.js';
import { CorruptDataError } from '../../../src/util/bytes.js';
import { silentLogger } from '../../../src/util/logger.js';
import { encodeRow } from '../../../src/storage/data/codec.js';
import { partitionStorageKey, rowStorageCk } from '../../../src/storage/data/keys.js';
import { turns } from '../../helpers/hints-cluster.js';
import { ManualTime } from '../../helpers/manual-time.js';
import { b, cell, row } from '../../helpers/rows.js';

const TABLE_ID = 'table-1';
const SELF = '127.0.0.1:7001';
const PEER = '127.0.0.1:7002';
const RANGES: TokenRange[] = [{ start: 0n, end: 100n }];
const PEER_INFO = { hostId: 'peer', address: { host: '127.0.0.1', port: 7002 } };

/** A page of `rows` one-row partitions, tokens from `firstToken`. */
function page(firstToken: number, rows: number): StreamPage {
  const entries = Array.from({ length: rows }, (_, i) => {
    const r = row('c', [cell('v', `v${firstToken + i}`, 1)]);
    return { kind: 'row' as const, pkey: partitionStorageKey(BigInt(firstToken + i), b(`k${firstToken + i}`)), ck: rowStorageCk(r.clustering), bytes: encodeRow(r) };
  });
  return { bytes: encodeStreamPage(entries), rows, partitions: rows };
}

/** A fake table: counts retained snapshots and records what is applied. */
class FakeTable {
  retained = 0;
  maxRetained = 0;
  readonly applied: PartitionUpdate[] = [];
  retainGate: Promise<void> = Promise.resolve();

  async retainSstables(): Promise<{ paths: readonly string[]; release(): void }> {
    this.retained++;
    this.maxRetained = Math.max(this.maxRetained, this.retained);
    await this.retainGate;
    let released = false;
    return {
      paths: ['sst-1.db'],
      release: () => {
        if (!released) this.retained--;
        released = true;
      },
    };
  }

  async apply(update: PartitionUpdate): Promise<void> {
    this.applied.push(update);
  }
}

interface Harness {
  readonly service: StreamService;
  readonly table: FakeTable;
  readonly time: ManualTime;
  readonly handlers: Map<number, MessageHandler>;
  /** Outstanding STREAM_APPLY requests: answer them by hand. */
  readonly requests: { verb: number; payload: Uint8Array; resolve: (b: Uint8Array) => void; reject: (e: Error) => void }[];
  readonly reader: { pulled: number; stopped: number; pages: StreamPage[] };
}

function harness(options: Partial<StreamServiceOptions> = {}, pages: StreamPage[] = [page(1, 3), page(10, 2), page(20, 4), page(30, 1)]): Harness {
  const time = new ManualTime();
  const table = new FakeTable();
  const handlers = new Map<number, MessageHandler>();
  const requests: Harness['requests'] = [];
  const reader = { pulled: 0, stopped: 0, pages };
  const service = new StreamService({
    engine: { table: (id: string) => (id === TABLE_ID ? table : undefined) } as unknown as Pick<StorageEngine, 'table'>,
    messaging: {
      registerHandler: (verb, handler) => void handlers.set(verb, handler),
      request: (_peer: PeerAddress, verb: number, payload: Uint8Array) => new Promise((resolve, reject) => requests.push({ verb, payload, resolve, reject })),
    },
    self: SELF,
    logger: silentLogger,
    throughputBytesPerS: 0,
    scheduler: time,
    clock: time,
    pageTimeoutMs: 1000,
    pageAttempts: 3,
    retryBackoff: { initialMs: 100, maxMs: 150 },
    readRanges: async function* () {
      try {
        for (const p of reader.pages) {
          reader.pulled++;
          yield p;
        }
      } finally {
        reader.stopped++;
      }
    },
    ...options,
  });
  return { service, table, time, handlers, requests, reader };
}

const ACK = new Uint8Array(0);

describe('StreamService (fakes)', () => {
  it('keeps at most MAX_PAGES_IN_FLIGHT pages unanswered and counts what was acknowledged', async () => {
    const h = harness();
    const pushed = h.service.push(TABLE_ID, RANGES, PEER);
    await turns();
    expect(h.requests).toHaveLength(MAX_PAGES_IN_FLIGHT);
    // The reader is not pulled further than one page beyond those in flight.
    expect(h.reader.pulled).toBeLessThanOrEqual(MAX_PAGES_IN_FLIGHT + 1);
    for (let answered = 0; answered < 4; answered++) {
      await turns();
      expect(h.requests.length - answered).toBeLessThanOrEqual(MAX_PAGES_IN_FLIGHT);
      h.requests[answered]!.resolve(ACK);
    }
    expect(await pushed).toEqual({ rows: 10, partitions: 10, bytes: h.reader.pages.reduce((n, p) => n + p.bytes.length, 0), pages: 4 });
    expect(h.requests.every((r) => r.verb === Verb.STREAM_APPLY)).toBe(true);
    expect(h.table.retained).toBe(0);
    expect(h.service.stats()).toMatchObject({ rowsSent: 10, sessionsCompleted: 1, sessionsActive: 0 });
  });

  it('retries a failed page after a backoff and succeeds', async () => {
    const h = harness({}, [page(1, 2)]);
    const pushed = h.service.push(TABLE_ID, RANGES, PEER);
    await turns();
    h.requests[0]!.reject(new RemoteError('busy', PEER_INFO.address, Verb.STREAM_APPLY));
    await turns();
    expect(h.requests).toHaveLength(1);
    h.time.advanceMs(100);
    await turns();
    expect(h.requests).toHaveLength(2);
    expect(h.requests[1]!.payload).toEqual(h.requests[0]!.payload);
    h.requests[1]!.resolve(ACK);
    expect((await pushed).rows).toBe(2);
  });

  it('fails the push after the last attempt, naming table, target and ranges; stops the reader; releases the snapshot', async () => {
    const h = harness();
    const pushed = h.service.push(TABLE_ID, RANGES, PEER);
    pushed.catch(() => undefined);
    for (let attempt = 0; attempt < 3; attempt++) {
      await turns();
      const open = h.requests.filter((r) => (r as { done?: boolean }).done !== true);
      for (const r of open) {
        (r as { done?: boolean }).done = true;
        r.reject(new Error('connection refused'));
      }
      await turns();
      h.time.advanceMs(150);
    }
    await expect(pushed).rejects.toThrow(StreamFailedError);
    await expect(pushed).rejects.toThrow(`streaming table ${TABLE_ID} ranges (0, 100] to ${PEER} failed: page of 3 rows not applied after 3 attempts: connection refused`);
    expect(h.reader.stopped).toBe(1);
    expect(h.reader.pulled).toBeLessThan(4);
    expect(h.table.retained).toBe(0);
    expect(h.service.stats()).toMatchObject({ sessionsFailed: 1, sessionsActive: 0, rowsSent: 0 });
  });

  it('runs at most MAX_CONCURRENT_SESSIONS pushes at once; the others wait their turn', async () => {
    const h = harness({}, [page(1, 1)]);
    let openGate!: () => void;
    h.table.retainGate = new Promise((resolve) => (openGate = resolve));
    const pushes = Array.from({ length: MAX_CONCURRENT_SESSIONS + 2 }, () => h.service.push(TABLE_ID, RANGES, SELF));
    await turns();
    expect(h.table.maxRetained).toBe(MAX_CONCURRENT_SESSIONS);
    expect(h.service.stats()).toMatchObject({ sessionsActive: MAX_CONCURRENT_SESSIONS, sessionsQueued: 2 });
    openGate();
    const results = await Promise.all(pushes);
    expect(h.table.maxRetained).toBe(MAX_CONCURRENT_SESSIONS);
    // Pushed to itself: applied locally, no messages.
    expect(h.requests).toHaveLength(0);
    expect(results.every((r) => r.rows === 1)).toBe(true);
    expect(h.table.applied).toHaveLength(MAX_CONCURRENT_SESSIONS + 2);
    expect(h.service.stats()).toMatchObject({ sessionsActive: 0, sessionsQueued: 0, sessionsCompleted: 4, rowsReceived: 4, rowsSent: 4 });
  });

  it('fails a push of a table this node does not have, and refuses pushes once stopped', async () => {
    const h = harness();
    await expect(h.service.push('no-such-table', RANGES, PEER)).rejects.toThrow(/streaming table no-such-table .* failed: unknown table no-such-table/);
    h.service.stop();
    await expect(h.service.push(TABLE_ID, RANGES, PEER)).rejects.toThrow(/stream service is stopped/);
  });

  it('applies a received page (STREAM_APPLY) and refuses unknown tables and corrupt pages', async () => {
    const h = harness();
    const apply = h.handlers.get(Verb.STREAM_APPLY)!;
    await apply(PEER_INFO, encodeApplyRequest(TABLE_ID, page(5, 3).bytes));
    expect(h.table.applied.map((u) => u.key.toString())).toEqual(['k5', 'k6', 'k7']);
    expect(h.service.stats().rowsReceived).toBe(3);
    await expect(apply(PEER_INFO, encodeApplyRequest('other', page(5, 3).bytes))).rejects.toThrow('unknown table other');
    await expect(apply(PEER_INFO, encodeApplyRequest(TABLE_ID, Buffer.from([1, 1, 0])))).rejects.toThrow(CorruptDataError);
    expect(h.table.applied).toHaveLength(3);
  });

  it('serves STREAM_PUSH_REQUEST by pushing and answering with the result; requestPush wraps remote failures', async () => {
    const h = harness({}, [page(1, 2)]);
    const serve = h.handlers.get(Verb.STREAM_PUSH_REQUEST)!;
    const answer = serve(PEER_INFO, encodePushRequest({ tableId: TABLE_ID, target: SELF, ranges: RANGES }));
    expect(decodeStreamResult((await answer) as Uint8Array)).toMatchObject({ rows: 2, pages: 1 });

    const requested = h.service.requestPush(PEER, TABLE_ID, RANGES, SELF, 5000);
    await turns();
    expect(h.requests[0]!.verb).toBe(Verb.STREAM_PUSH_REQUEST);
    h.requests[0]!.reject(new RemoteError('streaming table x failed: disk full', PEER_INFO.address, Verb.STREAM_PUSH_REQUEST));
    await expect(requested).rejects.toThrow(`asking ${PEER} to stream table ${TABLE_ID} ranges (0, 100] to ${SELF} failed: streaming table x failed: disk full`);
  });
});
