/**
 * The shell's drivers: the only part that touches streams, the terminal and signals.
 *
 * - `runInteractive`: a REPL on `node:readline` (line editing and history when the streams are a
 *   terminal), primary prompt `ringtail[:ks]> `, continuation prompt `   ... `, `---MORE---`
 *   between pages. Ctrl-C drops the statement being typed, cancels a running one, or stops a
 *   paged result; Ctrl-D on an empty line, EXIT and QUIT leave. Errors never end it.
 * - `runScript`: `-e STATEMENTS`, `-f FILE` and piped input: every statement in order, every page
 *   of a result, on after a failure (like cqlsh), stopping when the server is unreachable.
 *   Exit code 0 when all succeeded, else 1.
 *
 * Bounds: lines typed ahead while a statement runs are queued (a human types few); statements
 * are bounded by `StatementBuffer`, history by `MAX_HISTORY_ENTRIES`.
 */
import { createInterface, type Interface } from 'node:readline';
import { loadHistory, saveHistory } from './history.js';
import { MAX_HISTORY_ENTRIES } from './limits.js';
import { CONTINUATION_PROMPT, type ShellOutput, type ShellSession } from './session.js';
import { StatementBuffer, StatementTooLong } from './statement-buffer.js';

export interface ShellStreams {
  readonly input: NodeJS.ReadableStream;
  readonly output: NodeJS.WritableStream;
  readonly error: NodeJS.WritableStream;
}

export interface InteractiveOptions {
  /** Line editing and history: input and output are a terminal. */
  readonly terminal: boolean;
  /** Where history persists; null keeps none. */
  readonly historyFile: string | null;
}

const INTERRUPTED = Symbol('interrupted');

/** Lines from readline, awaited one at a time; Ctrl-C can interrupt a wait. */
class LineQueue {
  private readonly queued: string[] = [];
  private waiter: ((line: string | null | typeof INTERRUPTED) => void) | null = null;
  private closed = false;

  constructor(rl: Interface) {
    rl.on('line', (line) => this.deliver(line));
    rl.on('close', () => {
      this.closed = true;
      this.deliver(null);
    });
  }

  get waiting(): boolean {
    return this.waiter !== null;
  }

  next(): Promise<string | null | typeof INTERRUPTED> {
    const line = this.queued.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  interrupt(): void {
    this.deliver(INTERRUPTED);
  }

  private deliver(line: string | null | typeof INTERRUPTED): void {
    const waiter = this.waiter;
    if (waiter !== null) {
      this.waiter = null;
      waiter(line);
    } else if (typeof line === 'string') {
      this.queued.push(line);
    }
  }
}

/** readline's own way to drop the line being edited and move below it (not in its typings). */
function abandonLine(rl: Interface, output: NodeJS.WritableStream): void {
  const internal = rl as unknown as { clearLine?: () => void };
  if (typeof internal.clearLine === 'function') internal.clearLine();
  else output.write('\n');
}

/** Runs the interactive shell until EXIT, QUIT or the end of input. */
export async function runInteractive(session: ShellSession, streams: ShellStreams, options: InteractiveOptions): Promise<void> {
  const rl = createInterface({
    input: streams.input,
    output: streams.output,
    terminal: options.terminal,
    history: options.historyFile === null ? [] : loadHistory(options.historyFile),
    historySize: MAX_HISTORY_ENTRIES,
    removeHistoryDuplicates: true,
  });
  let historyError = false;
  const persistHistory = (history: readonly string[]): void => {
    if (options.historyFile === null) return;
    try {
      saveHistory(options.historyFile, history);
    } catch (e) {
      if (!historyError) streams.error.write(`Cannot save history to ${options.historyFile}: ${(e as Error).message}\n`);
      historyError = true;
    }
  };
  rl.on('history', persistHistory);
  /** An answer to ---MORE--- is not worth recalling: readline recorded it, take it back. */
  const forgetAnswer = (answer: string): void => {
    const history = (rl as unknown as { history?: string[] }).history;
    if (answer.trim() === '' || history?.[0] !== answer) return;
    history.shift();
    persistHistory(history);
  };
  const lines = new LineQueue(rl);
  const buffer = new StatementBuffer();
  let running: AbortController | null = null;
  let inMore = false;
  const showPrompt = (): void => {
    rl.setPrompt(buffer.isEmpty ? session.prompt : CONTINUATION_PROMPT);
    rl.prompt();
  };
  rl.on('SIGINT', () => {
    if (inMore && lines.waiting) {
      lines.interrupt();
    } else if (running !== null) {
      running.abort();
    } else {
      buffer.clear();
      abandonLine(rl, streams.output);
      showPrompt();
    }
  });
  const io: ShellOutput = {
    out: (text) => streams.output.write(text),
    err: (text) => streams.error.write(text),
    more: async () => {
      rl.setPrompt('---MORE---');
      rl.prompt();
      inMore = true;
      try {
        const line = await lines.next();
        if (line === INTERRUPTED) streams.output.write('\n');
        if (typeof line === 'string') forgetAnswer(line);
        return typeof line === 'string' && line.trim().toLowerCase() !== 'q';
      } finally {
        inMore = false;
      }
    },
  };

  try {
    for (;;) {
      showPrompt();
      const line = await lines.next();
      if (line === null) break;
      if (line === INTERRUPTED) continue;
      let statements: string[];
      try {
        statements = buffer.push(line);
      } catch (e) {
        if (!(e instanceof StatementTooLong)) throw e;
        streams.error.write(`Invalid: ${e.message}\n`);
        continue;
      }
      for (const statement of statements) {
        running = new AbortController();
        const outcome = await session.execute(statement, io, running.signal).finally(() => {
          running = null;
        });
        if (outcome === 'exit') return;
      }
    }
    // Ctrl-D: leave the prompt's line, as a shell does.
    streams.output.write('\n');
  } finally {
    rl.close();
  }
}

/** Runs a script (`-e`, `-f`, piped input) without prompts; resolves with the exit code. */
export async function runScript(session: ShellSession, lines: Iterable<string> | AsyncIterable<string>, streams: Omit<ShellStreams, 'input'>): Promise<number> {
  const io: ShellOutput = { out: (text) => streams.output.write(text), err: (text) => streams.error.write(text) };
  const outcome = await session.runLines(lines, io);
  return outcome === 'unreachable' || session.failures > 0 ? 1 : 0;
}

/** The lines of a piped input stream, read as they come (a script may be longer than memory allows). */
export function inputLines(input: NodeJS.ReadableStream): { lines: AsyncIterable<string>; close: () => void } {
  const rl = createInterface({ input, terminal: false, crlfDelay: Number.POSITIVE_INFINITY });
  return { lines: rl, close: () => rl.close() };
}
