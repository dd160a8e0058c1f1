/**
 * Fuzzing a running node over HTTP (issue #3 §3): at least 2,000 random and mutated requests —
 * mutated CQL statements, random token soup, random bytes, random JSON bodies, garbage
 * parameters and paging states — sent to `POST /v1/cql` of a real `ringtail server` process.
 *
 * Every answer must be a 200 result or a SPEC 3.2 error with the status of its code, and never
 * `ServerError` (that is a bug, and the failing request is printed); the process must stay up;
 * and afterwards a control table, written before the fuzzing, must hold exactly its rows.
 * The fuzzed statements never name the control keyspace (`fuzz_control`, longer than any
 * generated identifier) except in unmutated SELECTs, so nothing the fuzzer sends may change it.
 *
 * Seeded by fast-check: a failure prints the seed and path; FUZZ_SEED=<n> replays one run,
 * FUZZ_RUNS=<n> changes the number of requests, FUZZ_VERBOSE=1 prints the answers' tally.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeHttp, cqlOk, httpJson, killAllNodes, startNode, type HttpAnswer, type NodeProcess } from '../helpers/node-process.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 2500);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

const CONTROL_KS = 'fuzz_control';
const CONTROL_ROWS = 50;
const PLAY_KS = 'fuzzplay';

/** HTTP status of each SPEC 3.2 code. `Invalid` is also 413/415 for a body the API refuses. */
const STATUS_OF_CODE: Record<string, readonly number[]> = {
  SyntaxError: [400],
  Invalid: [400, 413, 415],
  ConfigurationError: [400],
  AlreadyExists: [409],
  Unauthorized: [403],
  BadCredentials: [401],
  Unavailable: [503],
  Overloaded: [503],
  WriteTimeout: [504],
  ReadTimeout: [504],
  WriteFailure: [500],
  ReadFailure: [500],
};

const RESULT_KINDS = ['rows', 'void', 'schema_change', 'set_keyspace'];

// ---- generators ------------------------------------------------------------------------------

/** Valid statements on the play keyspace: the seeds that mutations start from. */
const SEEDS: readonly string[] = [
  `SELECT * FROM ${PLAY_KS}.pg WHERE k = 1`,
  `SELECT k, c, v FROM ${PLAY_KS}.pg WHERE k = 1 AND c > 2 ORDER BY c DESC LIMIT 3`,
  `SELECT COUNT(*) FROM ${PLAY_KS}.pg`,
  `SELECT WRITETIME(v), TTL(v) FROM ${PLAY_KS}.pg WHERE k = 2 AND c = 3`,
  `SELECT token(k), k FROM ${PLAY_KS}.pg WHERE token(k) > -100 AND token(k) <= 9000000000000000000 LIMIT 5`,
  `SELECT * FROM ${PLAY_KS}.pg WHERE v = 'x' ALLOW FILTERING`,
  `SELECT * FROM ${PLAY_KS}.pg WHERE k IN (1, 2, 3) PER PARTITION LIMIT 1`,
  `SELECT k, c FROM ${PLAY_KS}.pg WHERE k = 1 AND (c) >= (2) AND c < 9`,
  `INSERT INTO ${PLAY_KS}.pg (k, c, v, l, s, m) VALUES (1, 2, 'hello', [1, 2], {'a', 'b'}, {'x': 1}) USING TTL 100`,
  `INSERT INTO ${PLAY_KS}.pg (k, c, v) VALUES (4, 5, 'w') USING TTL 60 AND TIMESTAMP 1700000000000000`,
  `INSERT INTO ${PLAY_KS}.pg JSON '{"k": 3, "c": 4, "v": "json", "l": [7], "m": {"q": 8}}'`,
  `UPDATE ${PLAY_KS}.pg USING TIMESTAMP 1700000000000001 SET v = 'u', l = l + [3], s = s - {'a'}, m['y'] = 2 WHERE k = 1 AND c = 2`,
  `UPDATE ${PLAY_KS}.pg SET l = [0] + l, f = 1.5e3, b = 0xcafe, t = '2024-01-01T00:00:00Z' WHERE k = 2 AND c = 3`,
  `UPDATE ${PLAY_KS}.pg SET v = 'x' WHERE k = 1 AND c = 1 IF v = 'y'`,
  `DELETE m['x'], v FROM ${PLAY_KS}.pg WHERE k = 1 AND c = 2`,
  `DELETE FROM ${PLAY_KS}.pg WHERE k = 1 AND c >= 0 AND c < 5`,
  `DELETE FROM ${PLAY_KS}.pg USING TIMESTAMP 1 WHERE k = 9`,
  `BEGIN BATCH INSERT INTO ${PLAY_KS}.pg (k, c) VALUES (5, 5); UPDATE ${PLAY_KS}.pg SET v = 'b' WHERE k = 5 AND c = 6; APPLY BATCH`,
  `BEGIN UNLOGGED BATCH DELETE FROM ${PLAY_KS}.pg WHERE k = 5 AND c = 5 APPLY BATCH`,
  `INSERT INTO ${PLAY_KS}.pg (k, c, v, u, d, t) VALUES (6, 7, 'f', uuid(), toDate(now()), toTimestamp(now()))`,
  `SELECT * FROM ${PLAY_KS}.pg WHERE k = 6 AND c = 7 AND u = minTimeuuid('2024-01-01') ALLOW FILTERING`,
  `CREATE TABLE IF NOT EXISTS ${PLAY_KS}.t2 (a int, b text, c map<text, int>, PRIMARY KEY ((a, b))) WITH default_time_to_live = 10 AND gc_grace_seconds = 0`,
  `CREATE TABLE IF NOT EXISTS ${PLAY_KS}.t3 (a bigint PRIMARY KEY, b varint, c decimal, d inet, e time, f smallint, g tinyint) WITH compaction = {'class': 'SizeTieredCompactionStrategy', 'min_threshold': 2}`,
  `ALTER TABLE ${PLAY_KS}.t2 ADD extra int`,
  `ALTER TABLE ${PLAY_KS}.t2 WITH read_repair = 'NONE' AND speculative_retry = '99p'`,
  `CREATE KEYSPACE IF NOT EXISTS fuzzks WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 1}`,
  `ALTER KEYSPACE fuzzks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 2}`,
  `DROP TABLE IF EXISTS ${PLAY_KS}.nope`,
  `TRUNCATE ${PLAY_KS}.t3`,
  `USE ${PLAY_KS}`,
  `INSERT INTO ${PLAY_KS}.pg (k, c, v) VALUES (?, ?, ?)`,
  `SELECT * FROM ${PLAY_KS}.pg WHERE k = :k AND c = :c`,
];

/** CQL words and symbols for token soup and token replacement (never the control keyspace). */
const VOCABULARY = [
  'SELECT', 'INSERT', 'UPDATE', 'DELETE', 'FROM', 'INTO', 'VALUES', 'SET', 'WHERE', 'AND', 'OR', 'IN', 'IF', 'EXISTS', 'NOT',
  'USING', 'TTL', 'TIMESTAMP', 'WRITETIME', 'token', 'COUNT', 'LIMIT', 'PER', 'PARTITION', 'ORDER', 'BY', 'ASC', 'DESC',
  'ALLOW', 'FILTERING', 'BEGIN', 'UNLOGGED', 'BATCH', 'APPLY', 'CREATE', 'ALTER', 'DROP', 'TRUNCATE', 'TABLE', 'KEYSPACE',
  'WITH', 'PRIMARY', 'KEY', 'CLUSTERING', 'JSON', 'USE', 'ADD', 'list', 'set', 'map', 'frozen', 'int', 'text', 'blob',
  'timeuuid', 'counter', 'now()', 'uuid()', 'null', 'NaN', '-Infinity', 'true', '*', ',', ';', '.', '(', ')', '[', ']', '{', '}',
  '<', '>', '=', '<=', '>=', '!=', '+', '-', '?', ':k', "'", '"', '0x', '--', '/*', '*/', '$$', '1e400', '-9223372036854775809',
  '9223372036854775807', "'2024-13-45'", "'\u0000'", "'é😀'", PLAY_KS, 'pg', 'k', 'c', 'v', 'l', 's', 'm',
];

/** Identifiers of at most 8 characters: they can never spell `fuzz_control`. */
const identifier = fc.stringMatching(/^[a-z][a-z0-9_]{0,7}$/);
const literal = fc.oneof(
  fc.integer().map(String),
  fc.double({ noNaN: false }).map(String),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
  fc.string({ maxLength: 12 }).map((s) => `'${s.replaceAll("'", "''")}'`),
  fc.uint8Array({ maxLength: 8 }).map((b) => `0x${Buffer.from(b).toString('hex')}`),
  fc.uuid(),
);
const token = fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...VOCABULARY) }, { weight: 2, arbitrary: identifier }, { weight: 2, arbitrary: literal });
const tokenSoup = fc.array(token, { minLength: 1, maxLength: 16 }).map((ts) => ts.join(' '));

interface Span {
  readonly start: number;
  readonly end: number;
}

/** Token spans of a statement (words, numbers, quoted strings, operators): a rough CQL lexer. */
function tokenSpans(s: string): Span[] {
  const spans: Span[] = [];
  for (const m of s.matchAll(/'(?:[^']|'')*'|[A-Za-z_][A-Za-z0-9_]*|-?\d+(?:\.\d+)?|<=|>=|!=|\S/g)) spans.push({ start: m.index, end: m.index + m[0].length });
  return spans;
}

/**
 * A mutation that picks `count` token spans and rewrites the statement around them, keeping
 * the rest of the text as it was (so one mutation changes one thing).
 */
function tokenMutation(count: 1 | 2, rewrite: (s: string, spans: Span[], picked: number[]) => fc.Arbitrary<string>): Mutation {
  return (s) => {
    const spans = tokenSpans(s);
    if (spans.length === 0) return fc.constant(s);
    return fc.array(fc.nat(spans.length - 1), { minLength: count, maxLength: count }).chain((picked) => rewrite(s, spans, picked));
  };
}

const splice = (s: string, span: Span, text: string) => s.slice(0, span.start) + text + s.slice(span.end);

type Mutation = (s: string) => fc.Arbitrary<string>;
const MUTATIONS: Mutation[] = [
  // delete a span of characters
  (s) => fc.tuple(fc.nat(s.length), fc.integer({ min: 1, max: 12 })).map(([at, n]) => s.slice(0, at) + s.slice(at + n)),
  // insert characters
  (s) => fc.tuple(fc.nat(s.length), fc.string({ unit: 'binary', minLength: 1, maxLength: 4 })).map(([at, ins]) => s.slice(0, at) + ins + s.slice(at)),
  // truncate
  (s) => fc.nat(s.length).map((at) => s.slice(0, at)),
  // replace a token with a vocabulary word, identifier or literal
  tokenMutation(1, (s, spans, [i]) => token.map((t) => splice(s, spans[i!]!, t))),
  // drop a token
  tokenMutation(1, (s, spans, [i]) => fc.constant(splice(s, spans[i!]!, ''))),
  // duplicate a token
  tokenMutation(1, (s, spans, [i]) => {
    const span = spans[i!]!;
    return fc.constant(splice(s, span, `${s.slice(span.start, span.end)} ${s.slice(span.start, span.end)}`));
  }),
  // swap two tokens
  tokenMutation(2, (s, spans, [i, j]) => {
    const [a, b] = [spans[Math.min(i!, j!)]!, spans[Math.max(i!, j!)]!];
    if (a === b) return fc.constant(s);
    return fc.constant(s.slice(0, a.start) + s.slice(b.start, b.end) + s.slice(a.end, b.start) + s.slice(a.start, a.end) + s.slice(b.end));
  }),
  // change a number
  (s) => fc.integer({ min: -(2 ** 31), max: 2 ** 31 }).map((n) => s.replace(/\d+/, String(n))),
];

const mutateOnce = (s: string) => fc.integer({ min: 0, max: MUTATIONS.length - 1 }).chain((m) => MUTATIONS[m]!(s));
const mutated = fc
  .constantFrom(...SEEDS)
  .chain((seed) => mutateOnce(seed))
  .chain((s) => fc.oneof(fc.constant(s), mutateOnce(s), mutateOnce(s).chain(mutateOnce)));

// Fields are mostly well-formed (so most requests reach the CQL layer), sometimes not.
const consistency = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('ANY', 'ONE', 'TWO', 'THREE', 'QUORUM', 'ALL', 'LOCAL_ONE', 'LOCAL_QUORUM', 'EACH_QUORUM', 'SERIAL', 'LOCAL_SERIAL', null) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);
const pageSize = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 50 }) }, { weight: 1, arbitrary: fc.integer({ min: -5, max: 200_000 }) });
const timestamp = fc.oneof(
  { weight: 8, arbitrary: fc.oneof(fc.constant(null), fc.integer(), fc.maxSafeInteger()) },
  { weight: 1, arbitrary: fc.double() },
);
/** Values for statements with bind markers: mostly fitting, sometimes anything. */
const markerValues = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.integer(), fc.integer(), fc.string({ maxLength: 20 })) },
  { weight: 2, arbitrary: fc.record({ k: fc.integer(), c: fc.integer() }) },
  { weight: 2, arbitrary: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 6 }) },
  { weight: 1, arbitrary: fc.dictionary(identifier, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }) },
);
/** Statements without markers mostly come without values (which would make them invalid). */
const paramsFor = (query: string) =>
  /[?:]/.test(query)
    ? fc.oneof({ weight: 6, arbitrary: markerValues }, { weight: 1, arbitrary: fc.constant(undefined) })
    : fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: markerValues });
const pagingState = fc.oneof(
  { weight: 8, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.oneof(fc.base64String({ maxLength: 40 }), fc.string({ maxLength: 20 })) },
);
const requestKeyspace = fc.oneof(
  { weight: 4, arbitrary: fc.constant(PLAY_KS) },
  { weight: 4, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: identifier },
);

/** A request body: mostly well-formed JSON with a fuzzed statement, sometimes junk. */
const body: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc
      .oneof({ weight: 6, arbitrary: mutated }, { weight: 2, arbitrary: tokenSoup }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) }, { weight: 2, arbitrary: fc.constantFrom(...SEEDS) })
      .chain((query) =>
        fc.record(
          {
            query: fc.constant(query),
            params: paramsFor(query),
            keyspace: requestKeyspace,
            consistency,
            page_size: pageSize,
            paging_state: pagingState,
            timestamp,
            trace: fc.boolean(),
          },
          { requiredKeys: ['query'] },
        ),
      )
      .map((r) => JSON.stringify(r)),
  },
  // SELECTs on the control table with garbage paging state, page size and parameters:
  // the one place the control keyspace appears, never mutated.
  {
    weight: 2,
    arbitrary: fc
      .record({
        query: fc.constantFrom(`SELECT * FROM ${CONTROL_KS}.kept_rows`, `SELECT * FROM ${CONTROL_KS}.kept_rows WHERE id = ?`, `SELECT v FROM ${CONTROL_KS}.kept_rows WHERE id IN ?`),
        params: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
        page_size: fc.integer({ min: 1, max: 100 }),
        paging_state: fc.oneof(fc.base64String({ maxLength: 64 }), fc.string({ maxLength: 30 }), fc.constant(null)),
      })
      .map((r) => JSON.stringify(r)),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 120 }) },
  { weight: 1, arbitrary: fc.constantFrom('', '{', '{"query":', '{"query": "SELECT 1", "query": 2}', '{"query": "x", "__proto__": {"a": 1}}', '[]', 'null', '{"query": "SELECT 1"}}') },
);

// ---- the test --------------------------------------------------------------------------------

let dir: string;
let node: NodeProcess;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringtail-e2e-fuzz-'));
  node = await startNode({ dir });
  const url = node.url;
  await cqlOk(url, `CREATE KEYSPACE ${CONTROL_KS} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`);
  await cqlOk(url, `CREATE TABLE ${CONTROL_KS}.kept_rows (id int PRIMARY KEY, v text, n bigint)`);
  for (let id = 0; id < CONTROL_ROWS; id++) await cqlOk(url, `INSERT INTO ${CONTROL_KS}.kept_rows (id, v, n) VALUES (?, ?, ?)`, { params: [id, `row ${id}`, String(id * 1000)] });
  await cqlOk(url, `CREATE KEYSPACE ${PLAY_KS} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`);
  await cqlOk(url, `CREATE TABLE ${PLAY_KS}.pg (k int, c int, v text, l list<int>, s set<text>, m map<text, int>, f double, b blob, t timestamp, u timeuuid, d date, PRIMARY KEY (k, c))`);
});

afterAll(async () => {
  await killAllNodes();
  await closeHttp();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Why an answer breaks the contract, or null when it is fine. */
function problem(answer: HttpAnswer): string | null {
  const b = answer.body as { kind?: unknown; error?: Record<string, unknown> } | undefined;
  if (answer.status === 200) {
    if (b === undefined || typeof b !== 'object' || b === null || !RESULT_KINDS.includes(b.kind as string)) return 'a 200 that is not a CQL result';
    if (b.kind === 'rows' && !Array.isArray((b as { rows?: unknown }).rows)) return 'a rows result without rows';
    return null;
  }
  const e = b?.error;
  if (e === undefined || typeof e !== 'object' || e === null) return `status ${answer.status} without a SPEC 3.2 error body`;
  if (typeof e.code !== 'string' || typeof e.message !== 'string') return 'an error without a code and message';
  if (e.code === 'ServerError') return 'ServerError (a bug: see the node log)';
  const statuses = STATUS_OF_CODE[e.code];
  if (statuses === undefined) return `unknown error code ${e.code}`;
  if (!statuses.includes(answer.status)) return `${e.code} with status ${answer.status}`;
  if (e.code === 'SyntaxError' && !(Number.isInteger(e.line) && Number.isInteger(e.column))) return 'a SyntaxError without line and column';
  return null;
}

describe('fuzzing a node over HTTP', () => {
  it(`answers ${RUNS} random and mutated requests within the contract and keeps its data`, async () => {
    let sent = 0;
    const tally = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        const answer = await httpJson('POST', `${node.url}/v1/cql`, text);
        sent++;
        const key = answer.status === 200 ? '200' : `${answer.status} ${(answer.body as { error?: { code?: string } })?.error?.code}`;
        tally.set(key, (tally.get(key) ?? 0) + 1);
        const why = problem(answer);
        if (why !== null) throw new Error(`${why}\nrequest: ${text}\nanswer: ${answer.status} ${answer.text.slice(0, 500)}`);
        if (node.hasExited) throw new Error(`the node exited\n${node.tail()}`);
      }),
      { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}), endOnFailure: true },
    );
    expect(sent).toBeGreaterThanOrEqual(RUNS);
    if (process.env.FUZZ_VERBOSE) console.log(`answers to ${sent} requests:`, Object.fromEntries([...tally].sort((a, b) => b[1] - a[1])));
    // Many requests must reach the parser and some must run: a fuzzer that only exercises
    // body validation proves little.
    expect(tally.get('400 SyntaxError') ?? 0, JSON.stringify([...tally])).toBeGreaterThan(sent / 10);
    expect(tally.get('200') ?? 0, JSON.stringify([...tally])).toBeGreaterThan(sent / 50);

    expect(node.hasExited).toBe(false);
    expect((await httpJson('GET', `${node.url}/health`)).status).toBe(200);
    const control = await cqlOk(node.url, `SELECT id, v, n FROM ${CONTROL_KS}.kept_rows`, { page_size: 1000 });
    const rows = (control.rows as { id: number; v: string; n: string }[]).sort((a, b) => a.id - b.id);
    expect(rows).toEqual(Array.from({ length: CONTROL_ROWS }, (_, id) => ({ id, v: `row ${id}`, n: String(id * 1000) })));
    expect(node.logs().filter((l) => (l.level as number) >= 60)).toEqual([]);
  }, 300_000);
});
