/**
 * `ringtail repair [KEYSPACE [TABLE]]` (SPEC 2.3): anti-entropy repair of the whole ring, run by
 * the node asked (`--host`, or the first answering node of `--dir`) through
 * `POST /v1/admin/repair` (SPEC 3.3). Prints the report as a summary and one row per table,
 * or with `--json` the API's JSON.
 *
 * Exit codes: 0 when the repair completed (ranges skipped for DOWN replicas included: the
 * report names them); 1 when the node refused or failed it, or when some request or stream of
 * it failed (the report is printed first, the failures on stderr); 2 on bad usage.
 */
import type { Command } from 'commander';
import type { RepairReport } from '../../repair/repair-service.js';
import { keyspaceTableBody, run, withTargetOptions } from './command.js';
import { formatLoad, renderColumns } from './format.js';
import { InspectTarget, type TargetFlags } from './target.js';

/** A repair streams for as long as the replicas differ; bounded, but generously. */
const REPAIR_TIMEOUT_MS = 24 * 3_600_000;

interface Flags extends TargetFlags {
  readonly json?: boolean;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** The report as lines: a summary, a table per table, then DOWN replicas and failures. */
export function renderRepairReport(report: RepairReport): string[] {
  const scope = report.keyspaces.length === 0 ? 'nothing' : report.keyspaces.join(', ');
  const lines = [
    `Repair of ${scope} done in ${seconds(report.duration_ms)}: ${report.tables} tables, ${report.ranges_compared} ranges compared, ` +
      `${report.ranges_mismatched} mismatched, ${report.ranges_skipped} skipped; ${report.rows_streamed} rows (${formatLoad(report.bytes_streamed)}) ` +
      `streamed in ${report.transfers} transfers`,
  ];
  if (report.tables_detail.length > 0) {
    lines.push('');
    lines.push(
      ...renderColumns([
        ['Keyspace', 'Table', 'Compared', 'Mismatched', 'Skipped', 'Rows streamed', 'Streamed', 'Transfers', 'Time'],
        ...report.tables_detail.map((t) => [
          t.keyspace,
          t.table,
          String(t.ranges_compared),
          String(t.ranges_mismatched),
          String(t.ranges_skipped),
          String(t.rows_streamed),
          formatLoad(t.bytes_streamed),
          String(t.transfers),
          seconds(t.duration_ms),
        ]),
      ]),
    );
  }
  for (const skipped of report.keyspaces_skipped) lines.push(`Not repaired: ${skipped}`);
  if (report.replicas_down.length > 0) lines.push(`Replicas DOWN (their ranges were compared without them): ${report.replicas_down.join(', ')}`);
  if (report.failures.length > 0) lines.push(`Failures (${report.failures.length}):`, ...report.failures.map((f) => `  ${f}`));
  return lines;
}

export function registerRepairCommand(program: Command): void {
  withTargetOptions(
    program
      .command('repair [keyspace] [table]')
      .description('compare the replicas of every token range by Merkle trees and stream the differing ranges (every non-system keyspace, one keyspace, or one table)'),
  ).action((keyspace: string | undefined, table: string | undefined, flags: Flags) =>
    run(async () => {
      const report = await InspectTarget.resolve(flags).post<RepairReport>('/v1/admin/repair', keyspaceTableBody(keyspace, table), REPAIR_TIMEOUT_MS);
      if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else process.stdout.write(`${renderRepairReport(report).join('\n')}\n`);
      if (report.failures.length > 0) throw new Error(`repair incomplete: ${report.failures.length} requests or streams failed`);
    }),
  );
}
