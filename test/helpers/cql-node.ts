/**
 * An in-process node without the network: storage, schema and the CQL processor on a test
 * directory, with a manual clock (TTLs and timestamps move only when the test says) and a
 * seeded random source. `cql()` runs one statement as `POST /v1/cql` would.
 */
import { loadConfig } from '../../src/config/load-config.js';
import type { CqlRequest, CqlResult, RowsResult } from '../../src/cql/request.js';
import { openLocalDatabase, type LocalDatabase } from '../../src/node.js';
import { ManualClock } from '../../src/runtime/manual-clock.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { silentLogger } from '../../src/util/logger.js';

export interface TestDatabase extends LocalDatabase {
  readonly clock: ManualClock;
  cql(query: string, params?: CqlRequest['params'], options?: Partial<CqlRequest>): Promise<CqlResult>;
  /** Runs a SELECT and returns its rows. */
  rows(query: string, params?: CqlRequest['params'], options?: Partial<CqlRequest>): Promise<RowsResult['rows']>;
  close(): Promise<void>;
}

export async function openTestDatabase(dataDir: string, overrides: string[] = [], clock = new ManualClock(), seed = 7): Promise<TestDatabase> {
  const settings = loadConfig({ overrides: [`data_dir=${dataDir}`, 'commitlog_sync=batch', ...overrides] });
  const db = await openLocalDatabase(settings, silentLogger, { clock, random: new SeededRandom(seed) });
  const cql = (query: string, params?: CqlRequest['params'], options: Partial<CqlRequest> = {}) => db.processor.execute({ query, params, keyspace: 'ks', ...options });
  return {
    ...db,
    clock,
    cql,
    async rows(query, params, options) {
      const r = await cql(query, params, options);
      if (r.kind !== 'rows') throw new Error(`expected rows, got ${r.kind}`);
      return r.rows;
    },
    close: () => db.engine.close({ flush: true }),
  };
}
