/**
 * The commit log: a segmented, checksummed, append-only Write-Ahead Log with group commit.
 *
 * Patterns (Joshi, *Patterns of Distributed Systems*): Write-Ahead Log (every mutation is
 * framed and queued here before it touches a memtable), Segmented Log (the log is a series of
 * `CommitLog-1-<id>.log` files of at most `segmentSizeBytes`), Low-Water Mark (the engine
 * discards whole segments below the oldest position not yet flushed to an SSTable), and Request
 * Batch (writes queued while an fsync is in flight share the next write + fdatasync, like
 * leveldb's `DBImpl::Write`). Cassandra's `commitlog_sync` = periodic | group | batch.
 *
 * Invariants
 * - Positions increase: segment ids only grow (also across restarts) and offsets within a
 *   segment only grow. `append` assigns a record's position synchronously.
 * - Only this process writes to segments it created after `open`; segments found at open are
 *   read-only (replayed, then discarded). A torn tail is never appended to.
 * - One I/O round at a time; a round handles open segments in id order, so when segment S is
 *   fsynced up to offset O, every record before (S, O) is durable: that is the durable mark.
 * - A segment is sealed when the next record does not fit; a sealed segment is written,
 *   fdatasynced and closed before it becomes eligible for deletion.
 * - `append` copies its payload into the record at once: callers may pass a view of a buffer
 *   they reuse or do not own (a received mutation's bytes). It frames the record straight into
 *   the segment's write buffer, so a record costs one copy and no allocation of its own.
 * - After an I/O error the log is failed for good: every waiter and later append gets a
 *   `CommitLogFailedError` carrying the cause (a restart replays what reached the disk).
 *
 * Bounds
 * - One payload: 1 ..= segmentSizeBytes / 2 bytes (`MutationTooLargeError` above).
 * - One write per segment per round: at most segmentSizeBytes (queued bytes of one segment).
 * - Queued-but-unwritten bytes are NOT capped here: `append` always succeeds so a mutation is
 *   never half-applied; above `COMMITLOG_PENDING_SOFT_LIMIT_BYTES` a warning is logged and the
 *   caller is expected to shed load (`stats().pendingBytes`).
 * - Replay allocates at most max(1 MiB, the largest record) at a time, never more than the file.
 * - A segment's write buffer grows (doubling) to what one round queues, at most
 *   segmentSizeBytes; one above WRITE_BUFFER_KEEP_BYTES is let go after its round.
 * - A round's write blocks the event loop only up to SYNC_WRITE_MAX_BYTES (a page-cache copy);
 *   larger writes and every fdatasync run in the thread pool.
 *
 * See README.md next to this file and segment-format.ts for the byte layout.
 */
import { mkdir, open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Cancellable, Clock, Scheduler } from '../../runtime/clock.js';
import { assert } from '../../util/assert.js';
import type { Logger } from '../../util/logger.js';
import { datasync, isErrno, syncDirectory, unlinkIfPresent, writeFully, writeFullySync } from '../../util/file-io.js';
import type { CommitLogSync } from '../engine/api.js';
import {
  MAX_RECORD_PAYLOAD_BYTES,
  RECORD_HEADER_BYTES,
  SEGMENT_FORMAT_VERSION,
  SEGMENT_HEADER_BYTES,
  decodeSegmentHeader,
  encodeSegmentHeader,
  parseSegmentFileName,
  readRecord,
  recordSizeBytes,
  segmentFileName,
  writeRecord,
  type RecordReadResult,
} from './segment-format.js';

export type { CommitLogSync };

/** Above this many queued-but-unwritten bytes, `append` still succeeds but logs a warning. */
export const COMMITLOG_PENDING_SOFT_LIMIT_BYTES = 64 * 1024 * 1024;
/** Smallest allowed segment: a header plus a few records. */
export const MIN_SEGMENT_SIZE_BYTES = 256;
/** Largest allowed segment: a payload (half a segment) must stay within the format limit. */
export const MAX_SEGMENT_SIZE_BYTES = 2 * MAX_RECORD_PAYLOAD_BYTES;
/**
 * A round writes at most this many bytes with a blocking `write` on the event loop (a copy into
 * the page cache, tens of µs) instead of a thread-pool write: a thread-pool round trip costs
 * more CPU than the copy on small rounds (measured ~40-70 µs against ~10 µs for 16 KiB). Larger
 * rounds still go to the thread pool so the loop never stalls long. The fdatasync always does.
 */
export const SYNC_WRITE_MAX_BYTES = 256 * 1024;
const EMPTY_BUFFER = Buffer.alloc(0);
/** A segment's first write buffer; it doubles as rounds need. */
const WRITE_BUFFER_INITIAL_BYTES = 64 * 1024;
/** A write buffer larger than this is dropped after its round rather than kept for the next. */
const WRITE_BUFFER_KEEP_BYTES = 1024 * 1024;
/** Replay reads segments in chunks of this size (more only for a larger record). */
const REPLAY_READ_CHUNK_BYTES = 1024 * 1024;

/** Where a record ends: `offset` is the byte offset just past the record in segment `segment`. */
export interface CommitLogPosition {
  readonly segment: number;
  readonly offset: number;
}

export function comparePositions(a: CommitLogPosition, b: CommitLogPosition): number {
  if (a.segment !== b.segment) return a.segment < b.segment ? -1 : 1;
  if (a.offset !== b.offset) return a.offset < b.offset ? -1 : 1;
  return 0;
}

export interface CommitLogOptions {
  dir: string;
  sync: CommitLogSync;
  /** periodic: fdatasync at most this long after a write. */
  syncPeriodMs: number;
  /** group: consecutive write + fdatasync rounds start at least this far apart. */
  groupWindowMs: number;
  segmentSizeBytes: number;
  clock: Clock;
  scheduler: Scheduler;
  logger: Logger;
}

/** Thrown by `append` when a payload is larger than half a segment. Nothing is written. */
export class MutationTooLargeError extends Error {
  override readonly name = 'MutationTooLargeError';
}

/**
 * Thrown by `append` and rejected by `awaitDurable`/`close` once an I/O error failed the log
 * (`cause` is the I/O error), and by `append` after `close` was called.
 */
export class CommitLogFailedError extends Error {
  override readonly name = 'CommitLogFailedError';
}

export interface CommitLogStats {
  segments: number;
  bytesOnDisk: number;
  /** Appended (framed) bytes not yet written to the OS. */
  pendingBytes: number;
  /** fdatasync calls on segment files. */
  syncs: number;
  appendedRecords: number;
}

export interface ReplayedRecord {
  position: CommitLogPosition;
  payload: Buffer;
}

/** A segment on disk that this process will not write to any more. */
interface ClosedSegment {
  readonly id: number;
  readonly path: string;
  readonly sizeBytes: number;
}

/** A segment created by this process and not yet closed. Offsets are file byte offsets. */
interface OpenSegment {
  readonly id: number;
  readonly path: string;
  handle: FileHandle | null;
  /** Framed records (and the header) waiting for the next round: `queued[0, queuedBytes)`. */
  queued: Buffer;
  queuedBytes: number;
  /** End of the last appended record. */
  endOffset: number;
  writtenBytes: number;
  syncedBytes: number;
  sealed: boolean;
}

interface DurableWaiter {
  readonly position: CommitLogPosition;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export class CommitLog {
  private readonly logger: Logger;
  private readonly maxPayloadBytes: number;
  /** Oldest first; includes the segments found at open. */
  private closedSegments: ClosedSegment[];
  /** Oldest first; the last one is `active` unless it is sealed. */
  private readonly openSegments: OpenSegment[] = [];
  private readonly segmentsAtOpen: readonly ClosedSegment[];
  private active: OpenSegment | null = null;
  private highestSegmentId: number;
  private segmentIdFloor = -1;
  private lastAppended: CommitLogPosition | null = null;
  private durable: CommitLogPosition = { segment: -1, offset: 0 };
  /** At most one per `awaitDurable` call on a position not yet synced (callers await each append once). */
  private waiters: DurableWaiter[] = [];
  private pendingBytes = 0;
  private syncs = 0;
  private appendedRecords = 0;
  private backlogWarned = false;
  private failure: CommitLogFailedError | null = null;
  private handlesReleased: Promise<void> = Promise.resolve();
  private closing = false;
  private closePromise: Promise<void> | null = null;
  // The I/O driver's state.
  private turnScheduled = false;
  private round: Promise<void> | null = null;
  private windowTimer: Cancellable | null = null;
  private periodicTimer: Cancellable | null = null;
  private syncDue = false;

  private constructor(
    private readonly opts: CommitLogOptions,
    existing: ClosedSegment[],
    highestSegmentId: number,
  ) {
    this.logger = opts.logger.child({ component: 'commitlog' });
    this.maxPayloadBytes = Math.floor(opts.segmentSizeBytes / 2);
    this.closedSegments = existing;
    this.segmentsAtOpen = [...existing];
    this.highestSegmentId = highestSegmentId;
  }

  /** Creates `dir` if needed and lists its segments; creates no segment before the first append. */
  static async open(opts: CommitLogOptions): Promise<CommitLog> {
    validateOptions(opts);
    await mkdir(opts.dir, { recursive: true });
    const listing = await listSegments(opts.dir, opts.logger);
    return new CommitLog(opts, listing.segments, listing.highestSegmentId);
  }

  /** Replays every record of the segments that existed at open, in position order. */
  replay(): AsyncIterable<ReplayedRecord> {
    return replaySegments(this.segmentsAtOpen, this.logger);
  }

  // #region pattern:Write-Ahead Log
  /** Frames `payload`, assigns its position and queues it; the I/O happens on a later turn. */
  append(payload: Buffer): CommitLogPosition {
    this.throwIfUnavailable();
    assert(payload.length > 0, 'commit log payloads are never empty');
    if (payload.length > this.maxPayloadBytes) {
      throw new MutationTooLargeError(
        `mutation of ${payload.length} bytes exceeds ${this.maxPayloadBytes} bytes (half a commit log segment)`,
      );
    }
    const recordBytes = recordSizeBytes(payload.length);
    const segment = this.segmentWithRoomFor(recordBytes);
    writeRecord(this.reserve(segment, recordBytes), segment.queuedBytes - recordBytes, payload);
    segment.endOffset += recordBytes;
    this.appendedRecords += 1;
    const position: CommitLogPosition = { segment: segment.id, offset: segment.endOffset };
    this.lastAppended = position;
    this.requestRound();
    return position;
  }

  /** batch/group: resolves after an fdatasync covering `position`; periodic: at once. */
  awaitDurable(position: CommitLogPosition): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failedError());
    if (this.opts.sync === 'periodic' || this.lastAppended === null) return Promise.resolve();
    // A position past the last append (e.g. an old `currentPosition()`) waits for the last append.
    const target = comparePositions(position, this.lastAppended) > 0 ? this.lastAppended : position;
    if (comparePositions(target, this.durable) <= 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ position: target, resolve, reject }));
  }
  // #endregion

  currentPosition(): CommitLogPosition {
    return this.lastAppended ?? { segment: this.nextSegmentId(), offset: 0 };
  }

  ensureSegmentIdsAbove(id: number): void {
    assert(Number.isSafeInteger(id), `segment id bound must be a safe integer, got ${id}`);
    this.segmentIdFloor = Math.max(this.segmentIdFloor, id);
  }

  // #region pattern:Low-Water Mark
  /** Deletes closed segments (fully written, synced, not active) with an id below `segmentId`. */
  async discardSegmentsBefore(segmentId: number): Promise<number> {
    const doomed = this.closedSegments.filter((segment) => segment.id < segmentId);
    if (doomed.length === 0) return 0;
    this.closedSegments = this.closedSegments.filter((segment) => segment.id >= segmentId);
    let deleted = 0;
    for (const segment of doomed) {
      try {
        await unlinkIfPresent(segment.path);
        deleted += 1;
      } catch (error) {
        this.restoreClosedSegments(doomed.slice(deleted));
        throw error;
      }
    }
    this.logger.debug({ deleted, belowSegmentId: segmentId }, 'discarded commit log segments');
    return deleted;
  }
  // #endregion

  stats(): CommitLogStats {
    let bytesOnDisk = 0;
    for (const segment of this.closedSegments) bytesOnDisk += segment.sizeBytes;
    for (const segment of this.openSegments) bytesOnDisk += segment.writtenBytes;
    return {
      segments: this.closedSegments.length + this.openSegments.length,
      bytesOnDisk,
      pendingBytes: this.pendingBytes,
      syncs: this.syncs,
      appendedRecords: this.appendedRecords,
    };
  }

  /** Writes and fsyncs everything queued and closes all files. Idempotent. */
  close(): Promise<void> {
    this.closePromise ??= this.closeOnce();
    return this.closePromise;
  }

  private async closeOnce(): Promise<void> {
    this.closing = true;
    if (this.active !== null) this.seal(this.active);
    await this.drain();
    this.cancelTimers();
    if (this.failure !== null) {
      await this.handlesReleased;
      throw this.failedError();
    }
    assert(this.openSegments.length === 0, 'commit log closed with open segments');
  }

  /** Runs rounds until nothing is left; once closing, two rounds always suffice. */
  private async drain(): Promise<void> {
    for (let attempt = 0; attempt < 4; attempt++) {
      this.maybeStartRound();
      if (this.round === null) return;
      await this.round;
    }
    assert(this.failure !== null || !this.hasWork(), 'commit log drain did not finish');
  }

  // #region pattern:Segmented Log
  private segmentWithRoomFor(recordBytes: number): OpenSegment {
    const active = this.active;
    if (active !== null && active.endOffset + recordBytes <= this.opts.segmentSizeBytes) return active;
    if (active !== null) this.seal(active);
    const segment = this.createSegment();
    assert(segment.endOffset + recordBytes <= this.opts.segmentSizeBytes, 'record does not fit a new segment');
    return segment;
  }

  private createSegment(): OpenSegment {
    const id = this.nextSegmentId();
    this.highestSegmentId = id;
    const segment: OpenSegment = {
      id,
      path: join(this.opts.dir, segmentFileName(id)),
      handle: null,
      queued: EMPTY_BUFFER,
      queuedBytes: 0,
      endOffset: SEGMENT_HEADER_BYTES,
      writtenBytes: 0,
      syncedBytes: 0,
      sealed: false,
    };
    const header = encodeSegmentHeader(id);
    this.reserve(segment, header.length).set(header, segment.queuedBytes - header.length);
    this.openSegments.push(segment);
    this.active = segment;
    return segment;
  }

  private seal(segment: OpenSegment): void {
    segment.sealed = true;
    if (this.active === segment) this.active = null;
  }

  private nextSegmentId(): number {
    return Math.max(Math.floor(this.opts.clock.nowMs()), this.highestSegmentId + 1, this.segmentIdFloor + 1);
  }
  // #endregion

  /**
   * Makes room for `bytes` more queued bytes in the segment's write buffer and counts them as
   * queued; the caller fills `[queuedBytes - bytes, queuedBytes)` of the returned buffer.
   */
  private reserve(segment: OpenSegment, bytes: number): Buffer {
    const need = segment.queuedBytes + bytes;
    if (need > segment.queued.length) {
      // Never more than a segment holds: a segment's queued bytes stay within its size.
      let size = Math.max(WRITE_BUFFER_INITIAL_BYTES, segment.queued.length * 2);
      while (size < need) size *= 2;
      size = Math.max(need, Math.min(size, this.opts.segmentSizeBytes));
      const grown = Buffer.allocUnsafeSlow(size);
      grown.set(segment.queued.subarray(0, segment.queuedBytes));
      segment.queued = grown;
    }
    segment.queuedBytes = need;
    this.pendingBytes += bytes;
    if (this.pendingBytes > COMMITLOG_PENDING_SOFT_LIMIT_BYTES && !this.backlogWarned) {
      this.backlogWarned = true;
      this.logger.warn({ pendingBytes: this.pendingBytes }, 'commit log backlog over its soft limit; shed load');
    }
    return segment.queued;
  }

  // #region pattern:Request Batch
  /** Starts a round on the next turn, so all appends of the current synchronous burst share it. */
  private requestRound(): void {
    if (this.opts.sync === 'periodic') this.armPeriodicSync();
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    void this.opts.scheduler.yieldToIo().then(() => {
      this.turnScheduled = false;
      this.maybeStartRound();
    });
  }

  private armPeriodicSync(): void {
    if (this.periodicTimer !== null) return;
    this.periodicTimer = this.opts.scheduler.after(this.opts.syncPeriodMs, () => {
      this.periodicTimer = null;
      this.syncDue = true;
      this.maybeStartRound();
    });
  }

  /** Called on every event that may allow a round: a new turn, a round's end, a timer. */
  private maybeStartRound(): void {
    if (this.round !== null || this.failure !== null) return;
    if (!this.hasWork()) {
      this.syncDue = false;
      return;
    }
    if (this.opts.sync === 'group' && this.windowTimer !== null && !this.closing) return;
    if (this.opts.sync === 'group' && !this.closing) this.armGroupWindow();
    this.round = this.runRound().then(
      (ioOperations) => this.finishRound(ioOperations),
      (error: unknown) => {
        this.round = null;
        this.fail(error);
      },
    );
  }

  /** group: the next round may not start before `groupWindowMs` after this one started. */
  private armGroupWindow(): void {
    this.windowTimer?.cancel();
    this.windowTimer = this.opts.scheduler.after(this.opts.groupWindowMs, () => {
      this.windowTimer = null;
      this.maybeStartRound();
    });
  }

  private finishRound(ioOperations: number): void {
    // hasWork() promised something to do: a round without I/O would restart itself forever.
    assert(ioOperations > 0, 'commit log round did no I/O');
    this.round = null;
    this.maybeStartRound();
  }

  private syncWanted(): boolean {
    return this.opts.sync !== 'periodic' || this.syncDue || this.closing;
  }

  private hasWork(): boolean {
    const syncWanted = this.syncWanted();
    return this.openSegments.some(
      (segment) => segment.queuedBytes > 0 || segment.sealed || (syncWanted && segment.syncedBytes < segment.writtenBytes),
    );
  }

  /** One round: per open segment, oldest first: one write of everything queued, one fdatasync. */
  private async runRound(): Promise<number> {
    const syncWanted = this.syncWanted();
    this.syncDue = false;
    let ioOperations = 0;
    for (const segment of [...this.openSegments]) {
      ioOperations += await this.flushSegment(segment, syncWanted);
    }
    return ioOperations;
  }
  // #endregion

  /** Returns how many I/O operations it did (create, write, sync, close). */
  private async flushSegment(segment: OpenSegment, syncWanted: boolean): Promise<number> {
    let ioOperations = 0;
    if (segment.handle === null) {
      await this.createSegmentFile(segment);
      ioOperations += 1;
    }
    const handle = segment.handle;
    assert(handle !== null, 'segment file not open');
    if (segment.queuedBytes > 0) {
      await this.writeQueued(segment, handle);
      ioOperations += 1;
    }
    if ((syncWanted || segment.sealed) && segment.syncedBytes < segment.writtenBytes) {
      await this.syncSegment(segment, handle);
      ioOperations += 1;
    }
    if (segment.sealed && segment.queuedBytes === 0 && segment.syncedBytes === segment.writtenBytes) {
      await this.closeSegment(segment, handle);
      ioOperations += 1;
    }
    return ioOperations;
  }

  private async createSegmentFile(segment: OpenSegment): Promise<void> {
    segment.handle = await open(segment.path, 'wx');
    await syncDirectory(this.opts.dir);
  }

  private async writeQueued(segment: OpenSegment, handle: FileHandle): Promise<void> {
    const bytes = segment.queuedBytes;
    const data = segment.queued.subarray(0, bytes);
    segment.queuedBytes = 0;
    if (bytes <= SYNC_WRITE_MAX_BYTES) {
      // Synchronous: no append can come in between, so the buffer is free again right after.
      writeFullySync(handle.fd, data, segment.writtenBytes);
      if (segment.queued.length > WRITE_BUFFER_KEEP_BYTES) segment.queued = EMPTY_BUFFER;
    } else {
      // Appends made while the thread pool writes go to a new buffer.
      segment.queued = EMPTY_BUFFER;
      await writeFully(handle, data, segment.writtenBytes);
    }
    segment.writtenBytes += bytes;
    this.pendingBytes -= bytes;
    if (this.pendingBytes < COMMITLOG_PENDING_SOFT_LIMIT_BYTES / 2) this.backlogWarned = false;
  }

  private async syncSegment(segment: OpenSegment, handle: FileHandle): Promise<void> {
    const syncedBytes = segment.writtenBytes;
    await datasync(handle.fd);
    this.syncs += 1;
    segment.syncedBytes = syncedBytes;
    this.advanceDurable({ segment: segment.id, offset: syncedBytes });
  }

  private async closeSegment(segment: OpenSegment, handle: FileHandle): Promise<void> {
    await handle.close();
    segment.handle = null;
    const index = this.openSegments.indexOf(segment);
    assert(index >= 0, 'closing a segment that is not open');
    this.openSegments.splice(index, 1);
    this.closedSegments.push({ id: segment.id, path: segment.path, sizeBytes: segment.writtenBytes });
  }

  private advanceDurable(position: CommitLogPosition): void {
    if (comparePositions(position, this.durable) <= 0) return;
    this.durable = position;
    const waiting: DurableWaiter[] = [];
    for (const waiter of this.waiters) {
      if (comparePositions(waiter.position, position) <= 0) waiter.resolve();
      else waiting.push(waiter);
    }
    this.waiters = waiting;
  }

  private fail(cause: unknown): void {
    if (this.failure !== null) return;
    this.failure = new CommitLogFailedError(`commit log I/O failed: ${describeError(cause)}`, { cause });
    this.logger.error({ err: cause }, 'commit log failed; rejecting all pending and future writes');
    this.cancelTimers();
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.reject(this.failedError());
    this.handlesReleased = this.releaseHandles();
  }

  private async releaseHandles(): Promise<void> {
    for (const segment of this.openSegments) {
      const handle = segment.handle;
      segment.handle = null;
      if (handle === null) continue;
      try {
        await handle.close();
      } catch (error) {
        this.logger.warn({ err: error, segmentId: segment.id }, 'closing a commit log segment after failure');
      }
    }
  }

  private failedError(): CommitLogFailedError {
    const failure = this.failure;
    assert(failure !== null, 'no failure recorded');
    return new CommitLogFailedError(failure.message, { cause: failure.cause });
  }

  private throwIfUnavailable(): void {
    if (this.failure !== null) throw this.failedError();
    if (this.closing) throw new CommitLogFailedError('commit log is closed');
  }

  private cancelTimers(): void {
    this.windowTimer?.cancel();
    this.windowTimer = null;
    this.periodicTimer?.cancel();
    this.periodicTimer = null;
  }

  private restoreClosedSegments(segments: ClosedSegment[]): void {
    this.closedSegments = [...this.closedSegments, ...segments].sort((a, b) => a.id - b.id);
  }
}

function validateOptions(opts: CommitLogOptions): void {
  const size = opts.segmentSizeBytes;
  if (!Number.isSafeInteger(size) || size < MIN_SEGMENT_SIZE_BYTES || size > MAX_SEGMENT_SIZE_BYTES) {
    throw new RangeError(`segmentSizeBytes must be in [${MIN_SEGMENT_SIZE_BYTES}, ${MAX_SEGMENT_SIZE_BYTES}], got ${size}`);
  }
  if (!(opts.syncPeriodMs > 0)) throw new RangeError(`syncPeriodMs must be > 0, got ${opts.syncPeriodMs}`);
  if (!(opts.groupWindowMs >= 0)) throw new RangeError(`groupWindowMs must be >= 0, got ${opts.groupWindowMs}`);
  if (!['periodic', 'group', 'batch'].includes(opts.sync)) throw new RangeError(`unknown commit log sync ${opts.sync}`);
}

async function listSegments(
  dir: string,
  logger: Logger,
): Promise<{ segments: ClosedSegment[]; highestSegmentId: number }> {
  const segments: ClosedSegment[] = [];
  let highestSegmentId = -1;
  for (const name of await readdir(dir)) {
    const parsed = parseSegmentFileName(name);
    if (parsed === null) continue;
    highestSegmentId = Math.max(highestSegmentId, parsed.segmentId);
    if (parsed.formatVersion !== SEGMENT_FORMAT_VERSION) {
      logger.warn({ file: name }, 'ignoring commit log segment of an unknown format version');
      continue;
    }
    const path = join(dir, name);
    const size = await stat(path).then(
      (st) => st.size,
      (err: NodeJS.ErrnoException) => {
        // Deleted between readdir and stat (a discard still finishing): nothing to replay.
        if (err.code === 'ENOENT') return null;
        throw err;
      },
    );
    if (size !== null) segments.push({ id: parsed.segmentId, path, sizeBytes: size });
  }
  segments.sort((a, b) => a.id - b.id);
  return { segments, highestSegmentId };
}

async function* replaySegments(segments: readonly ClosedSegment[], logger: Logger): AsyncGenerator<ReplayedRecord> {
  for (const segment of segments) yield* replaySegment(segment, logger);
}

async function* replaySegment(segment: ClosedSegment, logger: Logger): AsyncGenerator<ReplayedRecord> {
  let handle: FileHandle;
  try {
    handle = await open(segment.path, 'r');
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
    logger.warn({ segmentId: segment.id }, 'commit log segment vanished before replay');
    return;
  }
  try {
    yield* replayRecords(new SegmentReader(handle, (await handle.stat()).size), segment.id, logger);
  } finally {
    await handle.close();
  }
}

/** Yields records until the end of the file or the first torn/corrupt record (logged, not thrown). */
async function* replayRecords(reader: SegmentReader, segmentId: number, logger: Logger): AsyncGenerator<ReplayedRecord> {
  const header = decodeSegmentHeader(await reader.bytesAt(0, SEGMENT_HEADER_BYTES));
  if (!header.ok || header.segmentId !== segmentId) {
    const reason = header.ok ? `header names segment ${header.segmentId}` : header.reason;
    logger.warn({ segmentId, reason, ignoredBytes: reader.fileBytes }, 'skipping commit log segment with a bad header');
    return;
  }
  let offset = SEGMENT_HEADER_BYTES;
  while (offset < reader.fileBytes) {
    const result = await reader.recordAt(offset);
    if (result.kind !== 'record') {
      const reason = result.kind === 'corrupt' ? result.reason : 'truncated record (torn write)';
      const ignoredBytes = reader.fileBytes - offset;
      logger.warn({ segmentId, offsetBytes: offset, ignoredBytes, reason }, 'commit log replay stopped early in a segment');
      return;
    }
    assert(result.nextOffset > offset, 'commit log replay made no progress');
    offset = result.nextOffset;
    yield { position: { segment: segmentId, offset }, payload: Buffer.from(result.payload) };
  }
}

/** Sequential reads of one segment through a window of at most max(chunk, one record) bytes. */
class SegmentReader {
  private window: Buffer = Buffer.alloc(0);
  private windowStart = 0;

  constructor(
    private readonly handle: FileHandle,
    readonly fileBytes: number,
  ) {}

  async bytesAt(offset: number, length: number): Promise<Buffer> {
    return readExactly(this.handle, offset, Math.max(0, Math.min(length, this.fileBytes - offset)));
  }

  /** The record at `offset`; 'incomplete' means it runs past the end of the file (torn tail). */
  async recordAt(offset: number): Promise<RecordReadResult> {
    let result = this.decodeAt(offset);
    // The first load brings in the record header, the second (if needed) the whole record.
    for (let loads = 0; loads < 2 && result.kind === 'incomplete'; loads++) {
      if (offset + result.bytesNeeded > this.fileBytes) return result;
      this.window = await this.bytesAt(offset, Math.max(result.bytesNeeded, REPLAY_READ_CHUNK_BYTES));
      this.windowStart = offset;
      result = this.decodeAt(offset);
    }
    return result;
  }

  private decodeAt(offset: number): RecordReadResult {
    const relative = offset - this.windowStart;
    if (relative < 0 || relative > this.window.length) return { kind: 'incomplete', bytesNeeded: RECORD_HEADER_BYTES };
    const result = readRecord(this.window, relative);
    return result.kind === 'record' ? { ...result, nextOffset: this.windowStart + result.nextOffset } : result;
  }
}

/** Reads up to `length` bytes at `position`; shorter only if the file ends first. */
async function readExactly(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) return buffer.subarray(0, done);
    done += bytesRead;
  }
  return buffer;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
