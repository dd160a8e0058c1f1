/**
 * `ringtail status|ring|gossipinfo|describe|endpoints` (SPEC 2.3): ask one node over HTTP
 * (`target.ts`) and print its answer the way nodetool would (`render.ts`), or with `--json`
 * the API's JSON as it came.
 *
 * Exit codes (SPEC 2): 0; 1 when no node answers or the node answers with an error (printed
 * as `Code: message` on stderr); 2 on bad usage.
 */
import type { Command } from 'commander';
import type { EndpointsReport, RingEntry, StatusReport } from '../../cluster/status-report.js';
import type { SchemaDescription } from '../../cql/request.js';
import { ApiError } from '../http-client.js';
import { describedKeyspaces, renderDescribe, renderEndpoints, renderGossipInfo, renderRing, renderStatus, schemaVersions, type GossipEndpoint } from './render.js';
import { InspectTarget, type TargetFlags } from './target.js';

interface CommonFlags extends TargetFlags {
  readonly json?: boolean;
}

const print = (lines: readonly string[]): void => {
  if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
};

const printJson = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
};

export function withTargetOptions(command: Command): Command {
  return command
    .option('--host <url>', "any node's HTTP endpoint")
    .option('--dir <dir>', 'a local cluster made by `ringtail cluster` (default ./data/local)')
    .option('--json', 'print the API JSON');
}

/** A node's error answer as `Code: message`, as the CQL shell prints errors. */
export async function run(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    if (err instanceof ApiError) throw new Error(`${err.code}: ${err.message}`);
    throw err;
  }
}

/** The `{"keyspace"?, "table"?}` body of the admin operations that take them. */
export const keyspaceTableBody = (keyspace: string | undefined, table: string | undefined): { keyspace?: string; table?: string } => ({
  ...(keyspace !== undefined ? { keyspace } : {}),
  ...(table !== undefined ? { table } : {}),
});

const keyspaceQuery = (keyspace: string | undefined): string => (keyspace === undefined ? '' : `?keyspace=${encodeURIComponent(keyspace)}`);

export function registerInspectCommands(program: Command): void {
  withTargetOptions(program.command('status').description('per datacenter, each node: state, address, load, tokens, ownership, host id, rack'))
    .option('--keyspace <keyspace>', 'show effective ownership under this keyspace\'s replication')
    .action((flags: CommonFlags & { keyspace?: string }) =>
      run(async () => {
        const report = await InspectTarget.resolve(flags).get<StatusReport>(`/v1/status${keyspaceQuery(flags.keyspace)}`);
        if (flags.json) printJson(report);
        else print(renderStatus(report, flags.keyspace));
      }),
    );

  withTargetOptions(program.command('ring').description('one row per token in ring order'))
    .option('--keyspace <keyspace>', 'show effective ownership under this keyspace\'s replication')
    .action((flags: CommonFlags & { keyspace?: string }) =>
      run(async () => {
        const entries = await InspectTarget.resolve(flags).get<RingEntry[]>(`/v1/ring${keyspaceQuery(flags.keyspace)}`);
        if (flags.json) printJson(entries);
        else print(renderRing(entries));
      }),
    );

  withTargetOptions(program.command('gossipinfo').description("every endpoint's generation, heartbeat and application states")).action((flags: CommonFlags) =>
    run(async () => {
      const endpoints = await InspectTarget.resolve(flags).get<GossipEndpoint[]>('/v1/gossip');
      if (flags.json) printJson(endpoints);
      else print(renderGossipInfo(endpoints));
    }),
  );

  withTargetOptions(program.command('describe [keyspace]').description('cluster name, partitioner, schema versions, and keyspace and table DDL')).action(
    (keyspace: string | undefined, flags: CommonFlags) =>
      run(async () => {
        const target = InspectTarget.resolve(flags);
        const schema = await target.get<SchemaDescription>('/v1/schema');
        const report = await target.get<StatusReport>('/v1/status');
        if (!flags.json) {
          print(renderDescribe(schema, report, keyspace));
          return;
        }
        printJson({
          cluster_name: schema.cluster_name,
          partitioner: schema.partitioner,
          schema_versions: schemaVersions(report),
          keyspaces: describedKeyspaces(schema, keyspace),
        });
      }),
  );

  withTargetOptions(
    program
      .command('endpoints <keyspace> <table> <keys...>')
      .description('the replicas of a partition key, in preference order (one CQL literal per partition key column, e.g. 42 or "\'ada\'")'),
  ).action((keyspace: string, table: string, keys: string[], flags: CommonFlags) =>
    run(async () => {
      const query = [`keyspace=${encodeURIComponent(keyspace)}`, `table=${encodeURIComponent(table)}`, ...keys.map((k) => `key=${encodeURIComponent(k)}`)].join('&');
      const report = await InspectTarget.resolve(flags).get<EndpointsReport>(`/v1/endpoints?${query}`);
      if (flags.json) printJson(report);
      else print(renderEndpoints(report));
    }),
  );
}
