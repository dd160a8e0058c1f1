/**
 * The shell's drivers in-process, over stream pairs: the interactive REPL (prompts, multi-line
 * statements, ---MORE---, Ctrl-C, history) and `runCqlShell` for -e, -f, -k and piped input.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpCqlClient } from '../../src/cli/cql-shell/client.js';
import { runCqlShell, type CqlShellOptions } from '../../src/cli/cql-shell/command.js';
import { runInteractive } from '../../src/cli/cql-shell/repl.js';
import { ShellSession } from '../../src/cli/cql-shell/session.js';
import { Screen, startFakeCqlServer, type FakeCqlServer } from '../helpers/fake-cql-server.js';
import { useTmpDir } from '../helpers/tmpdir.js';

const tmp = useTmpDir('ringtail-cqlsh-driver-');
let server: FakeCqlServer;

beforeEach(async () => {
  server = await startFakeCqlServer();
});

afterEach(async () => {
  await server.close();
});

/** A terminal-less stream pair around one interactive session. */
function interactive(options: { terminal?: boolean; historyFile?: string | null } = {}) {
  const input = new PassThrough();
  const output = new PassThrough();
  const error = new PassThrough();
  const screen = new Screen(output);
  const errors = new Screen(error);
  const client = new HttpCqlClient(server.url);
  const session = new ShellSession({ client });
  const done = runInteractive(session, { input, output, error }, { terminal: options.terminal ?? false, historyFile: options.historyFile ?? null }).finally(() => client.close());
  return { input, screen, errors, session, done, type: (text: string) => input.write(text) };
}

describe('interactive shell', () => {
  it('prompts, continues a statement over lines, prints results and leaves on EXIT', async () => {
    const sh = interactive();
    await sh.screen.until('ringtail> ');
    sh.type('USE shop\n');
    await sh.screen.next('ringtail:shop> ');
    sh.type('SELECT *\n');
    await sh.screen.next('   ... ');
    sh.type('FROM users;\n');
    await sh.screen.next(/\(3 rows\)\nringtail:shop> $/);
    expect(sh.screen.text).toContain("   1 | ada   | {'admin', 'math'}\n");
    sh.type('EXIT\n');
    await sh.done;
    expect(server.requests.map((r) => r.query)).toEqual(['USE shop', 'SELECT *\nFROM users']);
  });

  it('prints an error and keeps the session going', async () => {
    const sh = interactive();
    sh.type('SELEC * FROM shop.users;\n');
    await sh.errors.until("SyntaxError: line 1:0 no viable alternative at input 'SELEC'\n");
    sh.type('CONSISTENCY QUORUM\n');
    await sh.screen.until('Consistency level set to QUORUM.\n');
    sh.type('SELECT * FROM shop.users;\n');
    await sh.screen.until('(3 rows)');
    expect(server.requests.at(-1)?.consistency).toBe('QUORUM');
    sh.input.end();
    await sh.done;
  });

  it('waits at ---MORE--- between pages; Enter shows the next page, q stops', async () => {
    const sh = interactive();
    sh.type('SELECT * FROM shop.numbers;\n');
    await sh.screen.until(/ 100 \|  10000\n---MORE---$/);
    sh.type('\n');
    await sh.screen.until(/ 200 \|  40000\n---MORE---$/);
    sh.type('q\n');
    await sh.screen.until(/\(200 rows\)\nringtail> $/);
    expect(server.requests).toHaveLength(2);
    sh.type('quit\n');
    await sh.done;
  });

  it('keeps history in a file across sessions and recalls it with the up arrow', async () => {
    const historyFile = path.join(tmp(), 'history');
    fs.writeFileSync(historyFile, 'SELECT * FROM shop.empty;\n');
    const sh = interactive({ terminal: true, historyFile });
    await sh.screen.until('ringtail> ');
    sh.type('\x1b[A\r');
    await sh.screen.until('(0 rows)');
    sh.type('SELECT * FROM shop.users;\r');
    await sh.screen.until('(3 rows)');
    sh.type('\x1b[A\x1b[A\r');
    await sh.screen.until(/\(0 rows\)[\s\S]*\(3 rows\)[\s\S]*\(0 rows\)/);
    sh.type('EXIT\r');
    await sh.done;
    expect(server.requests.map((r) => r.query)).toEqual(['SELECT * FROM shop.empty', 'SELECT * FROM shop.users', 'SELECT * FROM shop.empty']);
    expect(fs.readFileSync(historyFile, 'utf8')).toBe('SELECT * FROM shop.users;\nSELECT * FROM shop.empty;\nEXIT\n');
  });

  it('Ctrl-C drops the statement being typed, then cancels a running one', async () => {
    const sh = interactive({ terminal: true });
    await sh.screen.until('ringtail> ');
    sh.type('SELECT *\r');
    await sh.screen.until('   ... ');
    sh.type('FROM nowhere');
    await sh.screen.until('FROM nowhere');
    const mark = sh.screen.text.length;
    sh.type('\x03');
    await sh.screen.until('ringtail> ', { from: mark });
    sh.type('SELECT * FROM shop.empty;\r');
    await sh.screen.until('(0 rows)');
    expect(server.requests.map((r) => r.query)).toEqual(['SELECT * FROM shop.empty']);
    sh.type('SELECT * FROM slow;\r');
    const deadline = Date.now() + 5000;
    while (server.requests.length < 2 && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
    sh.type('\x03');
    await sh.errors.until('Cancelled.\n');
    sh.type('EXIT\r');
    await sh.done;
  });
});

describe('runCqlShell', () => {
  function run(opts: CqlShellOptions, stdin = '') {
    const input = new PassThrough();
    input.end(stdin);
    const output = new PassThrough();
    const error = new PassThrough();
    const out = new Screen(output);
    const err = new Screen(error);
    return runCqlShell({ host: server.url, ...opts }, { input, output, error, env: {}, version: '0.1.0' }).then((code) => ({ code, out: out.text, err: err.text }));
  }

  it('-e runs the statements and exits 0, or 1 when one failed', async () => {
    const ok = await run({ execute: 'USE shop; SELECT * FROM users', consistency: 'QUORUM' });
    expect(ok).toMatchObject({ code: 0, err: '' });
    expect(ok.out).toContain('(3 rows)');
    expect(server.requests.at(-1)).toMatchObject({ keyspace: 'shop', consistency: 'QUORUM' });
    const failed = await run({ execute: 'SELEC 1; SELECT * FROM shop.empty;' });
    expect(failed.code).toBe(1);
    expect(failed.err).toContain('SyntaxError:');
    expect(failed.out).toContain('(0 rows)');
  });

  it('-f runs a file, going on after failures, and -k starts in a keyspace', async () => {
    const file = path.join(tmp(), 'script.cql');
    fs.writeFileSync(file, 'SELECT * FROM empty;\nSELEC;\nSELECT * FROM users;\n');
    const r = await run({ file, keyspace: 'shop' });
    expect(r.code).toBe(1);
    expect(r.out).toContain('(0 rows)');
    expect(r.out).toContain('(3 rows)');
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect((await run({ file: path.join(tmp(), 'missing.cql') })).code).toBe(1);
    expect((await run({ execute: 'SELECT * FROM users', keyspace: 'nope' })).err).toBe("Invalid: Keyspace 'nope' does not exist\n");
  });

  it('reads statements from piped input', async () => {
    const r = await run({}, 'USE shop;\nSELECT *\nFROM users;\nEXPAND ON\nSELECT * FROM users\n');
    expect(r.code).toBe(0);
    expect(r.out).toContain('(3 rows)');
    expect(r.out).toContain('@ Row 3');
    expect(r.out).not.toContain('ringtail>');
  });

  it('stops with 1 when the server cannot be reached', async () => {
    const url = server.url;
    await server.close();
    const r = await run({ host: url, execute: 'SELECT * FROM shop.users; SELECT * FROM shop.users' });
    expect(r.code).toBe(1);
    expect(r.err).toBe(`Connection error: could not connect to ${url} (connection refused)\n`);
    server = await startFakeCqlServer();
  });

  it('exits 2 for a --host that is not a URL', async () => {
    expect((await run({ host: 'http://[oops', execute: 'SELECT 1' })).code).toBe(2);
  });

  it('finds the node in --dir/cluster.json', async () => {
    fs.writeFileSync(path.join(tmp(), 'cluster.json'), JSON.stringify({ name: 'c', nodes: [{ name: 'node1', http: server.url }] }));
    const input = new PassThrough();
    const output = new PassThrough();
    const out = new Screen(output);
    const code = await runCqlShell({ dir: tmp(), execute: 'DESCRIBE CLUSTER' }, { input, output, error: new PassThrough(), env: {}, version: '0.1.0' });
    expect(code).toBe(0);
    expect(out.text).toContain('Cluster: Fake Cluster');
    fs.writeFileSync(path.join(tmp(), 'cluster.json'), '{');
    expect(await runCqlShell({ dir: tmp(), execute: 'SELECT 1' }, { input, output, error: new PassThrough(), env: {}, version: '0.1.0' })).toBe(1);
  });
});
