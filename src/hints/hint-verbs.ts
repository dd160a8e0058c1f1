/**
 * The target side of hinted handoff: the HINT verb, which applies a replayed mutation to the
 * local storage engine exactly as MUTATION does.
 *
 * Cassandra: `HintVerbHandler`. Pattern (Joshi, *Patterns of Distributed Systems*): the
 * receiving half of Hinted Handoff; like a replica of Majority Quorum it applies and answers,
 * deciding nothing.
 *
 * Message format: the HINT request is the MUTATION request byte for byte (replica-verbs.ts:
 * `version:u8(=1) tableId:string update`), as the coordinator stored it; the response is empty
 * (the ack: applied and durable per the commit-log sync mode).
 *
 * Why replay is idempotent: cells keep the timestamps of the original write, so applying a
 * hint a second time (a lost ack, a restarted coordinator re-reading a segment) reconciles to
 * the same cells, and a newer write to the same cells is never undone; row versions merge by
 * their join (the DVV `sync`), which is idempotent too.
 *
 * Errors: an unknown table (the target has not learnt it yet) or a corrupt payload throws, so
 * the coordinator gets an error response and retries later; the coordinator, not the target,
 * drops hints of tables that no longer exist. Bounds: decoding reads only within the received
 * frame, with the mutation decoder's own limits.
 */
import { applyMutation, decodeMutation, newestTimestamp, type ReplicaStorage } from '../coordinator/replica-verbs.js';
import type { MessagingService } from '../messaging/messaging-service.js';
import { Verb } from '../messaging/verbs.js';
import type { Logger } from '../util/logger.js';

const EMPTY = new Uint8Array(0);

/** Serves HINT from `storage` on `messaging`. */
export function registerHintVerbs(
  messaging: Pick<MessagingService, 'registerHandler'>,
  storage: ReplicaStorage,
  logger: Logger,
  /** Told the newest timestamp of every hint received (the Hybrid Clock moves past it). */
  observeTimestamp: (micros: number) => void = () => undefined,
): void {
  const log = logger.child({ component: 'hint-verbs' });
  messaging.registerHandler(Verb.HINT, async (from, payload) => {
    try {
      const message = decodeMutation(payload);
      const newest = newestTimestamp(message.update);
      if (newest > 0) observeTimestamp(newest);
      await applyMutation(storage, message);
      return EMPTY;
    } catch (err) {
      log.debug({ err, from: from.hostId }, 'hint not applied');
      throw err;
    }
  });
}
