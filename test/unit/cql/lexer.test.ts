import { describe, expect, it } from 'vitest';
import { CqlSyntaxError } from '../../../src/errors.js';
import { Lexer, splitStatements, tokenize, type Token } from '../../../src/cql/lexer.js';

function kinds(source: string): string[] {
  return tokenize(source).map((t) => `${t.kind}:${t.text}`);
}

function lexError(source: string): CqlSyntaxError {
  try {
    tokenize(source);
  } catch (e) {
    expect(e).toBeInstanceOf(CqlSyntaxError);
    return e as CqlSyntaxError;
  }
  throw new Error(`expected a syntax error for ${JSON.stringify(source)}`);
}

describe('splitStatements', () => {
  it.each<[string, string, string[], string]>([
    ['empty input', '', [], ''],
    ['one complete statement', 'SELECT * FROM t;', ['SELECT * FROM t'], ''],
    ['no semicolon yet', 'SELECT * FROM t', [], 'SELECT * FROM t'],
    ['two statements and a rest', 'USE ks; SELECT 1 FROM t;  SELECT', ['USE ks', 'SELECT 1 FROM t'], '  SELECT'],
    ['multi-line statement', 'SELECT *\n  FROM t\n  WHERE a = 1\n;\n', ['SELECT *\n  FROM t\n  WHERE a = 1'], '\n'],
    ['empty statements dropped', ' ; ;;\n;', [], ''],
    ['comment-only statement dropped', '-- just a note\n;', [], ''],
    ['; inside a string', "INSERT INTO t (a) VALUES ('x;y');", ["INSERT INTO t (a) VALUES ('x;y')"], ''],
    ["; inside a string with '' escapes", "SELECT 'it''s;' FROM t;", ["SELECT 'it''s;' FROM t"], ''],
    ['; inside a $$ string', 'SELECT $$a;b$$ FROM t;', ['SELECT $$a;b$$ FROM t'], ''],
    ['; inside a quoted identifier', 'SELECT "a;""b" FROM t;', ['SELECT "a;""b" FROM t'], ''],
    ['; inside a -- comment', 'SELECT * -- no; not yet\nFROM t;', ['SELECT * -- no; not yet\nFROM t'], ''],
    ['; inside a // comment', 'SELECT * // x;\nFROM t;', ['SELECT * // x;\nFROM t'], ''],
    ['; inside a block comment', 'SELECT /* a;\n b; */ * FROM t;', ['SELECT /* a;\n b; */ * FROM t'], ''],
    ['unterminated string is the rest', "USE ks; INSERT INTO t (a) VALUES ('x;", ['USE ks'], " INSERT INTO t (a) VALUES ('x;"],
    ["unterminated string ending in ''", "SELECT 'a'';", [], "SELECT 'a'';"],
    ['unterminated block comment is the rest', 'USE ks; /* x; ', ['USE ks'], ' /* x; '],
    ['unterminated $$ string is the rest', 'SELECT $$;', [], 'SELECT $$;'],
    ['unterminated quoted identifier is the rest', 'SELECT "a;', [], 'SELECT "a;'],
    ['line comment without newline', 'USE ks; -- bye;', ['USE ks'], ' -- bye;'],
    ['garbage characters do not throw', 'SELECT # @ ! ;x', ['SELECT # @ !'], 'x'],
    ['comment then statement keeps the comment', '-- hi\nUSE ks;', ['-- hi\nUSE ks'], ''],
  ])('%s', (_name, input, statements, rest) => {
    expect(splitStatements(input)).toEqual({ statements, rest });
  });

  it('keeps the inner statements of a batch together', () => {
    const input = 'BEGIN BATCH\n  INSERT INTO t (a) VALUES (1);\n  UPDATE t SET b = 2 WHERE a = 1;\nAPPLY BATCH;\nSELECT * FROM t;';
    expect(splitStatements(input)).toEqual({
      statements: ['BEGIN BATCH\n  INSERT INTO t (a) VALUES (1);\n  UPDATE t SET b = 2 WHERE a = 1;\nAPPLY BATCH', 'SELECT * FROM t'],
      rest: '',
    });
  });

  it.each([
    ['an unlogged batch', 'begin unlogged batch insert into t (a) values (1); apply batch;'],
    ['a counter batch', 'BEGIN COUNTER BATCH UPDATE c SET n = n + 1 WHERE k = 1; APPLY BATCH;'],
    ['a batch with USING', 'BEGIN BATCH USING TIMESTAMP 5 DELETE FROM t WHERE a = 1; APPLY BATCH;'],
    ['a comment between APPLY and BATCH', 'BEGIN BATCH INSERT INTO t (a) VALUES (1); APPLY /* c; */ BATCH;'],
  ])('splits %s as one statement', (_name, input) => {
    const { statements, rest } = splitStatements(input);
    expect(statements).toEqual([input.slice(0, -1)]);
    expect(rest).toBe('');
  });

  it('waits for APPLY BATCH before a batch is complete', () => {
    const input = 'BEGIN BATCH\nINSERT INTO t (a) VALUES (1);\n';
    expect(splitStatements(input)).toEqual({ statements: [], rest: input });
    expect(splitStatements(`${input}APPLY BATCH`)).toEqual({ statements: [], rest: `${input}APPLY BATCH` });
  });

  it('does not treat other statements starting with BEGIN as batches', () => {
    expect(splitStatements('BEGIN; BEGIN TRANSACTION; x')).toEqual({ statements: ['BEGIN', 'BEGIN TRANSACTION'], rest: ' x' });
    // A quoted "apply" is an identifier, not the keyword.
    expect(splitStatements('BEGIN BATCH "apply" batch; x').statements).toEqual([]);
  });

  it('is linear on long input', () => {
    const input = `${"INSERT INTO t (a, b) VALUES (1, 'x;y'); ".repeat(20_000)}SELECT`;
    const t0 = performance.now();
    const { statements, rest } = splitStatements(input);
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(statements).toHaveLength(20_000);
    expect(rest).toBe(' SELECT');
  });
});

describe('lexer', () => {
  it.each<[string, string, string[]]>([
    ['keywords and identifiers fold to lower case', 'SELECT Foo FROM bAr', ['identifier:select', 'identifier:foo', 'identifier:from', 'identifier:bar', 'eof:']],
    ['quoted identifiers keep case, "" escapes', '"MyCol" "a""b" ""', ['quoted_identifier:MyCol', 'quoted_identifier:a"b', 'quoted_identifier:', 'eof:']],
    ['strings with \'\' escapes', "'it''s' '' 'a\"b'", ["string:it's", 'string:', 'string:a"b', 'eof:']],
    ['$$ strings keep everything', "$$it's $ a ''$$ $$$$", ["string:it's $ a ''", 'string:', 'eof:']],
    ['integers, negative ones', '0 42 -7 007', ['integer:0', 'integer:42', 'integer:-7', 'integer:007', 'eof:']],
    ['floats', '1.5 -0.25 1. 2e10 3E-2 -4.5e+3 1.e5', ['float:1.5', 'float:-0.25', 'float:1.', 'float:2e10', 'float:3E-2', 'float:-4.5e+3', 'float:1.e5', 'eof:']],
    ['NaN and Infinity in any case', 'NaN nan -NaN Infinity INFINITY -Infinity -infinity', ['float:NaN', 'float:NaN', 'float:NaN', 'float:Infinity', 'float:Infinity', 'float:-Infinity', 'float:-Infinity', 'eof:']],
    ['an exponent without digits is not one', '1e x', ['integer:1', 'identifier:e', 'identifier:x', 'eof:']],
    ['booleans', 'true FALSE True', ['boolean:true', 'boolean:false', 'boolean:true', 'eof:']],
    ['uuids, lower-cased', '123e4567-E89B-12d3-a456-426614174000 deadbeef-0000-0000-0000-000000000000', ['uuid:123e4567-e89b-12d3-a456-426614174000', 'uuid:deadbeef-0000-0000-0000-000000000000', 'eof:']],
    ['blobs', '0xCAFE 0x 0X01', ['hex:0xcafe', 'hex:0x', 'hex:0x01', 'eof:']],
    ['bind markers', '? :name :"Q"', ['symbol:?', 'symbol::', 'identifier:name', 'symbol::', 'quoted_identifier:Q', 'eof:']],
    ['punctuation', '( ) [ ] { } , ; . * = != < <= > >= + - += -= :', ['symbol:(', 'symbol:)', 'symbol:[', 'symbol:]', 'symbol:{', 'symbol:}', 'symbol:,', 'symbol:;', 'symbol:.', 'symbol:*', 'symbol:=', 'symbol:!=', 'symbol:<', 'symbol:<=', 'symbol:>', 'symbol:>=', 'symbol:+', 'symbol:-', 'symbol:+=', 'symbol:-=', 'symbol::', 'eof:']],
    ['a minus before a digit starts a number', 'c = c -1', ['identifier:c', 'symbol:=', 'identifier:c', 'integer:-1', 'eof:']],
    ['a minus before a space is a symbol', 'c = c - 1', ['identifier:c', 'symbol:=', 'identifier:c', 'symbol:-', 'integer:1', 'eof:']],
    ['qualified names', 'ks.t', ['identifier:ks', 'symbol:.', 'identifier:t', 'eof:']],
    ['nested closing angles are separate', 'map<int,frozen<list<int>>>', ['identifier:map', 'symbol:<', 'identifier:int', 'symbol:,', 'identifier:frozen', 'symbol:<', 'identifier:list', 'symbol:<', 'identifier:int', 'symbol:>', 'symbol:>', 'symbol:>', 'eof:']],
    ['comments are skipped', 'a -- x\nb // y\nc /* z\n */ d', ['identifier:a', 'identifier:b', 'identifier:c', 'identifier:d', 'eof:']],
    ['identifiers may hold digits and underscores', 'a_1 B2c', ['identifier:a_1', 'identifier:b2c', 'eof:']],
  ])('%s', (_name, source, expected) => {
    expect(kinds(source)).toEqual(expected);
  });

  it('gives 1-based lines and columns, also after multi-line tokens', () => {
    const source = "SELECT a,\n  'x\ny' , /* c\nc */ b\n\t\"q\"";
    const at = (t: Token): string => `${t.text}@${t.line}:${t.column}`;
    expect(tokenize(source).map(at)).toEqual(['select@1:1', 'a@1:8', ',@1:9', 'x\ny@2:3', ',@3:4', 'b@4:6', 'q@5:2', '@5:5']);
  });

  it('records offsets of each token', () => {
    const [a, b] = tokenize("  'ab''c' x");
    expect(a).toMatchObject({ start: 2, end: 9 });
    expect(b).toMatchObject({ start: 10, end: 11 });
  });

  it('keeps returning eof at the end', () => {
    const lexer = new Lexer('x');
    expect(lexer.next().kind).toBe('identifier');
    expect(lexer.next().kind).toBe('eof');
    expect(lexer.next().kind).toBe('eof');
  });

  it.each<[string, string, number, number]>([
    ['unterminated string', "SELECT 'abc", 1, 12],
    ['unterminated string over lines', "SELECT 'a\nbc", 2, 3],
    ['unterminated quoted identifier', 'SELECT "ab', 1, 11],
    ['unterminated $$ string', 'x $$ab\n', 2, 1],
    ['unterminated block comment', 'a /* b\n c', 2, 3],
    ['unknown character', 'SELECT #', 1, 8],
    ['unknown character on a later line', 'a\n  b @', 2, 5],
    ['a lone bang', 'a ! b', 1, 3],
    ['a lone dollar', 'a $ b', 1, 3],
    ['an underscore cannot start an identifier', '_a', 1, 1],
    ['non-ASCII letters', 'caf\u00e9', 1, 4],
  ])('%s is a syntax error at its position', (_name, source, line, column) => {
    const e = lexError(source);
    expect({ line: e.line, column: e.column }).toEqual({ line, column });
    expect(e.message.startsWith(`line ${line}:${column} `)).toBe(true);
  });

  it('names the missing character in an unterminated string', () => {
    expect(lexError("'abc").message).toBe("line 1:5 mismatched character '<EOF>' expecting '''");
    expect(lexError('a ~').message).toBe("line 1:3 no viable alternative at character '~'");
  });

  it('quotes a whole code point for characters outside the BMP', () => {
    expect(lexError('a \u{1F600}').message).toBe("line 1:3 no viable alternative at character '\u{1F600}'");
  });
});
