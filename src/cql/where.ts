/**
 * WHERE clauses: which partitions, which clustering slices, and which rows to filter, with
 * Cassandra's rules and messages for what may be restricted how.
 *
 * Planning (`planWhere`) happens once per prepared statement and schema version: it checks the
 * shape of the restrictions and decides how the query runs (by partition key, by token range or
 * by full scan; by clustering slices; with in-memory filters). Binding (`bindWhere`) happens on
 * every execution: it evaluates the terms and builds the concrete keys and byte bounds.
 *
 * Rules (Cassandra 4): the partition key is restricted by `=` or `IN` on every component, or by
 * `token(…)` ranges, or not at all; clustering columns by `=`/`IN` on a prefix, then a slice
 * (`<`, `<=`, `>`, `>=`, or a tuple slice) on the next one. Anything else is a filter, allowed
 * only with ALLOW FILTERING (SELECT) and never in UPDATE/DELETE.
 *
 * A tuple slice compares values column by column, whatever each column's clustering order;
 * over columns of mixed order it is not one byte range, so it binds to a union of disjoint
 * simple slices (an equality prefix and one column's slice each), intersected per side.
 *
 * Bounds: at most `MAX_KEY_COMBINATIONS` partition keys and as many clustering slices per
 * query (the product of the IN lists).
 */
import type { Operator, Relation, Term } from './ast.js';
import { InvalidRequest } from '../errors.js';
import type { CqlType, CqlValue } from '../schema/cql-type.js';
import { encodeClustering } from '../schema/comparable.js';
import type { ColumnMetadata, TableLayout } from '../schema/schema.js';
import { compareValues, valueFromJson } from '../schema/values.js';
import { MIN_TOKEN } from '../storage/data/keys.js';
import type { ClusteringBound } from '../storage/data/types.js';
import { clusteringSpecs } from './row-codec.js';
import { evaluateTerm, termText, type TermContext } from './terms.js';

export const MAX_KEY_COMBINATIONS = 1000;

export const FILTERING_MESSAGE =
  'Cannot execute this query as it might involve data filtering and thus may have unpredictable performance. If you want to execute this query despite the performance unpredictability, use ALLOW FILTERING';

const BIGINT: CqlType = { kind: 'native', name: 'bigint' };

type Single = Extract<Relation, { kind: 'compare' | 'in' | 'contains' }>;

interface Slice {
  lower: { term: Term; inclusive: boolean } | null;
  upper: { term: Term; inclusive: boolean } | null;
}

interface TupleSlice {
  readonly columns: readonly ColumnMetadata[];
  lower: { term: Term; inclusive: boolean } | null;
  upper: { term: Term; inclusive: boolean } | null;
  /** The columns do not share one clustering order: the slice is a union of simple slices. */
  readonly mixedOrder: boolean;
}

/** A row predicate evaluated after reading (ALLOW FILTERING). */
export interface FilterPlan {
  readonly column: ColumnMetadata;
  readonly relation: Single;
}

export interface WherePlan {
  /** Partition key columns restricted by = or IN, one list of terms per component. */
  readonly partitionTerms: readonly (readonly Term[] | Term)[] | null;
  readonly tokenSlice: Slice | null;
  /** Clustering prefix restricted by = or IN. */
  readonly clusteringPrefix: readonly (readonly Term[] | Term)[];
  readonly clusteringSlice: { column: ColumnMetadata; slice: Slice } | null;
  readonly tupleSlice: TupleSlice | null;
  readonly filters: readonly FilterPlan[];
  /** Every clustering column is restricted by = or IN. */
  readonly fullClustering: boolean;
}

export type WhereMode = 'select' | 'update' | 'delete';

function isSlice(op: Operator): boolean {
  return op === '<' || op === '<=' || op === '>' || op === '>=';
}

function addToSlice(slice: Slice, op: Operator, term: Term, column: string): void {
  const bound = { term, inclusive: op === '<=' || op === '>=' };
  if (op === '>' || op === '>=') {
    if (slice.lower !== null) throw new InvalidRequest(`More than one restriction was found for the start bound on ${column}`);
    slice.lower = bound;
  } else {
    if (slice.upper !== null) throw new InvalidRequest(`More than one restriction was found for the end bound on ${column}`);
    slice.upper = bound;
  }
}

export function planWhere(relations: readonly Relation[], layout: TableLayout, mode: WhereMode, allowFiltering: boolean): WherePlan {
  const byColumn = new Map<string, Single[]>();
  let tokenSlice: Slice | null = null;
  const tupleRelation: Extract<Relation, { kind: 'multi_compare' }>[] = [];
  const columnOf = (name: string): ColumnMetadata => {
    const c = layout.column(name);
    if (c === undefined) throw new InvalidRequest(`Undefined column name ${name} in table ${layout.table.keyspace}.${layout.table.name}`);
    return c;
  };
  for (const r of relations) {
    if (r.kind === 'token') {
      const expected = layout.partitionKey.map((c) => c.name);
      if (r.columns.length !== expected.length || r.columns.some((c, i) => c !== expected[i])) {
        throw new InvalidRequest(`The token function arguments must be in the partition key order: ${expected.join(', ')}`);
      }
      if (mode !== 'select') throw new InvalidRequest(`The token function cannot be used in WHERE clauses for ${mode.toUpperCase()} statements`);
      if (r.op === '!=') throw new InvalidRequest(`Unsupported "!=" relation: token(${r.columns.join(', ')}) != ${termText(r.value)}`);
      tokenSlice ??= { lower: null, upper: null };
      if (r.op === '=') {
        // token(k) = t is the range [t, t].
        if (tokenSlice.lower !== null || tokenSlice.upper !== null) throw new InvalidRequest('token() cannot be restricted by more than one relation if it includes an Equal');
        tokenSlice.lower = { term: r.value, inclusive: true };
        tokenSlice.upper = { term: r.value, inclusive: true };
      } else addToSlice(tokenSlice, r.op, r.value, 'token');
      continue;
    }
    if (r.kind === 'multi_compare') {
      r.columns.forEach(columnOf);
      tupleRelation.push(r);
      continue;
    }
    const c = columnOf(r.column);
    if (r.kind === 'compare' && r.op === '!=') throw new InvalidRequest(`Unsupported "!=" relation: ${r.column} != ${termText(r.value)}`);
    const list = byColumn.get(c.name) ?? [];
    list.push(r);
    byColumn.set(c.name, list);
  }

  const filters: FilterPlan[] = [];
  const needFiltering = (): void => {
    if (mode !== 'select') return;
    if (!allowFiltering) throw new InvalidRequest(FILTERING_MESSAGE);
  };

  // Partition key.
  const pkRestricted = layout.partitionKey.map((c) => eqOrIn(byColumn.get(c.name)));
  let partitionTerms: (readonly Term[] | Term)[] | null = null;
  if (pkRestricted.every((x) => x !== null)) {
    if (tokenSlice !== null) throw new InvalidRequest('Columns of the partition key cannot be restricted by token() and = or IN at the same time');
    partitionTerms = pkRestricted as (readonly Term[] | Term)[];
  } else {
    if (mode !== 'select') {
      const missing = layout.partitionKey.filter((_, i) => pkRestricted[i] === null).map((c) => c.name);
      throw new InvalidRequest(`Some partition key parts are missing: ${missing.join(', ')}`);
    }
    const anyPk = layout.partitionKey.some((c) => byColumn.has(c.name));
    if (anyPk) {
      needFiltering();
      for (const c of layout.partitionKey) for (const r of byColumn.get(c.name) ?? []) filters.push({ column: c, relation: r });
    }
  }
  for (const c of layout.partitionKey) {
    for (const r of byColumn.get(c.name) ?? []) {
      if (r.kind === 'contains' || (r.kind === 'compare' && isSlice(r.op) && partitionTerms !== null)) {
        throw new InvalidRequest(`Only EQ and IN relation are supported on the partition key (unless you use the token() function or allow filtering)`);
      }
    }
  }

  // Clustering columns.
  const clusteringPrefix: (readonly Term[] | Term)[] = [];
  let clusteringSlice: { column: ColumnMetadata; slice: Slice } | null = null;
  let tupleSlice: TupleSlice | null = null;
  let i = 0;
  if (tupleRelation.length > 0) {
    // A tuple relation must start at the first clustering column, and single-column
    // relations cannot restrict clustering columns beside it (Cassandra's rule).
    const cols = tupleRelation[0]!.columns;
    if (tupleRelation.some((r) => r.columns.length !== cols.length || r.columns.some((c, k) => c !== cols[k]))) {
      throw new InvalidRequest('Multi-column relations must name the same columns');
    }
    const expected = layout.clustering.slice(0, cols.length).map((c) => c.name);
    if (cols.some((c, k) => c !== expected[k])) throw new InvalidRequest(`Multi-column relations can only be applied to clustering columns, in order: (${expected.join(', ')})`);
    const single = layout.clustering.find((c) => byColumn.has(c.name));
    if (single !== undefined) throw new InvalidRequest('Mixing single column relations and multi column relations on clustering columns is not allowed');
    const columns = cols.map((c) => layout.column(c)!);
    const ts: TupleSlice = { columns, lower: null, upper: null, mixedOrder: columns.some((c) => c.descending !== columns[0]!.descending) };
    for (const r of tupleRelation) {
      if (r.op === '=') {
        if (tupleRelation.length > 1) throw new InvalidRequest('An equality tuple relation cannot be combined with another tuple relation');
        ts.lower = { term: r.value, inclusive: true };
        ts.upper = { term: r.value, inclusive: true };
      } else if (isSlice(r.op)) addToSlice(ts, r.op, r.value, `(${cols.join(', ')})`);
      else throw new InvalidRequest(`Unsupported "${r.op}" relation on (${cols.join(', ')})`);
    }
    tupleSlice = ts;
    i = layout.clustering.length; // nothing after a tuple slice can narrow the read
    if (mode === 'update') throw new InvalidRequest('Multi-column relations are not supported in UPDATE');
  } else {
    for (; i < layout.clustering.length; i++) {
      const c = layout.clustering[i]!;
      const rs = byColumn.get(c.name);
      if (rs === undefined) break;
      const eq = eqOrIn(rs);
      if (eq !== null) {
        clusteringPrefix.push(eq);
        continue;
      }
      const slice: Slice = { lower: null, upper: null };
      for (const r of rs) {
        if (r.kind !== 'compare' || !isSlice(r.op)) throw new InvalidRequest(`Unsupported restriction on clustering column ${c.name}`);
        addToSlice(slice, r.op, r.value, c.name);
      }
      clusteringSlice = { column: c, slice };
      i++;
      break;
    }
  }
  // Clustering columns after the usable prefix can only be filtered.
  for (let k = i; k < layout.clustering.length; k++) {
    const c = layout.clustering[k]!;
    const rs = byColumn.get(c.name);
    if (rs === undefined) continue;
    if (mode !== 'select' || !allowFiltering) {
      const previous = layout.clustering[k - 1]!;
      if (clusteringSlice !== null && k === i) throw new InvalidRequest(`Clustering column "${c.name}" cannot be restricted (preceding column "${clusteringSlice.column.name}" is restricted by a non-EQ relation)`);
      if (mode !== 'select' || partitionTerms !== null) throw new InvalidRequest(`PRIMARY KEY column "${c.name}" cannot be restricted as preceding column "${previous.name}" is not restricted`);
    }
    needFiltering();
    for (const r of rs) filters.push({ column: c, relation: r });
  }
  if (partitionTerms === null && (clusteringPrefix.length > 0 || clusteringSlice !== null || tupleSlice !== null) && mode === 'select') needFiltering();

  // Regular columns: filters only.
  for (const c of layout.regular) {
    const rs = byColumn.get(c.name);
    if (rs === undefined) continue;
    if (mode !== 'select') throw new InvalidRequest(`Non PRIMARY KEY columns found in where clause: ${c.name} `);
    needFiltering();
    for (const r of rs) {
      if (r.kind === 'contains' && c.type.kind === 'native') throw new InvalidRequest(`Cannot use CONTAINS on non-collection column ${c.name}`);
      if (r.kind === 'contains' && r.key && c.type.kind !== 'map') throw new InvalidRequest(`Cannot use CONTAINS KEY on non-map column ${c.name}`);
      filters.push({ column: c, relation: r });
    }
  }

  const fullClustering = clusteringPrefix.length === layout.clustering.length;
  if (mode === 'update' && !fullClustering) {
    const missing = layout.clustering.slice(clusteringPrefix.length).map((c) => c.name);
    if (clusteringSlice !== null) throw new InvalidRequest(`Slice restrictions are not supported on the clustering columns in UPDATE statements`);
    throw new InvalidRequest(`Some clustering keys are missing: ${missing.join(', ')}`);
  }
  return { partitionTerms, tokenSlice, clusteringPrefix, clusteringSlice, tupleSlice, filters, fullClustering };
}

/** The terms of an `=` or `IN` restriction (one term, or a list); null if it is neither. */
function eqOrIn(rs: readonly Single[] | undefined): readonly Term[] | Term | null {
  if (rs === undefined) return null;
  const isEq = (r: Single): boolean => r.kind === 'in' || (r.kind === 'compare' && r.op === '=');
  if (rs.length > 1) {
    if (rs.some(isEq)) throw new InvalidRequest(`${rs[0]!.column} cannot be restricted by more than one relation if it includes an Equal`);
    return null;
  }
  const r = rs[0]!;
  if (r.kind === 'compare' && r.op === '=') return [r.value];
  if (r.kind === 'in') return Array.isArray(r.values) ? (r.values as readonly Term[]) : (r.values as Term);
  return null;
}

// ---- Binding -------------------------------------------------------------------------------------

export interface BoundSlice {
  readonly start: ClusteringBound | null;
  readonly end: ClusteringBound | null;
}

export interface BoundWhere {
  /** Every partition key (component values), in the order to read them; null = a range read. */
  readonly partitionKeys: readonly (readonly CqlValue[])[] | null;
  /** Token range (start exclusive, end inclusive) when scanning; start ≥ end is empty (no wrapping). */
  readonly tokenStart: bigint | null;
  readonly tokenEnd: bigint | null;
  /** Clustering slices in clustering order; one unbounded slice when none is restricted. */
  readonly slices: readonly BoundSlice[];
  /** Equality prefixes (values), for UPDATE/DELETE of whole rows and range deletes. */
  readonly prefixes: readonly (readonly CqlValue[])[];
  readonly filters: readonly BoundFilter[];
}

export interface BoundFilter {
  readonly column: ColumnMetadata;
  test(value: CqlValue): boolean;
}

/** Values of an `=`/`IN` restriction; `IN ?` binds a list. */
function bindValues(terms: readonly Term[] | Term, c: ColumnMetadata, ctx: TermContext): CqlValue[] {
  let out: CqlValue[];
  if (!Array.isArray(terms)) {
    const list = evaluateTerm(terms as Term, { kind: 'list', element: c.type }, c.name, ctx);
    if (list === null) throw new InvalidRequest(`Invalid null value for IN restriction on column ${c.name}`);
    out = [...(list as CqlValue[])];
  } else out = (terms as readonly Term[]).map((t) => evaluateTerm(t, c.type, c.name, ctx));
  if (out.some((v) => v === null)) throw new InvalidRequest(`Invalid null value in condition for column ${c.name}`);
  // IN lists read in key order, without duplicates, as Cassandra does.
  const sorted = out.sort((a, b) => compareValues(c.type, a, b));
  return sorted.filter((v, i) => i === 0 || compareValues(c.type, sorted[i - 1]!, v) !== 0);
}

function cartesian(lists: readonly CqlValue[][]): CqlValue[][] {
  let out: CqlValue[][] = [[]];
  for (const list of lists) {
    const next: CqlValue[][] = [];
    for (const prefix of out) for (const v of list) next.push([...prefix, v]);
    if (next.length > MAX_KEY_COMBINATIONS) throw new InvalidRequest(`Cartesian product of IN restrictions is larger than ${MAX_KEY_COMBINATIONS}`);
    out = next;
  }
  return out;
}

export function bindWhere(plan: WherePlan, layout: TableLayout, ctx: TermContext): BoundWhere {
  const partitionKeys = plan.partitionTerms === null ? null : cartesian(plan.partitionTerms.map((terms, i) => bindValues(terms, layout.partitionKey[i]!, ctx)));
  let tokenStart: bigint | null = null;
  let tokenEnd: bigint | null = null;
  if (plan.tokenSlice !== null) {
    const lo = plan.tokenSlice.lower;
    const hi = plan.tokenSlice.upper;
    // As in Cassandra, the minimum token as either bound means that end of the ring.
    if (lo !== null) {
      const v = evaluateTerm(lo.term, BIGINT, 'token', ctx) as bigint | null;
      if (v === null) throw new InvalidRequest('Invalid null value for token');
      tokenStart = v === MIN_TOKEN ? null : lo.inclusive ? v - 1n : v;
    }
    if (hi !== null) {
      const v = evaluateTerm(hi.term, BIGINT, 'token', ctx) as bigint | null;
      if (v === null) throw new InvalidRequest('Invalid null value for token');
      tokenEnd = v === MIN_TOKEN ? null : hi.inclusive ? v : v - 1n;
    }
  }
  const prefixes = cartesian(plan.clusteringPrefix.map((terms, i) => bindValues(terms, layout.clustering[i]!, ctx)));
  const specs = clusteringSpecs(layout);
  const slices: BoundSlice[] = [];
  for (const prefix of prefixes) {
    if (plan.clusteringSlice !== null) slices.push(bindSlice(specs, prefix, plan.clusteringSlice.column, plan.clusteringSlice.slice, ctx));
    else if (plan.tupleSlice !== null) slices.push(...bindTupleSlice(specs, plan.tupleSlice, ctx));
    else if (prefix.length === 0) slices.push({ start: null, end: null });
    else {
      const p = encodeClustering(specs, prefix);
      slices.push({ start: { prefix: p, inclusive: true }, end: { prefix: p, inclusive: true } });
    }
  }
  // Slices are disjoint: ordering them by where they start puts them in clustering order.
  slices.sort((a, b) => comparePositions(startPosition(a.start), startPosition(b.start)));
  const filters = plan.filters.map((f) => bindFilter(f, ctx));
  return { partitionKeys, tokenStart, tokenEnd, slices, prefixes, filters };
}

function bindSlice(specs: { type: CqlType; descending: boolean }[], prefix: readonly CqlValue[], column: ColumnMetadata, slice: Slice, ctx: TermContext): BoundSlice {
  const at = (b: { term: Term; inclusive: boolean } | null): ClusteringBound | null => {
    if (b === null) return prefix.length === 0 ? null : { prefix: encodeClustering(specs, prefix), inclusive: true };
    const v = evaluateTerm(b.term, column.type, column.name, ctx);
    if (v === null) throw new InvalidRequest(`Invalid null value in condition for column ${column.name}`);
    return { prefix: encodeClustering(specs, [...prefix, v]), inclusive: b.inclusive };
  };
  const lower = at(slice.lower);
  const upper = at(slice.upper);
  // A descending column's encoding is inverted: its lower values come last in byte order.
  return column.descending ? { start: upper, end: lower } : { start: lower, end: upper };
}

/** The values of one side of a tuple relation: a tuple literal, or a marker bound to a JSON array. */
function tupleValues(term: Term, columns: readonly ColumnMetadata[], ctx: TermContext): CqlValue[] {
  let values: CqlValue[];
  if (term.kind === 'tuple') {
    if (term.elements.length !== columns.length) throw new InvalidRequest(`Expected ${columns.length} elements in value tuple, but got ${term.elements.length}`);
    values = term.elements.map((e, k) => evaluateTerm(e, columns[k]!.type, columns[k]!.name, ctx));
  } else if (term.kind === 'bind') {
    const json = ctx.bindings.get(term.index);
    if (!Array.isArray(json)) throw new InvalidRequest(`Invalid value for tuple (${columns.map((c) => c.name).join(', ')}): expected a list of ${columns.length} values`);
    if (json.length !== columns.length) throw new InvalidRequest(`Expected ${columns.length} elements in value tuple, but got ${json.length}`);
    values = json.map((e: unknown, k) => valueFromJson(columns[k]!.type, e, columns[k]!.name));
  } else throw new InvalidRequest(`Invalid tuple value ${termText(term)} for (${columns.map((c) => c.name).join(', ')})`);
  values.forEach((v, k) => {
    if (v === null) throw new InvalidRequest(`Invalid null value in condition for column ${columns[k]!.name}`);
  });
  return values;
}

function bindTupleSlice(specs: { type: CqlType; descending: boolean }[], ts: TupleSlice, ctx: TermContext): BoundSlice[] {
  const lower = ts.lower === null ? null : { values: tupleValues(ts.lower.term, ts.columns, ctx), inclusive: ts.lower.inclusive };
  const upper = ts.upper === null ? null : { values: tupleValues(ts.upper.term, ts.columns, ctx), inclusive: ts.upper.inclusive };
  if (!ts.mixedOrder) {
    const at = (b: { values: CqlValue[]; inclusive: boolean } | null): ClusteringBound | null => (b === null ? null : { prefix: encodeClustering(specs, b.values), inclusive: b.inclusive });
    return [ts.columns[0]!.descending ? { start: at(upper), end: at(lower) } : { start: at(lower), end: at(upper) }];
  }
  // Mixed orders: (c1, c2) > (v1, v2) is (c1 > v1) ∪ (c1 = v1 ∧ c2 > v2), each piece one
  // contiguous byte range; with both bounds, the pieces of each side are intersected.
  const lowerPieces = lower === null ? [{ start: null, end: null }] : tupleHalf(specs, ts.columns, lower.values, 'lower', lower.inclusive);
  const upperPieces = upper === null ? [{ start: null, end: null }] : tupleHalf(specs, ts.columns, upper.values, 'upper', upper.inclusive);
  const out: BoundSlice[] = [];
  for (const a of lowerPieces) {
    for (const b of upperPieces) {
      const start = maxPosition(startPosition(a.start), startPosition(b.start));
      const end = minPosition(endPosition(a.end), endPosition(b.end));
      if (comparePositions(start, end) < 0) out.push({ start: startBound(start), end: endBound(end) });
    }
  }
  return out;
}

/** The disjoint simple slices whose union is {x : x > values} ('lower') or {x : x < values}. */
function tupleHalf(specs: { type: CqlType; descending: boolean }[], columns: readonly ColumnMetadata[], values: readonly CqlValue[], side: 'lower' | 'upper', inclusive: boolean): BoundSlice[] {
  const out: BoundSlice[] = [];
  for (let i = 0; i < values.length; i++) {
    const within = i === 0 ? null : { prefix: encodeClustering(specs, values.slice(0, i)), inclusive: true };
    const beyond = { prefix: encodeClustering(specs, values.slice(0, i + 1)), inclusive: false };
    // Greater values of an ascending column come later in byte order; of a descending one, earlier.
    const later = (side === 'lower') !== columns[i]!.descending;
    out.push(later ? { start: beyond, end: within } : { start: within, end: beyond });
  }
  if (inclusive) {
    const all = { prefix: encodeClustering(specs, values), inclusive: true };
    out.push({ start: all, end: all });
  }
  return out;
}

// Positions between clustering keys, to compare slice bounds that have prefix semantics:
// `after: false` sits just before every key starting with `prefix`, `after: true` just after.
type Position = 'min' | 'max' | { readonly prefix: Buffer; readonly after: boolean };

function startPosition(b: ClusteringBound | null): Position {
  return b === null ? 'min' : { prefix: b.prefix, after: !b.inclusive };
}

function endPosition(b: ClusteringBound | null): Position {
  return b === null ? 'max' : { prefix: b.prefix, after: b.inclusive };
}

function startBound(p: Position): ClusteringBound | null {
  return p === 'min' || p === 'max' ? null : { prefix: p.prefix, inclusive: !p.after };
}

function endBound(p: Position): ClusteringBound | null {
  return p === 'min' || p === 'max' ? null : { prefix: p.prefix, inclusive: p.after };
}

function comparePositions(a: Position, b: Position): number {
  if (a === b) return 0;
  if (a === 'min' || b === 'max') return -1;
  if (a === 'max' || b === 'min') return 1;
  const n = Math.min(a.prefix.length, b.prefix.length);
  const c = Buffer.compare(a.prefix.subarray(0, n), b.prefix.subarray(0, n));
  if (c !== 0) return c;
  if (a.prefix.length === b.prefix.length) return Number(a.after) - Number(b.after);
  // One prefix extends the other: the shorter one's position is outside all of the longer's keys.
  if (a.prefix.length < b.prefix.length) return a.after ? 1 : -1;
  return b.after ? -1 : 1;
}

function maxPosition(a: Position, b: Position): Position {
  return comparePositions(a, b) >= 0 ? a : b;
}

function minPosition(a: Position, b: Position): Position {
  return comparePositions(a, b) <= 0 ? a : b;
}

function bindFilter(f: FilterPlan, ctx: TermContext): BoundFilter {
  const c = f.column;
  const r = f.relation;
  if (r.kind === 'in') {
    const values = bindValues(r.values, c, ctx);
    return { column: c, test: (v) => v !== null && values.some((x) => compareValues(c.type, x, v) === 0) };
  }
  if (r.kind === 'contains') {
    const t = c.type;
    const elementType = t.kind === 'map' ? (r.key ? t.key : t.value) : t.kind === 'native' ? t : t.element;
    const needle = evaluateTerm(r.value, elementType, c.name, ctx);
    return {
      column: c,
      test: (v) => {
        if (v === null) return false;
        if (t.kind === 'map') return (v as Array<[CqlValue, CqlValue]>).some(([k, x]) => compareValues(elementType, r.key ? k : x, needle) === 0);
        return (v as CqlValue[]).some((x) => compareValues(elementType, x, needle) === 0);
      },
    };
  }
  const target = evaluateTerm(r.value, c.type, c.name, ctx);
  const op = r.op;
  return {
    column: c,
    test: (v) => {
      if (v === null || target === null) return false;
      const cmp = compareValues(c.type, v, target);
      switch (op) {
        case '=':
          return cmp === 0;
        case '<':
          return cmp < 0;
        case '<=':
          return cmp <= 0;
        case '>':
          return cmp > 0;
        case '>=':
          return cmp >= 0;
        default:
          return cmp !== 0;
      }
    },
  };
}
