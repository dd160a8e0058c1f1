/**
 * `ringtail cql` as a user runs it: a real process from the compiled CLI, talking HTTP to a fake
 * node in this process. The interactive test gives the shell a real terminal through util-linux
 * `script` (a pseudo-terminal), types into it and waits for what it prints.
 *
 * The compiled CLI is `dist/` (`npm test` builds it first); `RINGTAIL_DIST` points elsewhere,
 * e.g. at a private `tsc -p tsconfig.build.json --outDir …` while others edit the tree.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Screen, startFakeCqlServer, type FakeCqlServer } from '../helpers/fake-cql-server.js';
import { useTmpDir } from '../helpers/tmpdir.js';

const repo = path.resolve(import.meta.dirname, '..', '..');
const dist = path.resolve(process.env.RINGTAIL_DIST ?? path.join(repo, 'dist'));
const tmp = useTmpDir('ringtail-cqlsh-cli-');
const DEADLINE_MS = 20_000;
let server: FakeCqlServer;

/** bin/ringtail's job, for the CLI compiled in `dist`. */
function launcher(): string {
  const file = path.join(tmp(), 'ringtail.mjs');
  const main = pathToFileURL(path.join(dist, 'cli', 'main.js')).href;
  fs.writeFileSync(file, `import(${JSON.stringify(main)}).then((cli) => cli.main(process.argv));\n`);
  return file;
}

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `ringtail cql ARGS` with `stdin` piped in; never blocks this process's event loop (the fake server lives here). */
function cql(args: string[], stdin = ''): Promise<Finished> {
  const child = spawn(process.execPath, [launcher(), 'cql', ...args], { env: { ...process.env, RINGTAIL_HISTORY: path.join(tmp(), 'history') }, cwd: tmp() });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(stdin);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ringtail cql ${args.join(' ')} did not exit within ${DEADLINE_MS} ms\n${stdout}\n${stderr}`));
    }, DEADLINE_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

beforeEach(async () => {
  server = await startFakeCqlServer();
});

afterEach(async () => {
  await server.close();
});

describe('ringtail cql (script modes)', () => {
  it('-e runs statements and exits 0; a failed one makes it 1', async () => {
    const ok = await cql(['--host', server.url, '-e', 'USE shop; SELECT * FROM users', '--consistency', 'quorum']);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("   1 | ada   | {'admin', 'math'}\n");
    expect(server.requests.at(-1)).toMatchObject({ keyspace: 'shop', consistency: 'QUORUM' });
    const failed = await cql(['--host', server.url, '-e', 'SELEC 1']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toBe("SyntaxError: line 1:0 no viable alternative at input 'SELEC'\n");
  });

  it('-f goes on after a failure and exits 1; -k starts in a keyspace', async () => {
    const file = path.join(tmp(), 'script.cql');
    fs.writeFileSync(file, '-- setup\nCONSISTENCY TWO\nSELEC;\nSELECT *\n  FROM users;\n');
    const r = await cql(['--host', server.url, '-k', 'shop', '-f', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Consistency level set to TWO.');
    expect(r.stdout).toContain('(3 rows)');
    expect(r.stderr).toContain('SyntaxError:');
    expect(server.requests.at(-1)).toMatchObject({ query: 'SELECT *\n  FROM users', keyspace: 'shop', consistency: 'TWO' });
  });

  it('reads statements piped to stdin, without prompts', async () => {
    const r = await cql(['--host', server.url], 'USE shop;\nPAGING 2\nSELECT * FROM users;\n');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Page size: 2\n');
    expect(r.stdout).toContain('(3 rows)');
    expect(r.stdout).not.toContain('ringtail>');
    expect(server.requests.slice(1).map((q) => q.paging_state ?? null)).toEqual([null, 'offset:2']);
  });

  it('finds the node in --dir/cluster.json', async () => {
    fs.writeFileSync(path.join(tmp(), 'cluster.json'), JSON.stringify({ name: 'local', nodes: [{ name: 'node1', http: server.url }] }));
    const r = await cql(['--dir', tmp(), '-e', 'DESCRIBE KEYSPACES']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('shop    system');
  });

  it('exits 1 when the node cannot be reached, 2 on bad usage', async () => {
    const url = server.url;
    await server.close();
    const down = await cql(['--host', url, '-e', 'SELECT * FROM shop.users']);
    expect(down.code).toBe(1);
    expect(down.stderr).toBe(`Connection error: could not connect to ${url} (connection refused)\n`);
    server = await startFakeCqlServer();
    const level = await cql(['--host', server.url, '--consistency', 'SOMETIMES', '-e', 'SELECT 1']);
    expect(level.code).toBe(2);
    expect(level.stderr).toMatch(/unknown consistency level/);
    expect((await cql(['--host', server.url, '-e', 'SELECT 1', '-f', 'x.cql'])).code).toBe(2);
    expect(server.requests).toHaveLength(0);
  });
});

/** Drops carriage returns and terminal escape sequences from what a pty shows. */
const plain = (text: string): string => text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');

describe('ringtail cql (interactive, in a terminal)', () => {
  it('edits lines, continues statements, pages, reports errors, recalls history and exits', async () => {
    const history = path.join(tmp(), 'history');
    const shellQuote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
    const command = [process.execPath, launcher(), 'cql', '--host', server.url].map(shellQuote).join(' ');
    const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, RINGTAIL_HISTORY: history, TERM: 'xterm' }, cwd: tmp() });
    const screen = new Screen(child.stdout, plain);
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const type = (text: string) => child.stdin.write(text);
    try {
      await screen.until(/Connected to Fake Cluster at http:\/\/127\.0\.0\.1:\d+\.[\s\S]*ringtail> $/);

      type('USE shop;\r');
      await screen.next('ringtail:shop> ');
      type('SELECT *\r');
      await screen.next('   ... ');
      type('FROM users;\r');
      await screen.next(/\(3 rows\)\nringtail:shop> $/);

      type('CONSISTENCY QUORUM\r');
      await screen.next('Consistency level set to QUORUM.');

      type('SELEC oops;\r');
      await screen.next(/SyntaxError: line 1:0 no viable alternative at input 'SELEC'\nringtail:shop> $/);

      type('SELECT * FROM numbers;\r');
      await screen.next('---MORE---');
      type('\r');
      await screen.next('---MORE---');
      type('q\r');
      await screen.next(/\(200 rows\)\nringtail:shop> $/);

      // Up twice, down once: the last statement again (answers to ---MORE--- are not history).
      type('\x1b[A\x1b[A\x1b[B\r');
      await screen.next('---MORE---');
      type('q\r');
      await screen.next(/\(100 rows\)\nringtail:shop> $/);

      type('EXIT\r');
      expect(await Promise.race([exited, new Promise((_, reject) => setTimeout(() => reject(new Error('shell did not exit')), DEADLINE_MS))])).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
    const sent = server.requests.map((r) => [r.query, r.consistency]);
    expect(sent).toEqual([
      ['USE shop', 'ONE'],
      ['SELECT *\nFROM users', 'ONE'],
      ['SELEC oops', 'QUORUM'],
      ['SELECT * FROM numbers', 'QUORUM'],
      ['SELECT * FROM numbers', 'QUORUM'],
      ['SELECT * FROM numbers', 'QUORUM'],
    ]);
    expect(server.requests[4]?.paging_state).toBe('offset:100');
    expect(fs.readFileSync(history, 'utf8')).toBe('USE shop;\nSELECT *\nFROM users;\nCONSISTENCY QUORUM\nSELEC oops;\nSELECT * FROM numbers;\nEXIT\n');
  });
});
