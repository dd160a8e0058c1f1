import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Cancellable, Scheduler } from '../../../src/runtime/clock.js';
import { ManualClock } from '../../../src/runtime/manual-clock.js';
import { systemScheduler } from '../../../src/runtime/system.js';
import {
  CommitLog,
  CommitLogFailedError,
  MutationTooLargeError,
  comparePositions,
  type CommitLogOptions,
  type CommitLogPosition,
  type CommitLogSync,
} from '../../../src/storage/commitlog/commit-log.js';
import {
  RECORD_HEADER_BYTES,
  SEGMENT_HEADER_BYTES,
  encodeRecord,
  parseSegmentFileName,
  readRecord,
  segmentFileName,
} from '../../../src/storage/commitlog/segment-format.js';
import { AssertionError } from '../../../src/util/assert.js';
import { silentLogger, type Logger } from '../../../src/util/logger.js';
import { useTmpDir } from '../../helpers/tmpdir.js';

const SEGMENT_SIZE_BYTES = 1024;
const START_MS = 1_700_000_000_000;
const tmpDir = useTmpDir('ringtail-commitlog-');

function options(overrides: Partial<CommitLogOptions> = {}): CommitLogOptions {
  return {
    dir: join(tmpDir(), 'commitlog'),
    sync: 'batch',
    syncPeriodMs: 10,
    groupWindowMs: 5,
    segmentSizeBytes: SEGMENT_SIZE_BYTES,
    clock: new ManualClock(START_MS),
    scheduler: systemScheduler,
    logger: silentLogger,
    ...overrides,
  };
}

/** Deterministic payloads of 1..300 bytes whose first bytes encode their index. */
function payloadOf(index: number): Buffer {
  const size = 4 + ((index * 37) % 297);
  const payload = Buffer.alloc(size, index & 0xff);
  payload.writeUInt32LE(index, 0);
  return payload;
}

interface Written {
  positions: CommitLogPosition[];
  payloads: Buffer[];
}

async function writeRecords(count: number, overrides: Partial<CommitLogOptions> = {}): Promise<Written> {
  const log = await CommitLog.open(options(overrides));
  const written = appendRecords(log, count);
  await Promise.all(written.positions.map((position) => log.awaitDurable(position)));
  await log.close();
  return written;
}

function appendRecords(log: CommitLog, count: number, firstIndex = 0): Written {
  const payloads = Array.from({ length: count }, (_, i) => payloadOf(firstIndex + i));
  return { payloads, positions: payloads.map((payload) => log.append(payload)) };
}

async function replayAll(overrides: Partial<CommitLogOptions> = {}): Promise<Written> {
  const log = await CommitLog.open(options(overrides));
  const replayed: Written = { positions: [], payloads: [] };
  for await (const record of log.replay()) {
    replayed.positions.push(record.position);
    replayed.payloads.push(record.payload);
  }
  await log.close();
  return replayed;
}

function segmentIds(dir = join(tmpDir(), 'commitlog')): number[] {
  return readdirSync(dir)
    .map((name) => parseSegmentFileName(name)?.segmentId)
    .filter((id): id is number => id !== undefined)
    .sort((a, b) => a - b);
}

function segmentPath(segmentId: number): string {
  return join(tmpDir(), 'commitlog', segmentFileName(segmentId));
}

/** Byte offset where the record ending at `positions[index]` starts. */
function recordStart(positions: CommitLogPosition[], index: number): number {
  const previous = positions[index - 1];
  const current = positions[index]!;
  return previous !== undefined && previous.segment === current.segment ? previous.offset : SEGMENT_HEADER_BYTES;
}

function capturingLogger(): { logger: Logger; entries: Array<Record<string, unknown>> } {
  const entries: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => entries.push(JSON.parse(line)) });
  return { logger, entries };
}

const WARN = 40;

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await systemScheduler.yieldToIo();
  }
}

/** Real "next turn", but timers fire only when the test says so. */
class ManualTimers implements Scheduler {
  private pending: Array<{ delayMs: number; fn: () => void; cancelled: boolean }> = [];

  after(delayMs: number, fn: () => void): Cancellable {
    const timer = { delayMs, fn, cancelled: false };
    this.pending.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }

  yieldToIo(): Promise<void> {
    return systemScheduler.yieldToIo();
  }

  armedDelaysMs(): number[] {
    return this.pending.filter((timer) => !timer.cancelled).map((timer) => timer.delayMs);
  }

  fireAll(): void {
    const due = this.pending.filter((timer) => !timer.cancelled);
    this.pending = [];
    for (const timer of due) timer.fn();
  }
}

/** Lets many I/O callbacks run: enough for a write + fdatasync round to finish if one were started. */
async function letIoSettle(log: CommitLog): Promise<void> {
  await waitFor(() => log.stats().pendingBytes === 0, 'queued bytes to be written');
  for (let turn = 0; turn < 50; turn++) await systemScheduler.yieldToIo();
}

function expectStrictlyIncreasing(positions: CommitLogPosition[]): void {
  for (let i = 1; i < positions.length; i++) {
    expect(comparePositions(positions[i - 1]!, positions[i]!)).toBeLessThan(0);
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('segment format', () => {
  it('decodes what it encodes and rejects a flipped bit in the length or the payload', () => {
    const record = encodeRecord(Buffer.from('hello'));
    const decoded = readRecord(record, 0);
    expect(decoded).toMatchObject({ kind: 'record', nextOffset: record.length });
    expect(decoded.kind === 'record' && decoded.payload.toString()).toBe('hello');

    const badLength = Buffer.from(record);
    badLength[0] = badLength[0]! ^ 0x40;
    expect(readRecord(badLength, 0)).toMatchObject({ kind: 'corrupt', reason: 'length checksum mismatch' });
    const badPayload = Buffer.from(record);
    badPayload[RECORD_HEADER_BYTES + 1] = badPayload[RECORD_HEADER_BYTES + 1]! ^ 0x01;
    expect(readRecord(badPayload, 0)).toMatchObject({ kind: 'corrupt', reason: 'payload checksum mismatch' });
    expect(readRecord(record.subarray(0, record.length - 1), 0)).toEqual({ kind: 'incomplete', bytesNeeded: record.length });
    expect(readRecord(Buffer.alloc(16), 0)).toMatchObject({ kind: 'corrupt', reason: 'zero length' });
  });
});

describe('commit log round trip', () => {
  it('replays every record in order with its position, across several segments', async () => {
    const written = await writeRecords(300);

    expectStrictlyIncreasing(written.positions);
    const ids = segmentIds();
    expect(ids.length).toBeGreaterThanOrEqual(5);
    for (const id of ids) expect(statSync(segmentPath(id)).size).toBeLessThanOrEqual(SEGMENT_SIZE_BYTES);

    const replayed = await replayAll();
    expect(replayed.positions).toEqual(written.positions);
    expect(replayed.payloads).toEqual(written.payloads);
  });

  it('appends after a reopen go to a new segment with a higher id and leave old segments untouched', async () => {
    await writeRecords(40);
    const oldIds = segmentIds();
    const oldBytes = oldIds.map((id) => readFileSync(segmentPath(id)));

    const log = await CommitLog.open(options());
    const position = log.append(payloadOf(1000));
    await log.awaitDurable(position);
    await log.close();

    expect(position.segment).toBeGreaterThan(Math.max(...oldIds));
    expect(oldIds.map((id) => readFileSync(segmentPath(id)))).toEqual(oldBytes);
    const replayed = await replayAll();
    expect(replayed.payloads).toHaveLength(41);
    expect(replayed.positions.at(-1)).toEqual(position);
  });

  it('names the next segment at offset 0 before the first append, honouring ensureSegmentIdsAbove', async () => {
    const clock = new ManualClock(START_MS);
    const log = await CommitLog.open(options({ clock }));
    expect(log.currentPosition()).toEqual({ segment: START_MS, offset: 0 });
    await log.awaitDurable(log.currentPosition());
    expect(segmentIds()).toEqual([]);

    log.ensureSegmentIdsAbove(START_MS + 1000);
    expect(log.currentPosition()).toEqual({ segment: START_MS + 1001, offset: 0 });
    const position = log.append(payloadOf(1));
    expect(position.segment).toBe(START_MS + 1001);
    expect(log.currentPosition()).toEqual(position);
    await log.close();

    clock.setMs(START_MS + 5000);
    const reopened = await CommitLog.open(options({ clock }));
    expect(reopened.append(payloadOf(2)).segment).toBe(START_MS + 5000);
    await reopened.close();
  });
});

describe('replay of damaged segments', () => {
  it('stops cleanly at a record truncated in its payload (torn tail)', async () => {
    const written = await writeRecords(30);
    const last = written.positions.at(-1)!;
    truncateSync(segmentPath(last.segment), last.offset - 5);

    const replayed = await replayAll();
    expect(replayed.payloads).toEqual(written.payloads.slice(0, -1));
  });

  it('stops cleanly at a record truncated inside its length header', async () => {
    const written = await writeRecords(30);
    const last = written.positions.at(-1)!;
    truncateSync(segmentPath(last.segment), recordStart(written.positions, 29) + 3);

    const replayed = await replayAll();
    expect(replayed.payloads).toEqual(written.payloads.slice(0, -1));
  });

  it('ignores garbage after the last record, logging the segment, offset and ignored bytes', async () => {
    const written = await writeRecords(30);
    const last = written.positions.at(-1)!;
    appendFileSync(segmentPath(last.segment), Buffer.from('not a record, just some trailing garbage'));
    const { logger, entries } = capturingLogger();

    const replayed = await replayAll({ logger });
    expect(replayed.payloads).toEqual(written.payloads);
    expect(entries).toContainEqual(
      expect.objectContaining({ level: WARN, segmentId: last.segment, offsetBytes: last.offset, ignoredBytes: 40 }),
    );
  });

  it('ignores zero bytes after the last record (a preallocated or zeroed tail)', async () => {
    const written = await writeRecords(30);
    appendFileSync(segmentPath(written.positions.at(-1)!.segment), Buffer.alloc(500));

    const replayed = await replayAll();
    expect(replayed.payloads).toEqual(written.payloads);
  });

  it('stops at a corrupted payload in the middle of a segment and continues with the next segment', async () => {
    const written = await writeRecords(100);
    const firstSegment = written.positions[0]!.segment;
    const inFirst = written.positions.filter((p) => p.segment === firstSegment).length;
    const victim = Math.floor(inFirst / 2);
    const path = segmentPath(firstSegment);
    const bytes = readFileSync(path);
    const at = recordStart(written.positions, victim) + RECORD_HEADER_BYTES + 1;
    bytes[at] = bytes[at]! ^ 0xff;
    writeFileSync(path, bytes);
    const { logger, entries } = capturingLogger();

    const replayed = await replayAll({ logger });
    const expected = written.payloads.filter((_, i) => i < victim || i >= inFirst);
    expect(replayed.payloads).toEqual(expected);
    expect(entries).toContainEqual(
      expect.objectContaining({
        level: WARN,
        segmentId: firstSegment,
        offsetBytes: recordStart(written.positions, victim),
        reason: 'payload checksum mismatch',
      }),
    );
  });

  it('detects a corrupted length by its checksum without allocating from it', async () => {
    const written = await writeRecords(10, { segmentSizeBytes: 64 * 1024 });
    const path = segmentPath(written.positions[0]!.segment);
    const bytes = readFileSync(path);
    bytes.writeUInt32LE(0xfffffff0, recordStart(written.positions, 5));
    writeFileSync(path, bytes);
    const allocations = spyOnAllocations();

    const replayed = await replayAll();
    expect(replayed.payloads).toEqual(written.payloads.slice(0, 5));
    expect(Math.max(0, ...allocations())).toBeLessThanOrEqual(bytes.length);
  });

  it('treats a length with a valid checksum that runs past the end of the file as a torn tail', async () => {
    const written = await writeRecords(10, { segmentSizeBytes: 64 * 1024 });
    const path = segmentPath(written.positions[0]!.segment);
    const bytes = readFileSync(path);
    const start = recordStart(written.positions, 5);
    bytes.writeUInt32LE(0x3ffffff0, start);
    bytes.writeUInt32LE(crc32(bytes.subarray(start, start + 4)), start + 4);
    writeFileSync(path, bytes);
    const allocations = spyOnAllocations();

    const replayed = await replayAll();
    expect(replayed.payloads).toEqual(written.payloads.slice(0, 5));
    expect(Math.max(0, ...allocations())).toBeLessThanOrEqual(bytes.length);
  });

  it('skips segments with a bad header or no header and replays the others', async () => {
    const written = await writeRecords(100);
    const ids = segmentIds();
    const first = readFileSync(segmentPath(ids[0]!));
    first.write('XXXX', 0, 'ascii');
    writeFileSync(segmentPath(ids[0]!), first);
    writeFileSync(segmentPath(ids[1]!), Buffer.alloc(0));
    const { logger, entries } = capturingLogger();

    const replayed = await replayAll({ logger });
    const kept = written.payloads.filter((_, i) => written.positions[i]!.segment >= ids[2]!);
    expect(replayed.payloads).toEqual(kept);
    const warned = entries.filter((entry) => entry.level === WARN).map((entry) => entry.segmentId);
    expect(warned).toEqual(expect.arrayContaining([ids[0], ids[1]]));
  });
});

/** Records the sizes passed to Buffer.alloc / Buffer.allocUnsafe from now on. */
function spyOnAllocations(): () => number[] {
  const sizes: number[] = [];
  const alloc = Buffer.alloc.bind(Buffer);
  const allocUnsafe = Buffer.allocUnsafe.bind(Buffer);
  vi.spyOn(Buffer, 'alloc').mockImplementation((size, fill, encoding) => {
    sizes.push(size);
    return alloc(size, fill, encoding);
  });
  vi.spyOn(Buffer, 'allocUnsafe').mockImplementation((size) => {
    sizes.push(size);
    return allocUnsafe(size);
  });
  return () => sizes;
}

describe('sync modes', () => {
  it.each<CommitLogSync>(['batch', 'group', 'periodic'])(
    'close writes and syncs everything appended before it (%s)',
    async (sync) => {
      const log = await CommitLog.open(options({ sync, syncPeriodMs: 60_000 }));
      const written = appendRecords(log, 120);
      await log.close();
      await log.close();
      expect(log.stats()).toMatchObject({ pendingBytes: 0, appendedRecords: 120 });

      const replayed = await replayAll();
      expect(replayed.positions).toEqual(written.positions);
      expect(replayed.payloads).toEqual(written.payloads);
    },
  );

  it.each<CommitLogSync>(['batch', 'group'])(
    '%s: 200 concurrent appends share a few fdatasyncs, each acknowledged only after one',
    async (sync) => {
      const log = await CommitLog.open(options({ sync, segmentSizeBytes: 1024 * 1024 }));
      const acks = Array.from({ length: 200 }, (_, i) => {
        const syncsAtAppend = log.stats().syncs;
        const position = log.append(payloadOf(i));
        return log.awaitDurable(position).then(() => log.stats().syncs > syncsAtAppend);
      });
      expect(await Promise.all(acks)).toEqual(Array(200).fill(true));
      expect(log.stats().syncs).toBeLessThanOrEqual(2);
      await log.close();
    },
  );

  it.each<CommitLogSync>(['batch', 'group'])(
    '%s: closed-loop writers share syncs (appends during an fsync join the next one)',
    async (sync) => {
      const log = await CommitLog.open(options({ sync, groupWindowMs: 2, segmentSizeBytes: 1024 * 1024 }));
      const writer = async (id: number): Promise<void> => {
        for (let i = 0; i < 10; i++) await log.awaitDurable(log.append(payloadOf(id * 100 + i)));
      };
      await Promise.all(Array.from({ length: 20 }, (_, id) => writer(id)));
      expect(log.stats().appendedRecords).toBe(200);
      expect(log.stats().syncs).toBeLessThan(60);
      await log.close();
    },
  );

  it('batch: a lone write is synced on its own, promptly', async () => {
    const log = await CommitLog.open(options({ sync: 'batch' }));
    await log.awaitDurable(log.append(payloadOf(1)));
    expect(log.stats().syncs).toBe(1);
    await log.awaitDurable(log.append(payloadOf(2)));
    expect(log.stats().syncs).toBe(2);
    await log.close();
  });

  it('group: rounds start at least groupWindowMs apart, so a steady trickle shares syncs', async () => {
    const groupWindowMs = 10;
    const log = await CommitLog.open(options({ sync: 'group', groupWindowMs, segmentSizeBytes: 16 * 1024 * 1024 }));
    const startMs = performance.now();
    const acks: Array<Promise<void>> = [];
    for (let i = 0; i < 200_000 && performance.now() - startMs < 100; i++) {
      acks.push(log.awaitDurable(log.append(Buffer.alloc(8, i & 0xff))));
      await systemScheduler.yieldToIo();
    }
    await Promise.all(acks);
    const elapsedMs = performance.now() - startMs;

    const { syncs, appendedRecords, segments } = log.stats();
    expect(segments).toBe(1);
    expect(syncs).toBeGreaterThanOrEqual(2);
    // Timers may fire up to ~1 ms early as measured by performance.now(): allow for it.
    expect(syncs).toBeLessThanOrEqual(Math.floor(elapsedMs / (groupWindowMs - 1)) + 1);
    expect(appendedRecords).toBeGreaterThan(4 * syncs);
    await log.close();
  });

  it('group: a write waits for the window opened by the previous round, then shares its sync', async () => {
    const timers = new ManualTimers();
    const log = await CommitLog.open(options({ sync: 'group', groupWindowMs: 7, scheduler: timers }));
    const first = log.append(payloadOf(1));
    await log.awaitDurable(first);
    expect(log.stats().syncs).toBe(1);
    expect(timers.armedDelaysMs()).toEqual([7]);

    let durable = 0;
    const second = log.awaitDurable(log.append(payloadOf(2))).then(() => (durable += 1));
    await systemScheduler.yieldToIo();
    const thirdPosition = log.append(payloadOf(3));
    const third = log.awaitDurable(thirdPosition).then(() => (durable += 1));
    for (let turn = 0; turn < 50; turn++) await systemScheduler.yieldToIo();
    expect(log.stats()).toMatchObject({ syncs: 1, pendingBytes: thirdPosition.offset - first.offset });
    expect(durable).toBe(0);

    timers.fireAll();
    await Promise.all([second, third]);
    expect(log.stats().syncs).toBe(2);
    await log.close();
  });

  it('periodic: writes at once, syncs when the period timer fires', async () => {
    const timers = new ManualTimers();
    const log = await CommitLog.open(options({ sync: 'periodic', syncPeriodMs: 250, scheduler: timers }));
    log.append(payloadOf(1));
    log.append(payloadOf(2));
    expect(timers.armedDelaysMs()).toEqual([250]);
    await letIoSettle(log);
    expect(log.stats().syncs).toBe(0);

    timers.fireAll();
    await waitFor(() => log.stats().syncs === 1, 'the periodic sync');
    expect(timers.armedDelaysMs()).toEqual([]);
    log.append(payloadOf(3));
    expect(timers.armedDelaysMs()).toEqual([250]);
    await log.close();
    expect(log.stats().syncs).toBe(2);
  });

  it('periodic: acknowledges at once, writes to the OS promptly, and syncs only on the period', async () => {
    const log = await CommitLog.open(options({ sync: 'periodic', syncPeriodMs: 60_000 }));
    const position = log.append(payloadOf(1));
    await log.awaitDurable(position);
    await waitFor(() => log.stats().pendingBytes === 0, 'the record to be written');
    expect(statSync(segmentPath(position.segment)).size).toBe(position.offset);
    expect(log.stats().syncs).toBe(0);
    await log.close();
    expect(log.stats().syncs).toBe(1);
  });

  it('periodic: a sealed segment is synced and closed at once, without waiting for the period', async () => {
    const log = await CommitLog.open(options({ sync: 'periodic', syncPeriodMs: 60_000 }));
    const written = appendRecords(log, 40);
    const sealed = new Set(written.positions.map((p) => p.segment)).size - 1;
    expect(sealed).toBeGreaterThanOrEqual(2);
    await waitFor(() => log.stats().syncs === sealed && log.stats().pendingBytes === 0, 'sealed segments to sync');
    expect(await log.discardSegmentsBefore(Number.MAX_SAFE_INTEGER)).toBe(sealed);
    await log.close();
  });

  it('periodic: fdatasync runs within syncPeriodMs of a write', async () => {
    const log = await CommitLog.open(options({ sync: 'periodic', syncPeriodMs: 10 }));
    log.append(payloadOf(1));
    await waitFor(() => log.stats().syncs === 1, 'the periodic sync');
    log.append(payloadOf(2));
    await waitFor(() => log.stats().syncs === 2, 'the next periodic sync');
    await log.close();
  });
});

describe('discardSegmentsBefore', () => {
  it('deletes only closed segments below the bound, never the active one', async () => {
    const log = await CommitLog.open(options());
    const written = appendRecords(log, 200);
    await log.awaitDurable(written.positions.at(-1)!);
    const ids = [...new Set(written.positions.map((p) => p.segment))];
    expect(ids.length).toBeGreaterThanOrEqual(5);
    expect(segmentIds()).toEqual(ids);

    expect(await log.discardSegmentsBefore(ids[2]!)).toBe(2);
    expect(segmentIds()).toEqual(ids.slice(2));
    expect(await log.discardSegmentsBefore(ids[2]!)).toBe(0);
    expect(await log.discardSegmentsBefore(Number.MAX_SAFE_INTEGER)).toBe(ids.length - 3);
    expect(segmentIds()).toEqual([ids.at(-1)]);
    expect(log.stats().segments).toBe(1);

    const more = appendRecords(log, 1, 200);
    await log.close();
    const replayed = await replayAll();
    const kept = [...written.payloads, ...more.payloads].filter(
      (_, i) => [...written.positions, ...more.positions][i]!.segment === ids.at(-1),
    );
    expect(replayed.payloads).toEqual(kept);
  });

  it('keeps sealed segments whose data is not yet written and synced', async () => {
    const log = await CommitLog.open(options());
    const written = appendRecords(log, 60);
    const ids = new Set(written.positions.map((p) => p.segment));
    expect(ids.size).toBeGreaterThanOrEqual(3);

    expect(await log.discardSegmentsBefore(Number.MAX_SAFE_INTEGER)).toBe(0);
    await log.awaitDurable(written.positions.at(-1)!);
    expect(await log.discardSegmentsBefore(Number.MAX_SAFE_INTEGER)).toBe(ids.size - 1);
    await log.close();
  });

  it('after a reopen, discards replayed segments; new ids stay above the discarded ones', async () => {
    const written = await writeRecords(100);
    const oldIds = segmentIds();
    const log = await CommitLog.open(options());
    let replayed = 0;
    for await (const _record of log.replay()) replayed += 1;
    expect(replayed).toBe(written.payloads.length);
    log.ensureSegmentIdsAbove(oldIds.at(-1)!);

    expect(await log.discardSegmentsBefore(Number.MAX_SAFE_INTEGER)).toBe(oldIds.length);
    expect(segmentIds()).toEqual([]);
    const position = log.append(payloadOf(1));
    expect(position.segment).toBeGreaterThan(oldIds.at(-1)!);
    await log.close();
    expect((await replayAll()).positions).toEqual([position]);
  });
});

describe('limits and failures', () => {
  it('rejects a payload over half a segment with MutationTooLargeError and writes nothing', async () => {
    const log = await CommitLog.open(options());
    expect(() => log.append(Buffer.alloc(SEGMENT_SIZE_BYTES / 2 + 1, 1))).toThrow(MutationTooLargeError);
    expect(log.stats()).toMatchObject({ appendedRecords: 0, pendingBytes: 0, segments: 0 });
    await log.close();
    expect(segmentIds()).toEqual([]);

    const again = await CommitLog.open(options());
    const position = again.append(Buffer.alloc(SEGMENT_SIZE_BYTES / 2, 1));
    await again.close();
    expect((await replayAll()).positions).toEqual([position]);
  });

  it('refuses empty payloads (a zero length marks the end of a segment)', async () => {
    const log = await CommitLog.open(options());
    expect(() => log.append(Buffer.alloc(0))).toThrow(AssertionError);
    await log.close();
  });

  it('after an I/O error, fails every waiter and every later append with CommitLogFailedError', async () => {
    const dir = join(tmpDir(), 'commitlog');
    const log = await CommitLog.open(options({ dir }));
    await log.awaitDurable(log.append(Buffer.alloc(SEGMENT_SIZE_BYTES / 2, 1)));
    rmSync(dir, { recursive: true, force: true });

    const rolled = log.append(Buffer.alloc(SEGMENT_SIZE_BYTES / 2, 2));
    const failure = await log.awaitDurable(rolled).then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(CommitLogFailedError);
    expect((failure as Error).cause).toMatchObject({ code: 'ENOENT' });
    expect(() => log.append(payloadOf(1))).toThrow(CommitLogFailedError);
    await expect(log.awaitDurable(rolled)).rejects.toBeInstanceOf(CommitLogFailedError);
    await expect(log.close()).rejects.toBeInstanceOf(CommitLogFailedError);
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses appends after close', async () => {
    const log = await CommitLog.open(options());
    await log.close();
    expect(() => log.append(payloadOf(1))).toThrow(CommitLogFailedError);
  });
});
