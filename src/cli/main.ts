/**
 * The `ringtail` command line. Exit codes (SPEC 2): 0 success, 1 operation failed (message on
 * stderr), 2 bad usage. Commands arrive with the issues that build them: the node server and
 * the CQL shell (#3), local clusters and ring inspection (#4), benchmarks (#6).
 */
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { describeSettings } from '../config/load-config.js';
import { dumpSstable } from './sstable-dump.js';
import { registerServerCommand } from './server-command.js';
import { registerCqlCommand } from './cql-shell/command.js';
import { registerClusterCommand } from './cluster/cluster-command.js';
import { registerInspectCommands } from './inspect/command.js';
import { registerAdminCommands } from './inspect/admin-commands.js';
import { registerRepairCommand } from './inspect/repair-command.js';
import { registerBenchCommand } from './bench-command.js';
import { UsageError } from './usage-error.js';

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

function buildProgram(): Command {
  const program = new Command('ringtail')
    .description('A leaderless, Cassandra-style wide-column store')
    .version(pkg.version)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('config')
    .description('list every setting with its default and description')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) => {
      const settings = describeSettings();
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(settings, null, 2)}\n`);
        return;
      }
      const width = Math.max(...settings.map((s) => s.name.length));
      for (const s of settings) process.stdout.write(`${s.name.padEnd(width)}  ${JSON.stringify(s.default)}  ${s.description}\n`);
    });

  const sstable = program.command('sstable').description('inspect SSTable files');
  sstable
    .command('dump <file>')
    .description('print an SSTable\'s metadata and entries as JSON lines')
    .option('--limit <n>', 'print at most n entries', (v) => Number.parseInt(v, 10))
    .action((file: string, opts: { limit?: number }) => {
      dumpSstable(file, (line) => process.stdout.write(`${line}\n`), opts.limit);
    });

  registerCqlCommand(program);

  registerServerCommand(program);
  registerClusterCommand(program);
  registerInspectCommands(program);
  registerAdminCommands(program);
  registerRepairCommand(program);
  registerBenchCommand(program);

  return program;
}

export async function main(argv: string[]): Promise<void> {
  // Output piped into `head` and closed early is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    process.stderr.write(`${(err as Error).message}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  }
}
