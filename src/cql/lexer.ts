/**
 * The CQL-lite lexer (SPEC 4), hand-written, and `splitStatements` for the shell.
 *
 * Cassandra concept: the token rules of Cassandra's `Lexer.g`. Keywords are not token kinds
 * here: every unquoted word is an `identifier` token whose `text` is folded to lower case, and
 * the parser decides whether a word is a keyword where it reads it (Cassandra's split between
 * reserved and unreserved keywords lives in parser.ts). Only the words that are literals in
 * every position become other kinds: `true`/`false` (boolean), `NaN`/`Infinity` (float).
 *
 * Tokens
 * - identifier `[A-Za-z][A-Za-z0-9_]*`, folded to lower case; quoted identifier `"…"` keeps its
 *   case, `""` inside stands for one `"`.
 * - string `'…'` (`''` stands for one `'`) or `$$…$$` (no escapes; ends at the first `$$`).
 * - integer `-?[0-9]+`; float: an integer with a fraction (`1.`, `1.5`) and/or an exponent
 *   (`1e-3`), or `NaN`, `Infinity`, `-NaN` (read as NaN), `-Infinity`. As in Cassandra, a
 *   `-` directly followed by a digit always starts a number, so `c = c -1` lexes as
 *   `c`, `=`, `c`, `-1` (the parser accepts that form).
 * - uuid `8-4-4-4-12` hex digits, unquoted, lower-cased; hex blob `0x[0-9a-f]*`, lower-cased.
 * - symbols `( ) [ ] { } , ; . * = != < <= > >= + - += -= : ?`. A named bind marker is the
 *   symbol `:` then an identifier: the parser joins them, so `{'k':now()}` still lexes.
 * - comments `-- …`, `// …` (to the end of the line) and `/* … *\/` (not nested) are skipped,
 *   as are spaces, tabs, CR, LF and form feeds.
 *
 * Positions: every token has a 1-based `line` and a 1-based `column` (UTF-16 code units from
 * the start of its line; LF ends a line), plus its `start`/`end` offsets in the text.
 *
 * Invariants and bounds: the lexer is lazy (one token per `next()`), never backtracks and
 * looks at most 36 characters ahead (a UUID), so lexing is linear in the text. Every malformed
 * input throws `CqlSyntaxError` (never another error); the caller bounds the text's length.
 */
import { CqlSyntaxError } from '../errors.js';

export type TokenKind =
  | 'identifier'
  | 'quoted_identifier'
  | 'string'
  | 'integer'
  | 'float'
  | 'boolean'
  | 'uuid'
  | 'hex'
  | 'symbol'
  | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /**
   * identifier: lower-cased; quoted identifier and string: the value with escapes resolved;
   * integer: as written; float: as written, or `NaN` / `Infinity` / `-Infinity`; boolean:
   * `true` / `false`; uuid and hex: lower-cased; symbol: the symbol; eof: ''.
   */
  readonly text: string;
  /** Offsets of the token's source text: `[start, end)`. */
  readonly start: number;
  readonly end: number;
  readonly line: number;
  readonly column: number;
}

/** Longest token source quoted in an error message; longer ones are cut with `...`. */
const MAX_QUOTED_SOURCE_CHARS = 40;

const CH_TAB = 9;
const CH_LF = 10;
const CH_FF = 12;
const CH_CR = 13;
const CH_SPACE = 32;
const CH_BANG = 33;
const CH_DQUOTE = 34;
const CH_DOLLAR = 36;
const CH_SQUOTE = 39;
const CH_STAR = 42;
const CH_PLUS = 43;
const CH_MINUS = 45;
const CH_DOT = 46;
const CH_SLASH = 47;
const CH_0 = 48;
const CH_9 = 57;
const CH_LT = 60;
const CH_EQ = 61;
const CH_GT = 62;
const CH_UNDERSCORE = 95;

function isDigit(c: number): boolean {
  return c >= CH_0 && c <= CH_9;
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isIdentifierPart(c: number): boolean {
  return isLetter(c) || isDigit(c) || c === CH_UNDERSCORE;
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

function isWhitespace(c: number): boolean {
  return c === CH_SPACE || c === CH_TAB || c === CH_LF || c === CH_CR || c === CH_FF;
}

/** Single-character symbols (the two-character ones are decided in `lexSymbol`). */
const SINGLE_SYMBOLS = new Set(['(', ')', '[', ']', '{', '}', ',', ';', '.', '*', '=', '<', '>', '+', '-', ':', '?']);

/** Dash positions of a UUID `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`. */
const UUID_LENGTH = 36;
const UUID_DASHES = [8, 13, 18, 23];

/** A token's source text as quoted in an error message: `'<EOF>'` at the end. */
export function describeToken(source: string, token: Token): string {
  if (token.kind === 'eof') return "'<EOF>'";
  return quoteSource(source.slice(token.start, token.end));
}

function quoteSource(raw: string): string {
  const cut = raw.length > MAX_QUOTED_SOURCE_CHARS ? `${raw.slice(0, MAX_QUOTED_SOURCE_CHARS)}...` : raw;
  return `'${cut}'`;
}

export class Lexer {
  private pos = 0;
  private line = 1;
  /** Offset of the first character of the current line. */
  private lineStart = 0;

  constructor(private readonly source: string) {}

  /** The next token; at the end, an `eof` token (again on every later call). */
  next(): Token {
    this.skipWhitespaceAndComments();
    const src = this.source;
    const start = this.pos;
    if (start >= src.length) return this.token('eof', '', start);
    const c = src.charCodeAt(start);

    if (c === CH_SQUOTE) return this.lexQuoted(start, "'", 'string');
    if (c === CH_DQUOTE) return this.lexQuoted(start, '"', 'quoted_identifier');
    if (c === CH_DOLLAR && src.charCodeAt(start + 1) === CH_DOLLAR) return this.lexDollarString(start);
    if (isHexDigit(c) && this.isUuidAt(start)) {
      this.pos = start + UUID_LENGTH;
      return this.token('uuid', src.slice(start, this.pos).toLowerCase(), start);
    }
    if (c === CH_0 && (src.charCodeAt(start + 1) | 0x20) === 0x78 /* x or X */) return this.lexHex(start);
    if (isDigit(c)) return this.lexNumber(start, start);
    if (isLetter(c)) return this.lexWord(start);
    if (c === CH_MINUS) {
      const after = src.charCodeAt(start + 1);
      if (isDigit(after)) return this.lexNumber(start, start + 1);
      const special = this.specialFloatAt(start + 1);
      if (special !== null) {
        this.pos = start + 1 + special.length;
        return this.token('float', special === 'NaN' ? 'NaN' : '-Infinity', start);
      }
    }
    return this.lexSymbol(start, c);
  }

  private token(kind: TokenKind, text: string, start: number): Token {
    return { kind, text, start, end: this.pos, line: this.line, column: start - this.lineStart + 1 };
  }

  /** A token that spans lines reports where it starts: call before `advanceLines`. */
  private tokenAt(kind: TokenKind, text: string, start: number, line: number, column: number): Token {
    return { kind, text, start, end: this.pos, line, column };
  }

  private error(message: string, offset: number): CqlSyntaxError {
    this.advanceLines(this.pos, offset);
    const line = this.line;
    const column = offset - this.lineStart + 1;
    return new CqlSyntaxError(`line ${line}:${column} ${message}`, line, column);
  }

  /** Counts the line breaks in `[from, to)` so positions after a multi-line token stay right. */
  private advanceLines(from: number, to: number): void {
    // A bounded loop, not indexOf: indexOf would scan past `to` to the next line break, which
    // makes a long one-line statement full of strings quadratic.
    const src = this.source;
    const end = Math.min(to, src.length);
    for (let i = from; i < end; i++) {
      if (src.charCodeAt(i) === CH_LF) {
        this.line++;
        this.lineStart = i + 1;
      }
    }
  }

  private skipWhitespaceAndComments(): void {
    const src = this.source;
    const n = src.length;
    let i = this.pos;
    while (i < n) {
      const c = src.charCodeAt(i);
      if (c === CH_LF) {
        i++;
        this.line++;
        this.lineStart = i;
      } else if (isWhitespace(c)) {
        i++;
      } else if ((c === CH_MINUS && src.charCodeAt(i + 1) === CH_MINUS) || (c === CH_SLASH && src.charCodeAt(i + 1) === CH_SLASH)) {
        const eol = src.indexOf('\n', i + 2);
        i = eol === -1 ? n : eol;
      } else if (c === CH_SLASH && src.charCodeAt(i + 1) === CH_STAR) {
        const close = src.indexOf('*/', i + 2);
        if (close === -1) {
          this.pos = i;
          throw this.error("mismatched character '<EOF>' expecting '*/'", n);
        }
        this.advanceLines(i, close);
        i = close + 2;
      } else {
        break;
      }
    }
    this.pos = i;
  }

  /** `'…'` with `''` escapes, or `"…"` with `""` escapes. */
  private lexQuoted(start: number, quote: "'" | '"', kind: 'string' | 'quoted_identifier'): Token {
    const src = this.source;
    const line = this.line;
    const column = start - this.lineStart + 1;
    let value = '';
    let from = start + 1;
    for (;;) {
      const close = src.indexOf(quote, from);
      if (close === -1) throw this.error(`mismatched character '<EOF>' expecting '${quote}'`, src.length);
      value += src.slice(from, close);
      if (src[close + 1] === quote) {
        value += quote;
        from = close + 2;
        continue;
      }
      this.pos = close + 1;
      break;
    }
    this.advanceLines(start, this.pos);
    return this.tokenAt(kind, value, start, line, column);
  }

  private lexDollarString(start: number): Token {
    const src = this.source;
    const line = this.line;
    const column = start - this.lineStart + 1;
    const close = src.indexOf('$$', start + 2);
    if (close === -1) throw this.error("mismatched character '<EOF>' expecting '$$'", src.length);
    this.pos = close + 2;
    this.advanceLines(start, this.pos);
    return this.tokenAt('string', src.slice(start + 2, close), start, line, column);
  }

  private isUuidAt(start: number): boolean {
    const src = this.source;
    if (start + UUID_LENGTH > src.length) return false;
    let dash = 0;
    for (let i = 0; i < UUID_LENGTH; i++) {
      const c = src.charCodeAt(start + i);
      if (i === UUID_DASHES[dash]) {
        if (c !== CH_MINUS) return false;
        dash++;
      } else if (!isHexDigit(c)) {
        return false;
      }
    }
    return true;
  }

  private lexHex(start: number): Token {
    const src = this.source;
    let i = start + 2;
    while (i < src.length && isHexDigit(src.charCodeAt(i))) i++;
    this.pos = i;
    return this.token('hex', src.slice(start, i).toLowerCase(), start);
  }

  /** `digitsFrom` is where the digits start (after an optional '-'). */
  private lexNumber(start: number, digitsFrom: number): Token {
    const src = this.source;
    const n = src.length;
    let i = digitsFrom;
    while (i < n && isDigit(src.charCodeAt(i))) i++;
    let isFloat = false;
    if (src.charCodeAt(i) === CH_DOT) {
      isFloat = true;
      i++;
      while (i < n && isDigit(src.charCodeAt(i))) i++;
    }
    if ((src.charCodeAt(i) | 0x20) === 0x65 /* e or E */) {
      let j = i + 1;
      const sign = src.charCodeAt(j);
      if (sign === CH_PLUS || sign === CH_MINUS) j++;
      if (isDigit(src.charCodeAt(j))) {
        while (j < n && isDigit(src.charCodeAt(j))) j++;
        i = j;
        isFloat = true;
      }
    }
    this.pos = i;
    return this.token(isFloat ? 'float' : 'integer', src.slice(start, i), start);
  }

  /** `NaN` or `Infinity` (any case) as a whole word at `at`, or null. */
  private specialFloatAt(at: number): 'NaN' | 'Infinity' | null {
    const src = this.source;
    for (const word of ['NaN', 'Infinity'] as const) {
      const end = at + word.length;
      if (end <= src.length && src.slice(at, end).toLowerCase() === word.toLowerCase() && !isIdentifierPart(src.charCodeAt(end))) {
        return word;
      }
    }
    return null;
  }

  private lexWord(start: number): Token {
    const src = this.source;
    let i = start + 1;
    while (i < src.length && isIdentifierPart(src.charCodeAt(i))) i++;
    this.pos = i;
    const word = src.slice(start, i).toLowerCase();
    switch (word) {
      case 'true':
      case 'false':
        return this.token('boolean', word, start);
      case 'nan':
        return this.token('float', 'NaN', start);
      case 'infinity':
        return this.token('float', 'Infinity', start);
      default:
        return this.token('identifier', word, start);
    }
  }

  private lexSymbol(start: number, c: number): Token {
    const src = this.source;
    const after = src.charCodeAt(start + 1);
    if (after === CH_EQ && (c === CH_LT || c === CH_GT || c === CH_BANG || c === CH_PLUS || c === CH_MINUS)) {
      this.pos = start + 2;
      return this.token('symbol', src.slice(start, start + 2), start);
    }
    const ch = src.charAt(start);
    if (!SINGLE_SYMBOLS.has(ch)) {
      // Quote the whole code point: a character outside the BMP is two UTF-16 units.
      const codePoint = String.fromCodePoint(src.codePointAt(start) ?? c);
      throw this.error(`no viable alternative at character ${quoteSource(codePoint)}`, start);
    }
    this.pos = start + 1;
    return this.token('symbol', ch, start);
  }
}

/** Every token of `source`, ending with the `eof` token. For tests and tools; the parser pulls lazily. */
export function tokenize(source: string): Token[] {
  const lexer = new Lexer(source);
  const tokens: Token[] = [];
  for (;;) {
    const token = lexer.next();
    tokens.push(token);
    if (token.kind === 'eof') return tokens;
  }
}

// #region splitStatements

/** Where a statement stands with respect to `BEGIN [UNLOGGED|COUNTER] BATCH … APPLY BATCH`. */
type BatchState = 'start' | 'after_begin' | 'after_type' | 'inside' | 'none';

/**
 * Splits shell input into complete statements and the incomplete rest.
 *
 * A statement ends at a `;` outside strings, quoted identifiers and comments, except that
 * between `BEGIN [UNLOGGED|COUNTER] BATCH` and `APPLY BATCH` the `;` separate the batch's inner
 * statements (as cqlsh does). Statements come back without their `;`, trimmed; those with
 * nothing but whitespace and comments are dropped. `rest` is the text after the last complete
 * statement, untrimmed (it may be an unterminated string or comment). Never throws; linear.
 */
export function splitStatements(text: string): { statements: string[]; rest: string } {
  const statements: string[] = [];
  const n = text.length;
  let statementStart = 0;
  let hasContent = false;
  let batch: BatchState = 'start';
  let previousWordWasApply = false;
  let i = 0;

  const seeOther = (): void => {
    hasContent = true;
    previousWordWasApply = false;
    if (batch !== 'inside') batch = 'none';
  };

  while (i < n) {
    const c = text.charCodeAt(i);
    if (isWhitespace(c)) {
      i++;
    } else if ((c === CH_MINUS && text.charCodeAt(i + 1) === CH_MINUS) || (c === CH_SLASH && text.charCodeAt(i + 1) === CH_SLASH)) {
      const eol = text.indexOf('\n', i + 2);
      i = eol === -1 ? n : eol + 1;
    } else if (c === CH_SLASH && text.charCodeAt(i + 1) === CH_STAR) {
      const close = text.indexOf('*/', i + 2);
      i = close === -1 ? n : close + 2;
    } else if (c === CH_SQUOTE || c === CH_DQUOTE) {
      seeOther();
      i = skipQuoted(text, i, c === CH_SQUOTE ? "'" : '"');
    } else if (c === CH_DOLLAR && text.charCodeAt(i + 1) === CH_DOLLAR) {
      seeOther();
      const close = text.indexOf('$$', i + 2);
      i = close === -1 ? n : close + 2;
    } else if (isIdentifierPart(c)) {
      let j = i + 1;
      while (j < n && isIdentifierPart(text.charCodeAt(j))) j++;
      const word = text.slice(i, j).toLowerCase();
      hasContent = true;
      batch = nextBatchState(batch, word, previousWordWasApply);
      previousWordWasApply = word === 'apply';
      i = j;
    } else if (c === 0x3b /* ; */) {
      if (batch === 'inside') {
        previousWordWasApply = false;
      } else {
        if (hasContent) statements.push(text.slice(statementStart, i).trim());
        statementStart = i + 1;
        hasContent = false;
        batch = 'start';
        previousWordWasApply = false;
      }
      i++;
    } else {
      seeOther();
      i++;
    }
  }
  return { statements, rest: text.slice(statementStart) };
}

function nextBatchState(state: BatchState, word: string, previousWordWasApply: boolean): BatchState {
  switch (state) {
    case 'start':
      return word === 'begin' ? 'after_begin' : 'none';
    case 'after_begin':
      if (word === 'batch') return 'inside';
      return word === 'unlogged' || word === 'counter' ? 'after_type' : 'none';
    case 'after_type':
      return word === 'batch' ? 'inside' : 'none';
    case 'inside':
      // After APPLY BATCH the next `;` ends the statement again.
      return previousWordWasApply && word === 'batch' ? 'none' : 'inside';
    case 'none':
      return 'none';
  }
}

/** The offset after a quoted run starting at `start` (doubled quotes inside), or the end. */
function skipQuoted(text: string, start: number, quote: "'" | '"'): number {
  let from = start + 1;
  for (;;) {
    const close = text.indexOf(quote, from);
    if (close === -1) return text.length;
    if (text[close + 1] === quote) {
      from = close + 2;
      continue;
    }
    return close + 1;
  }
}

// #endregion
