/**
 * `ringtail server --config FILE [--set key=value …]` (SPEC 2.1): one node in the foreground.
 *
 * The outer edge of the process, so it owns what core modules may not touch: real timers,
 * signals and `process.exit`. Lifecycle:
 * - settings are loaded (defaults < file < `--set`); a `ConfigError` prints
 *   `config error: <message>` on stderr and exits 1 before anything is opened;
 * - logs are pino JSON lines on stdout at `log_level`; once the node serves, one
 *   `{"msg": "node ready", "http": URL}` line says where;
 * - the first SIGTERM or SIGINT stops the node (`NodeHandle.stop()` drains: stop accepting,
 *   flush memtables, announce shutdown) and exits 0; if that takes more than
 *   `STOP_TIMEOUT_MS` the process exits 1 anyway. Further signals while stopping are logged
 *   and ignored (`cluster run` and a terminal's Ctrl-C may both signal the same node), so a
 *   node is never cut off mid-flush by a duplicate signal;
 * - the node itself may ask to end the same way: after a decommission (exit 0) or when its
 *   bootstrap failed (exit 1, the cause logged);
 * - a failure to start, or an exception nothing caught, is logged at fatal level and exits 1.
 */
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/load-config.js';
import type { Settings } from '../config/settings.js';
import { startNode } from '../node.js';
import { createLogger, type Logger } from '../util/logger.js';

/** SPEC 2.1: a stopped node exits within 10 s. */
export const STOP_TIMEOUT_MS = 10_000;

interface ServerOptions {
  config?: string;
  set: string[];
}

export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .description('run one node in the foreground, logging JSON lines to stdout')
    .option('--config <file>', "the node's JSON config file (config/default.json lists every setting)")
    .option('--set <key=value>', 'override one setting; repeatable, applied after the file', (v: string, all: string[]) => [...all, v], [])
    .action(async (opts: ServerOptions) => {
      await runServer(opts);
    });
}

async function runServer(opts: ServerOptions): Promise<void> {
  let settings: Settings;
  try {
    settings = loadConfig({ ...(opts.config !== undefined ? { file: opts.config } : {}), overrides: opts.set });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`config error: ${error.message}\n`);
    process.exit(1);
  }

  const logger = createLogger({ level: settings.log_level, ...(settings.node_name !== '' ? { name: settings.node_name } : {}) });
  process.on('uncaughtException', (error) => die(logger, error, 'uncaught exception'));
  process.on('unhandledRejection', (reason) => die(logger, reason, 'unhandled promise rejection'));

  let node: Awaited<ReturnType<typeof startNode>> | null = null;
  let stopping = false;
  /** Stops the node (drain, flush, announce) and exits with `exitCode`; once. */
  const stopAndExit = (reason: Record<string, unknown>, exitCode: number): void => {
    if (stopping) {
      logger.warn(reason, 'signal' in reason ? 'already stopping; signal ignored' : 'already stopping; ignored');
      return;
    }
    stopping = true;
    logger.info(reason, 'stopping');
    const deadline = setTimeout(() => {
      logger.fatal({ timeoutMs: STOP_TIMEOUT_MS }, 'node did not stop in time; exiting');
      process.exit(1);
    }, STOP_TIMEOUT_MS);
    (node?.stop() ?? Promise.resolve()).then(
      () => {
        clearTimeout(deadline);
        logger.info({ exitCode }, 'exiting');
        process.exit(exitCode);
      },
      (error: unknown) => die(logger, error, 'node failed to stop cleanly'),
    );
  };
  try {
    // The node asks to end itself after a decommission (0) or a failed bootstrap (1).
    node = await startNode(settings, logger, { exit: (exitCode, why) => stopAndExit({ why }, exitCode) });
  } catch (error) {
    die(logger, error, 'node failed to start');
  }
  logger.info({ http: node.httpUrl }, 'node ready');

  const onSignal = (signal: NodeJS.Signals): void => stopAndExit({ signal }, 0);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

function die(logger: Logger, error: unknown, message: string): never {
  logger.fatal({ err: error }, message);
  process.exit(1);
}
