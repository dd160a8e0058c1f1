/**
 * Schema as CQL text: the `CREATE KEYSPACE` / `CREATE TABLE` statements that recreate it, laid
 * out as Cassandra's DESCRIBE prints them. Used by `GET /v1/schema`, the shell's DESCRIBE and
 * `ringtail describe`.
 */
import type { KeyspaceMetadata, TableMetadata } from './schema.js';
import { formatType } from './type-names.js';

/** An identifier as CQL must spell it: bare when it folds to itself, else double-quoted. */
export function cqlIdentifier(name: string, isReserved: (word: string) => boolean = () => false): string {
  if (/^[a-z][a-z0-9_]*$/.test(name) && !isReserved(name)) return name;
  return `"${name.replaceAll('"', '""')}"`;
}

function quoted(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

function optionMap(entries: ReadonlyArray<readonly [string, string]>): string {
  return `{${entries.map(([k, v]) => `${quoted(k)}: ${quoted(v)}`).join(', ')}}`;
}

export function replicationMap(ks: KeyspaceMetadata): Array<[string, string]> {
  const r = ks.replication;
  if (r.class === 'SimpleStrategy') return [['class', 'org.apache.cassandra.locator.SimpleStrategy'], ['replication_factor', String(r.replicationFactor)]];
  return [['class', 'org.apache.cassandra.locator.NetworkTopologyStrategy'], ...Object.entries(r.datacenters).sort(([a], [b]) => (a < b ? -1 : 1)).map(([dc, n]): [string, string] => [dc, String(n)])];
}

export function keyspaceCql(ks: KeyspaceMetadata, isReserved?: (word: string) => boolean): string {
  return `CREATE KEYSPACE ${cqlIdentifier(ks.name, isReserved)} WITH replication = ${optionMap(replicationMap(ks))}  AND durable_writes = ${ks.durableWrites};`;
}

export function tableCql(t: TableMetadata, isReserved?: (word: string) => boolean): string {
  const id = (n: string) => cqlIdentifier(n, isReserved);
  const lines = t.columns.map((c) => `    ${id(c.name)} ${formatType(c.type)}${c.kind === 'static' ? ' static' : ''},`);
  const pk = t.columns.filter((c) => c.kind === 'partition_key').map((c) => id(c.name));
  const ck = t.columns.filter((c) => c.kind === 'clustering');
  const partition = pk.length === 1 ? pk[0] : `(${pk.join(', ')})`;
  lines.push(`    PRIMARY KEY (${[partition, ...ck.map((c) => id(c.name))].join(', ')})`);
  const p = t.params;
  const options = [
    ...(ck.length > 0 ? [`CLUSTERING ORDER BY (${ck.map((c) => `${id(c.name)} ${c.descending ? 'DESC' : 'ASC'}`).join(', ')})`] : []),
    `comment = ${quoted(p.comment)}`,
    `compaction = ${optionMap([
      ['class', `org.apache.cassandra.db.compaction.${p.compaction.class}`],
      ['enabled', String(p.compaction.enabled)],
      ['max_threshold', String(p.compaction.maxThreshold)],
      ['min_threshold', String(p.compaction.minThreshold)],
    ])}`,
    `conflict_resolution = ${quoted(p.conflictResolution)}`,
    `default_time_to_live = ${p.defaultTimeToLive}`,
    `gc_grace_seconds = ${p.gcGraceSeconds}`,
    `read_repair = ${quoted(p.readRepair)}`,
    `speculative_retry = ${quoted(p.speculativeRetry)}`,
  ];
  return `CREATE TABLE ${id(t.keyspace)}.${id(t.name)} (\n${lines.join('\n')}\n) WITH ${options.join('\n    AND ')};`;
}
