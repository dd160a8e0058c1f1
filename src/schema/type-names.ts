/**
 * CQL type names: from the parser's `TypeExpr` to a `CqlType`, and back to text.
 *
 * Cassandra concept: `CQL3Type.Raw.prepare` (validating a written type) and
 * `CQL3Type.toString` (how DESCRIBE prints it: `map<text, int>`).
 *
 * Rules (SPEC 4): the native types of `NativeTypeName` (`varchar` is `text`), and non-frozen
 * `list<T>`, `set<T>`, `map<K, V>` of native types. Like Cassandra, a non-frozen collection
 * cannot hold a collection and no collection can hold a counter. `frozen<…>` is not supported
 * (Cassandra accepts it for collections; ringtail stores only element-wise collections).
 *
 * Bounds: `parseTypeString` reads at most `MAX_TYPE_STRING_CHARS` characters.
 */
import type { TypeExpr } from '../cql/ast.js';
import { InvalidRequest } from '../errors.js';
import type { CqlType, NativeTypeName } from './cql-type.js';

export const MAX_TYPE_STRING_CHARS = 256;

const NATIVE_NAMES: ReadonlySet<string> = new Set<NativeTypeName>([
  'ascii', 'text', 'int', 'bigint', 'smallint', 'tinyint', 'varint', 'float', 'double', 'decimal',
  'boolean', 'uuid', 'timeuuid', 'timestamp', 'date', 'time', 'blob', 'inet', 'counter',
]);

const ALIASES: Readonly<Record<string, NativeTypeName>> = { varchar: 'text' };

/** A native type by name (case-insensitive, aliases resolved), or null if there is none. */
export function nativeTypeByName(name: string): NativeTypeName | null {
  const lower = name.toLowerCase();
  const alias = ALIASES[lower];
  if (alias !== undefined) return alias;
  return NATIVE_NAMES.has(lower) ? (lower as NativeTypeName) : null;
}

/** The type expression as written (names lower-cased), for error messages. */
function exprText(e: TypeExpr): string {
  switch (e.kind) {
    case 'native':
      return e.name.toLowerCase();
    case 'list':
    case 'set':
      return `${e.kind}<${exprText(e.element)}>`;
    case 'map':
      return `map<${exprText(e.key)}, ${exprText(e.value)}>`;
    case 'frozen':
      return `frozen<${exprText(e.inner)}>`;
  }
}

function isCounterExpr(e: TypeExpr): boolean {
  return e.kind === 'native' && nativeTypeByName(e.name) === 'counter';
}

/** The element (or key or value) type of a collection `whole`. */
function elementType(e: TypeExpr, whole: TypeExpr): CqlType {
  if (isCounterExpr(e)) throw new InvalidRequest(`Counters are not allowed inside collections: ${exprText(whole)}`);
  if (e.kind === 'list' || e.kind === 'set' || e.kind === 'map') {
    throw new InvalidRequest(`Non-frozen collections are not allowed inside collections: ${exprText(whole)}`);
  }
  return typeFromExpr(e);
}

/** Validates a written type and resolves it; throws `InvalidRequest` with Cassandra's messages. */
export function typeFromExpr(e: TypeExpr): CqlType {
  switch (e.kind) {
    case 'native': {
      const name = nativeTypeByName(e.name);
      if (name === null) throw new InvalidRequest(`Unknown type ${e.name}`);
      return { kind: 'native', name };
    }
    case 'list':
    case 'set':
      return { kind: e.kind, element: elementType(e.element, e) };
    case 'map':
      return { kind: 'map', key: elementType(e.key, e), value: elementType(e.value, e) };
    case 'frozen':
      if (e.inner.kind === 'native') {
        throw new InvalidRequest(`frozen<> is only allowed on collections, tuples, and user-defined types (got ${exprText(e.inner)})`);
      }
      throw new InvalidRequest(`Frozen collections are not supported: ${exprText(e)}`);
  }
}

/** The type as Cassandra's DESCRIBE prints it: `int`, `list<text>`, `map<text, int>`. */
export function formatType(t: CqlType): string {
  switch (t.kind) {
    case 'native':
      return t.name;
    case 'list':
    case 'set':
      return `${t.kind}<${formatType(t.element)}>`;
    case 'map':
      return `map<${formatType(t.key)}, ${formatType(t.value)}>`;
  }
}

// ---- Reading a type back from text ----------------------------------------------------------

const TOKEN_RE = /\s*(?:([A-Za-z][A-Za-z0-9_]*)|([<>,]))/y;

/**
 * The inverse of `formatType`, for persisted schema: accepts what `formatType` prints (and
 * any spacing or case), applies `typeFromExpr`'s rules, throws `InvalidRequest` on garbage.
 */
export function parseTypeString(s: string): CqlType {
  if (s.length > MAX_TYPE_STRING_CHARS) throw new InvalidRequest(`Type string longer than ${MAX_TYPE_STRING_CHARS} characters`);
  const tokens: string[] = [];
  TOKEN_RE.lastIndex = 0;
  while (TOKEN_RE.lastIndex < s.length) {
    const start = TOKEN_RE.lastIndex;
    const m = TOKEN_RE.exec(s);
    if (m === null) {
      if (s.slice(start).trim() === '') break;
      throw new InvalidRequest(`Invalid type string: ${s}`);
    }
    tokens.push((m[1] ?? m[2]!).toLowerCase());
  }
  let pos = 0;
  const expect = (token: string): void => {
    if (tokens[pos] !== token) throw new InvalidRequest(`Invalid type string: ${s}`);
    pos++;
  };
  const parse = (): TypeExpr => {
    const name = tokens[pos++];
    if (name === undefined || !/^[a-z]/.test(name)) throw new InvalidRequest(`Invalid type string: ${s}`);
    if (tokens[pos] !== '<') return { kind: 'native', name };
    pos++;
    let e: TypeExpr;
    if (name === 'list' || name === 'set') e = { kind: name, element: parse() };
    else if (name === 'map') {
      const key = parse();
      expect(',');
      e = { kind: 'map', key, value: parse() };
    } else if (name === 'frozen') e = { kind: 'frozen', inner: parse() };
    else throw new InvalidRequest(`Invalid type string: ${s}`);
    expect('>');
    return e;
  };
  const e = parse();
  if (pos !== tokens.length) throw new InvalidRequest(`Invalid type string: ${s}`);
  return typeFromExpr(e);
}
