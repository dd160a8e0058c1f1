/**
 * A CQL request and its result, as SPEC 3.1 defines them for `POST /v1/cql`. The HTTP layer
 * validates the JSON body into a `CqlRequest` and serialises the `CqlResult` as it is.
 */

export const CONSISTENCY_LEVELS = ['ANY', 'ONE', 'TWO', 'THREE', 'QUORUM', 'ALL', 'LOCAL_ONE', 'LOCAL_QUORUM', 'EACH_QUORUM', 'SERIAL', 'LOCAL_SERIAL'] as const;
export type ConsistencyLevel = (typeof CONSISTENCY_LEVELS)[number];

export function isConsistencyLevel(s: string): s is ConsistencyLevel {
  return (CONSISTENCY_LEVELS as readonly string[]).includes(s);
}

export interface CqlRequest {
  readonly query: string;
  /** A list for `?` markers, an object for `:name` markers. */
  readonly params?: readonly unknown[] | Readonly<Record<string, unknown>> | null;
  readonly keyspace?: string | null;
  readonly consistency?: ConsistencyLevel | null;
  readonly pageSize?: number | null;
  readonly pagingState?: string | null;
  /** Write timestamp in µs for cells without `USING TIMESTAMP`. */
  readonly timestamp?: number | null;
  readonly context?: string | null;
  readonly trace?: boolean;
}

export interface ColumnSpec {
  readonly name: string;
  readonly type: string;
}

export interface RowsResult {
  readonly kind: 'rows';
  readonly columns: readonly ColumnSpec[];
  /** Values in SPEC 3.1's JSON encoding; each object's key order is `columns`' order. */
  readonly rows: readonly Record<string, unknown>[];
  readonly paging_state: string | null;
  readonly context: string | null;
  readonly conflicts: number;
  readonly warnings: readonly string[];
  readonly trace: null;
}

export interface VoidResult {
  readonly kind: 'void';
  readonly warnings: readonly string[];
  readonly trace: null;
}

export interface SchemaChangeResult {
  readonly kind: 'schema_change';
  readonly change: 'CREATED' | 'UPDATED' | 'DROPPED';
  readonly target: 'KEYSPACE' | 'TABLE';
  readonly keyspace: string;
  readonly table: string | null;
  readonly warnings: readonly string[];
  readonly trace: null;
}

export interface SetKeyspaceResult {
  readonly kind: 'set_keyspace';
  readonly keyspace: string;
  readonly warnings: readonly string[];
  readonly trace: null;
}

export type CqlResult = RowsResult | VoidResult | SchemaChangeResult | SetKeyspaceResult;

/** What the HTTP layer needs from the CQL layer. */
export interface CqlExecutor {
  execute(request: CqlRequest): Promise<CqlResult>;
}

/** `GET /v1/schema`: what the shell's DESCRIBE and `ringtail describe` print. */
export interface SchemaDescription {
  readonly cluster_name: string;
  readonly partitioner: string;
  readonly version: string;
  readonly keyspaces: readonly {
    readonly name: string;
    readonly replication: Readonly<Record<string, string>>;
    readonly durable_writes: boolean;
    readonly cql: string;
    readonly tables: readonly {
      readonly name: string;
      readonly id: string;
      readonly columns: readonly { readonly name: string; readonly type: string; readonly kind: string }[];
      readonly cql: string;
    }[];
  }[];
}
