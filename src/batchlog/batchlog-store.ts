/**
 * The node-local batch log: logged batches other coordinators (or this one) asked this node to
 * keep until their mutations are applied, stored as the engine table `system.batches`.
 *
 * Cassandra: `system.batches`, `BatchlogManager.store` / `remove`. Pattern (Joshi, *Patterns of
 * Distributed Systems*): a Write-Ahead Log one level up: the intent (every mutation of a batch)
 * is made durable on other nodes before any of it is applied, so that a coordinator dying half
 * way leaves a record a survivor replays. The table shares the node's commit log, so an entry is
 * durable once `store` resolves and survives restarts like any other write.
 *
 * Table layout (format 1): keyspace `system`, table `batches`, fixed id BATCHLOG_TABLE.id,
 * gc_grace 0 (a removed entry's tombstone only shadows this node's own data, never a replica's).
 * One partition per batch: key = the 16 batch-id bytes (token: Murmur3 of them), no clustering,
 * one row whose marker and only cell `batch` are stamped with the local time the entry was
 * stored (µs); the cell holds the encoded batch below. Removal is a partition tombstone stamped
 * after the store time, so a clock that went back across a restart still shadows the entry.
 *
 * Batch encoding (version 1), also the payload of BATCH_STORE (batchlog-verbs.ts):
 *
 *   batch    := version:u8(=1) id:16 bytes writtenAtMs:uvarint count:uvarint mutation{count}
 *   mutation := lbytes of the replica-verbs MUTATION request (version, table id, codec update)
 *
 * `writtenAtMs` is the coordinator's clock when it wrote the batch (for logs); how old an entry
 * is for replay is measured from the local store time, so coordinator clock skew does not
 * replay a batch early. Mutations keep their cells' write timestamps: replaying a batch again
 * writes the same cells, hence idempotent.
 *
 * Invariants: the in-memory index holds exactly the live entries of the table (built by `load`
 * after commit-log replay, then kept by `store`/`remove`, the only writers); `bytes` is the sum
 * of the encoded sizes of indexed entries.
 * Bounds: at most `maxBatches` entries and `maxBytes` encoded bytes (a `store` past either is
 * refused with `BatchlogFullError`); a batch has 1..MAX_BATCH_MUTATIONS mutations; `load` reads
 * at most MAX_LOADED_BATCHES entries; `due` returns at most its `max`.
 */
import { decodeMutation, encodeMutation, type MutationMessage } from '../coordinator/replica-verbs.js';
import { murmur3Token } from '../ring/murmur3.js';
import { nowSeconds, type Clock } from '../runtime/clock.js';
import type { PartitionUpdate, Row } from '../storage/data/types.js';
import { isCellLive, isRowLive } from '../storage/data/reconcile.js';
import type { StorageEngine } from '../storage/engine/storage-engine.js';
import type { TableStore } from '../storage/engine/table-store.js';
import { assert } from '../util/assert.js';
import { ByteReader, ByteWriter, CorruptDataError } from '../util/bytes.js';
import type { Logger } from '../util/logger.js';

export const BATCHLOG_TABLE = { id: '00000000-0000-4000-8000-00000000000c', keyspace: 'system', name: 'batches', gcGraceSeconds: 0 } as const;
export const BATCH_FORMAT_VERSION = 1;
export const BATCH_ID_BYTES = 16;
/** More mutations than this in one batch is refused as corrupt (CQL batches are far smaller). */
export const MAX_BATCH_MUTATIONS = 65_535;
/** A hard ceiling on entries read back at start-up, whatever the configured bounds were. */
export const MAX_LOADED_BATCHES = 1_000_000;

export interface BatchlogLimits {
  /** Entries kept at most; a BATCH_STORE past it is refused. */
  readonly maxBatches: number;
  /** Encoded bytes kept at most; a BATCH_STORE past it is refused. */
  readonly maxBytes: number;
}

export const DEFAULT_BATCHLOG_LIMITS: BatchlogLimits = { maxBatches: 10_000, maxBytes: 64 * 1024 * 1024 };

const BATCH_COLUMN = 'batch';
const NO_CLUSTERING = Buffer.alloc(0);
const LOAD_PAGE_ROWS = 1000;

/** One logged batch: its id, the coordinator's write time, and its mutations (table id + update). */
export interface Batch {
  readonly id: Buffer;
  readonly writtenAtMs: number;
  readonly mutations: readonly MutationMessage[];
}

/** An entry of the local batch log, as the index knows it. */
export interface BatchlogEntry {
  readonly id: Buffer;
  /** Local clock when stored (µs): the age replay is measured from. */
  readonly storedAtMicros: number;
  readonly bytes: number;
}

/** The batch log is at its bound: the BATCH_STORE is refused (the coordinator sees a failure). */
export class BatchlogFullError extends Error {
  override readonly name = 'BatchlogFullError';
}

export interface BatchlogStoreStats {
  /** Live entries now, and their encoded bytes. */
  readonly batches: number;
  readonly bytes: number;
  /** Since start: entries stored, removed, and stores refused at the bound. */
  readonly stored: number;
  readonly removed: number;
  readonly refused: number;
}

// ---- encoding ----

export function encodeBatch(batch: Batch): Buffer {
  assert(batch.id.length === BATCH_ID_BYTES, `batch id must be ${BATCH_ID_BYTES} bytes`);
  assert(batch.mutations.length >= 1 && batch.mutations.length <= MAX_BATCH_MUTATIONS, `a batch has 1..${MAX_BATCH_MUTATIONS} mutations`);
  const w = new ByteWriter(256);
  w.u8(BATCH_FORMAT_VERSION).bytes(batch.id).uvarint(batch.writtenAtMs).uvarint(batch.mutations.length);
  for (const m of batch.mutations) w.lbytes(encodeMutation(m.tableId, m.update));
  return w.toBuffer();
}

export function decodeBatch(bytes: Uint8Array): Batch {
  const r = new ByteReader(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const version = r.u8();
  if (version !== BATCH_FORMAT_VERSION) throw new CorruptDataError(`unknown batch format version ${version}`);
  const id = Buffer.from(r.bytes(BATCH_ID_BYTES));
  const writtenAtMs = r.uvarint();
  const count = r.uvarint();
  if (count < 1 || count > MAX_BATCH_MUTATIONS) throw new CorruptDataError(`bad batch mutation count ${count}`);
  const mutations: MutationMessage[] = [];
  // Each mutation is length-prefixed within the received bytes, so `count` cannot make the
  // decoder allocate more than the input holds.
  for (let i = 0; i < count; i++) mutations.push(decodeMutation(r.lbytes()));
  if (r.remaining !== 0) throw new CorruptDataError('trailing bytes after batch');
  return { id, writtenAtMs, mutations };
}

/** The batch id as a UUID-shaped string, for logs. */
export function batchIdString(id: Buffer): string {
  const h = id.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

// ---- the store ----

export class BatchlogStore {
  private readonly index = new Map<string, BatchlogEntry>();
  private indexedBytes = 0;
  private loaded = false;
  private counters = { stored: 0, removed: 0, refused: 0 };

  private constructor(
    private readonly table: TableStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
    readonly limits: BatchlogLimits,
  ) {
    assert(limits.maxBatches >= 1 && limits.maxBytes >= 1, 'batch log bounds must be positive');
  }

  /** Opens `system.batches` on `engine`. Replay the commit log for it, then call `load()`. */
  static open(engine: StorageEngine, options: { clock: Clock; logger: Logger; limits?: BatchlogLimits }): BatchlogStore {
    const table = engine.openTable({ ...BATCHLOG_TABLE, compaction: { enabled: true } });
    return new BatchlogStore(table, options.clock, options.logger.child({ component: 'batchlog' }), options.limits ?? DEFAULT_BATCHLOG_LIMITS);
  }

  static readonly tableId: string = BATCHLOG_TABLE.id;

  /** Builds the index from the table; entries that cannot be decoded are logged and removed. */
  async load(): Promise<void> {
    const now = nowSeconds(this.clock);
    const corrupt: Buffer[] = [];
    let resume = null;
    do {
      const page = this.table.scanRange({ startToken: null, endToken: null, resume, pageRows: LOAD_PAGE_ROWS });
      for (const p of page.partitions) {
        const row = p.rows[0];
        if (row === undefined || !isRowLive(row, now)) continue;
        const entry = entryOf(p.key, row, now);
        if (entry === null) {
          corrupt.push(Buffer.from(p.key));
          continue;
        }
        assert(this.index.size < MAX_LOADED_BATCHES, `more than ${MAX_LOADED_BATCHES} batch log entries`);
        this.remember(entry);
      }
      resume = page.next;
    } while (resume !== null);
    this.loaded = true;
    for (const key of corrupt) {
      this.logger.error({ batchKey: key.toString('hex') }, 'undecodable batch log entry removed');
      await this.table.apply(tombstone(key, this.clock.nowMicros(), now));
    }
    if (this.index.size > 0) this.logger.info({ batches: this.index.size, bytes: this.indexedBytes }, 'batch log loaded');
  }

  /** Keeps `batch` durably; refuses with `BatchlogFullError` past the bounds. */
  async store(batch: Batch): Promise<void> {
    assert(this.loaded, 'batch log used before load()');
    const encoded = encodeBatch(batch);
    const key = batch.id.toString('hex');
    const previous = this.index.get(key);
    const batches = this.index.size + (previous === undefined ? 1 : 0);
    const bytes = this.indexedBytes - (previous?.bytes ?? 0) + encoded.length;
    if (batches > this.limits.maxBatches || bytes > this.limits.maxBytes) {
      this.counters.refused++;
      throw new BatchlogFullError(`batch log full: ${this.index.size} batches, ${this.indexedBytes} bytes (bounds ${this.limits.maxBatches}, ${this.limits.maxBytes})`);
    }
    const storedAtMicros = Math.max(this.clock.nowMicros(), (previous?.storedAtMicros ?? 0) + 1);
    const row: Row = {
      clustering: NO_CLUSTERING,
      liveness: { ts: storedAtMicros, ttl: 0, expiresAt: 0 },
      cells: [{ column: BATCH_COLUMN, value: encoded, ts: storedAtMicros, ttl: 0, ldt: 0 }],
    };
    // Indexed before the write resolves so concurrent stores see the space taken; forgotten
    // again if the write fails.
    this.remember({ id: Buffer.from(batch.id), storedAtMicros, bytes: encoded.length });
    try {
      await this.table.apply({ token: murmur3Token(batch.id), key: batch.id, rangeTombstones: [], rows: [row] });
    } catch (err) {
      this.forget(key);
      if (previous !== undefined) this.remember(previous);
      throw err;
    }
    this.counters.stored++;
  }

  /** Deletes the entry; false when there was none (already removed, or never stored here). */
  async remove(id: Buffer): Promise<boolean> {
    assert(this.loaded, 'batch log used before load()');
    const key = id.toString('hex');
    const entry = this.index.get(key);
    if (entry === undefined) return false;
    this.forget(key);
    const ts = Math.max(this.clock.nowMicros(), entry.storedAtMicros + 1);
    await this.table.apply(tombstone(entry.id, ts, nowSeconds(this.clock)));
    this.counters.removed++;
    return true;
  }

  /** The stored batch, or null when it is not in the log. */
  read(id: Buffer): Batch | null {
    if (!this.index.has(id.toString('hex'))) return null;
    const p = this.table.readPartition(murmur3Token(id), id);
    const cell = p?.rows[0]?.cells.find((c) => c.column === BATCH_COLUMN);
    if (cell === undefined || cell.value === null) return null;
    return decodeBatch(cell.value);
  }

  has(id: Buffer): boolean {
    return this.index.has(id.toString('hex'));
  }

  /** Up to `max` entries stored at or before `storedAtOrBeforeMicros`, oldest first. */
  due(storedAtOrBeforeMicros: number, max: number): BatchlogEntry[] {
    const due: BatchlogEntry[] = [];
    for (const entry of this.index.values()) if (entry.storedAtMicros <= storedAtOrBeforeMicros) due.push(entry);
    due.sort((a, b) => a.storedAtMicros - b.storedAtMicros || Buffer.compare(a.id, b.id));
    return due.slice(0, max);
  }

  /** Bytes in the table's active memtable: what pins commit-log segments until a flush. */
  memtableBytes(): number {
    return this.table.activeMemtableBytes();
  }

  flush(): Promise<void> {
    return this.table.flush();
  }

  stats(): BatchlogStoreStats {
    return { batches: this.index.size, bytes: this.indexedBytes, ...this.counters };
  }

  private remember(entry: BatchlogEntry): void {
    this.forget(entry.id.toString('hex'));
    this.index.set(entry.id.toString('hex'), entry);
    this.indexedBytes += entry.bytes;
  }

  private forget(key: string): void {
    const entry = this.index.get(key);
    if (entry === undefined) return;
    this.index.delete(key);
    this.indexedBytes -= entry.bytes;
  }
}

/** The index entry of a stored row, or null when the row is not a decodable batch. */
function entryOf(key: Buffer, row: Row, nowSec: number): BatchlogEntry | null {
  const cell = row.cells.find((c) => c.column === BATCH_COLUMN);
  if (key.length !== BATCH_ID_BYTES || cell === undefined || cell.value === null || !isCellLive(cell, nowSec)) return null;
  try {
    const batch = decodeBatch(cell.value);
    if (!batch.id.equals(key)) return null;
  } catch {
    // Whatever the decoder threw, the entry can never be replayed.
    return null;
  }
  return { id: Buffer.from(key), storedAtMicros: cell.ts, bytes: cell.value.length };
}

function tombstone(id: Buffer, ts: number, ldt: number): PartitionUpdate {
  return { token: murmur3Token(id), key: id, deletion: { ts, ldt }, rangeTombstones: [], rows: [] };
}
