/**
 * Shared set-up for the CQL behaviour tests: one in-process database per test (its own temp
 * directory, a manual clock), a keyspace `ks` ready, and helpers that keep the tests short.
 *
 * Every statement run through `exec` first moves the clock on by one microsecond, so two
 * writes never share a timestamp by accident (ties are tested on purpose, with USING
 * TIMESTAMP) and TTL arithmetic, which counts whole seconds, is not disturbed.
 *
 * `expectError` checks the error code and the exact message, and that every table of the
 * database holds exactly what it held before: bad input never changes stored data.
 */
import { afterEach, beforeEach, expect } from 'vitest';
import type { CqlRequest, CqlResult, RowsResult } from '../../src/cql/request.js';
import { RequestError } from '../../src/errors.js';
import { openTestDatabase, type TestDatabase } from '../helpers/cql-node.js';
import { useTmpDir } from '../helpers/tmpdir.js';

export const KEYSPACE_DDL = "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}";

export type Params = CqlRequest['params'];
export type Row = Record<string, unknown>;

export interface CqlKit {
  readonly db: TestDatabase;
  readonly dir: string;
  exec(query: string, params?: Params, options?: Partial<CqlRequest>): Promise<CqlResult>;
  rows(query: string, params?: Params, options?: Partial<CqlRequest>): Promise<readonly Row[]>;
  /** The full result of a SELECT. */
  select(query: string, params?: Params, options?: Partial<CqlRequest>): Promise<RowsResult>;
  /** Runs the statement, expects `code` and `message`, and checks no table changed. */
  expectError(query: string, code: string, message: string | RegExp, params?: Params, options?: Partial<CqlRequest>): Promise<RequestError>;
  /** Every row of every user table, by `keyspace.table`. */
  snapshot(): Promise<Record<string, readonly Row[]>>;
  /** Closes and opens the database again on the same directory. */
  reopen(): Promise<void>;
  /** Flushes a table's memtable to an SSTable. */
  flush(table: string, keyspace?: string): Promise<void>;
}

export interface KitOptions {
  /** Create keyspace `ks` before each test (default true). */
  readonly keyspace?: boolean;
  readonly overrides?: string[];
}

/** Call once per file (or describe): a fresh database for every test. */
export function useCql(options: KitOptions = {}): () => CqlKit {
  const tmp = useTmpDir('ringtail-cql-');
  let kit: CqlKit | null = null;
  let db: TestDatabase | null = null;

  beforeEach(async () => {
    const dir = tmp();
    db = await openTestDatabase(dir, options.overrides ?? []);
    const exec = async (query: string, params?: Params, opts: Partial<CqlRequest> = {}): Promise<CqlResult> => {
      db!.clock.advanceMs(0.001);
      return db!.cql(query, params, opts);
    };
    const select = async (query: string, params?: Params, opts?: Partial<CqlRequest>): Promise<RowsResult> => {
      const r = await exec(query, params, opts);
      if (r.kind !== 'rows') throw new Error(`expected rows from ${query}, got ${r.kind}`);
      return r;
    };
    const snapshot = async (): Promise<Record<string, readonly Row[]>> => {
      const out: Record<string, readonly Row[]> = {};
      for (const t of db!.schema.current.tables()) {
        const r = await db!.cql(`SELECT * FROM "${t.keyspace}"."${t.name}"`, null, { pageSize: 1_000_000 });
        if (r.kind === 'rows') out[`${t.keyspace}.${t.name}`] = r.rows;
      }
      return out;
    };
    kit = {
      get db() {
        return db!;
      },
      dir,
      exec,
      select,
      rows: async (query, params, opts) => (await select(query, params, opts)).rows,
      snapshot,
      async expectError(query, code, message, params, opts) {
        const before = await snapshot();
        let error: unknown = null;
        try {
          await exec(query, params, opts);
        } catch (e) {
          error = e;
        }
        expect(error, `expected ${code} from: ${query}`).toBeInstanceOf(RequestError);
        const e = error as RequestError;
        expect({ code: e.code, message: e.message }).toEqual({ code, message: typeof message === 'string' ? message : expect.stringMatching(message) });
        expect(await snapshot()).toEqual(before);
        return e;
      },
      async reopen() {
        const clock = db!.clock;
        await db!.close();
        db = await openTestDatabase(dir, options.overrides ?? [], clock);
      },
      async flush(table, keyspace = 'ks') {
        const t = db!.schema.current.table(keyspace, table);
        if (t === undefined) throw new Error(`no table ${keyspace}.${table}`);
        await db!.engine.table(t.id)!.flush();
      },
    };
    if (options.keyspace !== false) await exec(KEYSPACE_DDL);
  });

  afterEach(async () => {
    await db?.close();
    db = null;
    kit = null;
  });

  return () => {
    if (kit === null) throw new Error('useCql: no test is running');
    return kit;
  };
}

/** Runs statements in order (no results). */
export async function execAll(kit: CqlKit, statements: readonly string[]): Promise<void> {
  for (const s of statements) await kit.exec(s);
}
