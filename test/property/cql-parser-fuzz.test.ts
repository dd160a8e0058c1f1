/**
 * Fuzzing the CQL-lite parser: whatever the text, `parse` returns a ParsedStatement or throws
 * CqlSyntaxError (with a positive line and column inside the text) or InvalidRequest, never
 * anything else; and every statement from a generator of valid CQL-lite parses, with one
 * marker per `?`/`:name` in order.
 *
 * Inputs (102,000 by default): random strings over a CQL-ish alphabet and over all of
 * Unicode, valid statements (random keyword case, whitespace and comments between tokens),
 * and valid statements mutated (a token deleted, duplicated, swapped with another, replaced by
 * random characters, or the text truncated).
 *
 * Replay a failure with the seed and path fast-check prints, naming the property:
 *   FC_SEED=<seed> FC_PATH=<path> npx vitest run test/property/cql-parser-fuzz.test.ts -t '<name>'
 * FC_RUNS=<n> sets the number of runs of every property.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { parse } from '../../src/cql/parser.js';
import type { ParsedStatement } from '../../src/cql/ast.js';
import { CqlSyntaxError, InvalidRequest } from '../../src/errors.js';

const env = process.env;

function runConfig(defaultRuns: number): fc.Parameters<unknown> {
  return {
    numRuns: env['FC_RUNS'] !== undefined ? Number(env['FC_RUNS']) : defaultRuns,
    ...(env['FC_SEED'] !== undefined ? { seed: Number(env['FC_SEED']) } : {}),
    ...(env['FC_PATH'] !== undefined ? { path: env['FC_PATH'] } : {}),
  };
}

// ---- the outcome check ---------------------------------------------------------------------------

/** Parses `text`; fails unless the outcome is a statement or one of the two client errors, well placed. */
function parseOutcome(text: string): ParsedStatement | CqlSyntaxError | InvalidRequest {
  try {
    return parse(text);
  } catch (e) {
    if (e instanceof InvalidRequest) return e;
    if (!(e instanceof CqlSyntaxError)) throw new Error(`parse threw ${String(e)} for ${JSON.stringify(text)}`, { cause: e });
    checkPosition(text, e);
    return e;
  }
}

function checkPosition(text: string, e: CqlSyntaxError): void {
  const { line, column } = e;
  if (!Number.isInteger(line) || !Number.isInteger(column) || line < 1 || column < 1) {
    throw new Error(`bad position ${line}:${column} for ${JSON.stringify(text)}`);
  }
  if (!e.message.startsWith(`line ${line}:${column} `)) throw new Error(`message ${JSON.stringify(e.message)} does not start with its position`);
  if (line === 1 && column === 1 && e.message.includes('statement too long')) return;
  const lines = text.split('\n');
  const lineText = lines[line - 1];
  if (lineText === undefined || column > lineText.length + 1) {
    throw new Error(`position ${line}:${column} is outside ${JSON.stringify(text)}`);
  }
}

// ---- random text ---------------------------------------------------------------------------------

const CQLISH_PIECES = [
  'SELECT', 'FROM', 'WHERE', 'AND', 'INSERT', 'INTO', 'VALUES', 'UPDATE', 'SET', 'DELETE', 'USING', 'TTL',
  'TIMESTAMP', 'IF', 'NOT', 'EXISTS', 'BEGIN', 'BATCH', 'APPLY', 'UNLOGGED', 'CREATE', 'TABLE', 'KEYSPACE',
  'ALTER', 'DROP', 'ADD', 'WITH', 'PRIMARY', 'KEY', 'STATIC', 'CLUSTERING', 'ORDER', 'BY', 'ASC', 'DESC',
  'LIMIT', 'PER', 'PARTITION', 'ALLOW', 'FILTERING', 'DISTINCT', 'COUNT', 'WRITETIME', 'token', 'IN',
  'CONTAINS', 'JSON', 'DEFAULT', 'UNSET', 'NULL', 'true', 'NaN', 'Infinity', 'list', 'map', 'frozen',
  'int', 'text', 't', 'ks', 'a', 'b', 'c', 'x1', '_', '(', ')', '[', ']', '{', '}', '<', '>', '=', '!',
  ',', ';', '.', '*', '+', '-', ':', '?', "'", '"', '$$', '$', '--', '//', '/*', '*/', '0x', '0', '1',
  '42', '-7', '1.5', 'e', '123e4567-e89b-12d3-a456-426614174000', ' ', ' ', ' ', '\n', '\t', '\r',
  '\u00e9', '\u{1F600}', '\uD800', '#',
];

/** Pieces glued together, or spaced so that they lex as the tokens they look like. */
const cqlishText = fc
  .tuple(fc.array(fc.constantFrom(...CQLISH_PIECES), { maxLength: 40 }), fc.constantFrom('', ' '))
  .map(([pieces, separator]) => pieces.join(separator));
const unicodeText = fc.string({ unit: 'binary', maxLength: 60 });

// ---- valid statements ----------------------------------------------------------------------------

/** A statement as tokens; joined with whitespace or comments between every two. */
type Tokens = string[];

const tok = (...tokens: string[]): fc.Arbitrary<Tokens> => fc.constant(tokens);
const seq = (...parts: fc.Arbitrary<Tokens>[]): fc.Arbitrary<Tokens> => fc.tuple(...parts).map((ts) => ts.flat());
const optional = (part: fc.Arbitrary<Tokens>): fc.Arbitrary<Tokens> => fc.oneof(tok(), part);

/** `open a , b , … close` with 1..max items (0 if minLength is 0). */
function listOf(item: fc.Arbitrary<Tokens>, open: string, close: string, minLength = 1, maxLength = 4): fc.Arbitrary<Tokens> {
  return fc.array(item, { minLength, maxLength }).map((items) => [open, ...items.flatMap((t, i) => (i === 0 ? t : [',', ...t])), close]);
}

function commaSeparated(item: fc.Arbitrary<Tokens>, maxLength = 4): fc.Arbitrary<Tokens> {
  return fc.array(item, { minLength: 1, maxLength }).map((items) => items.flatMap((t, i) => (i === 0 ? t : [',', ...t])));
}

const columnName = fc.constantFrom('a', 'b', 'k', 'c1', 'v_2', '"Mixed"', '"sel""ect"', 'key', 'ttl', 'type', 'values', 'json', 'timestamp', 'count', 'writetime', 'filtering', 'static', 'frozen', 'list', 'map').map((n) => [n]);
const objectName = fc.constantFrom('t', 'users', 'ks', '"Tbl"', 'key', 'type', 'values').map((n) => [n]);
const tableName = fc.oneof(objectName, seq(objectName, tok('.'), objectName));
const markerName = fc.constantFrom('p', 'Name', 'ts', '"Quoted"').map((n) => `:${n}`);

const leafTerm: fc.Arbitrary<Tokens> = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map((n) => [String(n)]),
  fc.constantFrom('1.5', '-0.25', '2e10', '-3.5E-3', 'NaN', 'Infinity', '-Infinity').map((f): Tokens => [f]),
  fc.string({ maxLength: 8 }).map((s) => [`'${s.replaceAll("'", "''")}'`]),
  fc.constantFrom("$$it's$$", 'true', 'FALSE', 'null', '0xCAFE', '0x', '123e4567-e89b-12d3-a456-426614174000').map((s): Tokens => [s]),
  tok('?'),
  markerName.map((m): Tokens => [m]),
  tok('now', '(', ')'),
);

function termOfDepth(depth: number): fc.Arbitrary<Tokens> {
  if (depth === 0) return leafTerm;
  const inner = termOfDepth(depth - 1);
  return fc.oneof(
    { weight: 4, arbitrary: leafTerm },
    { weight: 1, arbitrary: listOf(inner, '[', ']', 0) },
    { weight: 1, arbitrary: listOf(inner, '{', '}', 1) },
    { weight: 1, arbitrary: listOf(seq(inner, tok(':'), inner), '{', '}', 0) },
    { weight: 1, arbitrary: listOf(inner, '(', ')', 1) },
    { weight: 1, arbitrary: seq(tok('toTimestamp'), listOf(inner, '(', ')', 0, 2)) },
  );
}

const term = termOfDepth(2);
const intValue = fc.oneof(fc.nat({ max: 100_000 }).map((n) => [String(n)]), tok('?'), markerName.map((m) => [m]));
const operator = fc.constantFrom('=', '!=', '<', '<=', '>', '>=').map((o) => [o]);

const relation = fc.oneof(
  seq(columnName, operator, term),
  seq(columnName, tok('IN'), fc.oneof(listOf(term, '(', ')', 0), tok('?'))),
  seq(columnName, tok('CONTAINS'), optional(tok('KEY')), term),
  seq(listOf(columnName, '(', ')'), operator, fc.oneof(listOf(term, '(', ')'), tok('?'))),
  seq(tok('token'), listOf(columnName, '(', ')'), operator, term),
);
const whereClause = seq(tok('WHERE'), fc.array(relation, { minLength: 1, maxLength: 4 }).map((rs) => rs.flatMap((r, i) => (i === 0 ? r : ['AND', ...r]))));

const using = fc.oneof(
  seq(tok('USING', 'TTL'), intValue),
  seq(tok('USING', 'TIMESTAMP'), intValue),
  seq(tok('USING', 'TTL'), intValue, tok('AND', 'TIMESTAMP'), intValue),
  seq(tok('USING', 'TIMESTAMP'), intValue, tok('AND', 'TTL'), intValue),
);

const condition = fc.oneof(seq(columnName, operator, term), seq(columnName, tok('['), term, tok(']'), operator, term));
const conditions = optional(
  fc.oneof(tok('IF', 'EXISTS'), seq(tok('IF'), fc.array(condition, { minLength: 1, maxLength: 3 }).map((cs) => cs.flatMap((c, i) => (i === 0 ? c : ['AND', ...c]))))),
);

const insert = fc.integer({ min: 1, max: 4 }).chain((n) =>
  seq(
    tok('INSERT', 'INTO'),
    tableName,
    fc.array(columnName, { minLength: n, maxLength: n }).map((cs) => ['(', ...cs.flatMap((c, i) => (i === 0 ? c : [',', ...c])), ')']),
    tok('VALUES'),
    fc.array(term, { minLength: n, maxLength: n }).map((vs) => ['(', ...vs.flatMap((v, i) => (i === 0 ? v : [',', ...v])), ')']),
    optional(tok('IF', 'NOT', 'EXISTS')),
    optional(using),
  ),
);

const insertJson = seq(
  tok('INSERT', 'INTO'),
  tableName,
  tok('JSON'),
  fc.oneof(tok(`'{"a": 1}'`), tok('?')),
  optional(fc.oneof(tok('DEFAULT', 'NULL'), tok('DEFAULT', 'UNSET'))),
  optional(tok('IF', 'NOT', 'EXISTS')),
  optional(using),
);

const assignment = columnName.chain(([c]) =>
  fc.oneof(
    seq(tok(c!, '='), term),
    seq(tok(c!, '=', c!, '+'), term),
    seq(tok(c!, '=', c!, '-'), term),
    seq(tok(c!, '='), term, tok('+', c!)),
    seq(tok(c!, '['), term, tok(']', '='), term),
    seq(tok(c!, '+='), term),
    tok(c!, '=', c!, '-1'),
  ),
);

const update = seq(tok('UPDATE'), tableName, optional(using), tok('SET'), commaSeparated(assignment), whereClause, conditions);

const deleteTarget = fc.oneof(columnName, seq(columnName, tok('['), term, tok(']')));
const deleteStatement = seq(tok('DELETE'), optional(commaSeparated(deleteTarget, 3)), tok('FROM'), tableName, optional(seq(tok('USING', 'TIMESTAMP'), intValue)), whereClause, conditions);

const selector = fc.oneof(
  columnName,
  tok('COUNT', '(', '*', ')'),
  tok('count', '(', '1', ')'),
  seq(tok('WRITETIME', '('), columnName, tok(')')),
  seq(tok('TTL', '('), columnName, tok(')')),
  seq(tok('token'), listOf(columnName, '(', ')')),
  seq(tok('toDate', '('), columnName, tok(')')),
  tok('toTimestamp', '(', 'now', '(', ')', ')'),
);
const selectItem = seq(selector, optional(seq(tok('AS'), fc.constantFrom('x', 'alias', '"Al"').map((a) => [a]))));
const select = seq(
  tok('SELECT'),
  fc.oneof(tok('*'), seq(optional(tok('DISTINCT')), commaSeparated(selectItem))),
  tok('FROM'),
  tableName,
  optional(whereClause),
  optional(seq(tok('ORDER', 'BY'), commaSeparated(seq(columnName, fc.constantFrom([], ['ASC'], ['DESC'])), 2))),
  optional(seq(tok('PER', 'PARTITION', 'LIMIT'), intValue)),
  optional(seq(tok('LIMIT'), intValue)),
  optional(tok('ALLOW', 'FILTERING')),
);

const modification = fc.oneof(insert, insertJson, update, deleteStatement);
const batch = seq(
  tok('BEGIN'),
  fc.constantFrom([], ['UNLOGGED'], ['COUNTER']),
  tok('BATCH'),
  optional(seq(tok('USING', 'TIMESTAMP'), intValue)),
  fc.array(seq(modification, fc.constantFrom([], [';'])), { maxLength: 3 }).map((ss) => ss.flat()),
  tok('APPLY', 'BATCH'),
);

function typeOfDepth(depth: number): fc.Arbitrary<Tokens> {
  const native = fc.constantFrom('ascii', 'text', 'varchar', 'int', 'bigint', 'smallint', 'tinyint', 'varint', 'float', 'double', 'decimal', 'boolean', 'uuid', 'timeuuid', 'timestamp', 'date', 'time', 'blob', 'inet', 'counter').map((n) => [n]);
  if (depth === 0) return native;
  const inner = typeOfDepth(depth - 1);
  return fc.oneof(
    { weight: 3, arbitrary: native },
    { weight: 1, arbitrary: seq(fc.constantFrom(['list'], ['set'], ['frozen']), tok('<'), inner, tok('>')) },
    { weight: 1, arbitrary: seq(tok('map', '<'), inner, tok(','), inner, tok('>')) },
  );
}

const type = typeOfDepth(2);
const constant = fc.oneof(fc.integer({ min: -5, max: 100_000 }).map((n) => [String(n)]), tok("'lww'"), tok("'99p'"), tok('true'), tok('0.5'));
const propertyName = fc.constantFrom('gc_grace_seconds', 'default_time_to_live', 'conflict_resolution', 'read_repair', 'speculative_retry', 'comment');
const propertyMap = listOf(seq(fc.constantFrom("'class'", "'dc1'", "'min_threshold'").map((k) => [k]), tok(':'), constant), '{', '}', 0, 3);
const properties = fc.uniqueArray(propertyName, { minLength: 1, maxLength: 3 }).chain((names) =>
  fc.tuple(...names.map((name) => seq(tok(name, '='), fc.oneof(constant, propertyMap)))).map((ps) => ps.flatMap((p, i) => (i === 0 ? p : ['AND', ...p]))),
);

const columnDefinition = seq(columnName, type, optional(tok('STATIC')));
const createTable = seq(
  tok('CREATE', 'TABLE'),
  optional(tok('IF', 'NOT', 'EXISTS')),
  tableName,
  tok('('),
  fc.oneof(
    seq(columnName, type, tok('PRIMARY', 'KEY'), optional(seq(tok(','), commaSeparated(columnDefinition, 3)))),
    seq(commaSeparated(columnDefinition, 4), tok(',', 'PRIMARY', 'KEY', '('), fc.oneof(columnName, listOf(columnName, '(', ')')), fc.array(seq(tok(','), columnName), { maxLength: 2 }).map((cs) => cs.flat()), tok(')')),
  ),
  tok(')'),
  optional(
    fc.oneof(
      seq(tok('WITH'), properties),
      seq(tok('WITH', 'CLUSTERING', 'ORDER', 'BY'), listOf(seq(columnName, fc.constantFrom(['ASC'], ['DESC'])), '(', ')'), optional(seq(tok('AND'), properties))),
    ),
  ),
);

const replication = fc.oneof(
  seq(tok('{', "'class'", ':', "'SimpleStrategy'", ',', "'replication_factor'", ':'), fc.nat({ max: 5 }).map((n) => [String(n)]), tok('}')),
  tok('{', "'class'", ':', "'NetworkTopologyStrategy'", ',', "'dc1'", ':', '3', ',', "'dc2'", ':', '2', '}'),
);

const schemaStatement = fc.oneof(
  seq(tok('CREATE', 'KEYSPACE'), optional(tok('IF', 'NOT', 'EXISTS')), objectName, tok('WITH', 'replication', '='), replication),
  seq(tok('ALTER', 'KEYSPACE'), objectName, tok('WITH', 'replication', '='), replication),
  seq(tok('DROP', 'KEYSPACE'), optional(tok('IF', 'EXISTS')), objectName),
  seq(tok('USE'), objectName),
  seq(tok('TRUNCATE'), optional(tok('TABLE')), tableName),
  seq(tok('DROP', 'TABLE'), optional(tok('IF', 'EXISTS')), tableName),
  seq(tok('ALTER', 'TABLE'), tableName, fc.oneof(seq(tok('ADD'), columnDefinition), seq(tok('ADD'), listOf(columnDefinition, '(', ')')), seq(tok('DROP'), columnName), seq(tok('DROP'), listOf(columnName, '(', ')')), seq(tok('WITH'), properties))),
  createTable,
);

const statementTokens = fc.oneof(select, insert, insertJson, update, deleteStatement, batch, schemaStatement);

// ---- rendering and mutation ----------------------------------------------------------------------

const SEPARATORS = [' ', ' ', ' ', '\n', '\t', '  ', ' /* c */ ', ' -- note\n', '\r\n'];
type Case = 'lower' | 'upper' | 'as-is';

/** Unquoted words change case freely (identifiers fold, keywords are case-insensitive). */
function recase(token: string, letterCase: Case): string {
  if (letterCase === 'as-is' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(token)) return token;
  return letterCase === 'lower' ? token.toLowerCase() : token.toUpperCase();
}

interface Rendered {
  readonly tokens: Tokens;
  readonly text: string;
}

const rendered: fc.Arbitrary<Rendered> = fc
  .tuple(statementTokens, fc.constantFrom<Case>('lower', 'upper', 'as-is'), fc.array(fc.constantFrom(...SEPARATORS), { minLength: 1, maxLength: 8 }), fc.constantFrom('', ';', ' ;', '; -- done'))
  .map(([tokens, letterCase, separators, end]) => ({
    tokens,
    text: tokens.map((t, i) => (i === 0 ? '' : separators[i % separators.length]) + recase(t, letterCase)).join('') + end,
  }));

/** The markers the tokens hold, in order: null for `?`, a name for `:name`. */
function expectedMarkerKinds(tokens: Tokens): boolean[] {
  return tokens.filter((t) => t === '?' || (t.startsWith(':') && t.length > 1)).map((t) => t !== '?');
}

type Mutation =
  | { kind: 'delete'; at: number }
  | { kind: 'duplicate'; at: number }
  | { kind: 'swap'; at: number; with: number }
  | { kind: 'replace'; at: number; by: string }
  | { kind: 'truncate'; atChar: number }
  | { kind: 'insert_chars'; atChar: number; chars: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.nat().map((at) => ({ kind: 'delete' as const, at })),
  fc.nat().map((at) => ({ kind: 'duplicate' as const, at })),
  fc.tuple(fc.nat(), fc.nat()).map(([at, other]) => ({ kind: 'swap' as const, at, with: other })),
  fc.tuple(fc.nat(), fc.constantFrom(...CQLISH_PIECES)).map(([at, by]) => ({ kind: 'replace' as const, at, by })),
  fc.nat().map((atChar) => ({ kind: 'truncate' as const, atChar })),
  fc.tuple(fc.nat(), fc.string({ unit: 'binary', minLength: 1, maxLength: 3 })).map(([atChar, chars]) => ({ kind: 'insert_chars' as const, atChar, chars })),
);

function mutate({ tokens, text }: Rendered, m: Mutation): string {
  const n = tokens.length;
  const copy = [...tokens];
  switch (m.kind) {
    case 'delete':
      copy.splice(m.at % n, 1);
      return copy.join(' ');
    case 'duplicate':
      copy.splice(m.at % n, 0, copy[m.at % n]!);
      return copy.join(' ');
    case 'swap': {
      const i = m.at % n;
      const j = m.with % n;
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
      return copy.join(' ');
    }
    case 'replace':
      copy[m.at % n] = m.by;
      return copy.join(' ');
    case 'truncate':
      return text.slice(0, m.atChar % (text.length + 1));
    case 'insert_chars': {
      const at = m.atChar % (text.length + 1);
      return text.slice(0, at) + m.chars + text.slice(at);
    }
  }
}

// ---- properties ----------------------------------------------------------------------------------

describe('CQL parser fuzzing', () => {
  it('never throws anything but CqlSyntaxError/InvalidRequest on CQL-ish text', () => {
    fc.assert(
      fc.property(cqlishText, (text) => {
        parseOutcome(text);
      }),
      runConfig(45_000),
    );
  });

  it('never throws anything but CqlSyntaxError/InvalidRequest on arbitrary Unicode', () => {
    fc.assert(
      fc.property(unicodeText, (text) => {
        parseOutcome(text);
      }),
      runConfig(15_000),
    );
  });

  it('parses every generated valid statement, with its markers in order', () => {
    fc.assert(
      fc.property(rendered, ({ tokens, text }) => {
        const outcome = parseOutcome(text);
        if (outcome instanceof Error) throw new Error(`valid statement refused: ${JSON.stringify(text)}: ${outcome.message}`);
        const named = outcome.markers.map((m) => m !== null);
        const expected = expectedMarkerKinds(tokens);
        if (JSON.stringify(named) !== JSON.stringify(expected)) throw new Error(`markers ${JSON.stringify(outcome.markers)} for ${JSON.stringify(text)}`);
      }),
      runConfig(20_000),
    );
  });

  it('never throws anything but CqlSyntaxError/InvalidRequest on mutated valid statements', () => {
    fc.assert(
      fc.property(rendered, fc.array(mutation, { minLength: 1, maxLength: 3 }), (statement, mutations) => {
        let text = statement.text;
        let current = statement;
        for (const m of mutations) {
          text = mutate(current, m);
          current = { tokens: text.split(' ').filter((t) => t !== ''), text };
          if (current.tokens.length === 0) break;
        }
        parseOutcome(text);
      }),
      runConfig(22_000),
    );
  });
});
