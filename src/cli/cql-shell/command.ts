/**
 * `ringtail cql [--host URL] [--dir DIR] [-k KEYSPACE] [-e "STATEMENT"] [-f FILE]
 * [--consistency LEVEL] [--json]` (SPEC 2.4): picks the node, builds the session, and hands it
 * to the interactive driver (a terminal on stdin) or the script driver (`-e`, `-f`, piped stdin).
 *
 * Exit codes (SPEC 2): 0 when every statement succeeded (always, for an interactive session),
 * 1 when one failed or the server could not be reached, 2 for bad usage (an unknown consistency
 * level, `-e` with `-f`).
 */
import { Command, InvalidArgumentError } from 'commander';
import { ConnectionFailure, CqlErrorResponse, HttpCqlClient, type CqlClient } from './client.js';
import { CONSISTENCY_LEVELS, parseConsistencyLevel, quoteIdentifier, type ConsistencyLevel } from './commands.js';
import { historyFilePath } from './history.js';
import { DEFAULT_CLUSTER_DIR, HostResolutionError, resolveHost } from './host.js';
import { inputLines, runInteractive, runScript } from './repl.js';
import { formatServerError, readScriptFile, ShellSession, type ShellOutput } from './session.js';

export interface CqlShellOptions {
  readonly host?: string;
  readonly dir?: string;
  readonly keyspace?: string;
  readonly execute?: string;
  readonly file?: string;
  readonly consistency?: ConsistencyLevel;
  readonly json?: boolean;
}

export interface CqlShellEnvironment {
  readonly input: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly output: NodeJS.WritableStream & { isTTY?: boolean };
  readonly error: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  readonly version: string;
  /** Tests pass a client; by default one for the resolved host. */
  readonly client?: CqlClient;
}

function parseLevelOption(value: string): ConsistencyLevel {
  const level = parseConsistencyLevel(value);
  if (level === null) throw new InvalidArgumentError(`unknown consistency level (expected one of ${CONSISTENCY_LEVELS.join(', ')})`);
  return level;
}

export function registerCqlCommand(program: Command): void {
  program
    .command('cql')
    .description('the CQL shell, like cqlsh: interactive, or run statements with -e / -f')
    .option('--host <url>', "a node's HTTP endpoint (default: the first node of --dir, else http://127.0.0.1:8042)")
    .option('--dir <dir>', 'a local cluster made by `ringtail cluster`', DEFAULT_CLUSTER_DIR)
    .option('-k, --keyspace <keyspace>', 'start in this keyspace')
    .option('-e, --execute <statements>', 'run the statements (separated by ;) and exit')
    .option('-f, --file <file>', 'run the statements in a file and exit')
    .option('--consistency <level>', `consistency level of every statement (${CONSISTENCY_LEVELS.join(', ')}; default ONE)`, parseLevelOption)
    .option('--json', 'print each server response as one JSON line')
    .action(async (opts: CqlShellOptions, cmd: Command) => {
      if (opts.execute !== undefined && opts.file !== undefined) cmd.error('error: -e and -f cannot be used together', { exitCode: 2 });
      const version = program.version() ?? '0.0.0';
      process.exitCode = await runCqlShell(opts, { input: process.stdin, output: process.stdout, error: process.stderr, env: process.env, version });
    });
}

/** Runs the shell as the options ask; resolves with the exit code. */
export async function runCqlShell(opts: CqlShellOptions, env: CqlShellEnvironment): Promise<number> {
  let client: CqlClient;
  try {
    client = env.client ?? new HttpCqlClient(resolveHost(opts));
  } catch (e) {
    if (e instanceof HostResolutionError) {
      env.error.write(`${e.message}\n`);
      return 1;
    }
    // `new URL` rejects a --host that is not a URL: bad usage.
    if (!(e instanceof TypeError)) throw e;
    env.error.write(`error: invalid --host '${opts.host ?? ''}': ${e.message}\n`);
    return 2;
  }
  const session = new ShellSession({ client, ...(opts.consistency ? { consistency: opts.consistency } : {}), json: opts.json ?? false });
  const streams = { input: env.input, output: env.output, error: env.error };
  const io: ShellOutput = { out: (t) => env.output.write(t), err: (t) => env.error.write(t) };
  const interactive = opts.execute === undefined && opts.file === undefined && env.input.isTTY === true;
  try {
    if (interactive && !(await greet(client, env))) {
      // Not reachable now: start in the keyspace asked for anyway, statements will retry.
      if (opts.keyspace !== undefined) session.keyspace = opts.keyspace;
    } else if (opts.keyspace !== undefined) {
      const outcome = await session.execute(`USE ${quoteIdentifier(opts.keyspace)}`, io);
      if (outcome !== 'ok') return 1;
    }
    if (interactive) {
      await runInteractive(session, streams, { terminal: env.output.isTTY === true, historyFile: historyFilePath(env.env) });
      return 0;
    }
    if (opts.execute !== undefined) return await runScript(session, opts.execute.split(/\r?\n/), streams);
    if (opts.file !== undefined) {
      let text: string;
      try {
        text = await readScriptFile(opts.file);
      } catch (e) {
        env.error.write(`Could not read ${opts.file}: ${(e as Error).message}\n`);
        return 1;
      }
      return await runScript(session, text.split(/\r?\n/), streams);
    }
    const piped = inputLines(env.input);
    try {
      return await runScript(session, piped.lines, streams);
    } finally {
      piped.close();
    }
  } finally {
    await client.close();
  }
}

/** The banner of an interactive session; false when the server cannot be reached now. */
async function greet(client: CqlClient, env: CqlShellEnvironment): Promise<boolean> {
  try {
    const schema = await client.schema();
    env.output.write(`Connected to ${schema.cluster_name} at ${client.host}.\n[ringtail ${env.version} | CQL-lite | HTTP API v1]\nUse HELP for help.\n`);
    return true;
  } catch (e) {
    if (e instanceof CqlErrorResponse) {
      env.error.write(`${formatServerError(e)}\n`);
      return true;
    }
    if (!(e instanceof ConnectionFailure)) throw e;
    env.error.write(`Connection error: ${e.message}; statements will be sent when you enter them.\n`);
    env.output.write(`[ringtail ${env.version} | CQL-lite | HTTP API v1]\nUse HELP for help.\n`);
    return false;
  }
}
