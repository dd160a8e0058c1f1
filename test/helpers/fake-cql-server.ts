/**
 * A stand-in for a node's HTTP API (SPEC 3.1–3.3), enough for the CQL shell's tests: `POST
 * /v1/cql` answers a handful of statements about one keyspace, `shop`, from fixed data, and
 * `GET /v1/schema` describes it. It records every request so tests can check what the shell
 * sent (keyspace, consistency, page size). Listens on a free loopback port.
 *
 * Statements it knows (case-insensitive, `;` optional):
 * - `USE ks` → `set_keyspace` (or `Invalid` for an unknown keyspace);
 * - `SELECT * FROM [ks.]users|numbers|empty|conflicted` → rows, paged by `page_size` with
 *   `paging_state` "offset:N"; `numbers` has 250 rows, `conflicted` a row with `$siblings`;
 * - `INSERT …`, `UPDATE …`, `DELETE …` → `void`; `CREATE …`, `DROP …` → `schema_change`;
 * - `SELECT * FROM slow` waits for `release()` before answering (for cancellation tests);
 * - anything else → `SyntaxError` (400) with `line`/`column` fields.
 * A test can answer first with `respond` (return undefined to fall through).
 *
 * `Screen` (below) collects what a stream prints and waits, with a deadline, until it shows
 * something: how the shell tests wait for a prompt or a result without sleeping.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { clearTimeout, setTimeout } from 'node:timers';
import type { SchemaColumn, SchemaDescription } from '../../src/cli/cql-shell/client.js';

export interface FakeCqlRequest {
  readonly query: string;
  readonly keyspace?: string;
  readonly consistency?: string;
  readonly page_size?: number;
  readonly paging_state?: string;
  readonly params?: unknown;
}

export interface FakeReply {
  readonly status: number;
  readonly body: unknown;
}

export interface FakeCqlServer {
  readonly url: string;
  /** Every `POST /v1/cql` body, in order. */
  readonly requests: FakeCqlRequest[];
  schemaRequests: number;
  /** Lets every waiting `SELECT * FROM slow` answer. */
  release(): void;
  close(): Promise<void>;
}

const column = (name: string, type: string, kind: SchemaColumn['kind']): SchemaColumn => ({ name, type, kind });

export const FAKE_SCHEMA: SchemaDescription = {
  cluster_name: 'Fake Cluster',
  partitioner: 'org.apache.cassandra.dht.Murmur3Partitioner',
  version: '2b9a3a52-7d1f-4b87-9f6e-0d0a1f7c9f11',
  keyspaces: [
    {
      name: 'shop',
      replication: { class: 'SimpleStrategy', replication_factor: '3' },
      cql: "CREATE KEYSPACE shop WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '3'};",
      tables: [
        {
          name: 'users',
          columns: [column('id', 'int', 'partition_key'), column('name', 'text', 'regular'), column('tags', 'set<text>', 'regular')],
          cql: 'CREATE TABLE shop.users (\n    id int PRIMARY KEY,\n    name text,\n    tags set<text>\n);',
        },
        {
          name: 'numbers',
          columns: [column('n', 'int', 'partition_key'), column('square', 'bigint', 'regular')],
          cql: 'CREATE TABLE shop.numbers (\n    n int PRIMARY KEY,\n    square bigint\n);',
        },
        { name: 'empty', columns: [column('k', 'text', 'partition_key')], cql: 'CREATE TABLE shop.empty (\n    k text PRIMARY KEY\n);' },
        {
          name: 'conflicted',
          columns: [column('id', 'int', 'partition_key'), column('v', 'text', 'regular')],
          cql: "CREATE TABLE shop.conflicted (\n    id int PRIMARY KEY,\n    v text\n) WITH conflict_resolution = 'siblings';",
        },
      ],
    },
    {
      name: 'system',
      replication: { class: 'LocalStrategy' },
      cql: "CREATE KEYSPACE system WITH replication = {'class': 'LocalStrategy'};",
      tables: [{ name: 'local', columns: [column('key', 'text', 'partition_key')], cql: 'CREATE TABLE system.local (\n    key text PRIMARY KEY\n);' }],
    },
  ],
};

const TABLES: Record<string, { columns: { name: string; type: string }[]; rows: Record<string, unknown>[]; conflicts?: number; warnings?: string[] }> = {
  users: {
    columns: [
      { name: 'id', type: 'int' },
      { name: 'name', type: 'text' },
      { name: 'tags', type: 'set<text>' },
    ],
    rows: [
      { id: 1, name: 'ada', tags: ['admin', 'math'] },
      { id: 22, name: 'grace', tags: null },
      { id: 333, name: null, tags: [] },
    ],
  },
  numbers: {
    columns: [
      { name: 'n', type: 'int' },
      { name: 'square', type: 'bigint' },
    ],
    rows: Array.from({ length: 250 }, (_, i) => ({ n: i + 1, square: String((i + 1) ** 2) })),
  },
  empty: { columns: [{ name: 'k', type: 'text' }], rows: [] },
  conflicted: {
    columns: [
      { name: 'id', type: 'int' },
      { name: 'v', type: 'text' },
    ],
    rows: [{ id: 7, v: 'b', $siblings: [{ id: 7, v: 'a' }, { id: 7, v: 'b' }] }],
    conflicts: 1,
    warnings: ['Read 1 row with concurrent versions'],
  },
};

const DEFAULT_PAGE_SIZE = 5000;

const error = (status: number, code: string, message: string, fields: Record<string, unknown> = {}): FakeReply => ({
  status,
  body: { error: { code, message, ...fields } },
});

function answer(req: FakeCqlRequest, waitSlow: () => Promise<void>): FakeReply | Promise<FakeReply> {
  const text = req.query.trim().replace(/;\s*$/, '').replace(/\s+/g, ' ');
  const lower = text.toLowerCase();
  const use = /^use ("?)(\w+)\1$/i.exec(text);
  if (use !== null) {
    const name = use[1] === '"' ? use[2]! : use[2]!.toLowerCase();
    if (!FAKE_SCHEMA.keyspaces.some((k) => k.name === name)) return error(400, 'Invalid', `Keyspace '${name}' does not exist`);
    return { status: 200, body: { kind: 'set_keyspace', keyspace: name, paging_state: null, warnings: [] } };
  }
  if (lower === 'select * from slow') return waitSlow().then(() => ({ status: 200, body: { kind: 'void', paging_state: null, warnings: [] } }));
  const select = /^select \* from (?:(\w+)\.)?(\w+)$/.exec(lower);
  if (select !== null) {
    const keyspace = select[1] ?? req.keyspace;
    if (keyspace === undefined) return error(400, 'Invalid', 'No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename');
    const table = TABLES[select[2]!];
    if (keyspace !== 'shop' || table === undefined) return error(400, 'Invalid', `table ${select[2]} does not exist`);
    const offset = req.paging_state === undefined ? 0 : Number(req.paging_state.replace('offset:', ''));
    const pageSize = req.page_size ?? DEFAULT_PAGE_SIZE;
    const rows = table.rows.slice(offset, offset + pageSize);
    const next = offset + pageSize < table.rows.length ? `offset:${offset + pageSize}` : null;
    return {
      status: 200,
      body: { kind: 'rows', columns: table.columns, rows, paging_state: next, warnings: table.warnings ?? [], conflicts: table.conflicts ?? 0 },
    };
  }
  if (/^(insert|update|delete) /.test(lower)) return { status: 200, body: { kind: 'void', paging_state: null, warnings: [] } };
  if (/^(create|drop) /.test(lower)) {
    return { status: 200, body: { kind: 'schema_change', change: lower.startsWith('create') ? 'CREATED' : 'DROPPED', target: 'TABLE', keyspace: 'shop', table: 't', paging_state: null, warnings: [] } };
  }
  const word = /^\S*/.exec(text)![0];
  return error(400, 'SyntaxError', `no viable alternative at input '${word}'`, { line: 1, column: 0 });
}

export async function startFakeCqlServer(options: { respond?: (req: FakeCqlRequest) => FakeReply | undefined } = {}): Promise<FakeCqlServer> {
  const requests: FakeCqlRequest[] = [];
  let waiting: (() => void)[] = [];
  const waitSlow = () => new Promise<void>((resolve) => waiting.push(resolve));
  const state = { schemaRequests: 0 };
  const send = (res: http.ServerResponse, reply: FakeReply) => {
    res.writeHead(reply.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(reply.body));
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/v1/schema') {
        state.schemaRequests++;
        send(res, { status: 200, body: FAKE_SCHEMA });
        return;
      }
      if (req.method !== 'POST' || req.url !== '/v1/cql') {
        send(res, { status: 404, body: { statusCode: 404, error: 'Not Found', message: `Route ${req.method}:${req.url} not found` } });
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as FakeCqlRequest;
      requests.push(body);
      const reply = options.respond?.(body) ?? answer(body, waitSlow);
      void Promise.resolve(reply).then((r) => send(res, r));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get schemaRequests() {
      return state.schemaRequests;
    },
    set schemaRequests(n: number) {
      state.schemaRequests = n;
    },
    release() {
      const all = waiting;
      waiting = [];
      for (const resolve of all) resolve();
    },
    close: () =>
      new Promise<void>((resolve) => {
        const all = waiting;
        waiting = [];
        for (const answerSlow of all) answerSlow();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * What a stream has printed so far, and a way to wait for more. `clean` rewrites the text before
 * matching (a terminal's output: drop `\r` and escape sequences); offsets count cleaned text.
 */
export class Screen {
  private raw = '';
  private waiters: { pattern: RegExp | string; from: number; resolve: () => void }[] = [];

  constructor(
    stream: NodeJS.ReadableStream,
    private readonly clean: (text: string) => string = (t) => t,
  ) {
    stream.on('data', (chunk: Buffer | string) => {
      this.raw += chunk.toString();
      this.check();
    });
  }

  get text(): string {
    return this.clean(this.raw);
  }

  /** Resolves once `pattern` appears after offset `from` (default 0); rejects after `timeoutMs`. */
  until(pattern: RegExp | string, options: { from?: number; timeoutMs?: number } = {}): Promise<void> {
    const from = options.from ?? 0;
    if (this.matches(pattern, from)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`timed out waiting for ${String(pattern)}; screen so far:\n${this.text}`));
      }, options.timeoutMs ?? 10_000);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push({ pattern, from, resolve: done });
    });
  }

  /** Waits for `pattern` to appear after everything shown so far. */
  next(pattern: RegExp | string, timeoutMs?: number): Promise<void> {
    return this.until(pattern, { from: this.text.length, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
  }

  private matches(pattern: RegExp | string, from: number): boolean {
    const text = this.text.slice(from);
    return typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text);
  }

  private check(): void {
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => this.matches(w.pattern, w.from));
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }
}
