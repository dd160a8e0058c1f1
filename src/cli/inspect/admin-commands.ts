/**
 * `ringtail flush|compact [KEYSPACE [TABLE]]`, `ringtail decommission --host URL` and
 * `ringtail removenode HOST_ID` (SPEC 2.3): nodetool's operations, each one POST to a node's
 * `/v1/admin/…` (SPEC 3.3). flush and compact act on the node asked (`--host`, or the first
 * answering node of `--dir`); decommission acts on the node it is sent to, so it needs `--host`;
 * removenode may be sent to any live node.
 *
 * Exit codes as for the other inspection commands: 0, 1 on a failed operation (`Code:
 * message` on stderr), 2 on bad usage.
 */
import type { Command } from 'commander';
import type { MembershipReport } from '../../cluster/membership/membership-service.js';
import { UsageError } from '../usage-error.js';
import { keyspaceTableBody, run, withTargetOptions } from './command.js';
import { InspectTarget, type TargetFlags } from './target.js';

/** flush and compact finish in seconds to minutes; streaming may take much longer. */
const ADMIN_TIMEOUT_MS = 10 * 60_000;
const MEMBERSHIP_TIMEOUT_MS = 24 * 3_600_000;

interface Flags extends TargetFlags {
  readonly json?: boolean;
}

function printReport(report: MembershipReport, json: boolean | undefined): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const mb = (report.bytes_streamed / 1048576).toFixed(1);
  process.stdout.write(
    `${report.operation} of ${report.endpoint} done in ${(report.duration_ms / 1000).toFixed(1)} s: ` +
      `${report.ranges} ranges in ${report.transfers} transfers, ${report.rows_streamed} rows (${mb} MiB) streamed\n`,
  );
}

export function registerAdminCommands(program: Command): void {
  for (const [name, what] of [
    ['flush', 'write memtables to SSTables'],
    ['compact', 'major compaction'],
  ] as const) {
    withTargetOptions(program.command(`${name} [keyspace] [table]`).description(`${what} (every table, a keyspace's tables, or one table) on one node`)).action(
      (keyspace: string | undefined, table: string | undefined, flags: Flags) =>
        run(async () => {
          await InspectTarget.resolve(flags).post(`/v1/admin/${name}`, keyspaceTableBody(keyspace, table), ADMIN_TIMEOUT_MS);
          if (flags.json) process.stdout.write(`${JSON.stringify({ ok: true })}\n`);
        }),
    );
  }

  withTargetOptions(program.command('decommission').description('stream this node\'s ranges to their new replicas, then have it leave the ring and stop')).action((flags: Flags) =>
    run(async () => {
      if (flags.host === undefined) throw new UsageError('decommission needs --host URL: the node that leaves');
      printReport(await InspectTarget.resolve(flags).post<MembershipReport>('/v1/admin/decommission', {}, MEMBERSHIP_TIMEOUT_MS), flags.json);
    }),
  );

  withTargetOptions(program.command('removenode <host_id>').description('re-replicate the ranges of a DOWN node from the survivors and remove it from the ring')).action(
    (hostId: string, flags: Flags) =>
      run(async () => {
        printReport(await InspectTarget.resolve(flags).post<MembershipReport>('/v1/admin/removenode', { host_id: hostId }, MEMBERSHIP_TIMEOUT_MS), flags.json);
      }),
  );
}
