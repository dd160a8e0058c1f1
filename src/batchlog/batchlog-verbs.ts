/**
 * The batch-log endpoint side of a logged batch: the BATCH_STORE and BATCH_REMOVE verbs a
 * coordinator sends to the (up to two) nodes it chose to keep its batch, and their formats.
 *
 * Cassandra: `BatchStoreVerbHandler`, `BatchRemoveVerbHandler`. Pattern: the remote half of the
 * batch log's Write-Ahead Log (batchlog-store.ts); the endpoint only keeps or forgets an entry,
 * it never applies a batch on request (its replayer does that, if the entry is left over).
 *
 * Message formats (version 1; binary like the replica verbs, not protobuf):
 *
 *   store request   := batch (batchlog-store.ts: version, 16-byte id, writtenAtMs, mutations)
 *   remove request  := version:u8(=1) id:16 bytes
 *   either response := empty (the ack: stored durably / removed or already gone)
 *
 * A refused store (batch log full: `BatchlogFullError`; corrupt payload: `CorruptDataError`)
 * throws, so the coordinator receives an error response and counts a failure, never silence.
 * Removing an unknown id is not an error: removals are retried blindly and may cross a replay.
 *
 * Bounds: decoding reads only within the received frame (itself at most
 * `internode_max_message_bytes`); a batch has at most MAX_BATCH_MUTATIONS mutations, each
 * checked by the replica-verbs mutation decoder; anything else or trailing bytes throws.
 */
import type { MessagingService } from '../messaging/messaging-service.js';
import { Verb } from '../messaging/verbs.js';
import { ByteReader, CorruptDataError } from '../util/bytes.js';
import type { Logger } from '../util/logger.js';
import { BATCH_FORMAT_VERSION, BATCH_ID_BYTES, decodeBatch, type BatchlogStore } from './batchlog-store.js';

const EMPTY = new Uint8Array(0);

export function encodeBatchRemove(id: Buffer): Buffer {
  if (id.length !== BATCH_ID_BYTES) throw new RangeError(`batch id must be ${BATCH_ID_BYTES} bytes`);
  return Buffer.concat([Buffer.from([BATCH_FORMAT_VERSION]), id]);
}

export function decodeBatchRemove(bytes: Uint8Array): Buffer {
  const r = new ByteReader(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const version = r.u8();
  if (version !== BATCH_FORMAT_VERSION) throw new CorruptDataError(`unknown batch remove version ${version}`);
  const id = Buffer.from(r.bytes(BATCH_ID_BYTES));
  if (r.remaining !== 0) throw new CorruptDataError('trailing bytes after batch remove');
  return id;
}

/** Serves BATCH_STORE and BATCH_REMOVE from the local batch log. */
export function registerBatchlogVerbs(messaging: Pick<MessagingService, 'registerHandler'>, store: Pick<BatchlogStore, 'store' | 'remove'>, logger: Logger): void {
  const log = logger.child({ component: 'batchlog-verbs' });
  messaging.registerHandler(Verb.BATCH_STORE, async (_from, payload) => {
    try {
      await store.store(decodeBatch(payload));
      return EMPTY;
    } catch (err) {
      // A full log is an operational condition worth seeing; corrupt input is the peer's bug.
      log.warn({ err }, 'batch store refused');
      throw err;
    }
  });
  messaging.registerHandler(Verb.BATCH_REMOVE, async (_from, payload) => {
    try {
      await store.remove(decodeBatchRemove(payload));
      return EMPTY;
    } catch (err) {
      log.debug({ err }, 'batch remove failed');
      throw err;
    }
  });
}
