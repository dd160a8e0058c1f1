/**
 * Durable hint storage on the coordinator: per target host, an append-only series of
 * CRC-framed segment files under `<data_dir>/hints/<target host id>/` (format: hint-format.ts).
 *
 * Cassandra: `HintsStore` (one per target host, a queue of `HintsDescriptor` files),
 * `HintsWriter`, `HintsBuffer` flushed by `HintsWriteExecutor`. Patterns (Joshi, *Patterns of
 * Distributed Systems*): Write-Ahead Log and Segmented Log (a target's hints are a log of
 * segments, deleted whole once consumed: Low-Water Mark), Request Batch (group fsync: every
 * hint appended while a write + fdatasync round runs shares the next round, like leveldb's
 * `DBImpl::Write` and the commit log's `group` mode).
 *
 * Sync policy (`sync`):
 * - `group`: `append` resolves once an fdatasync covers the hint. Rounds never overlap; all
 *   appends of one event-loop turn, plus those made while a round runs, go in the next one.
 * - `periodic`: `append` resolves once the hint is written to the OS; an fdatasync follows
 *   within `syncPeriodMs` (a crash of the machine may lose that window's hints).
 *
 * Reading: the dispatcher reads a target's hints oldest first from the target's cursor (the
 * `doneOffset` of its oldest segment) and reports each outcome with `complete`, in the order it
 * read them. A segment is deleted once every record in it is complete (replayed, expired or
 * dropped), it is expired as a whole (`expire`), or its target is removed (`removeTarget`).
 * The cursor lives in memory: after a restart, hints of a partly delivered segment are read
 * again from its start, which is harmless because hint delivery is idempotent (at least once).
 *
 * Restarts: `open` scans every segment left by a previous run and stops at the first torn or
 * corrupt record of each (logged; what follows is never trusted nor appended to). Such segments
 * are read-only; new hints always go to new segments.
 *
 * Invariants
 * - Segment ids only grow per target (also across restarts), so segment order is hint order.
 * - Only the newest segment of a target may be active (appended to); older ones are sealed.
 * - Readers see only whole records that were written (`writtenBytes`); a record is counted
 *   (pending hints, table expiry map) once written.
 * - A target's hints complete in read order (asserted): the oldest segment is the only one with
 *   a moving cursor.
 * - After an I/O error on a segment, that segment is sealed: hints not written are refused
 *   (their `append` resolves false), what was written stays readable.
 *
 * Bounds: total bytes (on disk plus queued) at most `maxTotalBytes` (`max_hints_size_mb`):
 * beyond it `append` refuses (false) and `refusedOverBudget` counts, with one warning per
 * episode; a segment at most `segmentSizeBytes`, so one record at most that minus a header; at
 * most MAX_HINT_TARGETS targets; `read` returns at most `maxHints` hints and about `maxBytes`
 * (always at least one hint), reading at most max(maxBytes, one segment) bytes at a time.
 */
import { mkdir, open, readdir, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Cancellable, Clock, Scheduler } from '../runtime/clock.js';
import { assert } from '../util/assert.js';
import { CorruptDataError } from '../util/bytes.js';
import type { Logger } from '../util/logger.js';
import { datasync, isErrno, syncDirectory, unlinkIfPresent, writeFully } from '../util/file-io.js';
import {
  HINT_FORMAT_VERSION,
  HINT_SEGMENT_HEADER_BYTES,
  decodeHintPayload,
  decodeHintSegmentHeader,
  encodeHintPayload,
  encodeHintSegmentHeader,
  encodeRecord,
  hintRecordBytes,
  hintSegmentFileName,
  parseHintSegmentFileName,
  readRecord,
  type HintPayload,
} from './hint-format.js';
import {
  DEFAULT_HINT_SEGMENT_SIZE_BYTES,
  DEFAULT_HINT_SYNC_PERIOD_MS,
  DEFAULT_MAX_HINTS_SIZE_BYTES,
  HOST_ID_PATTERN,
  MAX_HINT_SEGMENT_SIZE_BYTES,
  MAX_HINT_TARGETS,
  checkHintLimits,
} from './limits.js';

export type HintSync = 'group' | 'periodic';

export interface HintStoreOptions {
  /** The hints directory, `<data_dir>/hints`. */
  readonly dir: string;
  readonly sync: HintSync;
  readonly syncPeriodMs?: number;
  readonly segmentSizeBytes?: number;
  /** The disk budget for all targets together (`max_hints_size_mb`). */
  readonly maxTotalBytes?: number;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
}

/** One hint read back, with where it sits in its target's log. */
export interface StoredHint extends HintPayload {
  readonly hostId: string;
  readonly segmentId: number;
  /** Byte offset of the record in its segment. */
  readonly offset: number;
  /** Byte offset just past the record. */
  readonly nextOffset: number;
  /** The framed record's size: what it costs on disk and, roughly, on the wire. */
  readonly sizeBytes: number;
}

/** How a hint left the store. */
export type HintOutcome = 'replayed' | 'expired' | 'dropped';

export interface TargetHintCounters {
  /** Hints made durable (or written, under `periodic`). */
  stored: number;
  /** Hints the target acknowledged. */
  replayed: number;
  expired: number;
  /** Hints refused (over budget, too large, I/O error) or discarded undelivered (table gone, corrupt). */
  dropped: number;
}

export interface TargetHintStats extends Readonly<TargetHintCounters> {
  /** Hints on disk not yet complete (written ones only). */
  readonly pendingHints: number;
  readonly pendingBytes: number;
  readonly segments: number;
}

export interface HintStoreStats {
  /** Bytes on disk plus bytes queued for writing: what the budget counts. */
  readonly totalBytes: number;
  readonly maxTotalBytes: number;
  readonly overBudget: boolean;
  readonly refusedOverBudget: number;
  readonly syncs: number;
  readonly targets: ReadonlyMap<string, TargetHintStats>;
}

interface QueuedHint {
  readonly record: Buffer;
  readonly tableId: string;
  readonly createdAtMs: number;
  readonly resolve: (stored: boolean) => void;
}

interface Segment {
  readonly id: number;
  readonly path: string;
  fileCreated: boolean;
  /** Bytes written to the file, header included; readers stop here. */
  writtenBytes: number;
  syncedBytes: number;
  /** Bytes of the file counted against the budget. */
  diskBytes: number;
  /** End of the last appended record, queued ones included. */
  endOffset: number;
  queue: QueuedHint[];
  queuedBytes: number;
  /** Written but not yet reported durable (group: waiting for this round's fdatasync). */
  writing: boolean;
  sealed: boolean;
  deleted: boolean;
  /** A record that failed its checksum was found here: the segment ends at this offset. */
  corruptAt: number | null;
  records: number;
  recordBytes: number;
  doneOffset: number;
  doneRecords: number;
  doneBytes: number;
  /** Newest hint creation time per table: decides when the whole segment has expired. */
  readonly newestByTable: Map<string, number>;
}

interface Target {
  readonly hostId: string;
  readonly dir: string;
  dirReady: boolean;
  /** Oldest first; only the last may be `active`. */
  segments: Segment[];
  active: Segment | null;
  highestSegmentId: number;
  readonly counters: TargetHintCounters;
}

export class HintStore {
  private readonly log: Logger;
  private readonly segmentSizeBytes: number;
  private readonly maxTotalBytes: number;
  private readonly syncPeriodMs: number;
  private readonly targets = new Map<string, Target>();
  private diskBytes = 0;
  /** Appended, not yet written (or failed). */
  private queuedBytes = 0;
  private refusedOverBudget = 0;
  private overBudget = false;
  private syncs = 0;
  private closing = false;
  private closePromise: Promise<void> | null = null;
  private turnScheduled = false;
  private round: Promise<void> | null = null;
  private syncDue = false;
  private periodicTimer: Cancellable | null = null;
  private readonly unlinks = new Set<Promise<void>>();

  private constructor(private readonly opts: HintStoreOptions) {
    this.log = opts.logger.child({ component: 'hint-store' });
    this.segmentSizeBytes = opts.segmentSizeBytes ?? DEFAULT_HINT_SEGMENT_SIZE_BYTES;
    this.maxTotalBytes = opts.maxTotalBytes ?? DEFAULT_MAX_HINTS_SIZE_BYTES;
    this.syncPeriodMs = opts.syncPeriodMs ?? DEFAULT_HINT_SYNC_PERIOD_MS;
    checkHintLimits({ maxTotalBytes: this.maxTotalBytes, segmentSizeBytes: this.segmentSizeBytes });
    assert(opts.sync === 'group' || opts.sync === 'periodic', `unknown hint sync ${String(opts.sync)}`);
    assert(this.syncPeriodMs > 0, 'hint sync period must be positive');
  }

  /** Creates `dir` if needed and loads every target's segments left by an earlier run. */
  static async open(opts: HintStoreOptions): Promise<HintStore> {
    const store = new HintStore(opts);
    await mkdir(opts.dir, { recursive: true });
    await store.loadTargets();
    return store;
  }

  /** The largest hint payload (`encodeHintPayload` bytes) a segment can hold. */
  get maxPayloadBytes(): number {
    return this.segmentSizeBytes - HINT_SEGMENT_HEADER_BYTES - hintRecordBytes(0);
  }

  /** Whether a hint of `payloadBytes` would fit the budget now. */
  hasRoomFor(payloadBytes = 0): boolean {
    return this.totalBytes() + hintRecordBytes(payloadBytes) + HINT_SEGMENT_HEADER_BYTES <= this.maxTotalBytes;
  }

  /** True when a hint of `payloadBytes` fits the budget; otherwise counts a refusal for `hostId`. */
  admits(hostId: string, payloadBytes = 0): boolean {
    if (this.hasRoomFor(payloadBytes)) return true;
    this.refuseOverBudget(this.targetFor(hostId));
    return false;
  }

  // #region pattern:Write-Ahead Log (hints)
  /**
   * Queues a hint for `hostId`; resolves true once it is stored per the sync policy, false when
   * it was refused (over budget, too large, too many targets, closed, I/O error).
   */
  append(hostId: string, hint: HintPayload): Promise<boolean> {
    assert(HOST_ID_PATTERN.test(hostId), `not a host id: ${hostId}`);
    if (this.closing) return Promise.resolve(false);
    const record = encodeRecord(encodeHintPayload(hint));
    const target = this.targetFor(hostId);
    if (target === null) return Promise.resolve(false);
    if (record.length + HINT_SEGMENT_HEADER_BYTES > this.segmentSizeBytes) {
      target.counters.dropped++;
      this.log.warn({ hostId, bytes: record.length, segmentSizeBytes: this.segmentSizeBytes }, 'hint larger than a hint segment: not stored');
      return Promise.resolve(false);
    }
    if (!this.hasRoomFor(record.length - hintRecordBytes(0))) {
      this.refuseOverBudget(target);
      return Promise.resolve(false);
    }
    const segment = this.segmentWithRoomFor(target, record.length);
    return new Promise((resolve) => {
      segment.queue.push({ record, tableId: hint.tableId, createdAtMs: hint.createdAtMs, resolve });
      segment.queuedBytes += record.length;
      segment.endOffset += record.length;
      this.queuedBytes += record.length;
      this.requestRound();
    });
  }
  // #endregion

  /**
   * The oldest hints of `hostId` not yet complete, in order: at most `maxHints`, and no more
   * bytes than `maxBytes` unless the first hint alone is larger. Does not move the cursor.
   */
  async read(hostId: string, maxHints: number, maxBytes: number): Promise<StoredHint[]> {
    assert(maxHints >= 1 && maxBytes >= 1, 'read at least one hint');
    const target = this.targets.get(hostId);
    if (target === undefined) return [];
    const hints: StoredHint[] = [];
    let bytes = 0;
    for (const segment of [...target.segments]) {
      if (hints.length >= maxHints || bytes >= maxBytes) break;
      if (segment.deleted) continue;
      const found = await this.readSegment(target, segment, maxHints - hints.length, Math.max(1, maxBytes - bytes));
      for (const hint of found) {
        hints.push(hint);
        bytes += hint.sizeBytes;
      }
      // A page never skips over a segment it could not read to its end.
      if (segment.doneOffset + found.reduce((n, h) => n + h.sizeBytes, 0) < readEnd(segment)) break;
    }
    return hints;
  }

  /** Records how a hint returned by `read` ended; call in read order. */
  complete(hint: StoredHint, outcome: HintOutcome): void {
    const target = this.targets.get(hint.hostId);
    if (target === undefined) return;
    const segment = target.segments.find((s) => s.id === hint.segmentId);
    // Expired or removed meanwhile, or completed twice: nothing left to account for.
    if (segment === undefined || segment.deleted || hint.offset < segment.doneOffset) return;
    assert(segment === target.segments[0], `hints of ${hint.hostId} completed out of segment order`);
    assert(hint.offset === segment.doneOffset, `hints of ${hint.hostId} completed out of order`);
    segment.doneOffset = hint.nextOffset;
    segment.doneRecords++;
    segment.doneBytes += hint.sizeBytes;
    target.counters[outcome]++;
    this.removeFinishedSegments(target);
  }

  /**
   * Deletes every segment whose hints have all expired: `isExpired(tableId, newestCreatedAtMs)`
   * is asked once per table present in a segment. Returns the number of hints expired.
   */
  expire(isExpired: (tableId: string, newestCreatedAtMs: number) => boolean): number {
    let expired = 0;
    for (const target of this.targets.values()) {
      for (const segment of [...target.segments]) {
        if (!isIdle(segment)) continue;
        let all = true;
        for (const [tableId, newest] of segment.newestByTable) all &&= isExpired(tableId, newest);
        if (!all) continue;
        const undone = segment.records - segment.doneRecords;
        target.counters.expired += undone;
        expired += undone;
        this.deleteSegment(target, segment);
      }
    }
    if (expired > 0) this.log.info({ expired }, 'expired hints deleted');
    return expired;
  }

  /** Forgets a target and deletes all its hints (the node left the cluster or was replaced). */
  async removeTarget(hostId: string): Promise<void> {
    const target = this.targets.get(hostId);
    if (target === undefined) return;
    this.targets.delete(hostId);
    for (const segment of [...target.segments]) {
      for (const queued of segment.queue) queued.resolve(false);
      this.queuedBytes -= segment.queuedBytes;
      segment.queue = [];
      segment.queuedBytes = 0;
      this.deleteSegment(target, segment);
    }
    // The round running now may still create or write one of its files: let it finish first.
    await this.round;
    await Promise.all([...this.unlinks]);
    await rm(target.dir, { recursive: true, force: true });
    this.log.info({ hostId }, 'hints of a removed target deleted');
  }

  /** Host ids with hints not yet complete. */
  targetsWithHints(): string[] {
    return [...this.targets.values()].filter((t) => pendingOf(t).hints > 0).map((t) => t.hostId);
  }

  pendingHints(hostId: string): number {
    const target = this.targets.get(hostId);
    return target === undefined ? 0 : pendingOf(target).hints;
  }

  /** Counts a hint the caller decided not to store (e.g. past the hint window). */
  countDropped(hostId: string): void {
    const target = this.targetFor(hostId);
    if (target !== null) target.counters.dropped++;
  }

  stats(): HintStoreStats {
    const targets = new Map<string, TargetHintStats>();
    for (const target of this.targets.values()) {
      const pending = pendingOf(target);
      targets.set(target.hostId, { ...target.counters, pendingHints: pending.hints, pendingBytes: pending.bytes, segments: target.segments.length });
    }
    return {
      totalBytes: this.totalBytes(),
      maxTotalBytes: this.maxTotalBytes,
      overBudget: this.overBudget,
      refusedOverBudget: this.refusedOverBudget,
      syncs: this.syncs,
      targets,
    };
  }

  /** Writes and syncs everything queued, then refuses new hints. Idempotent. */
  close(): Promise<void> {
    this.closePromise ??= this.closeOnce();
    return this.closePromise;
  }

  private async closeOnce(): Promise<void> {
    this.closing = true;
    for (let attempt = 0; attempt < 4 && (this.round !== null || this.hasWork()); attempt++) {
      this.maybeStartRound();
      await this.round;
    }
    this.periodicTimer?.cancel();
    this.periodicTimer = null;
    await Promise.all([...this.unlinks]);
  }

  private totalBytes(): number {
    return this.diskBytes + this.queuedBytes;
  }

  private refuseOverBudget(target: Target | null): void {
    this.refusedOverBudget++;
    if (target !== null) target.counters.dropped++;
    if (this.overBudget) return;
    this.overBudget = true;
    this.log.warn({ totalBytes: this.totalBytes(), maxTotalBytes: this.maxTotalBytes }, 'hint storage over its budget: no more hints are stored until some are delivered or expire');
  }

  private targetFor(hostId: string): Target | null {
    const existing = this.targets.get(hostId);
    if (existing !== undefined) return existing;
    if (this.targets.size >= MAX_HINT_TARGETS) {
      this.log.warn({ hostId, maxTargets: MAX_HINT_TARGETS }, 'too many hint targets: hint not stored');
      return null;
    }
    const target = newTarget(hostId, join(this.opts.dir, hostId), false);
    this.targets.set(hostId, target);
    return target;
  }

  // #region pattern:Segmented Log (hints)
  private segmentWithRoomFor(target: Target, recordBytes: number): Segment {
    const active = target.active;
    if (active !== null && active.endOffset + recordBytes <= this.segmentSizeBytes) return active;
    if (active !== null) active.sealed = true;
    const id = Math.max(Math.floor(this.opts.clock.nowMs()), target.highestSegmentId + 1);
    target.highestSegmentId = id;
    const segment = newSegment(id, join(target.dir, hintSegmentFileName(id)), false);
    segment.endOffset = HINT_SEGMENT_HEADER_BYTES;
    target.segments.push(segment);
    target.active = segment;
    return segment;
  }

  /** Deletes leading segments whose every record is complete (the target's low-water mark). */
  private removeFinishedSegments(target: Target): void {
    for (;;) {
      const oldest = target.segments[0];
      if (oldest === undefined || !isIdle(oldest) || oldest.doneOffset < readEnd(oldest)) return;
      // Only hints lost to a corrupt tail are still undone here.
      target.counters.dropped += oldest.records - oldest.doneRecords;
      this.deleteSegment(target, oldest);
    }
  }

  private deleteSegment(target: Target, segment: Segment): void {
    segment.deleted = true;
    segment.sealed = true;
    if (target.active === segment) target.active = null;
    target.segments = target.segments.filter((s) => s !== segment);
    this.diskBytes -= segment.diskBytes;
    if (this.overBudget && this.hasRoomFor(0)) {
      this.overBudget = false;
      this.log.info({ totalBytes: this.totalBytes(), maxTotalBytes: this.maxTotalBytes }, 'hint storage back under its budget: storing hints again');
    }
    const unlinked = unlinkIfPresent(segment.path).catch((err: unknown) => this.log.error({ err, path: segment.path }, 'could not delete a hint segment'));
    this.unlinks.add(unlinked);
    void unlinked.finally(() => this.unlinks.delete(unlinked));
  }
  // #endregion

  // #region pattern:Request Batch (group fsync of hints)
  /** Starts a round on a later turn, so every append of the current burst shares it. */
  private requestRound(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    void this.opts.scheduler.yieldToIo().then(() => {
      this.turnScheduled = false;
      this.maybeStartRound();
    });
  }

  private maybeStartRound(): void {
    if (this.round !== null || !this.hasWork()) return;
    this.round = this.runRound().finally(() => {
      this.round = null;
      this.maybeStartRound();
    });
  }

  private syncWanted(): boolean {
    return this.opts.sync === 'group' || this.syncDue || this.closing;
  }

  private hasWork(): boolean {
    const syncWanted = this.syncWanted();
    for (const target of this.targets.values()) {
      for (const segment of target.segments) {
        if (segment.queuedBytes > 0 || (syncWanted && segment.syncedBytes < segment.writtenBytes)) return true;
      }
    }
    return false;
  }

  /** One round: every segment with work, in parallel (separate files): one write, one fdatasync. */
  private async runRound(): Promise<void> {
    const syncWanted = this.syncWanted();
    this.syncDue = false;
    const work: Promise<void>[] = [];
    for (const target of this.targets.values()) {
      for (const segment of target.segments) {
        if (segment.queuedBytes > 0 || (syncWanted && segment.syncedBytes < segment.writtenBytes)) {
          work.push(this.flushSegment(target, segment, syncWanted).catch((err: unknown) => this.failSegment(target, segment, err)));
        }
      }
    }
    await Promise.all(work);
  }
  // #endregion

  private async flushSegment(target: Target, segment: Segment, syncWanted: boolean): Promise<void> {
    const batch = segment.queue;
    segment.queue = [];
    const batchBytes = segment.queuedBytes;
    segment.queuedBytes = 0;
    segment.writing = batch.length > 0;
    try {
      if (segment.deleted) throw Object.assign(new Error('hint segment deleted'), { code: 'ENOENT' });
      await this.ensureTargetDir(target);
      const created = !segment.fileCreated;
      const handle = await open(segment.path, created ? 'wx' : 'r+');
      try {
        if (created) {
          segment.fileCreated = true;
          await syncDirectory(target.dir);
        }
        const parts = created ? [encodeHintSegmentHeader(segment.id), ...batch.map((q) => q.record)] : batch.map((q) => q.record);
        if (parts.length > 0) await writeFully(handle, Buffer.concat(parts), segment.writtenBytes);
        const written = parts.reduce((n, p) => n + p.length, 0);
        this.queuedBytes -= batchBytes;
        this.noteWritten(segment, batch, written);
        if (syncWanted) await this.sync(segment, handle);
        else this.armPeriodicSync();
      } finally {
        await handle.close();
      }
    } catch (err) {
      if (segment.writing) this.queuedBytes -= batchBytes;
      for (const queued of batch) queued.resolve(false);
      target.counters.dropped += batch.length;
      throw err;
    } finally {
      segment.writing = false;
    }
    target.counters.stored += batch.length;
    for (const queued of batch) queued.resolve(true);
    if (segment.sealed) this.removeFinishedSegments(target);
  }

  /** The batch is in the file: readers may see it, it counts as pending and on disk. */
  private noteWritten(segment: Segment, batch: readonly QueuedHint[], writtenBytes: number): void {
    segment.writtenBytes += writtenBytes;
    segment.diskBytes += writtenBytes;
    // A deleted segment's bytes left the budget already; its file goes with its target.
    if (!segment.deleted) this.diskBytes += writtenBytes;
    for (const queued of batch) {
      segment.records++;
      segment.recordBytes += queued.record.length;
      const newest = segment.newestByTable.get(queued.tableId) ?? 0;
      if (queued.createdAtMs >= newest) segment.newestByTable.set(queued.tableId, queued.createdAtMs);
    }
    segment.writing = false;
  }

  private async sync(segment: Segment, handle: FileHandle): Promise<void> {
    const target = segment.writtenBytes;
    await datasync(handle.fd);
    this.syncs++;
    segment.syncedBytes = Math.max(segment.syncedBytes, target);
  }

  private armPeriodicSync(): void {
    if (this.periodicTimer !== null) return;
    this.periodicTimer = this.opts.scheduler.after(this.syncPeriodMs, () => {
      this.periodicTimer = null;
      this.syncDue = true;
      this.maybeStartRound();
    });
  }

  private failSegment(target: Target, segment: Segment, err: unknown): void {
    if (segment.deleted && isErrno(err, 'ENOENT')) return;
    this.log.error({ err, hostId: target.hostId, segmentId: segment.id }, 'hint segment I/O failed; sealing it (hints not written are not stored)');
    segment.sealed = true;
    segment.syncedBytes = segment.writtenBytes;
    if (target.active === segment) target.active = null;
    for (const queued of segment.queue) queued.resolve(false);
    target.counters.dropped += segment.queue.length;
    this.queuedBytes -= segment.queuedBytes;
    segment.endOffset = segment.writtenBytes;
    segment.queue = [];
    segment.queuedBytes = 0;
  }

  private async ensureTargetDir(target: Target): Promise<void> {
    if (target.dirReady) return;
    await mkdir(target.dir, { recursive: true });
    await syncDirectory(this.opts.dir);
    target.dirReady = true;
  }

  /** Reads `segment` from its cursor: whole records only, stopping at a corrupt one. */
  private async readSegment(target: Target, segment: Segment, maxHints: number, maxBytes: number): Promise<StoredHint[]> {
    const start = segment.doneOffset;
    const end = readEnd(segment);
    if (start >= end) return [];
    let bytes: Buffer;
    try {
      bytes = await readAt(segment.path, start, Math.min(end - start, Math.max(maxBytes, this.segmentSizeBytes)));
      // A record written under a larger segment size than today's: read it whole.
      const first = readRecord(bytes, 0);
      if (first.kind === 'incomplete' && start + first.bytesNeeded <= end && first.bytesNeeded > bytes.length) {
        bytes = await readAt(segment.path, start, first.bytesNeeded);
      }
    } catch (err) {
      if (segment.deleted || isErrno(err, 'ENOENT')) return [];
      throw err;
    }
    const hints: StoredHint[] = [];
    let relative = 0;
    let total = 0;
    while (relative < bytes.length && hints.length < maxHints && (hints.length === 0 || total < maxBytes)) {
      const result = readRecord(bytes, relative);
      if (result.kind === 'incomplete' && start + relative + result.bytesNeeded <= end && relative > 0) break;
      if (result.kind !== 'record') {
        this.markCorrupt(target, segment, start + relative, result.kind === 'corrupt' ? result.reason : 'truncated record');
        break;
      }
      const offset = start + relative;
      let payload: HintPayload;
      try {
        payload = decodeHintPayload(result.payload);
      } catch (err) {
        if (!(err instanceof CorruptDataError)) throw err;
        this.markCorrupt(target, segment, offset, err.message);
        break;
      }
      const sizeBytes = result.nextOffset - relative;
      hints.push({ ...payload, mutation: Buffer.from(payload.mutation), hostId: target.hostId, segmentId: segment.id, offset, nextOffset: start + result.nextOffset, sizeBytes });
      total += sizeBytes;
      relative = result.nextOffset;
    }
    return hints;
  }

  /** Bytes from `offset` on are not trusted: the segment ends there and takes no more hints. */
  private markCorrupt(target: Target, segment: Segment, offset: number, reason: string): void {
    if (segment.corruptAt !== null && segment.corruptAt <= offset) return;
    this.log.error({ hostId: target.hostId, segmentId: segment.id, offset, reason }, 'corrupt hint record: the rest of the segment is dropped');
    segment.corruptAt = offset;
    segment.sealed = true;
    if (target.active === segment) target.active = null;
    this.removeFinishedSegments(target);
  }

  private async loadTargets(): Promise<void> {
    const entries = await readdir(this.opts.dir, { withFileTypes: true });
    for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
      if (!HOST_ID_PATTERN.test(entry.name)) {
        this.log.warn({ dir: entry.name }, 'ignoring a hints directory that is not a host id');
        continue;
      }
      if (this.targets.size >= MAX_HINT_TARGETS) {
        this.log.warn({ dir: entry.name, maxTargets: MAX_HINT_TARGETS }, 'too many hint targets on disk: ignoring the rest');
        break;
      }
      const target = newTarget(entry.name, join(this.opts.dir, entry.name), true);
      await this.loadSegments(target);
      this.targets.set(target.hostId, target);
    }
    if (this.targets.size > 0) {
      const hints = [...this.targets.values()].reduce((n, t) => n + pendingOf(t).hints, 0);
      this.log.info({ targets: this.targets.size, hints, bytes: this.diskBytes }, 'hints loaded');
    }
  }

  private async loadSegments(target: Target): Promise<void> {
    const found: { id: number; name: string }[] = [];
    for (const name of await readdir(target.dir)) {
      const parsed = parseHintSegmentFileName(name);
      if (parsed === null) continue;
      target.highestSegmentId = Math.max(target.highestSegmentId, parsed.segmentId);
      if (parsed.formatVersion !== HINT_FORMAT_VERSION) {
        this.log.warn({ hostId: target.hostId, file: name }, 'ignoring a hint segment of an unknown format version');
        continue;
      }
      found.push({ id: parsed.segmentId, name });
    }
    found.sort((a, b) => a.id - b.id);
    for (const { id, name } of found) {
      const segment = await this.scanSegment(target, id, join(target.dir, name));
      if (segment === null) continue;
      target.segments.push(segment);
      this.diskBytes += segment.diskBytes;
    }
  }

  /** Rebuilds a segment's bookkeeping from its file; null if it holds nothing usable (deleted). */
  private async scanSegment(target: Target, id: number, path: string): Promise<Segment | null> {
    const handle = await open(path, 'r');
    let fileBytes: number;
    const segment = newSegment(id, path, true);
    try {
      fileBytes = (await handle.stat()).size;
      const header = decodeHintSegmentHeader(await readExactly(handle, 0, Math.min(fileBytes, HINT_SEGMENT_HEADER_BYTES)));
      if (!header.ok || header.segmentId !== id) {
        this.log.warn({ hostId: target.hostId, segmentId: id, reason: header.ok ? `header names segment ${header.segmentId}` : header.reason }, 'deleting a hint segment with a bad header');
        await handle.close().catch(() => undefined);
        await unlinkIfPresent(path);
        return null;
      }
      let offset = HINT_SEGMENT_HEADER_BYTES;
      while (offset < fileBytes) {
        const chunk = await readExactly(handle, offset, Math.min(fileBytes - offset, MAX_HINT_SEGMENT_SIZE_BYTES));
        const consumed = this.scanChunk(segment, chunk);
        offset += consumed;
        if (consumed === 0 || segment.corruptAt !== null) break;
      }
      if (offset < fileBytes) {
        this.log.warn({ hostId: target.hostId, segmentId: id, offsetBytes: offset, ignoredBytes: fileBytes - offset }, 'hint segment ends in a torn or corrupt record; ignoring the rest');
      }
      segment.writtenBytes = offset;
      segment.syncedBytes = offset;
      segment.endOffset = offset;
      segment.corruptAt = null;
      segment.diskBytes = fileBytes;
    } finally {
      await handle.close().catch(() => undefined);
    }
    return segment;
  }

  /** Counts the whole records at the start of `chunk`; returns the bytes they span. */
  private scanChunk(segment: Segment, chunk: Buffer): number {
    let relative = 0;
    while (relative < chunk.length) {
      const result = readRecord(chunk, relative);
      if (result.kind === 'incomplete') return relative;
      if (result.kind === 'corrupt') {
        segment.corruptAt = relative;
        return relative;
      }
      let payload: HintPayload;
      try {
        payload = decodeHintPayload(result.payload);
      } catch {
        segment.corruptAt = relative;
        return relative;
      }
      segment.records++;
      segment.recordBytes += result.nextOffset - relative;
      const newest = segment.newestByTable.get(payload.tableId) ?? 0;
      if (payload.createdAtMs >= newest) segment.newestByTable.set(payload.tableId, payload.createdAtMs);
      relative = result.nextOffset;
    }
    return relative;
  }
}

function newTarget(hostId: string, dir: string, dirReady: boolean): Target {
  return { hostId, dir, dirReady, segments: [], active: null, highestSegmentId: -1, counters: { stored: 0, replayed: 0, expired: 0, dropped: 0 } };
}

function newSegment(id: number, path: string, fromEarlierRun: boolean): Segment {
  return {
    id,
    path,
    fileCreated: fromEarlierRun,
    writtenBytes: 0,
    syncedBytes: 0,
    diskBytes: 0,
    endOffset: 0,
    queue: [],
    queuedBytes: 0,
    writing: false,
    sealed: fromEarlierRun,
    deleted: false,
    corruptAt: null,
    records: 0,
    recordBytes: 0,
    doneOffset: HINT_SEGMENT_HEADER_BYTES,
    doneRecords: 0,
    doneBytes: 0,
    newestByTable: new Map(),
  };
}

/** Where readers of a segment stop: its written bytes, or an earlier corrupt record. */
function readEnd(segment: Segment): number {
  return segment.corruptAt === null ? segment.writtenBytes : Math.min(segment.corruptAt, segment.writtenBytes);
}

/** Nothing queued or being written: the segment may be deleted without losing a hint in flight. */
function isIdle(segment: Segment): boolean {
  return segment.queue.length === 0 && !segment.writing && (segment.sealed || segment.endOffset === segment.writtenBytes);
}

function pendingOf(target: Target): { hints: number; bytes: number } {
  let hints = 0;
  let bytes = 0;
  for (const segment of target.segments) {
    hints += segment.records - segment.doneRecords;
    bytes += segment.recordBytes - segment.doneBytes;
  }
  return { hints, bytes };
}

async function readAt(path: string, position: number, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    return await readExactly(handle, position, length);
  } finally {
    await handle.close();
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
