/**
 * The shared half of the CQL-lite recursive-descent parser: the token stream with bounded
 * look-ahead, Cassandra-style syntax errors, identifiers and keywords, bind markers, terms and
 * types. `parser.ts` builds the statements on top of it.
 *
 * Cassandra concept: the keyword split of Cassandra's `Parser.g`. A reserved keyword
 * (`RESERVED_KEYWORDS`, Cassandra's list) is never an identifier unless double-quoted; every
 * other keyword (`key`, `ttl`, `writetime`, `count`, `type`, `timestamp`, `values`, `json`,
 * `static`, `frozen`, `distinct`, `as`, the type names, …) is a keyword only where the grammar
 * expects it and an identifier everywhere else.
 *
 * Invariants
 * - Bind markers are numbered 0-based in order of appearance across the whole statement
 *   (one `markers` list per parse, shared by the statements of a BATCH).
 * - Errors a client sees: `CqlSyntaxError` (line and column of the offending token, 1-based,
 *   and a message in ANTLR's words: `line L:C mismatched input 'X' expecting Y`, `line L:C no
 *   viable alternative at input 'X'`), or `InvalidRequest` for statements that parse but cannot
 *   mean anything (`c = d + 1`). An `InvalidRequest` found mid-statement is kept and thrown only
 *   once the whole statement parsed, so a later syntax error wins, as in Cassandra.
 *
 * Bounds: terms, types and selector functions nest at most `MAX_NESTING_DEPTH` levels (so
 * recursion depth is bounded, whatever the input); look-ahead is at most
 * `MAX_LOOKAHEAD_TOKENS`; at most `MAX_BIND_MARKERS` markers per statement (the native
 * protocol's limit). The statement's length is bounded by `parse` (`MAX_STATEMENT_CHARS`).
 */
import { CqlSyntaxError, InvalidRequest } from '../errors.js';
import { assert } from '../util/assert.js';
import type { BindMarker, MapEntry, Term, TypeExpr } from './ast.js';
import { describeToken, Lexer, type Token } from './lexer.js';

/** Longest statement text `parse` accepts, in UTF-16 code units (1 MiB). */
export const MAX_STATEMENT_CHARS = 1024 * 1024;
/** Deepest nesting of terms, types and selector functions. */
export const MAX_NESTING_DEPTH = 64;
/** Most bind markers in one statement (a prepared statement's limit in Cassandra). */
export const MAX_BIND_MARKERS = 65_535;
/** Most tokens any rule looks ahead of the current one (plus the current one). */
const MAX_LOOKAHEAD_TOKENS = 3;

/** Cassandra's reserved keywords: identifiers only when double-quoted. */
export const RESERVED_KEYWORDS: ReadonlySet<string> = new Set([
  'add', 'allow', 'alter', 'and', 'apply', 'asc', 'authorize', 'batch', 'begin', 'by',
  'columnfamily', 'create', 'delete', 'desc', 'describe', 'drop', 'entries', 'execute', 'from',
  'full', 'grant', 'if', 'in', 'index', 'infinity', 'insert', 'into', 'is', 'keyspace', 'limit',
  'materialized', 'modify', 'nan', 'norecursive', 'not', 'null', 'of', 'on', 'or', 'order',
  'primary', 'rename', 'revoke', 'schema', 'select', 'set', 'table', 'to', 'token', 'truncate',
  'unlogged', 'update', 'use', 'using', 'view', 'where', 'with',
]);

/** Cassandra's native type names (`varchar` is kept as written: an alias the planner resolves). */
export const NATIVE_TYPE_NAMES: ReadonlySet<string> = new Set([
  'ascii', 'bigint', 'blob', 'boolean', 'counter', 'date', 'decimal', 'double', 'duration',
  'float', 'inet', 'int', 'smallint', 'text', 'time', 'timestamp', 'timeuuid', 'tinyint', 'uuid',
  'varchar', 'varint',
]);

/** Reserved keywords that may still name a function (`token(k)`). */
const RESERVED_FUNCTION_NAMES: ReadonlySet<string> = new Set(['token']);

const OPERATORS: ReadonlySet<string> = new Set(['=', '!=', '<', '<=', '>', '>=']);

export type OperatorSymbol = '=' | '!=' | '<' | '<=' | '>' | '>=';

export class ParserBase {
  private readonly lexer: Lexer;
  /** Tokens read from the lexer but not consumed yet; at most MAX_LOOKAHEAD_TOKENS. */
  private readonly lookahead: Token[] = [];
  private depth = 0;
  private deferredInvalid: InvalidRequest | null = null;
  /** Names of the bind markers so far (null for `?`), in index order. */
  protected readonly markers: (string | null)[] = [];
  /** Set while parsing schema statements, where bind markers are not allowed. */
  protected inDdl = false;

  constructor(protected readonly source: string) {
    this.lexer = new Lexer(source);
  }

  // ---- the token stream ----------------------------------------------------------------------

  protected peek(ahead = 0): Token {
    assert(ahead < MAX_LOOKAHEAD_TOKENS, `parser looks ${ahead} tokens ahead (at most ${MAX_LOOKAHEAD_TOKENS - 1})`);
    while (this.lookahead.length <= ahead) this.lookahead.push(this.lexer.next());
    return this.lookahead[ahead]!;
  }

  protected advance(): Token {
    const token = this.peek();
    if (token.kind !== 'eof') this.lookahead.shift();
    return token;
  }

  protected atKeyword(keyword: string, ahead = 0): boolean {
    const token = this.peek(ahead);
    return token.kind === 'identifier' && token.text === keyword;
  }

  protected acceptKeyword(keyword: string): boolean {
    if (!this.atKeyword(keyword)) return false;
    this.advance();
    return true;
  }

  protected expectKeyword(keyword: string): Token {
    if (!this.atKeyword(keyword)) throw this.mismatched(this.peek(), keyword.toUpperCase());
    return this.advance();
  }

  protected atSymbol(symbol: string, ahead = 0): boolean {
    const token = this.peek(ahead);
    return token.kind === 'symbol' && token.text === symbol;
  }

  protected acceptSymbol(symbol: string): boolean {
    if (!this.atSymbol(symbol)) return false;
    this.advance();
    return true;
  }

  protected expectSymbol(symbol: string): Token {
    if (!this.atSymbol(symbol)) throw this.mismatched(this.peek(), `'${symbol}'`);
    return this.advance();
  }

  // ---- errors --------------------------------------------------------------------------------

  protected syntaxError(token: Token, message: string): CqlSyntaxError {
    return new CqlSyntaxError(`line ${token.line}:${token.column} ${message}`, token.line, token.column);
  }

  protected mismatched(token: Token, expecting: string): CqlSyntaxError {
    return this.syntaxError(token, `mismatched input ${describeToken(this.source, token)} expecting ${expecting}`);
  }

  protected noViableAlternative(token: Token): CqlSyntaxError {
    return this.syntaxError(token, `no viable alternative at input ${describeToken(this.source, token)}`);
  }

  /** Records a statement that parses but is invalid; thrown by `finish` if no syntax error follows. */
  protected deferInvalid(message: string): void {
    this.deferredInvalid ??= new InvalidRequest(message);
  }

  /** After the statement: only an optional `;`, then the end. */
  protected finish(): void {
    this.acceptSymbol(';');
    const token = this.peek();
    if (token.kind !== 'eof') throw this.mismatched(token, 'EOF');
    if (this.deferredInvalid !== null) throw this.deferredInvalid;
  }

  protected enterNested(token: Token): void {
    this.depth++;
    if (this.depth > MAX_NESTING_DEPTH) throw this.syntaxError(token, `nesting too deep (more than ${MAX_NESTING_DEPTH} levels)`);
  }

  protected leaveNested(): void {
    this.depth--;
  }

  // ---- identifiers ---------------------------------------------------------------------------

  /** An identifier in the grammar's sense: a quoted name, or a word that is not reserved. */
  protected isIdentifier(token: Token): boolean {
    return token.kind === 'quoted_identifier' || (token.kind === 'identifier' && !RESERVED_KEYWORDS.has(token.text));
  }

  /**
   * A column, alias, property or marker name. `allowEmpty` admits `""`, which Cassandra
   * accepts where an existing column is named (the planner then finds no such column).
   */
  protected identifier(allowEmpty = false): string {
    const token = this.peek();
    if (!this.isIdentifier(token) || (!allowEmpty && token.text === '')) throw this.noViableAlternative(token);
    this.advance();
    return token.text;
  }

  /** A keyspace or table name (never a bind marker, never empty). */
  protected objectName(what: 'keyspace' | 'table'): string {
    const token = this.peek();
    if (token.kind === 'symbol' && (token.text === '?' || token.text === ':')) {
      throw this.syntaxError(token, `Bind variables cannot be used for ${what} names`);
    }
    return this.identifier(false);
  }

  /** The start of a function call: a name that may call, then `(`. */
  protected atFunctionCall(ahead = 0): boolean {
    const token = this.peek(ahead);
    const callable =
      token.kind === 'quoted_identifier' ||
      (token.kind === 'identifier' && (!RESERVED_KEYWORDS.has(token.text) || RESERVED_FUNCTION_NAMES.has(token.text)));
    return callable && this.atSymbol('(', ahead + 1);
  }

  protected operator(): OperatorSymbol {
    const token = this.peek();
    if (token.kind !== 'symbol' || !OPERATORS.has(token.text)) throw this.noViableAlternative(token);
    this.advance();
    return token.text as OperatorSymbol;
  }

  // ---- bind markers and terms ----------------------------------------------------------------

  protected atBindMarker(): boolean {
    return this.atSymbol('?') || this.atSymbol(':');
  }

  /** `?` or `:name`. */
  protected bindMarker(): BindMarker {
    const token = this.advance();
    if (this.inDdl) throw this.syntaxError(token, 'bind variables are not supported in DDL queries');
    let name: string | null = null;
    if (token.text === ':') name = this.identifier(true);
    else if (token.text !== '?') throw this.noViableAlternative(token);
    if (this.markers.length >= MAX_BIND_MARKERS) {
      throw new InvalidRequest(`Too many markers(more than ${MAX_BIND_MARKERS}) in a single statement`);
    }
    this.markers.push(name);
    return { kind: 'bind', index: this.markers.length - 1, name };
  }

  /** A value: constant, `null`, bind marker, collection or tuple literal, or function call. */
  protected term(): Term {
    const token = this.peek();
    switch (token.kind) {
      case 'string':
        this.advance();
        return { kind: 'string', value: token.text };
      case 'integer':
        this.advance();
        return { kind: 'integer', text: token.text };
      case 'float':
        this.advance();
        return { kind: 'float', text: token.text };
      case 'boolean':
        this.advance();
        return { kind: 'boolean', value: token.text === 'true' };
      case 'uuid':
        this.advance();
        return { kind: 'uuid', text: token.text };
      case 'hex':
        this.advance();
        return { kind: 'hex', text: token.text };
      case 'symbol':
        return this.symbolTerm(token);
      case 'identifier':
      case 'quoted_identifier':
        if (token.kind === 'identifier' && token.text === 'null') {
          this.advance();
          return { kind: 'null' };
        }
        if (this.atFunctionCall()) return this.functionCall();
        break;
      case 'eof':
        break;
    }
    throw this.noViableAlternative(token);
  }

  private symbolTerm(token: Token): Term {
    switch (token.text) {
      case '?':
      case ':':
        return this.bindMarker();
      case '[':
        return this.nested(token, () => ({ kind: 'list', elements: this.termList('[', ']', true) }));
      case '{':
        return this.nested(token, () => this.setOrMapLiteral());
      case '(':
        return this.nested(token, () => ({ kind: 'tuple', elements: this.termList('(', ')', false) }));
      default:
        throw this.noViableAlternative(token);
    }
  }

  protected nested<T>(token: Token, parse: () => T): T {
    this.enterNested(token);
    const result = parse();
    this.leaveNested();
    return result;
  }

  /** `open term (, term)* close`; empty only if `allowEmpty`. */
  protected termList(open: string, close: string, allowEmpty: boolean): Term[] {
    this.expectSymbol(open);
    const elements: Term[] = [];
    if (allowEmpty && this.acceptSymbol(close)) return elements;
    do elements.push(this.term());
    while (this.acceptSymbol(','));
    this.expectSymbol(close);
    return elements;
  }

  /** `{}` (an empty map), `{k: v, …}` or `{e, …}`. */
  private setOrMapLiteral(): Term {
    this.expectSymbol('{');
    if (this.acceptSymbol('}')) return { kind: 'map', entries: [] };
    const first = this.term();
    if (!this.atSymbol(':')) {
      const elements = [first];
      while (this.acceptSymbol(',')) elements.push(this.term());
      this.expectSymbol('}');
      return { kind: 'set', elements };
    }
    return { kind: 'map', entries: this.mapEntries(first) };
  }

  /** The rest of a map literal after its first key, through the closing `}`. */
  protected mapEntries(firstKey: Term): MapEntry[] {
    this.expectSymbol(':');
    const entries: MapEntry[] = [{ key: firstKey, value: this.term() }];
    while (this.acceptSymbol(',')) {
      const key = this.term();
      this.expectSymbol(':');
      entries.push({ key, value: this.term() });
    }
    this.expectSymbol('}');
    return entries;
  }

  /** `name(args)`; the name lower-cased unless quoted. */
  private functionCall(): Term {
    const nameToken = this.advance();
    return this.nested(nameToken, () => ({ kind: 'function', name: nameToken.text, args: this.termList('(', ')', true) }));
  }

  /** An integer constant or a bind marker (LIMIT, TTL, TIMESTAMP). */
  protected intValue(): Term {
    const token = this.peek();
    if (token.kind === 'integer') {
      this.advance();
      return { kind: 'integer', text: token.text };
    }
    if (this.atBindMarker()) return this.bindMarker();
    throw this.noViableAlternative(token);
  }

  // ---- types ---------------------------------------------------------------------------------

  protected type(): TypeExpr {
    const token = this.peek();
    return this.nested(token, () => this.typeAt(token));
  }

  private typeAt(token: Token): TypeExpr {
    if (token.kind === 'identifier') {
      switch (token.text) {
        case 'list':
        case 'set': {
          this.advance();
          this.expectSymbol('<');
          const element = this.type();
          this.expectSymbol('>');
          return { kind: token.text, element };
        }
        case 'map': {
          this.advance();
          this.expectSymbol('<');
          const key = this.type();
          this.expectSymbol(',');
          const value = this.type();
          this.expectSymbol('>');
          return { kind: 'map', key, value };
        }
        case 'frozen': {
          this.advance();
          this.expectSymbol('<');
          const inner = this.type();
          this.expectSymbol('>');
          return { kind: 'frozen', inner };
        }
        default:
          if (NATIVE_TYPE_NAMES.has(token.text)) {
            this.advance();
            return { kind: 'native', name: token.text };
          }
      }
    }
    if (this.isIdentifier(token) && token.text !== '') {
      // Cassandra would look for a user-defined type of that name; there are none here.
      this.advance();
      this.deferInvalid(`Unknown type ${token.text}`);
      return { kind: 'native', name: token.text };
    }
    throw this.noViableAlternative(token);
  }
}
