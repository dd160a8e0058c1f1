/**
 * The syntax tree of CQL-lite (SPEC 4), as the parser produces it and the planner consumes it.
 *
 * The tree is purely syntactic: names are already case-folded (unquoted identifiers to lower
 * case, quoted ones as written), but nothing is checked against the schema here. Whether a
 * column exists, a restriction is allowed or a literal fits a type is the planner's business,
 * so one parse can be cached and planned again after a schema change.
 *
 * Bind markers are numbered in order of appearance (0-based) across the whole statement,
 * including inside BATCH, so `params[i]` binds marker `i`; a named marker `:x` also has `name`.
 */

// ---- Names and types ------------------------------------------------------------------------

export interface QualifiedName {
  readonly keyspace: string | null;
  readonly name: string;
}

export type TypeExpr =
  | { readonly kind: 'native'; readonly name: string }
  | { readonly kind: 'list' | 'set'; readonly element: TypeExpr }
  | { readonly kind: 'map'; readonly key: TypeExpr; readonly value: TypeExpr }
  | { readonly kind: 'frozen'; readonly inner: TypeExpr };

// ---- Terms: the values in a statement -------------------------------------------------------

/** Literal constants keep their source text where the type decides how to read it. */
export type Constant =
  | { readonly kind: 'string'; readonly value: string }
  /** An optional '-' and digits: read as int, bigint, varint, float, … depending on the column. */
  | { readonly kind: 'integer'; readonly text: string }
  /** Digits with a fraction or exponent, or NaN / Infinity / -Infinity. */
  | { readonly kind: 'float'; readonly text: string }
  | { readonly kind: 'boolean'; readonly value: boolean }
  /** An unquoted UUID, lower-cased. */
  | { readonly kind: 'uuid'; readonly text: string }
  /** A blob constant `0x…`, with the `0x` and the hex digits as written (lower-cased). */
  | { readonly kind: 'hex'; readonly text: string }
  | { readonly kind: 'null' };

export interface BindMarker {
  readonly kind: 'bind';
  /** Position among all markers of the statement, 0-based. */
  readonly index: number;
  /** The name of a `:name` marker; null for `?`. */
  readonly name: string | null;
}

export type Term =
  | Constant
  | BindMarker
  | { readonly kind: 'list'; readonly elements: readonly Term[] }
  | { readonly kind: 'set'; readonly elements: readonly Term[] }
  /** `{}` parses as an empty map; the planner reads it as an empty set where a set is expected. */
  | { readonly kind: 'map'; readonly entries: readonly MapEntry[] }
  /** A parenthesised tuple, as on the right of `(c1, c2) > (1, 2)` or in `IN (1, 2)`. */
  | { readonly kind: 'tuple'; readonly elements: readonly Term[] }
  /** A function call such as `now()` or `toTimestamp(now())`; `name` lower-cased. */
  | { readonly kind: 'function'; readonly name: string; readonly args: readonly Term[] };

export interface MapEntry {
  readonly key: Term;
  readonly value: Term;
}

// ---- WHERE and IF ---------------------------------------------------------------------------

export type Operator = '=' | '!=' | '<' | '<=' | '>' | '>=';

export type Relation =
  | { readonly kind: 'compare'; readonly column: string; readonly op: Operator; readonly value: Term }
  /** `c IN (a, b)` has `values` as a list of terms; `c IN ?` has a single bind marker. */
  | { readonly kind: 'in'; readonly column: string; readonly values: readonly Term[] | BindMarker }
  /** `(c1, c2) op (v1, v2)`: `value` is a tuple term or a bind marker. */
  | { readonly kind: 'multi_compare'; readonly columns: readonly string[]; readonly op: Operator; readonly value: Term }
  /** `token(p1, p2) op term`. */
  | { readonly kind: 'token'; readonly columns: readonly string[]; readonly op: Operator; readonly value: Term }
  /** `c CONTAINS v` / `c CONTAINS KEY v`. */
  | { readonly kind: 'contains'; readonly column: string; readonly key: boolean; readonly value: Term };

/** An `IF` condition: `c op v`, or `c[k] op v` when `element` is set. */
export interface Condition {
  readonly column: string;
  readonly element: Term | null;
  readonly op: Operator;
  readonly value: Term;
}

// ---- Statements -----------------------------------------------------------------------------

/** `WITH name = value AND …`; map-valued options (replication, compaction) are `map` terms. */
export interface Property {
  readonly name: string;
  readonly value: Term;
}

export interface ClusteringOrder {
  readonly column: string;
  readonly order: 'ASC' | 'DESC';
}

export interface ColumnDefinition {
  readonly name: string;
  readonly type: TypeExpr;
  readonly isStatic: boolean;
  /** `col type PRIMARY KEY` written inline. */
  readonly primaryKey: boolean;
}

export interface UsingClause {
  readonly ttl: Term | null;
  readonly timestamp: Term | null;
}

export const NO_USING: UsingClause = Object.freeze({ ttl: null, timestamp: null });

export interface CreateKeyspace {
  readonly kind: 'create_keyspace';
  readonly ifNotExists: boolean;
  readonly keyspace: string;
  readonly properties: readonly Property[];
}

export interface AlterKeyspace {
  readonly kind: 'alter_keyspace';
  readonly keyspace: string;
  readonly properties: readonly Property[];
}

export interface DropKeyspace {
  readonly kind: 'drop_keyspace';
  readonly ifExists: boolean;
  readonly keyspace: string;
}

export interface Use {
  readonly kind: 'use';
  readonly keyspace: string;
}

export interface CreateTable {
  readonly kind: 'create_table';
  readonly ifNotExists: boolean;
  readonly table: QualifiedName;
  readonly columns: readonly ColumnDefinition[];
  /** The `PRIMARY KEY (…)` clause, if written: `((p1, p2), c1)` gives partition [p1, p2], clustering [c1]. */
  readonly primaryKey: { readonly partition: readonly string[]; readonly clustering: readonly string[] } | null;
  readonly clusteringOrder: readonly ClusteringOrder[];
  readonly properties: readonly Property[];
}

export type AlterTableAction =
  | { readonly kind: 'add'; readonly columns: readonly ColumnDefinition[] }
  | { readonly kind: 'drop'; readonly columns: readonly string[] }
  | { readonly kind: 'with'; readonly properties: readonly Property[] };

export interface AlterTable {
  readonly kind: 'alter_table';
  readonly table: QualifiedName;
  readonly action: AlterTableAction;
}

export interface DropTable {
  readonly kind: 'drop_table';
  readonly ifExists: boolean;
  readonly table: QualifiedName;
}

export interface Truncate {
  readonly kind: 'truncate';
  readonly table: QualifiedName;
}

export interface Insert {
  readonly kind: 'insert';
  readonly table: QualifiedName;
  readonly columns: readonly string[];
  readonly values: readonly Term[];
  readonly ifNotExists: boolean;
  readonly using: UsingClause;
}

export interface InsertJson {
  readonly kind: 'insert_json';
  readonly table: QualifiedName;
  /** A string constant or a bind marker holding the JSON object. */
  readonly json: Term;
  /** `DEFAULT UNSET` (omitted columns untouched) rather than the default `DEFAULT NULL`. */
  readonly defaultUnset: boolean;
  readonly ifNotExists: boolean;
  readonly using: UsingClause;
}

export type Assignment =
  /** `c = v` */
  | { readonly kind: 'set'; readonly column: string; readonly value: Term }
  /** `c[k] = v` (map key or list index) */
  | { readonly kind: 'set_element'; readonly column: string; readonly element: Term; readonly value: Term }
  /** `c = c + v` (append to a list, add to a set or map, increment a counter) */
  | { readonly kind: 'add'; readonly column: string; readonly value: Term }
  /** `c = v + c` (prepend to a list) */
  | { readonly kind: 'prepend'; readonly column: string; readonly value: Term }
  /** `c = c - v` (remove from a list, set or map keys; decrement a counter) */
  | { readonly kind: 'subtract'; readonly column: string; readonly value: Term };

export interface Update {
  readonly kind: 'update';
  readonly table: QualifiedName;
  readonly using: UsingClause;
  readonly assignments: readonly Assignment[];
  readonly where: readonly Relation[];
  readonly ifExists: boolean;
  readonly conditions: readonly Condition[];
}

/** What a DELETE removes: a whole column, or one element `c[k]` of a collection. */
export interface DeleteTarget {
  readonly column: string;
  readonly element: Term | null;
}

export interface Delete {
  readonly kind: 'delete';
  readonly table: QualifiedName;
  /** Empty for `DELETE FROM …` (the rows or partition themselves). */
  readonly targets: readonly DeleteTarget[];
  readonly using: UsingClause;
  readonly where: readonly Relation[];
  readonly ifExists: boolean;
  readonly conditions: readonly Condition[];
}

export type Selector =
  | { readonly kind: 'column'; readonly name: string }
  /** `COUNT(*)` or `COUNT(1)` */
  | { readonly kind: 'count' }
  | { readonly kind: 'writetime'; readonly column: string }
  | { readonly kind: 'ttl'; readonly column: string }
  | { readonly kind: 'token'; readonly columns: readonly string[] }
  /** A function of columns or terms, e.g. `toDate(ts)` or `now()`. */
  | { readonly kind: 'function'; readonly name: string; readonly args: readonly (Selector | Term)[] };

export interface SelectItem {
  readonly selector: Selector;
  readonly alias: string | null;
}

export interface Select {
  readonly kind: 'select';
  readonly table: QualifiedName;
  readonly distinct: boolean;
  /** null for `SELECT *`. */
  readonly items: readonly SelectItem[] | null;
  readonly where: readonly Relation[];
  readonly orderBy: readonly ClusteringOrder[];
  readonly perPartitionLimit: Term | null;
  readonly limit: Term | null;
  readonly allowFiltering: boolean;
}

export type ModificationStatement = Insert | InsertJson | Update | Delete;

export interface Batch {
  readonly kind: 'batch';
  readonly type: 'logged' | 'unlogged' | 'counter';
  readonly using: UsingClause;
  readonly statements: readonly ModificationStatement[];
}

export type Statement =
  | CreateKeyspace
  | AlterKeyspace
  | DropKeyspace
  | Use
  | CreateTable
  | AlterTable
  | DropTable
  | Truncate
  | ModificationStatement
  | Select
  | Batch;

/** What `parse()` returns: the statement and its bind markers in order. */
export interface ParsedStatement {
  readonly statement: Statement;
  /** One entry per marker, in index order: its name, or null for `?`. */
  readonly markers: readonly (string | null)[];
}
