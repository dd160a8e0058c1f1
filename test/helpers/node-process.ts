/**
 * A ringtail node as a real process, for end-to-end tests: `node <bin> server --config FILE
 * --set …` on free ports (`http_port` and `internode_port` 0: the node picks them, and its
 * `node ready` log line says which), in a directory the test owns.
 *
 * - `startNode()` resolves once the node logged `node ready` and `GET /health` answered 200,
 *   or rejects (with the tail of its output) when it exits first or the deadline passes.
 * - `stop()` sends SIGTERM and waits for the exit; `kill()` is `kill -9`. Both by PID.
 * - `killAllNodes()` SIGKILLs every node still running; call it in `afterAll`.
 * - The binary is `$RINGTAIL_BIN` if set (a private build), else `<repo>/bin/ringtail`
 *   (which needs `npm run build`).
 * - `postCql()` sends one `POST /v1/cql` and returns the status and parsed body.
 *
 * Output is kept (the last `MAX_KEPT_LINES` lines of each stream) for failure messages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Agent, request } from 'undici';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
const MAX_KEPT_LINES = 5000;
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 15_000;

export function ringtailBin(): string {
  return process.env.RINGTAIL_BIN ?? path.join(REPO_ROOT, 'bin', 'ringtail');
}

export interface StartNodeOptions {
  /** Directory for the node's config file and data (`<dir>/data`). */
  readonly dir: string;
  /** Settings written to the config file, over the test defaults below. */
  readonly settings?: Readonly<Record<string, unknown>>;
  /** Extra `--set key=value` arguments. */
  readonly sets?: readonly string[];
  readonly startTimeoutMs?: number;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const running = new Set<NodeProcess>();

export class NodeProcess {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<Exit>;
  private exit: Exit | null = null;
  private readyUrl: string | null = null;
  private readonly readyWaiters: Array<() => void> = [];

  constructor(
    private readonly child: ChildProcess,
    readonly configFile: string,
    readonly dataDir: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        running.delete(this);
        for (const wake of this.readyWaiters.splice(0)) wake();
        resolve(this.exit);
      });
    });
    collectLines(child.stdout!, this.stdout, (line) => this.onLogLine(line));
    collectLines(child.stderr!, this.stderr, () => {});
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The HTTP endpoint from the `node ready` line, e.g. `http://127.0.0.1:40123`. */
  get url(): string {
    if (this.readyUrl === null) throw new Error('node is not ready');
    return this.readyUrl;
  }

  get hasExited(): boolean {
    return this.exit !== null;
  }

  /** Parsed JSON log lines (non-JSON lines are skipped). */
  logs(): Array<Record<string, unknown>> {
    return this.stdout.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  /** The last lines of both streams, for failure messages. */
  tail(lines = 40): string {
    return [`--- stdout (last ${lines}) ---`, ...this.stdout.slice(-lines), `--- stderr (last ${lines}) ---`, ...this.stderr.slice(-lines)].join('\n');
  }

  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    const ready = new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (this.readyUrl !== null) resolve();
        else if (this.exit !== null) reject(new Error(`node exited (${JSON.stringify(this.exit)}) before it was ready\n${this.tail()}`));
        else this.readyWaiters.push(check);
      };
      check();
    });
    await withDeadline(ready, timeoutMs, () => `the node's "node ready" line\n${this.tail()}`);
    await waitFor(async () => (await health(this.url)) === 200, 'GET /health = 200', Math.max(1, deadline - performance.now()));
  }

  /** SIGTERM, then the exit (rejects if it takes longer than `timeoutMs`). */
  async stop(timeoutMs = STOP_TIMEOUT_MS): Promise<Exit> {
    if (this.exit !== null) return this.exit;
    this.child.kill('SIGTERM');
    return withDeadline(this.exited, timeoutMs, () => `node ${this.pid} to exit after SIGTERM\n${this.tail()}`);
  }

  /** `kill -9`, then the exit. */
  async kill(): Promise<Exit> {
    if (this.exit !== null) return this.exit;
    this.child.kill('SIGKILL');
    return this.exited;
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  private onLogLine(line: string): void {
    if (this.readyUrl !== null || !line.includes('node ready')) return;
    try {
      const entry = JSON.parse(line) as { msg?: unknown; http?: unknown };
      if (entry.msg === 'node ready' && typeof entry.http === 'string') {
        this.readyUrl = entry.http.replace(/\/$/, '');
        for (const wake of this.readyWaiters.splice(0)) wake();
      }
    } catch {
      // not a JSON line
    }
  }
}

/**
 * Writes `<dir>/ringtail.json` (unless it exists: a restart keeps the same config) and
 * starts a node on it.
 */
export async function startNode(options: StartNodeOptions): Promise<NodeProcess> {
  const configFile = path.join(options.dir, 'ringtail.json');
  const dataDir = path.join(options.dir, 'data');
  if (!fs.existsSync(configFile)) {
    const settings = {
      cluster_name: 'e2e',
      data_dir: dataDir,
      http_address: '127.0.0.1',
      http_port: 0,
      listen_address: '127.0.0.1',
      internode_port: 0,
      seeds: [],
      log_level: 'info',
      ...options.settings,
    };
    fs.mkdirSync(options.dir, { recursive: true });
    fs.writeFileSync(configFile, `${JSON.stringify(settings, null, 2)}\n`);
  }
  const sets = (options.sets ?? []).flatMap((s) => ['--set', s]);
  const child = spawn(process.execPath, [ringtailBin(), 'server', '--config', configFile, ...sets], {
    cwd: options.dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const node = new NodeProcess(child, configFile, dataDir);
  running.add(node);
  try {
    await node.waitReady(options.startTimeoutMs ?? START_TIMEOUT_MS);
  } catch (error) {
    await node.kill();
    throw error;
  }
  return node;
}

/** SIGKILLs every node started here that still runs (by PID). For `afterAll`. */
export async function killAllNodes(): Promise<void> {
  await Promise.all([...running].map((node) => node.kill()));
}

// ---- HTTP ------------------------------------------------------------------------------------

/** One keep-alive pool per test process, closed by `closeHttp()`. */
let agent: Agent | null = null;
function dispatcher(): Agent {
  agent ??= new Agent({ connections: 16, headersTimeout: 30_000, bodyTimeout: 30_000 });
  return agent;
}

export async function closeHttp(): Promise<void> {
  const a = agent;
  agent = null;
  await a?.close();
}

export interface HttpAnswer<T = any> {
  readonly status: number;
  readonly body: T;
  /** The body as received. */
  readonly text: string;
}

export async function httpJson<T = any>(method: 'GET' | 'POST', url: string, body?: unknown): Promise<HttpAnswer<T>> {
  const res = await request(url, {
    method,
    dispatcher: dispatcher(),
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await res.body.text();
  let parsed: unknown = undefined;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.statusCode, body: parsed as T, text };
}

/** `POST /v1/cql` with `{query, …extra}`. */
export function postCql<T = any>(baseUrl: string, query: string, extra: Record<string, unknown> = {}): Promise<HttpAnswer<T>> {
  return httpJson<T>('POST', `${baseUrl}/v1/cql`, { query, ...extra });
}

/** `POST /v1/cql` that must succeed: throws with the error body otherwise. */
export async function cqlOk<T = any>(baseUrl: string, query: string, extra: Record<string, unknown> = {}): Promise<T> {
  const answer = await postCql<T>(baseUrl, query, extra);
  if (answer.status !== 200) throw new Error(`${query}\n→ ${answer.status} ${answer.text}`);
  return answer.body;
}

async function health(baseUrl: string): Promise<number | null> {
  try {
    return (await httpJson('GET', `${baseUrl}/health`)).status;
  } catch {
    return null;
  }
}

// ---- waiting -----------------------------------------------------------------------------------

/**
 * Polls `condition` until it holds, or throws after `timeoutMs`. Between attempts it yields
 * for `intervalMs` so a node process gets the CPU; the condition, not the interval, decides.
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000, intervalMs = 20): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** `promise`, or a rejection naming `what()` (evaluated late, so it can show fresh output). */
export function withDeadline<T>(promise: Promise<T>, timeoutMs: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function collectLines(stream: NodeJS.ReadableStream, into: string[], onLine: (line: string) => void): void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      into.push(line);
      if (into.length > MAX_KEPT_LINES) into.splice(0, into.length - MAX_KEPT_LINES);
      onLine(line);
    }
  });
}
