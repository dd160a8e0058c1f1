/** The shell session over its real HTTP client, against a fake node (test/helpers/fake-cql-server.ts). */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpCqlClient } from '../../src/cli/cql-shell/client.js';
import { ShellSession, type ShellOutput } from '../../src/cli/cql-shell/session.js';
import { startFakeCqlServer, type FakeCqlServer, type FakeReply } from '../helpers/fake-cql-server.js';
import { useTmpDir } from '../helpers/tmpdir.js';

interface Recorded {
  readonly io: ShellOutput;
  readonly out: () => string;
  readonly err: () => string;
  readonly moreAsked: () => number;
}

/** Collects what the session prints; `answers` make it interactive (one answer per `---MORE---`). */
function record(answers?: boolean[]): Recorded {
  let out = '';
  let err = '';
  let asked = 0;
  const io: ShellOutput = {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    ...(answers === undefined ? {} : { more: async () => answers[asked++] ?? false }),
  };
  return { io, out: () => out, err: () => err, moreAsked: () => asked };
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const tmp = useTmpDir('ringtail-cqlsh-');
let server: FakeCqlServer;
let client: HttpCqlClient;
let respond: ((q: { query: string }) => FakeReply | undefined) | undefined;

beforeEach(async () => {
  respond = undefined;
  server = await startFakeCqlServer({ respond: (req) => respond?.(req) });
  client = new HttpCqlClient(server.url);
});

afterEach(async () => {
  await client.close();
  await server.close();
});

describe('ShellSession', () => {
  it('USE sets the keyspace from the server answer, then sends it with every statement', async () => {
    const session = new ShellSession({ client });
    const r = record();
    expect(session.prompt).toBe('ringtail> ');
    expect(await session.execute('USE shop', r.io)).toBe('ok');
    expect(session.keyspace).toBe('shop');
    expect(session.prompt).toBe('ringtail:shop> ');
    expect(await session.execute('SELECT * FROM users', r.io)).toBe('ok');
    expect(server.requests[1]).toEqual({ query: 'SELECT * FROM users', keyspace: 'shop', consistency: 'ONE', page_size: 100 });
    expect(r.out()).toBe(
      [
        '',
        ' id  | name  | tags',
        '-----+-------+-------------------',
        "   1 | ada   | {'admin', 'math'}",
        '  22 | grace | null',
        ' 333 | null  | {}',
        '',
        '(3 rows)',
        '',
      ].join('\n'),
    );
    expect(r.err()).toBe('');
  });

  it('keeps the keyspace when USE fails, and says why', async () => {
    const session = new ShellSession({ client });
    const r = record();
    await session.execute('USE shop', r.io);
    expect(await session.execute('use nope;', r.io)).toBe('failed');
    expect(r.err()).toBe("Invalid: Keyspace 'nope' does not exist\n");
    expect(session.keyspace).toBe('shop');
    expect(session.failures).toBe(1);
  });

  it('shows and sets the consistency level sent with each statement', async () => {
    const session = new ShellSession({ client, consistency: 'LOCAL_QUORUM' });
    const r = record();
    await session.execute('CONSISTENCY', r.io);
    await session.execute('consistency all;', r.io);
    await session.execute('INSERT INTO shop.users (id) VALUES (4)', r.io);
    expect(r.out()).toBe('Current consistency level is LOCAL_QUORUM.\nConsistency level set to ALL.\n');
    expect(server.requests.at(-1)?.consistency).toBe('ALL');
    expect(await session.execute('CONSISTENCY MAYBE', r.io)).toBe('failed');
    expect(r.err()).toMatch(/^Invalid: Improper CONSISTENCY command: unknown level 'MAYBE'/);
    expect(session.consistency).toBe('ALL');
  });

  it('prints errors as <Code>: <message> and goes on', async () => {
    const session = new ShellSession({ client });
    const r = record();
    expect(await session.execute('SELEC * FROM shop.users', r.io)).toBe('failed');
    expect(r.err()).toBe("SyntaxError: line 1:0 no viable alternative at input 'SELEC'\n");
    respond = () => ({ status: 400, body: { error: { code: 'SyntaxError', message: "line 1:8 mismatched input 'FORM'", line: 1, column: 8 } } });
    await session.execute('SELECT * FORM t', r.io);
    expect(r.err()).toContain("SyntaxError: line 1:8 mismatched input 'FORM'\n");
    respond = () => ({ status: 503, body: { error: { code: 'Unavailable', message: 'Cannot achieve consistency level QUORUM', consistency: 'QUORUM', required: 2, alive: 1 } } });
    await session.execute('SELECT * FROM shop.users', r.io);
    expect(r.err()).toContain('Unavailable: Cannot achieve consistency level QUORUM\n');
    respond = undefined;
    expect(await session.execute('SELECT * FROM shop.users', r.io)).toBe('ok');
    expect(r.out()).toContain('(3 rows)');
    expect(session.failures).toBe(3);
  });

  it('pages interactively: a page, ---MORE---, the next page, until told to stop', async () => {
    const session = new ShellSession({ client });
    const r = record([true, false]);
    await session.execute('SELECT * FROM shop.numbers', r.io);
    expect(r.moreAsked()).toBe(2);
    expect(server.requests.map((q) => q.paging_state ?? null)).toEqual([null, 'offset:100']);
    const out = r.out();
    expect(out.match(/ n {3}\| square/g)).toHaveLength(2);
    expect(out).toContain('   1 |      1\n');
    expect(out).toContain(' 200 |  40000\n');
    expect(out).not.toContain(' 201 |');
    expect(out.endsWith('\n(200 rows)\n')).toBe(true);
  });

  it('fetches every page in a script and prints one table', async () => {
    const session = new ShellSession({ client });
    const r = record();
    await session.execute('PAGING 120', r.io);
    await session.execute('SELECT * FROM shop.numbers', r.io);
    expect(server.requests.map((q) => [q.page_size, q.paging_state ?? null])).toEqual([
      [120, null],
      [120, 'offset:120'],
      [120, 'offset:240'],
    ]);
    const out = r.out();
    expect(out.match(/square/g)).toHaveLength(1);
    expect(out).toContain(' 250 |  62500\n');
    expect(out.endsWith('\n(250 rows)\n')).toBe(true);
  });

  it('PAGING OFF fetches without a page size and never asks', async () => {
    const session = new ShellSession({ client });
    const r = record([false]);
    await session.execute('PAGING', r.io);
    await session.execute('PAGING OFF', r.io);
    await session.execute('SELECT * FROM shop.numbers', r.io);
    expect(server.requests[0]).not.toHaveProperty('page_size');
    expect(r.moreAsked()).toBe(0);
    expect(r.out()).toContain('Query paging is currently enabled. Use PAGING OFF to disable\nPage size: 100\nDisabled Query paging.\n');
    expect(r.out()).toContain('(250 rows)');
    expect(await session.execute('PAGING 0', r.io)).toBe('failed');
  });

  it('prints an empty result as its header and (0 rows)', async () => {
    const session = new ShellSession({ client });
    const r = record();
    await session.execute('SELECT * FROM shop.empty', r.io);
    expect(r.out()).toBe('\n k\n---\n\n(0 rows)\n');
  });

  it('EXPAND prints one record per row', async () => {
    const session = new ShellSession({ client });
    const r = record();
    await session.execute('EXPAND ON', r.io);
    await session.execute('SELECT * FROM shop.users', r.io);
    await session.execute('expand', r.io);
    expect(r.out()).toContain("Now Expanded output is enabled\n\n@ Row 1\n------+-------------------\n id   | 1\n name | ada\n tags | {'admin', 'math'}\n\n@ Row 2\n");
    expect(r.out()).toContain('\n(3 rows)\nExpanded output is currently enabled. Use EXPAND OFF to disable.\n');
  });

  it('shows siblings as a column, then conflicts and warnings after the rows', async () => {
    const session = new ShellSession({ client });
    const r = record();
    await session.execute('SELECT * FROM shop.conflicted', r.io);
    expect(r.out()).toBe(
      [
        '',
        ' id | v | $siblings',
        '----+---+------------------------------------',
        "  7 | b | [{id: 7, v: 'a'}, {id: 7, v: 'b'}]",
        '',
        '(1 rows)',
        '',
        'Conflicts: 1 concurrent row versions met while reading',
        '',
        'Warnings :',
        'Read 1 row with concurrent versions',
        '',
        '',
      ].join('\n'),
    );
  });

  it('answers DESCRIBE from /v1/schema, relative to the current keyspace', async () => {
    const session = new ShellSession({ client });
    const r = record();
    await session.execute('DESCRIBE TABLE users', r.io);
    expect(r.err()).toBe('Invalid: No keyspace specified and no current keyspace\n');
    await session.execute('USE shop', r.io);
    await session.execute('desc table users;', r.io);
    await session.execute('DESCRIBE KEYSPACES', r.io);
    expect(r.out()).toContain('CREATE TABLE shop.users (\n    id int PRIMARY KEY,');
    expect(r.out()).toContain('\nshop    system\n');
    expect(server.schemaRequests).toBe(3);
  });

  it('accepts TRACING, HELP and EXIT', async () => {
    const session = new ShellSession({ client });
    const r = record();
    expect(await session.execute('TRACING ON', r.io)).toBe('ok');
    expect(r.out()).toContain('Tracing is not supported yet');
    expect(await session.execute('HELP CONSISTENCY', r.io)).toBe('ok');
    expect(r.out()).toContain('LOCAL_QUORUM');
    expect(await session.execute('HELP nothing', r.io)).toBe('failed');
    expect(await session.execute('exit;', r.io)).toBe('exit');
    expect(server.requests).toHaveLength(0);
  });

  it('SOURCE runs a file, going on after a failure', async () => {
    const file = path.join(tmp(), "it's.cql");
    fs.writeFileSync(file, 'USE shop\n-- a comment\nSELEC oops;\nCONSISTENCY TWO\nSELECT *\n  FROM users;\n');
    const session = new ShellSession({ client });
    const r = record();
    expect(await session.execute(`SOURCE '${file.replace(/'/g, "''")}'`, r.io)).toBe('ok');
    expect(r.err()).toBe("SyntaxError: line 1:0 no viable alternative at input 'SELEC'\n");
    expect(r.out()).toContain('(3 rows)');
    expect(server.requests.at(-1)).toMatchObject({ keyspace: 'shop', consistency: 'TWO' });
    expect(session.failures).toBe(1);
    expect(await session.execute("SOURCE 'no/such/file.cql'", r.io)).toBe('failed');
    expect(r.err()).toContain("Invalid: could not read 'no/such/file.cql'");
  });

  it('stops a file that sources itself', async () => {
    const file = path.join(tmp(), 'loop.cql');
    fs.writeFileSync(file, `SOURCE '${file}'\n`);
    const session = new ShellSession({ client });
    const r = record();
    await session.execute(`SOURCE '${file}'`, r.io);
    expect(r.err()).toBe('Invalid: SOURCE nested more than 8 deep\n');
  });

  it('prints every response as a JSON line with --json', async () => {
    const session = new ShellSession({ client, json: true });
    const r = record();
    await session.execute('PAGING 2', r.io);
    await session.execute('SELECT * FROM shop.users', r.io);
    await session.execute('SELEC', r.io);
    const lines = r.out().trim().split('\n').slice(1).map((l) => JSON.parse(l) as { rows: unknown[] });
    expect(lines.map((l) => l.rows.length)).toEqual([2, 1]);
    expect(JSON.parse(r.err())).toEqual({ error: { code: 'SyntaxError', message: "no viable alternative at input 'SELEC'", line: 1, column: 0 } });
  });

  it('reports a server it cannot reach, and an answer that is not the API', async () => {
    const port = await closedPort();
    const offline = new HttpCqlClient(`127.0.0.1:${port}`);
    try {
      const session = new ShellSession({ client: offline });
      const r = record();
      expect(await session.execute('SELECT * FROM shop.users', r.io)).toBe('unreachable');
      expect(r.err()).toBe(`Connection error: could not connect to http://127.0.0.1:${port} (connection refused)\n`);
      expect(await session.execute('DESCRIBE KEYSPACES', r.io)).toBe('unreachable');
    } finally {
      await offline.close();
    }
    respond = () => ({ status: 413, body: { statusCode: 413, error: 'Payload Too Large', message: 'Request body is too large' } });
    const session = new ShellSession({ client });
    const r = record();
    expect(await session.execute('INSERT INTO shop.users (id) VALUES (1)', r.io)).toBe('failed');
    expect(r.err()).toBe(`Connection error: ${server.url}/v1/cql answered HTTP 413: Request body is too large\n`);
  });

  it('cancels a running statement when its signal aborts', async () => {
    const session = new ShellSession({ client });
    const r = record();
    const abort = new AbortController();
    const running = session.execute('SELECT * FROM slow', r.io, abort.signal);
    const deadline = Date.now() + 5000;
    while (server.requests.length === 0 && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
    abort.abort();
    expect(await running).toBe('failed');
    expect(r.err()).toBe('Cancelled.\n');
    server.release();
  });

  it('sends credentials from the URL as Basic auth, not in the request line', async () => {
    let authorization: string | undefined;
    const { createServer } = await import('node:http');
    const auth = createServer((req, res) => {
      authorization = req.headers.authorization;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'void', paging_state: null, warnings: [] }));
    });
    await new Promise<void>((resolve) => auth.listen(0, '127.0.0.1', resolve));
    const { port } = auth.address() as net.AddressInfo;
    const withUser = new HttpCqlClient(`http://ada:s%3Acret@127.0.0.1:${port}/`);
    try {
      expect(withUser.host).toBe(`http://127.0.0.1:${port}`);
      await withUser.execute({ query: 'INSERT INTO t (a) VALUES (1)' });
      expect(authorization).toBe(`Basic ${Buffer.from('ada:s:cret').toString('base64')}`);
    } finally {
      await withUser.close();
      auth.closeAllConnections();
      await new Promise<void>((resolve) => auth.close(() => resolve()));
    }
  });
});
