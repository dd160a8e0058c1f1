/**
 * What one statement execution sees: the schema snapshot it started under, the session's
 * keyspace, the bound values, the consistency level, where data lives, and time.
 */
import { InvalidRequest } from '../errors.js';
import type { Clock } from '../runtime/clock.js';
import type { Random } from '../runtime/random.js';
import type { Schema, TableLayout, TableMetadata } from '../schema/schema.js';
import type { QualifiedName } from './ast.js';
import type { DataPath } from './data-path.js';
import type { FunctionContext } from './functions.js';
import type { ConsistencyLevel } from './request.js';
import type { TermContext } from './terms.js';

export interface ExecutionContext extends TermContext {
  readonly schema: Schema;
  readonly keyspace: string | null;
  readonly consistency: ConsistencyLevel;
  readonly dataPath: DataPath;
  readonly clock: Clock;
  readonly random: Random;
  readonly functions: FunctionContext;
  /** The request's `timestamp` (µs), used when a statement has no `USING TIMESTAMP`. */
  readonly requestTimestamp: number | null;
  /** The coordinator's write timestamp in µs (the node's Hybrid Clock): never repeats or goes back. */
  writeTimestamp(): number;
}

export interface ResolvedTable {
  readonly table: TableMetadata;
  readonly layout: TableLayout;
}

export function keyspaceOf(name: QualifiedName | string | null, sessionKeyspace: string | null): string {
  const ks = typeof name === 'string' ? name : (name?.keyspace ?? sessionKeyspace);
  if (ks === null || ks === undefined) throw new InvalidRequest('No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename');
  return ks;
}

export function resolveTable(schema: Schema, name: QualifiedName, sessionKeyspace: string | null): ResolvedTable {
  const ks = keyspaceOf(name, sessionKeyspace);
  // Cassandra 4.1+'s wording (Schema.validateTable).
  if (schema.keyspace(ks) === undefined) throw new InvalidRequest(`keyspace ${ks} does not exist`);
  const table = schema.table(ks, name.name);
  if (table === undefined) throw new InvalidRequest(`table ${name.name} does not exist`);
  return { table, layout: schema.layout(table) };
}
