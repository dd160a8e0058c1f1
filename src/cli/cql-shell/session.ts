/**
 * The CQL shell's state and its answer to one complete input (SPEC 2.4, after cqlsh).
 *
 * State: the current keyspace (set by the server's answer to `USE`), the consistency level sent
 * with every statement (ONE unless set, like cqlsh), paging (on, 100 rows a page, by default),
 * expanded output, and how many statements have failed (a script's exit code).
 *
 * Input: one complete statement or shell command (`StatementBuffer` makes them from lines).
 * Output: text written through a `ShellOutput`; the session never touches a terminal, a socket
 * (only its `CqlClient`) or the process. Errors print as `<Code>: <message>` and never end the
 * session; `execute` says what happened so the driver can decide (a script stops when the
 * server is unreachable, an interactive session goes on).
 *
 * Paging: with someone to ask (`ShellOutput.more`, interactive) each page is printed, then the
 * shell waits for `---MORE---`. Without (scripts), or with PAGING OFF, pages are fetched one after
 * another and printed in tables of at most `MAX_BUFFERED_ROWS` rows, so memory stays bounded.
 * A server that answers a page with the paging state it was sent would loop: that ends the result.
 */
import { homedir } from 'node:os';
import { readFile, stat } from 'node:fs/promises';
import { ConnectionFailure, CqlErrorResponse, type CqlClient, type CqlResponse } from './client.js';
import { parseShellCommand, type ConsistencyLevel, type PagingSetting, type ShellCommand } from './commands.js';
import { describe, DescribeError } from './describe.js';
import { formatTable, formatVertical, type ResultColumn, type ResultRow } from './format-table.js';
import { helpText } from './help.js';
import { DEFAULT_PAGE_SIZE, MAX_BUFFERED_ROWS, MAX_PAGE_SIZE, MAX_SCRIPT_BYTES, MAX_SOURCE_DEPTH } from './limits.js';
import { StatementBuffer, StatementTooLong } from './statement-buffer.js';

/** Where the session's text goes. Every string ends with a newline unless it is a prompt. */
export interface ShellOutput {
  out(text: string): void;
  err(text: string): void;
  /**
   * Present only when someone can answer: shows `---MORE---` and resolves true to fetch the
   * next page, false to stop the result there.
   */
  more?(): Promise<boolean>;
}

/**
 * - `ok`, `failed`: the statement ran, or failed (reported; the session goes on);
 * - `exit`: EXIT or QUIT;
 * - `unreachable`: the server could not be reached (reported; scripts stop).
 */
export type Outcome = 'ok' | 'failed' | 'exit' | 'unreachable';

export interface ShellSessionOptions {
  readonly client: CqlClient;
  readonly consistency?: ConsistencyLevel;
  /** Print each server response as one JSON line instead of tables (`--json`). */
  readonly json?: boolean;
  /** Reads a file for `SOURCE`; defaults to the file system, bounded by `MAX_SCRIPT_BYTES`. */
  readonly readFile?: (path: string) => Promise<string>;
}

export const CONTINUATION_PROMPT = '   ... ';

/** Reads a script file, refusing one larger than `MAX_SCRIPT_BYTES`; `~/` is the home directory. */
export async function readScriptFile(path: string): Promise<string> {
  const resolved = path.startsWith('~/') ? `${homedir()}${path.slice(1)}` : path;
  const info = await stat(resolved);
  if (info.size > MAX_SCRIPT_BYTES) throw new Error(`${path} is larger than ${MAX_SCRIPT_BYTES} bytes`);
  return readFile(resolved, 'utf8');
}

/** `SyntaxError: line 1:8 mismatched input …`: the position first, unless the message has it. */
export function formatServerError(e: CqlErrorResponse): string {
  const { line, column } = e.fields;
  const positioned = e.code === 'SyntaxError' && typeof line === 'number' && typeof column === 'number' && !/^line \d+:\d+/.test(e.message);
  return `${e.code}: ${positioned ? `line ${line}:${column} ` : ''}${e.message}`;
}

export class ShellSession {
  keyspace: string | null = null;
  consistency: ConsistencyLevel;
  pagingEnabled = true;
  pageSize = DEFAULT_PAGE_SIZE;
  expand = false;
  /** Statements and commands that failed so far: a script exits 1 when this is not 0. */
  failures = 0;

  private readonly client: CqlClient;
  private readonly json: boolean;
  private readonly readFile: (path: string) => Promise<string>;

  constructor(options: ShellSessionOptions) {
    this.client = options.client;
    this.consistency = options.consistency ?? 'ONE';
    this.json = options.json ?? false;
    this.readFile = options.readFile ?? readScriptFile;
  }

  get prompt(): string {
    return this.keyspace === null ? 'ringtail> ' : `ringtail:${this.keyspace}> `;
  }

  /** Runs one complete statement or shell command. */
  async execute(statement: string, io: ShellOutput, signal?: AbortSignal, sourceDepth = 0): Promise<Outcome> {
    const outcome = await this.dispatch(statement, io, signal, sourceDepth);
    if (outcome === 'failed' || outcome === 'unreachable') this.failures++;
    return outcome;
  }

  /**
   * Runs every statement in `lines` (a script, `SOURCE`, piped input), going on after one that
   * fails, like cqlsh. Stops at EXIT or when the server is unreachable, and returns that outcome;
   * otherwise `failed` if any statement failed.
   */
  async runLines(lines: Iterable<string> | AsyncIterable<string>, io: ShellOutput, signal?: AbortSignal, sourceDepth = 0): Promise<Outcome> {
    const buffer = new StatementBuffer();
    let failed = false;
    const run = async (statement: string): Promise<Outcome | null> => {
      const outcome = await this.execute(statement, io, signal, sourceDepth);
      if (outcome === 'exit' || outcome === 'unreachable') return outcome;
      if (outcome === 'failed') failed = true;
      return null;
    };
    for await (const line of lines) {
      let statements: string[];
      try {
        statements = buffer.push(line);
      } catch (e) {
        if (!(e instanceof StatementTooLong)) throw e;
        io.err(`Invalid: ${e.message}\n`);
        this.failures++;
        failed = true;
        continue;
      }
      for (const statement of statements) {
        const stop = await run(statement);
        if (stop !== null) return stop;
      }
    }
    const last = buffer.finish();
    if (last !== null) {
      const stop = await run(last);
      if (stop !== null) return stop;
    }
    return failed ? 'failed' : 'ok';
  }

  private async dispatch(statement: string, io: ShellOutput, signal: AbortSignal | undefined, sourceDepth: number): Promise<Outcome> {
    const command = parseShellCommand(statement);
    try {
      if (command === null) return await this.runCql(statement, io, signal);
      return await this.runCommand(command, io, signal, sourceDepth);
    } catch (e) {
      if (e instanceof CqlErrorResponse) {
        io.err(this.json ? `${JSON.stringify({ error: { code: e.code, message: e.message, ...e.fields } })}\n` : `${formatServerError(e)}\n`);
        return 'failed';
      }
      if (e instanceof ConnectionFailure) {
        io.err(e.reason === 'cancelled' ? 'Cancelled.\n' : `Connection error: ${e.message}\n`);
        return e.unreachable ? 'unreachable' : 'failed';
      }
      if (e instanceof DescribeError) {
        io.err(`Invalid: ${e.message}\n`);
        return 'failed';
      }
      throw e;
    }
  }

  private async runCommand(command: ShellCommand, io: ShellOutput, signal: AbortSignal | undefined, sourceDepth: number): Promise<Outcome> {
    switch (command.kind) {
      case 'consistency':
        if (command.level === null) io.out(`Current consistency level is ${this.consistency}.\n`);
        else {
          this.consistency = command.level;
          io.out(`Consistency level set to ${command.level}.\n`);
        }
        return 'ok';
      case 'paging':
        return this.setPaging(command.setting, io);
      case 'expand':
        if (command.on === null) io.out(this.expand ? 'Expanded output is currently enabled. Use EXPAND OFF to disable.\n' : 'Expanded output is currently disabled. Use EXPAND ON to enable.\n');
        else {
          this.expand = command.on;
          io.out(command.on ? 'Now Expanded output is enabled\n' : 'Disabled Expanded output.\n');
        }
        return 'ok';
      case 'tracing':
        io.out(command.on === false ? 'Disabled Tracing.\n' : 'Tracing is not supported yet: statements run without a trace.\n');
        return 'ok';
      case 'describe':
        io.out(describe(await this.client.schema(signal), command.target, this.keyspace));
        return 'ok';
      case 'help': {
        const text = helpText(command.topic);
        if (text === null) {
          io.err(`Invalid: no help topic '${command.topic}'; HELP lists them\n`);
          return 'failed';
        }
        io.out(text);
        return 'ok';
      }
      case 'exit':
        return 'exit';
      case 'source':
        return this.source(command.path, io, signal, sourceDepth);
      case 'clear':
        io.out('\x1b[2J\x1b[H');
        return 'ok';
      case 'usage':
        io.err(`Invalid: ${command.message}\n`);
        return 'failed';
    }
  }

  private setPaging(setting: PagingSetting, io: ShellOutput): Outcome {
    if (setting === 'show') {
      io.out(this.pagingEnabled ? `Query paging is currently enabled. Use PAGING OFF to disable\nPage size: ${this.pageSize}\n` : 'Query paging is currently disabled. Use PAGING ON to enable.\n');
    } else if (setting === 'off') {
      this.pagingEnabled = false;
      io.out('Disabled Query paging.\n');
    } else if (setting === 'on') {
      this.pagingEnabled = true;
      io.out(`Now Query paging is enabled\nPage size: ${this.pageSize}\n`);
    } else if (setting < 1 || setting > MAX_PAGE_SIZE) {
      io.err(`Invalid: page size must be between 1 and ${MAX_PAGE_SIZE}\n`);
      return 'failed';
    } else {
      this.pagingEnabled = true;
      this.pageSize = setting;
      io.out(`Page size: ${setting}\n`);
    }
    return 'ok';
  }

  private async source(path: string, io: ShellOutput, signal: AbortSignal | undefined, sourceDepth: number): Promise<Outcome> {
    if (sourceDepth >= MAX_SOURCE_DEPTH) {
      io.err(`Invalid: SOURCE nested more than ${MAX_SOURCE_DEPTH} deep\n`);
      return 'failed';
    }
    let text: string;
    try {
      text = await this.readFile(path);
    } catch (e) {
      io.err(`Invalid: could not read '${path}': ${(e as Error).message}\n`);
      return 'failed';
    }
    // The statements inside count their own failures; SOURCE itself did what it was asked.
    const outcome = await this.runLines(text.split(/\r?\n/), io, signal, sourceDepth + 1);
    return outcome === 'failed' ? 'ok' : outcome;
  }

  private async runCql(query: string, io: ShellOutput, signal: AbortSignal | undefined): Promise<Outcome> {
    const printer = new ResultPrinter(io, this.expand, this.json);
    const ask = this.pagingEnabled ? io.more?.bind(io) : undefined;
    let pagingState: string | null = null;
    try {
      for (;;) {
        const res: CqlResponse = await this.client.execute(
          { query, keyspace: this.keyspace, consistency: this.consistency, ...(this.pagingEnabled ? { pageSize: this.pageSize } : {}), pagingState },
          signal,
        );
        printer.page(res);
        if (res.kind === 'set_keyspace') this.keyspace = res.keyspace!;
        const next = res.kind === 'rows' ? res.paging_state : null;
        const hasMore = next !== null && next !== pagingState;
        if (ask !== undefined) {
          printer.flush();
          if (hasMore && !(await ask())) break;
        } else if (!hasMore || printer.bufferedRows >= MAX_BUFFERED_ROWS) {
          printer.flush();
        }
        if (!hasMore) break;
        pagingState = next;
      }
    } finally {
      // Rows already fetched are shown even when a later page fails.
      printer.finish();
    }
    return 'ok';
  }
}

/** Accumulates a result's pages and prints them as tables (or JSON lines), rows counted across pages. */
class ResultPrinter {
  private columns: readonly ResultColumn[] | undefined;
  private rows: ResultRow[] = [];
  private readonly warnings: string[] = [];
  private isRows = false;
  private rowsShown = 0;
  private chunks = 0;
  private conflicts = 0;

  constructor(
    private readonly io: ShellOutput,
    private readonly expand: boolean,
    private readonly json: boolean,
  ) {}

  get bufferedRows(): number {
    return this.rows.length;
  }

  page(res: CqlResponse): void {
    if (this.json) {
      this.io.out(`${JSON.stringify(res)}\n`);
      return;
    }
    for (const w of res.warnings) if (!this.warnings.includes(w)) this.warnings.push(w);
    this.conflicts += res.conflicts ?? 0;
    if (res.kind !== 'rows') return;
    this.isRows = true;
    this.columns = res.columns ?? this.columns;
    for (const row of res.rows ?? []) this.rows.push(row);
  }

  /** Prints the rows held so far (a page, or a chunk of a long result). */
  flush(): void {
    if (this.json || !this.isRows || (this.rows.length === 0 && this.chunks > 0)) return;
    // Interactive pages repeat the header (the page before scrolled away); script chunks do not.
    const lines = this.expand
      ? formatVertical(this.columns, this.rows, this.rowsShown + 1)
      : formatTable(this.columns, this.rows, { header: this.chunks === 0 || this.repeatHeader });
    if (lines.length > 0) this.io.out(`${this.chunks === 0 ? '\n' : ''}${lines.join('\n')}\n`);
    this.rowsShown += this.rows.length;
    this.rows = [];
    this.chunks++;
  }

  finish(): void {
    if (this.json) return;
    this.flush();
    if (this.isRows) this.io.out(`${this.expand ? '' : '\n'}(${this.rowsShown} rows)\n`);
    if (this.conflicts > 0) this.io.out(`\nConflicts: ${this.conflicts} concurrent row versions met while reading\n`);
    if (this.warnings.length > 0) this.io.out(`\nWarnings :\n${this.warnings.map((w) => `${w}\n`).join('\n')}\n`);
  }

  private get repeatHeader(): boolean {
    return this.io.more !== undefined;
  }
}
