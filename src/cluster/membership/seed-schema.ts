/**
 * The first step of a bootstrap: fetch the cluster's schema from a seed before announcing
 * JOINING. Until the joining node knows every table, a write it receives as a pending replica
 * would fail as "unknown table"; Cassandra likewise waits for schema agreement before it
 * bootstraps. Later schema changes arrive through gossip as on every node.
 *
 * Bounds: each seed is asked with a `PULL_TIMEOUT_MS` request; the seeds are tried in turn,
 * every `RETRY_MS`, until `timeoutMs`: then the bootstrap fails, naming the seeds and the
 * last error, instead of joining without a schema.
 */
import { Verb } from '../../messaging/verbs.js';
import type { MessagingService } from '../../messaging/messaging-service.js';
import type { Clock, Scheduler } from '../../runtime/clock.js';
import type { Logger } from '../../util/logger.js';
import { parseEndpoint, type SchemaExchange } from '../cluster-service.js';
import { sleep } from './transfers.js';

const PULL_TIMEOUT_MS = 5000;
const RETRY_MS = 1000;

export interface SeedSchemaOptions {
  readonly messaging: Pick<MessagingService, 'request'>;
  readonly seeds: readonly string[];
  readonly schema: SchemaExchange;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly timeoutMs: number;
}

/** Merges the schema of the first seed that answers; resolves with the seed's endpoint. */
export async function fetchSchemaFromSeeds(o: SeedSchemaOptions): Promise<string> {
  if (o.seeds.length === 0) throw new Error('bootstrap needs a seed to learn the schema and the ring from: none is configured');
  const deadline = o.clock.nowMs() + o.timeoutMs;
  let lastError = 'no answer';
  for (let round = 0; ; round++) {
    for (const seed of o.seeds) {
      try {
        const bytes = await o.messaging.request(parseEndpoint(seed), Verb.SCHEMA_PULL, new Uint8Array(0), PULL_TIMEOUT_MS);
        const version = await o.schema.import(bytes);
        o.logger.info({ seed, version }, 'bootstrap: schema fetched from a seed');
        return seed;
      } catch (err) {
        lastError = `${seed}: ${(err as Error).message}`;
      }
    }
    if (o.clock.nowMs() >= deadline) {
      throw new Error(`bootstrap: no seed answered with the schema within ${o.timeoutMs / 1000} s (last: ${lastError}); is the cluster up? (auto_bootstrap=false starts a new cluster instead)`);
    }
    if (round === 0) o.logger.warn({ seeds: o.seeds, lastError }, 'bootstrap: no seed answered yet; retrying');
    await sleep(o.scheduler, RETRY_MS);
  }
}
