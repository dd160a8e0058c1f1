/**
 * `ringtail bench [options]` (SPEC 2.5): the YCSB benchmark, run as
 * `node --expose-gc <package root>/bench/run.mjs ycsb …options` in a child process with the
 * terminal's stdio, so its live progress reaches the user as it happens. Every argument after
 * `bench` is passed through untouched (the benchmark parses and validates its own options;
 * `ringtail bench --help` prints them), and the child's exit code is the command's.
 *
 * The outer edge of the process, so it owns signals: while the child runs, SIGINT (which a
 * terminal's Ctrl-C also delivers to the child, in the same process group) is left to the child,
 * which stops its clusters and exits; SIGTERM sent to this process alone is forwarded to it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';

/** dist/cli/bench-command.js → the package root. */
const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function benchScriptPath(root: string = PACKAGE_ROOT): string {
  return path.join(root, 'bench', 'run.mjs');
}

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('YCSB benchmark (workloads a-f) against a local or existing cluster; --help lists its options')
    .helpOption(false)
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .argument('[options...]', 'options of the YCSB benchmark (npm run bench -- ycsb --help)')
    .action(async (args: string[]) => {
      process.exitCode = await runBench(args);
    });
}

/** Runs the benchmark with `args`; resolves with its exit code (1 when it died from a signal). */
export async function runBench(args: readonly string[], script: string = benchScriptPath()): Promise<number> {
  if (!existsSync(script)) {
    process.stderr.write(`ringtail bench: ${script} not found (the benchmark harness ships with the source checkout)\n`);
    return 1;
  }
  const child = spawn(process.execPath, ['--expose-gc', script, 'ycsb', ...args], { stdio: 'inherit' });
  const ignoreInterrupt = (): void => undefined;
  const forwardTerminate = (): void => {
    child.kill('SIGTERM');
  };
  process.on('SIGINT', ignoreInterrupt);
  process.on('SIGTERM', forwardTerminate);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => resolve(code ?? 1));
    });
  } finally {
    process.removeListener('SIGINT', ignoreInterrupt);
    process.removeListener('SIGTERM', forwardTerminate);
  }
}
