/**
 * A local cluster driven through the `ringtail` CLI, for benchmarks: run a CLI command, read the
 * nodes from `DIR/cluster.json`, and kill every node process of a cluster directory by PID (on
 * errors and Ctrl-C, so no benchmark leaves a node behind).
 *
 * The CLI is `$RINGTAIL_BIN` when set (a private build), else this checkout's `bin/ringtail`.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const RINGTAIL_BIN = process.env.RINGTAIL_BIN ?? path.join(HERE, '..', '..', 'bin', 'ringtail');
const exec = promisify(execFile);

/** Runs `ringtail …args` and resolves with its stdout; rejects on a non-zero exit or after `timeoutMs`. */
export async function ringtailCli(args, timeoutMs) {
  const { stdout } = await exec(process.execPath, [RINGTAIL_BIN, ...args], { timeout: timeoutMs, maxBuffer: 16 << 20 });
  return stdout;
}

/** The nodes of the cluster in `dir` (cluster.json, SPEC 2.2). */
export function readClusterNodes(dir) {
  return JSON.parse(fs.readFileSync(path.join(dir, 'cluster.json'), 'utf8')).nodes;
}

export function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGKILLs every node process listed in `dir`'s cluster.json that still runs. */
export function killClusterDir(dir) {
  if (!fs.existsSync(path.join(dir, 'cluster.json'))) return;
  for (const n of readClusterNodes(dir)) if (n.pid > 0 && isAlive(n.pid)) process.kill(n.pid, 'SIGKILL');
}

/**
 * `ringtail cluster …args --dir DIR` with its output captured: resolves with `{ code, stdout,
 * stderr }` whatever the exit code; rejects (after SIGKILLing it) past `timeoutMs`.
 */
export function runClusterCommand(dir, args, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RINGTAIL_BIN, 'cluster', ...args, '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s) => (stderr += s));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ringtail cluster ${args.join(' ')} did not finish within ${timeoutMs / 1000} s\n${stderr.slice(-2000)}`));
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
