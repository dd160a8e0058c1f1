/**
 * The environment of a benchmark run: machine description, the exact command line, GC between
 * phases, temporary directories (removed at the end, also on error or Ctrl-C), directory sizes.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    cores: cpus.length,
    totalMemBytes: os.totalmem(),
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    hostname: os.hostname(),
  };
}

/** The command as typed (npm run bench -- …) when run through npm, else the node command line. */
export function commandLine(argv = process.argv) {
  const args = argv.slice(2).map(shellQuote);
  const script = path.relative(process.cwd(), argv[1] ?? '') || argv[1];
  const node = ['node', ...process.execArgv.map(shellQuote), script, ...args].join(' ');
  if (process.env.npm_lifecycle_event === 'bench') return { typed: ['npm run bench --', ...args].join(' '), node };
  return { typed: node, node };
}

function shellQuote(s) {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Runs a full GC when node was started with --expose-gc (npm run bench does this). */
/** Writes back every dirty page (sync(1)), so the next measurement starts on a quiet disk. */
export function settleDisk() {
  execFileSync('sync', { stdio: 'ignore' });
}

export function collectGarbage() {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    return true;
  }
  return false;
}

/** Total size in bytes of the regular files under `dir` (0 if it does not exist); a snapshot. */
export function dirSize(dir) {
  let total = 0;
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if (e.code === 'ENOENT') return 0;
    throw e;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += dirSize(p);
    else if (e.isFile()) total += fs.statSync(p, { throwIfNoEntry: false })?.size ?? 0; // may vanish meanwhile (LevelDB compaction)
  }
  return total;
}

const TMPFS_MAGIC = 0x01021994;

/** True when `dir` is on tmpfs (fsync is then free and the numbers mean little). */
export function onTmpfs(dir) {
  try {
    return fs.statfsSync(dir).type === TMPFS_MAGIC;
  } catch {
    return false;
  }
}

/**
 * Temporary directories under `base`, all removed by `removeAll()`; also removed on SIGINT/SIGTERM.
 */
export class TempDirs {
  constructor(base = os.tmpdir(), prefix = 'ringtail-bench-') {
    fs.mkdirSync(base, { recursive: true });
    this.root = fs.mkdtempSync(path.join(base, prefix));
    this.onSignal = (sig) => {
      this.removeAll();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    };
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
  }

  /** A new empty directory under the root. */
  make(name) {
    const dir = path.join(this.root, name);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }

  remove(dir) {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  }

  removeAll() {
    fs.rmSync(this.root, { recursive: true, force: true, maxRetries: 3 });
    process.removeListener('SIGINT', this.onSignal);
    process.removeListener('SIGTERM', this.onSignal);
  }
}

/** The header every results JSON starts with: which bench, when, how it was run, on what. */
export function resultHeader(bench, startedAt) {
  const command = commandLine();
  return {
    bench,
    formatVersion: 1,
    ok: false,
    startedAt: startedAt.toISOString(),
    finishedAt: null,
    command: command.typed,
    nodeCommand: command.node,
    machine: machineInfo(),
  };
}

/**
 * Writes a results JSON to `outDir/<bench>-<start time>.json` and returns its path. Numbers
 * are rounded to 3 decimals unless `keepPrecision(key)` says otherwise; bigints become strings.
 */
export function writeResultFile(outDir, result, keepPrecision = () => false) {
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${result.bench}-${result.startedAt.replace(/:/g, '-')}.json`);
  const replacer = (key, value) => {
    if (typeof value === 'bigint') return value.toString();
    if (typeof value !== 'number' || Number.isInteger(value) || keepPrecision(key)) return value;
    return Number.isFinite(value) ? Math.round(value * 1000) / 1000 : String(value);
  };
  fs.writeFileSync(file, `${JSON.stringify(result, replacer, 2)}\n`);
  return file;
}
