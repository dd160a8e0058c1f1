/**
 * The replica side of the data path: the MUTATION, READ_REPAIR, READ_DATA and READ_DIGEST verbs
 * a coordinator sends to the replicas of a partition, and their message formats.
 *
 * Cassandra concepts: `MutationVerbHandler`, `ReadCommandVerbHandler`, digest reads
 * (`ReadResponse.createDigestResponse`). Pattern: the replica half of Majority Quorum (Joshi,
 * *Patterns of Distributed Systems*): a replica applies or reads locally and answers; it never
 * decides anything about the consistency level.
 *
 * Message formats (version 1; every request starts with its version byte, so a newer peer's
 * format is refused as corrupt instead of being misread):
 *
 *   mutation request   := version:u8(=1) tableId:string update          (READ_REPAIR carries the same)
 *   mutation response  := empty                                          (the ack)
 *   read request       := version:u8(=1) tableId:string token:i64be key:lbytes flags:u8
 *                         [start:bound] [end:bound] [limit:uvarint]      (READ_DATA and READ_DIGEST)
 *     flags: 0x01 start present, 0x02 end present, 0x04 reversed, 0x08 limit present
 *     bound := inclusive:u8 (0 or 1) prefix:lbytes
 *   data response      := empty (no partition) | version:u8(=1) update  (the partition, canonical)
 *   digest response    := version:u8(=1) digest:16 bytes
 *
 * `update` is the storage codec's partition-update encoding (src/storage/data/codec.ts), which
 * carries its own format version; a partition read is the same shape as an update. `string` and
 * `lbytes` are uvarint-length-prefixed. The digest is the first 16 bytes of the SHA-256 of the
 * data response, so a digest and a full answer compare directly. (SHA-256, not Cassandra's MD5:
 * digests only compare replicas, and node's one-shot SHA-256 is the fastest hash it offers.)
 *
 * Costs (issue #5 §5): encodings go through one module-level scratch writer (the event loop is
 * single-threaded and no encoder here re-enters another), so a message costs one exact-size copy
 * and a digest none; the digest and data handlers answer synchronously (no promise per read).
 * A mutation's commit-log record is `string(tableId) update`, which is the mutation request
 * minus its version byte: the replica hands those received bytes to the commit log instead of
 * encoding the decoded update again. They decode to the same update (the decoder read exactly
 * them), which is all replay needs.
 *
 * Invariants
 * - Determinism: two replicas holding the same partition produce the same data response bytes,
 *   hence the same digest. The codec writes cells in (column, path) order and rows in clustering
 *   order already; the one order that depends on merge history, the partition's range
 *   tombstones, is sorted by their encoding before encoding (`canonicalPartition`).
 * - A replica that cannot serve a request (unknown table: dropped, or a schema not yet agreed;
 *   a corrupt message) throws, so the peer receives an error response (`RemoteError`), which the
 *   coordinator counts as a replica failure, never as silence.
 *
 * Bounds: decoding reads only within the received frame (itself at most
 * `internode_max_message_bytes`); a table id is at most MAX_TABLE_ID_BYTES, a partition key at
 * most MAX_PARTITION_KEY_BYTES (Cassandra's 64 KiB key limit), a limit at most MAX_READ_LIMIT;
 * anything else, unknown flags or trailing bytes throws `CorruptDataError`.
 */
import { hash } from 'node:crypto';
import type { MessagingService } from '../messaging/messaging-service.js';
import { Verb } from '../messaging/verbs.js';
import { headerTimestamps, rowTimestamps, type TimestampRange } from '../storage/data/reconcile.js';
import { decodeRangeCommand, encodeRangePage } from './range-read.js';
import { readUpdate, writeHeader, writeUpdate } from '../storage/data/codec.js';
import type { ClusteringBound, Partition, PartitionUpdate, RangeTombstone } from '../storage/data/types.js';
import type { SliceQuery } from '../storage/engine/api.js';
import type { TableStore } from '../storage/engine/table-store.js';
import { ByteReader, ByteWriter, CorruptDataError } from '../util/bytes.js';
import type { Logger } from '../util/logger.js';

export const REPLICA_MESSAGE_VERSION = 1;
export const DIGEST_BYTES = 16;
/** Table ids are UUID strings (36 bytes); room to spare, nothing more. */
export const MAX_TABLE_ID_BYTES = 64;
/** Cassandra refuses partition keys above 64 KiB. */
export const MAX_PARTITION_KEY_BYTES = 0xffff;
/** The largest row limit a read may carry (CQL limits are 32-bit). */
export const MAX_READ_LIMIT = 2 ** 31 - 1;

const FLAG_START = 0x01;
const FLAG_END = 0x02;
const FLAG_REVERSED = 0x04;
const FLAG_LIMIT = 0x08;
const KNOWN_FLAGS = FLAG_START | FLAG_END | FLAG_REVERSED | FLAG_LIMIT;

/** What a replica needs of the storage engine: its tables by id. */
export interface ReplicaStorage {
  table(id: string): TableStore | undefined;
}

/** The replica has no table with this id: dropped, or the schema has not reached it yet. */
export class UnknownTableError extends Error {
  override readonly name = 'UnknownTableError';
  constructor(readonly tableId: string) {
    super(`unknown table ${tableId}`);
  }
}

export interface MutationMessage {
  readonly tableId: string;
  readonly update: PartitionUpdate;
}

export interface ReadCommand {
  readonly tableId: string;
  readonly token: bigint;
  readonly key: Buffer;
  readonly slice: SliceQuery;
}

function checkVersion(r: ByteReader): void {
  const version = r.u8();
  if (version !== REPLICA_MESSAGE_VERSION) throw new CorruptDataError(`unknown replica message version ${version}`);
}

function readTableId(r: ByteReader): string {
  const tableId = r.string();
  if (tableId.length === 0 || Buffer.byteLength(tableId) > MAX_TABLE_ID_BYTES) throw new CorruptDataError('bad table id');
  return tableId;
}

function checkEnd(r: ByteReader): void {
  if (r.remaining !== 0) throw new CorruptDataError('trailing bytes after replica message');
}

const asBuffer = (bytes: Uint8Array): Buffer => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));

/**
 * The encoders' shared scratch space: reset by each encoder before use, read (copied or hashed)
 * before the encoder returns. Grows to the largest message encoded; at most that is retained.
 */
const scratch = new ByteWriter(16 * 1024);

function scratchWriter(): ByteWriter {
  scratch.reset();
  return scratch;
}

export function encodeMutation(tableId: string, update: PartitionUpdate): Buffer {
  const w = scratchWriter();
  w.u8(REPLICA_MESSAGE_VERSION).string(tableId);
  writeUpdate(w, update);
  return w.toBuffer();
}

/**
 * The commit-log record (`string(tableId) update`, the storage engine's record payload) inside
 * an encoded mutation request: the same bytes after the version byte.
 */
export function logRecordOfMutation(mutation: Buffer): Buffer {
  return mutation.subarray(1);
}

export function decodeMutation(bytes: Uint8Array): MutationMessage {
  const r = new ByteReader(asBuffer(bytes));
  checkVersion(r);
  const tableId = readTableId(r);
  const update = readUpdate(r);
  if (update.key.length > MAX_PARTITION_KEY_BYTES) throw new CorruptDataError('partition key too long');
  checkEnd(r);
  return { tableId, update };
}

function writeBound(w: ByteWriter, bound: ClusteringBound): void {
  w.u8(bound.inclusive ? 1 : 0).lbytes(bound.prefix);
}

function readBound(r: ByteReader): ClusteringBound {
  const inclusive = r.u8();
  if (inclusive > 1) throw new CorruptDataError(`bad bound kind ${inclusive}`);
  return { inclusive: inclusive === 1, prefix: Buffer.from(r.lbytes()) };
}

export function encodeReadCommand(command: ReadCommand): Buffer {
  const { slice } = command;
  const start = slice.start ?? null;
  const end = slice.end ?? null;
  const flags = (start !== null ? FLAG_START : 0) | (end !== null ? FLAG_END : 0) | (slice.reversed === true ? FLAG_REVERSED : 0) | (slice.limit !== undefined ? FLAG_LIMIT : 0);
  const w = scratchWriter();
  w.u8(REPLICA_MESSAGE_VERSION).string(command.tableId);
  const tokenAt = w.length;
  w.f64(0); // placeholder for the token's raw 8 bytes
  w.view().writeBigInt64BE(command.token, tokenAt);
  w.lbytes(command.key).u8(flags);
  if (start !== null) writeBound(w, start);
  if (end !== null) writeBound(w, end);
  if (slice.limit !== undefined) w.uvarint(slice.limit);
  return w.toBuffer();
}

export function decodeReadCommand(bytes: Uint8Array): ReadCommand {
  const r = new ByteReader(asBuffer(bytes));
  checkVersion(r);
  const tableId = readTableId(r);
  const token = r.bytes(8).readBigInt64BE(0);
  const key = Buffer.from(r.lbytes());
  if (key.length > MAX_PARTITION_KEY_BYTES) throw new CorruptDataError('partition key too long');
  const flags = r.u8();
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new CorruptDataError(`unknown read flags ${flags}`);
  const start = (flags & FLAG_START) !== 0 ? readBound(r) : null;
  const end = (flags & FLAG_END) !== 0 ? readBound(r) : null;
  let limit: number | undefined;
  if ((flags & FLAG_LIMIT) !== 0) {
    limit = r.uvarint();
    if (limit > MAX_READ_LIMIT) throw new CorruptDataError(`read limit ${limit} too large`);
  }
  checkEnd(r);
  const slice: SliceQuery = { start, end, reversed: (flags & FLAG_REVERSED) !== 0, ...(limit !== undefined ? { limit } : {}) };
  return { tableId, token, key, slice };
}

function encodedHeaderOf(rt: RangeTombstone): Buffer {
  const w = new ByteWriter(64);
  writeHeader(w, { rangeTombstones: [rt] });
  return w.toBuffer();
}

/** `partition` with its range tombstones in a history-independent order (by their encoding). */
export function canonicalPartition(partition: Partition): Partition {
  if (partition.rangeTombstones.length < 2) return partition;
  const keyed = partition.rangeTombstones.map((rt) => ({ rt, bytes: encodedHeaderOf(rt) }));
  keyed.sort((a, b) => Buffer.compare(a.bytes, b.bytes));
  return { ...partition, rangeTombstones: keyed.map((k) => k.rt) };
}

const EMPTY = Buffer.alloc(0);

/** The data response in the scratch writer (a view, valid until the next encode). */
function dataResponseView(partition: Partition | null): Buffer {
  if (partition === null) return EMPTY;
  const w = scratchWriter();
  w.u8(REPLICA_MESSAGE_VERSION);
  writeUpdate(w, canonicalPartition(partition));
  return w.view();
}

/** The data response for a partition read: empty for none, else the canonical encoding. */
export function encodeDataResponse(partition: Partition | null): Buffer {
  return partition === null ? Buffer.alloc(0) : Buffer.from(dataResponseView(partition));
}

export function decodeDataResponse(bytes: Uint8Array): Partition | null {
  if (bytes.length === 0) return null;
  const r = new ByteReader(asBuffer(bytes));
  checkVersion(r);
  const partition = readUpdate(r);
  checkEnd(r);
  return partition;
}

/** The digest of a data response's bytes: equal answers, equal digests. */
export function digestOfResponse(dataResponse: Uint8Array): Buffer {
  return hash('sha256', dataResponse, 'buffer').subarray(0, DIGEST_BYTES);
}

/** The digest of `partition`'s data response, encoded in scratch space and never copied. */
export function partitionDigest(partition: Partition | null): Buffer {
  return digestOfResponse(dataResponseView(partition));
}

export function encodeDigestResponse(digest: Buffer): Buffer {
  const out = Buffer.allocUnsafe(1 + DIGEST_BYTES);
  out[0] = REPLICA_MESSAGE_VERSION;
  digest.copy(out, 1, 0, DIGEST_BYTES);
  return out;
}

export function decodeDigestResponse(bytes: Uint8Array): Buffer {
  const r = new ByteReader(asBuffer(bytes));
  checkVersion(r);
  const digest = Buffer.from(r.bytes(DIGEST_BYTES));
  checkEnd(r);
  return digest;
}

function storeOf(storage: ReplicaStorage, tableId: string): TableStore {
  const store = storage.table(tableId);
  if (store === undefined) throw new UnknownTableError(tableId);
  return store;
}

/**
 * Applies a mutation to the local replica; resolves once it is durable (commit-log sync mode).
 * `logRecord`, when given, is the mutation's commit-log record as received (see the header).
 */
export function applyMutation(storage: ReplicaStorage, message: MutationMessage, logRecord?: Buffer): Promise<void> {
  try {
    return storeOf(storage, message.tableId).apply(message.update, logRecord);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Reads a partition from the local replica. */
export function readLocal(storage: ReplicaStorage, command: ReadCommand): Partition | null {
  return storeOf(storage, command.tableId).readPartition(command.token, command.key, command.slice);
}

const NO_BYTES = new Uint8Array(0);
const answerEmpty = (): Uint8Array => NO_BYTES;

/**
 * Serves the data-path verbs from `storage` on `messaging`. Errors are logged at debug (a
 * dropped table during a schema change is routine) and answered as error responses. Handlers
 * that can answer at once do so synchronously: the inbound connection then writes the response
 * without a promise in between.
 */
export function registerReplicaVerbs(
  messaging: Pick<MessagingService, 'registerHandler'>,
  storage: ReplicaStorage,
  logger: Logger,
  /** Told the newest timestamp of every mutation received (the Hybrid Clock moves past it). */
  observeTimestamp: (micros: number) => void = () => undefined,
): void {
  const log = logger.child({ component: 'replica-verbs' });
  const guarded = <T>(verb: string, serve: (payload: Uint8Array) => Promise<T> | T) => {
    const failed = (err: unknown): never => {
      log.debug({ err, verb }, 'replica request failed');
      throw err;
    };
    return (_from: unknown, payload: Uint8Array): Promise<T> | T => {
      let result: Promise<T> | T;
      try {
        result = serve(payload);
      } catch (err) {
        return failed(err);
      }
      return result instanceof Promise ? result.catch(failed) : result;
    };
  };
  const mutation = (payload: Uint8Array): Promise<Uint8Array> => {
    const message = decodeMutation(payload);
    const newest = newestTimestamp(message.update);
    if (newest > 0) observeTimestamp(newest);
    return applyMutation(storage, message, logRecordOfMutation(asBuffer(payload))).then(answerEmpty);
  };
  messaging.registerHandler(Verb.MUTATION, guarded('MUTATION', mutation));
  messaging.registerHandler(Verb.READ_REPAIR, guarded('READ_REPAIR', mutation));
  messaging.registerHandler(
    Verb.READ_DATA,
    guarded('READ_DATA', (payload) => encodeDataResponse(readLocal(storage, decodeReadCommand(payload)))),
  );
  messaging.registerHandler(
    Verb.RANGE_READ,
    guarded('RANGE_READ', (payload) => {
      const { tableId, query } = decodeRangeCommand(payload);
      return encodeRangePage(storeOf(storage, tableId).scanRange(query));
    }),
  );
  messaging.registerHandler(
    Verb.TRUNCATE,
    guarded('TRUNCATE', async (payload) => {
      const tableId = Buffer.from(payload).toString('utf8');
      const table = storage.table(tableId);
      if (table === undefined) throw new UnknownTableError(tableId);
      await table.truncate();
      return new Uint8Array(0);
    }),
  );
  messaging.registerHandler(
    Verb.READ_DIGEST,
    guarded('READ_DIGEST', (payload) => encodeDigestResponse(partitionDigest(readLocal(storage, decodeReadCommand(payload))))),
  );
}

/** The newest write or deletion timestamp in an update (µs), 0 when it has none. */
export function newestTimestamp(update: PartitionUpdate): number {
  const range: TimestampRange = { min: Number.POSITIVE_INFINITY, max: 0 };
  headerTimestamps(update, range);
  for (const row of update.rows) rowTimestamps(row, range);
  return range.max;
}
