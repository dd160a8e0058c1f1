/**
 * The SELECT clause: which values each result row carries, their names and types.
 *
 * Each selector becomes a small function of a decoded row, resolved once per prepared
 * statement: a column's value, `WRITETIME(c)` and `TTL(c)` from the cell's metadata,
 * `token(pk)` from the partition, a CQL function of other selectors, or `COUNT(*)`
 * (an aggregate: the result is one row).
 */
import type { Selector, SelectItem, Term } from './ast.js';
import { InvalidRequest } from '../errors.js';
import type { CqlType, CqlValue } from '../schema/cql-type.js';
import type { ColumnMetadata, TableLayout } from '../schema/schema.js';
import type { DecodedRow } from './row-codec.js';
import { assignable, lookupFunction, type FunctionContext } from './functions.js';
import { formatType } from '../schema/type-names.js';
import { callFunction, evaluateTerm, NO_BINDINGS, termText, type TermContext } from './terms.js';

const BIGINT: CqlType = { kind: 'native', name: 'bigint' };
const INT: CqlType = { kind: 'native', name: 'int' };

/** A row as the selection sees it: decoded values plus its partition's token. */
export interface SelectableRow {
  readonly row: DecodedRow;
  readonly token: bigint;
}

export interface OutputColumn {
  readonly name: string;
  readonly type: CqlType;
  readonly value: (r: SelectableRow, ctx: TermContext) => CqlValue;
  /** The `COUNT(*)` column: its value is the number of rows, filled in by the caller. */
  readonly isCount?: boolean;
  /** Set when the output is the plain value of this table column (`*`, `c`, `c AS x`): lets a plan read it without the generic row decoding. */
  readonly column?: ColumnMetadata;
}

export interface Selection {
  readonly columns: readonly OutputColumn[];
  /** `COUNT(*)` is selected: the result is one row (the count, other columns from the first row). */
  readonly isCount: boolean;
  /** Columns of the table the selection reads (for DISTINCT checks). */
  readonly readsColumns: readonly ColumnMetadata[];
}

function column(layout: TableLayout, name: string): ColumnMetadata {
  const c = layout.column(name);
  if (c === undefined) throw new InvalidRequest(`Undefined column name ${name} in selection clause`);
  return c;
}

export function prepareSelection(items: readonly SelectItem[] | null, layout: TableLayout): Selection {
  if (items === null) {
    const columns = layout.table.columns.map((c) => columnOutput(c, c.name));
    return { columns, isCount: false, readsColumns: layout.table.columns };
  }
  const reads: ColumnMetadata[] = [];
  let isCount = false;
  const columns = items.map((item) => {
    const out = selectorOutput(item.selector, layout, reads);
    if (item.selector.kind === 'count') isCount = true;
    return item.alias === null ? out : { ...out, name: item.alias };
  });
  const names = new Set<string>();
  for (const c of columns) {
    if (names.has(c.name) && items.some((i) => i.alias === c.name)) throw new InvalidRequest(`Duplicate alias ${c.name}`);
    names.add(c.name);
  }
  return { columns, isCount, readsColumns: reads };
}

function columnOutput(c: ColumnMetadata, name: string): OutputColumn {
  return { name, type: c.type, value: (r) => r.row.values.get(c.name) ?? null, column: c };
}

function selectorOutput(s: Selector, layout: TableLayout, reads: ColumnMetadata[]): OutputColumn {
  switch (s.kind) {
    case 'column': {
      const c = column(layout, s.name);
      reads.push(c);
      return columnOutput(c, c.name);
    }
    case 'count':
      return { name: 'count', type: BIGINT, value: () => null, isCount: true };
    case 'writetime':
    case 'ttl': {
      const c = column(layout, s.column);
      const fn = s.kind === 'writetime' ? 'writeTime' : 'ttl';
      if (layout.isPrimaryKey(c)) throw new InvalidRequest(`Cannot use selection function ${fn} on PRIMARY KEY part ${c.name}`);
      if (c.type.kind !== 'native') throw new InvalidRequest(`Cannot use selection function ${fn} on non-frozen collection ${c.name}`);
      reads.push(c);
      if (s.kind === 'writetime') return { name: `writetime(${c.name})`, type: BIGINT, value: (r) => toBigInt(r.row.writetimes.get(c.name)) };
      return { name: `ttl(${c.name})`, type: INT, value: (r) => r.row.ttls.get(c.name) ?? null };
    }
    case 'token': {
      const expected = layout.partitionKey.map((c) => c.name);
      if (s.columns.length !== expected.length || s.columns.some((c, i) => c !== expected[i])) {
        throw new InvalidRequest(`Invalid arguments for token(): the partition key columns are (${expected.join(', ')})`);
      }
      return { name: `system.token(${s.columns.join(', ')})`, type: BIGINT, value: (r) => r.token };
    }
    case 'function':
      return functionOutput(s, layout, reads);
  }
}

function toBigInt(v: number | undefined): bigint | null {
  return v === undefined ? null : BigInt(v);
}

function isTerm(x: Selector | Term): x is Term {
  return !['column', 'count', 'writetime', 'ttl', 'token'].includes(x.kind) && !(x.kind === 'function' && (x as Selector & { kind: 'function' }).args.some((a) => !isTerm(a)));
}

function functionOutput(s: Extract<Selector, { kind: 'function' }>, layout: TableLayout, reads: ColumnMetadata[]): OutputColumn {
  const f = lookupFunction(s.name, s.args.length);
  const args = s.args.map((arg, i) => {
    const overloads = f.args[i]!;
    if (isTerm(arg)) return termArgument(arg, overloads, `argument ${i} of ${s.name}`);
    const inner = selectorOutput(arg, layout, reads);
    const type = overloads.find((t) => sameType(t, inner.type));
    if (type === undefined) throw new InvalidRequest(`Type error: ${inner.name} (type ${describe(inner.type)}) cannot be passed as argument ${i} of function ${s.name}`);
    return { type: inner.type, value: inner.value };
  });
  const name = `system.${s.name}(${s.args.map((a) => (isTerm(a) ? termText(a) : selectorOutput(a as Selector, layout, []).name)).join(', ')})`;
  return {
    name,
    type: f.result,
    value: (r, ctx) =>
      f.call(
        ctx.functions as FunctionContext,
        args.map((a) => ({ type: a.type, value: a.value(r, ctx) })),
      ),
  };
}

interface Argument {
  readonly type: CqlType;
  readonly value: (r: SelectableRow, ctx: TermContext) => CqlValue;
}

/** A function argument that does not depend on the row: its overload is chosen once, here. */
function termArgument(arg: Term, overloads: readonly CqlType[], receiver: string): Argument {
  if (arg.kind === 'function') {
    const type = lookupFunction(arg.name, arg.args.length).result;
    if (!overloads.some((t) => assignable(type, t))) throw new InvalidRequest(`Type error: ${arg.name}() (type ${formatType(type)}) cannot be passed as ${receiver}`);
    return { type, value: (_r, ctx) => callFunction(arg, ctx).value };
  }
  if (arg.kind === 'bind') return { type: overloads[0]!, value: (_r, ctx) => evaluateTerm(arg, overloads[0]!, receiver, ctx) };
  // A constant takes the first overload it fits (a constant reads no bindings or functions).
  let lastError: unknown = null;
  for (const type of overloads) {
    try {
      evaluateTerm(arg, type, receiver, NO_TERM_CONTEXT);
      return { type, value: (_r, ctx) => evaluateTerm(arg, type, receiver, ctx) };
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError;
}

const NO_TERM_CONTEXT: TermContext = { bindings: NO_BINDINGS, functions: null as unknown as FunctionContext };

function sameType(a: CqlType, b: CqlType): boolean {
  return a.kind === 'native' && b.kind === 'native' && (a.name === b.name || (a.name === 'uuid' && b.name === 'timeuuid'));
}

function describe(t: CqlType): string {
  return t.kind === 'native' ? t.name : t.kind;
}
