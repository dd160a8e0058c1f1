/**
 * Collects input lines into complete statements, as cqlsh does: a statement may span lines and
 * ends at a `;` outside strings and comments (the splitting itself is `splitStatements` in
 * src/cql/lexer.ts, so the shell and the server agree on where a statement ends). A shell command
 * typed on a line of its own needs no `;` (`EXIT`, `CONSISTENCY QUORUM`, `USE ks`), and neither
 * does one typed after the last statement on a line (`SELECT …; EXIT`).
 *
 * Invariants: `pending` holds no complete statement; it is '' whenever it holds only blanks and
 * comments, so the prompt goes back to the primary one after a comment line.
 *
 * Bounds: a statement longer than `MAX_STATEMENT_BYTES` is dropped (`StatementTooLong`).
 * Splitting rescans the pending text, so it runs only for lines holding a `;`, and inside a
 * `BEGIN BATCH` only once the word `batch` came again (its `APPLY BATCH`): the inner statements'
 * `;` cannot end it, and rescanning a long batch at each of them would be quadratic.
 */
import { splitStatements } from '../../cql/lexer.js';
import { isShellCommandLine } from './commands.js';
import { MAX_STATEMENT_BYTES } from './limits.js';

export class StatementTooLong extends Error {
  override readonly name = 'StatementTooLong';
  constructor(readonly limitBytes: number) {
    super(`statement longer than ${limitBytes} characters; it was discarded`);
  }
}

const BATCH_START = /^\s*begin\s+(?:(?:unlogged|counter)\s+)?batch\b/i;

/** Whether `text` is only blanks and complete comments (no unterminated string or comment). */
function isBlankCql(text: string): boolean {
  if (text.trim() === '') return true;
  // The `;` ends an empty statement only when it is outside every string and comment.
  const { statements, rest } = splitStatements(`${text}\n;`);
  return statements.length === 0 && rest === '';
}

/** Statements come out as `splitStatements` gives them: trimmed, without their `;`. */
function withoutTerminator(command: string): string {
  return command.trim().replace(/;\s*$/, '').trimEnd();
}

export class StatementBuffer {
  private pending = '';
  /** `pending` holds more than blanks and comments. */
  private hasContent = false;
  /** Inside `BEGIN BATCH`, the word `batch` came again: the next `;` may end the statement. */
  private batchMayEnd = false;

  constructor(private readonly maxStatementBytes = MAX_STATEMENT_BYTES) {}

  /** True between statements: the primary prompt, not the continuation one. */
  get isEmpty(): boolean {
    return this.pending === '';
  }

  /** Feeds one line (without its newline); returns the statements it completes, in order. */
  push(line: string): string[] {
    if (this.pending === '' && isShellCommandLine(line)) return [withoutTerminator(line)];
    if (this.pending.length + line.length + 1 > this.maxStatementBytes) {
      this.clear();
      throw new StatementTooLong(this.maxStatementBytes);
    }
    const inBatch = this.hasContent && BATCH_START.test(this.pending);
    if (inBatch && /batch/i.test(line)) this.batchMayEnd = true;
    this.pending += `${line}\n`;
    const out: string[] = [];
    if (line.includes(';') && (!inBatch || this.batchMayEnd)) {
      const { statements, rest } = splitStatements(this.pending);
      if (statements.length > 0 || rest.length < this.pending.length) {
        out.push(...statements);
        this.pending = rest;
        this.hasContent = false;
        this.batchMayEnd = false;
        if (statements.length > 0 && isShellCommandLine(rest)) {
          out.push(withoutTerminator(rest));
          this.pending = '';
        }
      }
    }
    if (!this.hasContent) {
      if (isBlankCql(this.pending)) this.pending = '';
      else this.hasContent = true;
    }
    return out;
  }

  /** At the end of input: the unterminated last statement, if it holds more than comments. */
  finish(): string | null {
    const rest = this.hasContent ? this.pending.trim() : '';
    this.clear();
    return rest === '' ? null : rest;
  }

  /** Drops the statement being typed (Ctrl-C). */
  clear(): void {
    this.pending = '';
    this.hasContent = false;
    this.batchMayEnd = false;
  }
}
