/**
 * The HTTP edge through `fastify.inject()` with a fake CQL executor: request mapping, body
 * validation, SPEC 3.2 error bodies for every error class, load shedding, health, metrics and
 * the admin routes.
 */
import net from 'node:net';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Agent, request as httpRequest } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConsistencyLevel, CqlExecutor, CqlRequest, CqlResult, SchemaDescription } from '../../../src/cql/request.js';
import {
  AlreadyExists,
  BadCredentials,
  ConfigurationError,
  CqlSyntaxError,
  InvalidRequest,
  Overloaded,
  ReadFailure,
  ReadTimeout,
  ServerError,
  Unauthorized,
  Unavailable,
  WriteFailure,
  WriteTimeout,
  type RequestError,
} from '../../../src/errors.js';
import { buildHttpApp, type HttpAppOptions, type HttpDeps } from '../../../src/http/app.js';
import { statementKind } from '../../../src/http/http-metrics.js';
import { createMetricsRegistry } from '../../../src/metrics/registry.js';

// ---- a node made of fakes -----------------------------------------------------------------

interface LogLine {
  level: number;
  msg: string;
  err?: { message: string; stack: string };
}

class FakeCql implements CqlExecutor {
  readonly calls: CqlRequest[] = [];
  respond: (request: CqlRequest) => Promise<CqlResult> = async () => VOID;

  execute(request: CqlRequest): Promise<CqlResult> {
    this.calls.push(request);
    return this.respond(request);
  }
}

interface AdminCall {
  op: string;
  args: unknown[];
}

const VOID: CqlResult = { kind: 'void', warnings: [], trace: null };

const SCHEMA: SchemaDescription = {
  cluster_name: 'test',
  partitioner: 'org.apache.cassandra.dht.Murmur3Partitioner',
  version: '5b2c6d4e-0000-4000-8000-000000000000',
  keyspaces: [
    {
      name: 'ks',
      replication: { class: 'org.apache.cassandra.locator.SimpleStrategy', replication_factor: '1' },
      durable_writes: true,
      cql: "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '1'};",
      tables: [{ name: 't', id: 'a1b2', columns: [{ name: 'id', type: 'int', kind: 'partition_key' }], cql: 'CREATE TABLE ks.t (id int PRIMARY KEY);' }],
    },
  ],
};

interface Harness {
  app: FastifyInstance;
  cql: FakeCql;
  admin: AdminCall[];
  logs: LogLine[];
  state: { health: ReturnType<HttpDeps['health']> };
}

let open: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(open.map((app) => app.close()));
  open = [];
});

function harness(overrides: Partial<HttpDeps> = {}, options: HttpAppOptions = {}): Harness {
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') logs.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const cql = new FakeCql();
  const admin: AdminCall[] = [];
  const state: Harness['state'] = { health: 'serving' };
  const record = (op: string) => async (...args: unknown[]) => {
    admin.push({ op, args });
  };
  const app = buildHttpApp(
    {
      cql,
      describeSchema: () => SCHEMA,
      health: () => state.health,
      registry: createMetricsRegistry(),
      maxBodyBytes: 4096,
      defaultConsistency: 'ONE',
      admin: { flush: record('flush'), compact: record('compact'), drain: record('drain') },
      logger: pino({ level: 'info' }, sink),
      ...overrides,
    },
    options,
  );
  open.push(app);
  return { app, cql, admin, logs, state };
}

function postCql(app: FastifyInstance, body: unknown) {
  return app.inject({ method: 'POST', url: '/v1/cql', payload: body as object });
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

// ---- POST /v1/cql ---------------------------------------------------------------------------

describe('POST /v1/cql', () => {
  it('maps the snake_case body to a CqlRequest and fills in the default consistency', async () => {
    const { app, cql } = harness({ defaultConsistency: 'QUORUM' });
    const res = await postCql(app, {
      query: 'SELECT * FROM ks.t WHERE id = ?',
      params: [42],
      keyspace: 'ks',
      page_size: 500,
      paging_state: 'abc',
      timestamp: 1_700_000_000_000_000,
      context: 'ctx',
      trace: true,
    });
    expect(res.statusCode).toBe(200);
    expect(cql.calls).toEqual([
      {
        query: 'SELECT * FROM ks.t WHERE id = ?',
        params: [42],
        keyspace: 'ks',
        consistency: 'QUORUM',
        pageSize: 500,
        pagingState: 'abc',
        timestamp: 1_700_000_000_000_000,
        context: 'ctx',
        trace: true,
      },
    ]);
  });

  it('passes a named consistency and object params, and nulls for absent fields', async () => {
    const { app, cql } = harness();
    await postCql(app, { query: 'SELECT * FROM t WHERE id = :id', params: { id: 1 }, consistency: 'LOCAL_QUORUM' });
    expect(cql.calls[0]).toEqual({
      query: 'SELECT * FROM t WHERE id = :id',
      params: { id: 1 },
      keyspace: null,
      consistency: 'LOCAL_QUORUM',
      pageSize: null,
      pagingState: null,
      timestamp: null,
      context: null,
      trace: false,
    });
  });

  it('returns the result as JSON with each row in column order', async () => {
    const { app, cql } = harness();
    const result: CqlResult = {
      kind: 'rows',
      columns: [{ name: 'zeta', type: 'text' }, { name: 'alpha', type: 'bigint' }, { name: 'm', type: 'map<text, int>' }],
      rows: [{ zeta: 'z', alpha: '9007199254740993', m: { b: 2, a: 1 } }, { zeta: null, alpha: null, m: null }],
      paging_state: 'next',
      context: null,
      conflicts: 0,
      warnings: [],
      trace: null,
    };
    cql.respond = async () => result;
    const res = await postCql(app, { query: 'SELECT zeta, alpha, m FROM ks.t' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.payload).toBe(JSON.stringify(result));
    expect(res.payload).toContain('{"zeta":"z","alpha":"9007199254740993","m":{"b":2,"a":1}}');
  });

  it.each([
    ['no query', {}, 400, 'Missing field "query" in request body'],
    ['an unknown field', { query: 'x', pageSize: 5 }, 400, 'Unknown field "pageSize" in request body'],
    ['page_size 0', { query: 'x', page_size: 0 }, 400, 'page_size must be >= 1'],
    ['page_size above the bound', { query: 'x', page_size: 100_001 }, 400, 'page_size must be <= 100000'],
    ['page_size as a string (no coercion)', { query: 'x', page_size: '10' }, 400, 'page_size must be an integer or null'],
    ['a fractional page_size', { query: 'x', page_size: 1.5 }, 400, 'page_size must be an integer or null'],
    ['a query that is not a string', { query: 42 }, 400, 'query must be a string'],
    ['an unknown consistency', { query: 'x', consistency: 'MOST' }, 400, 'consistency must be one of ANY, ONE, TWO, THREE, QUORUM'],
    ['lower-case consistency', { query: 'x', consistency: 'one' }, 400, 'consistency must be one of'],
    ['params as a string', { query: 'x', params: '1' }, 400, 'params must be an array or a JSON object or null'],
    ['a fractional timestamp', { query: 'x', timestamp: 1.5 }, 400, 'timestamp must be an integer or null'],
    ['trace as a string', { query: 'x', trace: 'yes' }, 400, 'trace must be a boolean'],
    ['a body that is an array', [{ query: 'x' }], 400, 'request body must be a JSON object'],
  ])('rejects %s with 400 Invalid naming the problem', async (_name, body, status, message) => {
    const { app, cql } = harness();
    const res = await postCql(app, body);
    expect(res.statusCode).toBe(status);
    const error = res.json().error;
    expect(error.code).toBe('Invalid');
    expect(error.message).toContain(message);
    expect(Object.keys(error)).toEqual(['code', 'message']);
    expect(cql.calls).toEqual([]);
  });

  it('rejects malformed and empty JSON with 400 Invalid', async () => {
    const { app, cql } = harness();
    for (const payload of ['{"query": "SELECT', '{"query": "x",}', 'nope', '']) {
      const res = await app.inject({ method: 'POST', url: '/v1/cql', headers: { 'content-type': 'application/json' }, payload });
      expect(res.statusCode, payload).toBe(400);
      expect(res.json().error.code).toBe('Invalid');
    }
    expect(cql.calls).toEqual([]);
  });

  it('rejects prototype-poisoning keys', async () => {
    const { app } = harness();
    const payload = '{"query": "x", "__proto__": {"polluted": true}}';
    const res = await app.inject({ method: 'POST', url: '/v1/cql', headers: { 'content-type': 'application/json' }, payload });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('Invalid');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects a body that is not JSON with 415 Invalid', async () => {
    const { app } = harness();
    const res = await app.inject({ method: 'POST', url: '/v1/cql', headers: { 'content-type': 'text/plain' }, payload: 'SELECT 1' });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toEqual({ error: { code: 'Invalid', message: 'Request body must be JSON (Content-Type: application/json)' } });
  });

  it('answers 413 for a body over http_max_body_bytes, without executing it', async () => {
    const { app, cql } = harness({ maxBodyBytes: 1024 });
    const res = await postCql(app, { query: `SELECT * FROM t WHERE v = '${'x'.repeat(2000)}'` });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ error: { code: 'Invalid', message: 'Request body is larger than 1024 bytes' } });
    expect(cql.calls).toEqual([]);
    const small = await postCql(app, { query: 'SELECT * FROM t' });
    expect(small.statusCode).toBe(200);
  });

  const errorCases: [string, RequestError, number, Record<string, unknown>][] = [
    ['SyntaxError', new CqlSyntaxError("line 1:7 no viable alternative at input 'FORM'", 1, 7), 400, { line: 1, column: 7 }],
    ['Invalid', new InvalidRequest('Undefined column name nope'), 400, {}],
    ['ConfigurationError', new ConfigurationError('Unknown replication strategy Foo'), 400, {}],
    ['AlreadyExists', new AlreadyExists('ks', 't'), 409, { keyspace: 'ks', table: 't' }],
    ['Unauthorized', new Unauthorized('User ada has no SELECT permission on ks'), 403, {}],
    ['BadCredentials', new BadCredentials('Provided username and/or password are incorrect'), 401, {}],
    ['Unavailable', new Unavailable('QUORUM', 2, 1), 503, { consistency: 'QUORUM', required: 2, alive: 1 }],
    ['Overloaded', new Overloaded('Too many hints in flight'), 503, {}],
    ['WriteTimeout', new WriteTimeout({ consistency: 'QUORUM', received: 1, blockFor: 2, writeType: 'SIMPLE' }), 504,
      { consistency: 'QUORUM', received: 1, block_for: 2, write_type: 'SIMPLE' }],
    ['ReadTimeout', new ReadTimeout({ consistency: 'ALL', received: 2, blockFor: 3, dataPresent: true }), 504,
      { consistency: 'ALL', received: 2, block_for: 3, data_present: true }],
    ['WriteFailure', new WriteFailure({ consistency: 'ONE', received: 0, blockFor: 1, failures: 1 }), 500,
      { consistency: 'ONE', received: 0, block_for: 1, failures: 1 }],
    ['ReadFailure', new ReadFailure({ consistency: 'TWO', received: 1, blockFor: 2, failures: 1 }), 500,
      { consistency: 'TWO', received: 1, block_for: 2, failures: 1 }],
    ['ServerError', new ServerError('Internal server error'), 500, {}],
  ];

  it.each(errorCases)('maps %s to its status and SPEC 3.2 fields', async (code, error, status, fields) => {
    const { app, cql } = harness();
    cql.respond = async () => {
      throw error;
    };
    const res = await postCql(app, { query: 'SELECT * FROM ks.t' });
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual({ error: { code, message: error.message, ...fields } });
  });

  it('answers a bug with a generic ServerError and logs the cause with its stack', async () => {
    const { app, cql, logs } = harness();
    cql.respond = async () => {
      throw new TypeError('secret detail: cannot read properties of undefined (reading "cells")');
    };
    const res = await postCql(app, { query: 'SELECT * FROM ks.t' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: { code: 'ServerError', message: 'Internal server error' } });
    expect(res.payload).not.toContain('secret');
    expect(res.payload).not.toContain('at ');
    const logged = logs.find((l) => l.level === 50 && l.msg === 'internal error serving a request');
    expect(logged?.err?.message).toContain('secret detail');
    expect(logged?.err?.stack).toMatch(/TypeError: secret detail[\s\S]*\n\s+at /);
  });

  it('logs a ServerError thrown by the executor, with its cause', async () => {
    const { app, cql, logs } = harness();
    cql.respond = async () => {
      throw new ServerError('Internal server error', { cause: new Error('disk on fire') });
    };
    const res = await postCql(app, { query: 'SELECT 1' });
    expect(res.statusCode).toBe(500);
    expect(res.payload).not.toContain('disk on fire');
    expect(JSON.stringify(logs.filter((l) => l.level === 50))).toContain('disk on fire');
  });

  it('answers a result that cannot be serialised with ServerError', async () => {
    const { app, cql } = harness();
    cql.respond = async () => ({ kind: 'rows', columns: [], rows: [{ v: 1n }], paging_state: null, context: null, conflicts: 0, warnings: [], trace: null });
    const res = await postCql(app, { query: 'SELECT v FROM t' });
    expect(res.statusCode).toBe(500);
    expect(res.json().error.code).toBe('ServerError');
  });

  it('does not log requests at info level', async () => {
    const { app, logs } = harness();
    await postCql(app, { query: 'SELECT 1' });
    await app.inject({ method: 'GET', url: '/health' });
    expect(logs).toEqual([]);
  });
});

// ---- load shedding --------------------------------------------------------------------------

describe('load shedding', () => {
  it('sheds requests beyond max in flight with 503 Overloaded, and recovers', async () => {
    const { app, cql } = harness({}, { maxInflightRequests: 2 });
    const held = [deferred<CqlResult>(), deferred<CqlResult>()];
    cql.respond = () => held[cql.calls.length - 1]!.promise;
    const first = postCql(app, { query: 'SELECT 1' });
    const second = postCql(app, { query: 'SELECT 2' });
    await until(() => cql.calls.length === 2, 'two requests in the executor');

    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.payload).toMatch(/^ringtail_cql_requests_in_flight 2$/m);
    const health = await app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);

    const shed = await postCql(app, { query: 'SELECT 3' });
    expect(shed.statusCode).toBe(503);
    expect(shed.json().error.code).toBe('Overloaded');
    expect(shed.json().error.message).toContain('max_inflight_requests = 2');
    expect(cql.calls).toHaveLength(2);

    for (const h of held) h.resolve(VOID);
    expect((await first).statusCode).toBe(200);
    expect((await second).statusCode).toBe(200);
    cql.respond = async () => VOID;
    expect((await postCql(app, { query: 'SELECT 4' })).statusCode).toBe(200);
    const after = await app.inject({ method: 'GET', url: '/metrics' });
    expect(after.payload).toMatch(/^ringtail_cql_requests_in_flight 0$/m);
  });

  it('frees the slot of a request that failed', async () => {
    const { app, cql } = harness({}, { maxInflightRequests: 1 });
    cql.respond = async () => {
      throw new InvalidRequest('no');
    };
    for (let i = 0; i < 3; i++) expect((await postCql(app, { query: 'SELECT 1' })).statusCode).toBe(400);
    cql.respond = async () => VOID;
    expect((await postCql(app, { query: 'SELECT 1' })).statusCode).toBe(200);
  });

  it('drains on close: requests in flight finish, new ones are shed, keep-alive does not hold it open', async () => {
    const { app, cql } = harness();
    const held = deferred<CqlResult>();
    cql.respond = () => held.promise;
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as net.AddressInfo;
    const agent = new Agent({ keepAliveTimeout: 60_000, keepAliveMaxTimeout: 60_000 });
    try {
      const post = (query: string) =>
        httpRequest(`http://127.0.0.1:${port}/v1/cql`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
      const inFlight = post('SELECT 1');
      await until(() => cql.calls.length === 1, 'the request to reach the executor');
      const closed = app.close();
      const late = await app.inject({ method: 'POST', url: '/v1/cql', payload: { query: 'SELECT 2' } });
      expect(late.statusCode).toBe(503);
      expect(late.json()).toEqual({ error: { code: 'Overloaded', message: 'The node is shutting down' } });
      held.resolve(VOID);
      const answer = await inFlight;
      expect(answer.statusCode).toBe(200);
      expect(answer.headers.connection).toBe('close');
      expect(await answer.body.json()).toEqual(VOID);
      // Without "Connection: close" this would wait for the client's 60 s keep-alive.
      await closed;
      expect(cql.calls).toHaveLength(1);
    } finally {
      await agent.close();
    }
  });

  it('rejects a bound that is not a positive integer', () => {
    expect(() => harness({}, { maxInflightRequests: 0 })).toThrow(RangeError);
  });
});

// ---- other routes ---------------------------------------------------------------------------

describe('GET /health', () => {
  it.each([
    ['serving', 200],
    ['starting', 503],
    ['joining', 503],
    ['draining', 503],
  ] as const)('reports %s with %i', async (state, status) => {
    const h = harness();
    h.state.health = state;
    const res = await h.app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(status);
    expect(res.json()).toEqual({ status: state });
  });
});

describe('GET /v1/schema', () => {
  it('returns the schema description', async () => {
    const { app } = harness();
    const res = await app.inject({ method: 'GET', url: '/v1/schema' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(SCHEMA);
  });
});

describe('GET /v1/status and /v1/gossip', () => {
  it('serve the cluster views when the node has them, and 404 otherwise', async () => {
    const status = { cluster_name: 'test', local: 'h1', nodes: [] };
    const gossip = [{ endpoint: '127.0.0.1:7000', isSelf: true, phi: Infinity }];
    const { app } = harness({ cluster: { status: () => status, gossip: () => gossip } });
    const s = await app.inject({ method: 'GET', url: '/v1/status' });
    expect(s.statusCode).toBe(200);
    expect(s.json()).toEqual(status);
    expect((await app.inject({ method: 'GET', url: '/v1/gossip' })).json()).toEqual([{ endpoint: '127.0.0.1:7000', isSelf: true, phi: null }]);

    const { app: alone } = harness();
    expect((await alone.inject({ method: 'GET', url: '/v1/status' })).statusCode).toBe(404);
  });
});

describe('GET /metrics', () => {
  it('exposes latency histograms by kind and consistency, errors by code, and process metrics', async () => {
    const { app, cql } = harness();
    await postCql(app, { query: 'SELECT * FROM t' });
    await postCql(app, { query: '  insert INTO t (id) VALUES (1)', consistency: 'QUORUM' });
    cql.respond = async () => {
      throw new CqlSyntaxError('bad', 1, 1);
    };
    await postCql(app, { query: 'SELEKT' });
    await postCql(app, { query: 'x', page_size: 0 });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.payload;
    expect(text).toContain('# TYPE ringtail_cql_request_duration_seconds histogram');
    expect(text).toMatch(/^ringtail_cql_request_duration_seconds_count\{kind="select",consistency="ONE"\} 1$/m);
    expect(text).toMatch(/^ringtail_cql_request_duration_seconds_count\{kind="insert",consistency="QUORUM"\} 1$/m);
    expect(text).toMatch(/^ringtail_cql_request_duration_seconds_count\{kind="other",consistency="ONE"\} 1$/m);
    expect(text).toMatch(/^ringtail_cql_request_duration_seconds_bucket\{le="0.0001",kind="select",consistency="ONE"\} \d+$/m);
    expect(text).toMatch(/^ringtail_cql_errors_total\{code="SyntaxError"\} 1$/m);
    expect(text).toMatch(/^ringtail_cql_errors_total\{code="Invalid"\} 1$/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds \d/m);
  });
});

describe('statementKind', () => {
  it.each([
    ['SELECT * FROM t', 'select'],
    ['select*from t', 'select'],
    ['  \n\tInsert INTO t', 'insert'],
    ['-- a comment\nUPDATE t SET', 'update'],
    ['// another\r\ndelete FROM t', 'delete'],
    ['/* block */ /* two */DELETE', 'delete'],
    ['BEGIN UNLOGGED BATCH', 'batch'],
    ['CREATE TABLE t', 'ddl'],
    ['alter keyspace', 'ddl'],
    ['DROP TABLE t', 'ddl'],
    ['TRUNCATE t', 'ddl'],
    ['USE ks', 'use'],
    ['', 'other'],
    ['/* never closed', 'other'],
    ['selection', 'other'],
    ['SELEKT', 'other'],
    ['GRANT SELECT ON ks TO r', 'other'],
  ] as const)('%j is %s', (query, kind) => {
    expect(statementKind(query)).toBe(kind);
  });

  it('looks at no more than a keyword after the comments', () => {
    expect(statementKind('a'.repeat(1_000_000))).toBe('other');
    expect(statementKind(`${'-- x\n'.repeat(1000)}select`)).toBe('select');
  });
});

describe('admin routes', () => {
  it('flushes and compacts everything, a keyspace, or a table', async () => {
    const { app, admin } = harness();
    const post = (url: string, payload?: object) => app.inject({ method: 'POST', url, ...(payload ? { payload } : {}) });
    expect((await post('/v1/admin/flush')).json()).toEqual({ ok: true });
    expect((await post('/v1/admin/flush', {})).statusCode).toBe(200);
    expect((await post('/v1/admin/flush', { keyspace: 'ks' })).statusCode).toBe(200);
    expect((await post('/v1/admin/compact', { keyspace: 'ks', table: 'events' })).statusCode).toBe(200);
    expect((await post('/v1/admin/drain')).statusCode).toBe(200);
    expect(admin).toEqual([
      { op: 'flush', args: [undefined, undefined] },
      { op: 'flush', args: [undefined, undefined] },
      { op: 'flush', args: ['ks', undefined] },
      { op: 'compact', args: ['ks', 'events'] },
      { op: 'drain', args: [] },
    ]);
  });

  it('rejects bad admin bodies with 400 Invalid', async () => {
    const { app, admin } = harness();
    for (const payload of [{ table: 't' }, { keyspace: '1bad' }, { keyspace: 'ks', extra: 1 }, { keyspace: 5 }]) {
      const res = await app.inject({ method: 'POST', url: '/v1/admin/flush', payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.code).toBe('Invalid');
    }
    expect(admin).toEqual([]);
  });

  it('answers decommission and removenode with Invalid on a node without membership', async () => {
    const { app } = harness();
    for (const [url, payload] of [['/v1/admin/decommission', {}], ['/v1/admin/removenode', { host_id: '6f1c2a3e-0000-4000-8000-000000000001' }]] as const) {
      const res = await app.inject({ method: 'POST', url, payload });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toEqual({ code: 'Invalid', message: expect.stringContaining('need a node that is part of a cluster') });
    }
  });

  it('runs decommission and removenode and answers with their report; a malformed host id is Invalid', async () => {
    const calls: string[] = [];
    const report = (operation: string) => ({ operation, endpoint: '127.0.0.1:7001', transfers: 2, ranges: 5, rows_streamed: 10, bytes_streamed: 100, duration_ms: 7 });
    const membership = {
      decommission: async () => {
        calls.push('decommission');
        return report('decommission');
      },
      removeNode: async (hostId: string) => {
        calls.push(`removenode ${hostId}`);
        return report('removenode');
      },
    };
    const { app } = harness({ admin: { flush: async () => {}, compact: async () => {}, drain: async () => {}, membership } });
    const decommissioned = await app.inject({ method: 'POST', url: '/v1/admin/decommission' });
    expect(decommissioned.statusCode).toBe(200);
    expect(decommissioned.json()).toEqual(report('decommission'));
    const id = '6f1c2a3e-0000-4000-8000-000000000001';
    const removed = await app.inject({ method: 'POST', url: '/v1/admin/removenode', payload: { host_id: id } });
    expect(removed.json()).toEqual(report('removenode'));
    const bad = await app.inject({ method: 'POST', url: '/v1/admin/removenode', payload: { host_id: 'node2' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('Invalid');
    expect(calls).toEqual(['decommission', `removenode ${id}`]);
  });

  it.each(['repair'])('answers %s with Invalid: not supported', async (op) => {
    const { app } = harness();
    const res = await app.inject({ method: 'POST', url: `/v1/admin/${op}`, payload: {} });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toEqual({ code: 'Invalid', message: expect.stringContaining(`${op} is not supported until`) });
  });

  it('answers a failed admin operation with ServerError', async () => {
    const { app, logs } = harness({
      admin: {
        flush: async () => {
          throw new Error('flush worker died');
        },
        compact: async () => {},
        drain: async () => {},
      },
    });
    const res = await app.inject({ method: 'POST', url: '/v1/admin/flush' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: { code: 'ServerError', message: 'Internal server error' } });
    expect(logs.some((l) => l.level === 50 && l.err?.message === 'flush worker died')).toBe(true);
  });
});

describe('unknown routes and malformed HTTP', () => {
  it('answers an unknown route or method with 404 JSON', async () => {
    const { app } = harness();
    for (const [method, url] of [['GET', '/nope'], ['GET', '/v1/cql'], ['DELETE', '/health'], ['POST', '/v1/admin/reboot']] as const) {
      const res = await app.inject({ method, url });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ error: { code: 'Invalid', message: `No endpoint ${method} ${url}` } });
    }
  });

  it('answers a request that is not HTTP with 400 JSON over a real socket', async () => {
    const { app } = harness();
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as net.AddressInfo;
    const reply = await new Promise<string>((resolve, reject) => {
      let text = '';
      const socket = net.connect(port, '127.0.0.1', () => socket.write('HELLO THERE\r\n\r\n'));
      socket.setEncoding('utf8');
      socket.on('data', (s: string) => (text += s));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4))).toEqual({ error: { code: 'Invalid', message: 'Malformed HTTP request' } });
  });
});

describe('consistency defaults', () => {
  it.each(['ONE', 'QUORUM', 'LOCAL_ONE'] as ConsistencyLevel[])('uses %s when the request names none', async (level) => {
    const { app, cql } = harness({ defaultConsistency: level });
    await postCql(app, { query: 'SELECT 1', consistency: null });
    expect(cql.calls[0]?.consistency).toBe(level);
  });
});
