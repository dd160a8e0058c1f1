/**
 * `DESCRIBE …` answered from the server's `GET /v1/schema` (SPEC 3.3), as cqlsh answers it from
 * the driver's schema metadata: names listed in columns for `KEYSPACES`/`TABLES`, and the DDL
 * the server prints (its `cql` strings) for a keyspace, a table or the whole schema.
 *
 * `DESCRIBE SCHEMA` leaves out the system keyspaces (`system`, `system_*`), as cqlsh does;
 * `DESCRIBE FULL SCHEMA` includes them.
 *
 * Pure: schema and target in, text or a `DescribeError` (shown as `Invalid: …`) out.
 */
import type { SchemaDescription, SchemaKeyspace } from './client.js';
import { quoteIdentifier, type DescribeTarget, type QualifiedName } from './commands.js';

/** Names are listed in columns no wider than this, like cqlsh's `DESCRIBE KEYSPACES`. */
const LIST_WIDTH = 80;

export class DescribeError extends Error {
  override readonly name = 'DescribeError';
}

const isSystemKeyspace = (name: string): boolean => /^system(_|$)/.test(name);

function findKeyspace(schema: SchemaDescription, name: string): SchemaKeyspace {
  const ks = schema.keyspaces.find((k) => k.name === name);
  if (ks === undefined) throw new DescribeError(`Keyspace '${name}' not found`);
  return ks;
}

function keyspaceOf(name: QualifiedName, current: string | null): string {
  const ks = name.keyspace ?? current;
  if (ks === null) throw new DescribeError('No keyspace specified and no current keyspace');
  return ks;
}

/** Names in left-aligned columns, filling rows, each line at most `LIST_WIDTH` wide when it can be. */
export function columnize(names: readonly string[]): string {
  if (names.length === 0) return '';
  const cell = Math.max(...names.map((n) => n.length)) + 2;
  const perLine = Math.max(1, Math.floor(LIST_WIDTH / cell));
  const lines: string[] = [];
  for (let i = 0; i < names.length; i += perLine) {
    lines.push(names.slice(i, i + perLine).map((n) => n.padEnd(cell)).join('').trimEnd());
  }
  return `${lines.join('\n')}\n`;
}

function keyspaceDdl(ks: SchemaKeyspace): string {
  return [ks.cql, ...ks.tables.map((t) => t.cql)].join('\n\n');
}

function tableDdl(schema: SchemaDescription, name: QualifiedName, current: string | null): string {
  const ksName = keyspaceOf(name, current);
  const ks = findKeyspace(schema, ksName);
  const table = ks.tables.find((t) => t.name === name.name);
  if (table === undefined) throw new DescribeError(`Table '${name.name}' not found in keyspace '${ksName}'`);
  return table.cql;
}

/** The text `DESCRIBE target` prints, given the session's current keyspace. */
export function describe(schema: SchemaDescription, target: DescribeTarget, currentKeyspace: string | null): string {
  switch (target.kind) {
    case 'keyspaces':
      return `\n${columnize(schema.keyspaces.map((k) => quoteIdentifier(k.name)))}\n`;
    case 'keyspace':
      return `\n${keyspaceDdl(findKeyspace(schema, target.name ?? keyspaceOf({ keyspace: null, name: '' }, currentKeyspace)))}\n\n`;
    case 'tables':
      return describeTables(schema, currentKeyspace);
    case 'table':
      return `\n${tableDdl(schema, target.table, currentKeyspace)}\n\n`;
    case 'schema': {
      const keyspaces = schema.keyspaces.filter((k) => target.full || !isSystemKeyspace(k.name));
      return `\n${keyspaces.map(keyspaceDdl).join('\n\n')}\n\n`;
    }
    case 'cluster':
      return `\nCluster: ${schema.cluster_name}\nPartitioner: ${schema.partitioner}\nSchema version: ${schema.version}\n\n`;
    case 'name': {
      const { keyspace, name } = target.target;
      if (keyspace === null && schema.keyspaces.some((k) => k.name === name)) return describe(schema, { kind: 'keyspace', name }, currentKeyspace);
      return `\n${tableDdl(schema, target.target, currentKeyspace)}\n\n`;
    }
  }
}

function describeTables(schema: SchemaDescription, currentKeyspace: string | null): string {
  if (currentKeyspace !== null) {
    const tables = findKeyspace(schema, currentKeyspace).tables.map((t) => quoteIdentifier(t.name));
    return `\n${tables.length === 0 ? '<empty>\n' : columnize(tables)}\n`;
  }
  const parts = schema.keyspaces.map((ks) => {
    const title = `Keyspace ${quoteIdentifier(ks.name)}`;
    const tables = ks.tables.map((t) => quoteIdentifier(t.name));
    return `${title}\n${'-'.repeat(title.length)}\n${tables.length === 0 ? '<empty>\n' : columnize(tables)}`;
  });
  return `\n${parts.join('\n')}\n`;
}
