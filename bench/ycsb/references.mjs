/**
 * The reference systems of `ringtail bench --compare`: starts a local Redis (one node) and a
 * local etcd (3 members on loopback) from the binaries on PATH, waits until they serve, and
 * hands back a YCSB binding for each plus a `stop()`.
 *
 * - Redis: `redis-server` on 127.0.0.1 and a free port, working directory in `dir`, no
 *   persistence by default (`--save '' --appendonly no`: Redis as a cache, how most users run it
 *   in front of a database); `redisAppendFsync: 'everysec'` turns the AOF on with fsync once a
 *   second, Redis' usual durable setting.
 * - etcd: 3 members, each with its own free client and peer port on 127.0.0.1, bootstrapped
 *   statically (`--initial-cluster`), data dirs and log files in `dir`, a backend quota of
 *   ETCD_QUOTA_BACKEND_BYTES so a long load does not hit etcd's 2 GiB default alarm.
 * A missing binary is not an error: its entry says `missing` (the apt-get line to install it).
 *
 * Invariants: every process started here is killed on a start failure, on SIGINT/SIGTERM and at
 * process exit (SIGKILL by PID, synchronous), and `stop()` waits for the exit (Redis gets SIGTERM,
 * etcd SIGKILL: its data is thrown away, and a graceful stop of all members takes ~7 s). Bounds: every wait
 * has a deadline (`startTimeoutMs` to serve, STOP_TIMEOUT_MS to exit after SIGTERM, then SIGKILL);
 * at most START_ATTEMPTS tries with fresh ports when a port was taken between choosing and binding.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { request } from 'undici';

import { EtcdBinding } from './bindings/etcd.mjs';
import { RedisBinding } from './bindings/redis.mjs';

export const REFERENCE_NAMES = ['redis', 'etcd'];
export const INSTALL_NOTES = { redis: 'apt-get install redis-server', etcd: 'apt-get install etcd-server' };
const BINARIES = { redis: 'redis-server', etcd: 'etcd' };

export const ETCD_MEMBERS = 3;
/** 8 GiB, etcd's documented maximum recommended quota (the default 2 GiB fills on long runs). */
export const ETCD_QUOTA_BACKEND_BYTES = 8 * 1024 ** 3;
export const STOP_TIMEOUT_MS = 10_000;
const START_ATTEMPTS = 2;
const POLL_MS = 100;
const PROBE_TIMEOUT_MS = 1000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * @param {{ names?: string[], dir: string, log?: (line: string) => void, threads?: number,
 *   startTimeoutMs?: number, redisAppendFsync?: 'off'|'everysec', searchPath?: string }} options
 *   `threads`: the benchmark's client concurrency, to size the connection pools;
 *   `searchPath`: where to look for the binaries (default $PATH).
 * @returns {Promise<Array<{ name: string, binding?: object, stop?: () => Promise<void>, pids?: number[],
 *   missing?: string, description: string, note: string }>>} in the order of `names`.
 */
export async function startReferences({ names = REFERENCE_NAMES, dir, log = () => {}, threads = 64, startTimeoutMs = 30_000, redisAppendFsync = 'off', searchPath = process.env.PATH ?? '' }) {
  for (const name of names) if (!REFERENCE_NAMES.includes(name)) throw new Error(`unknown reference system '${name}' (known: ${REFERENCE_NAMES.join(', ')})`);
  if (!['off', 'everysec'].includes(redisAppendFsync)) throw new Error(`redisAppendFsync must be off or everysec, got ${redisAppendFsync}`);
  const started = [];
  try {
    for (const name of names) {
      const bin = findExecutable(BINARIES[name], searchPath);
      if (bin === null) {
        const description = `${name}: ${BINARIES[name]} not found on PATH; install it with: ${INSTALL_NOTES[name]}`;
        log(`  ${description} — skipped`);
        started.push({ name, missing: INSTALL_NOTES[name], description, note: description });
        continue;
      }
      const subdir = path.join(dir, name);
      fs.mkdirSync(subdir, { recursive: true });
      const ref = name === 'redis'
        ? await startRedis({ bin, dir: subdir, log, threads, startTimeoutMs, appendFsync: redisAppendFsync })
        : await startEtcd({ bin, dir: subdir, log, threads, startTimeoutMs });
      started.push(ref);
    }
  } catch (err) {
    await Promise.allSettled(started.filter((r) => r.stop).map((r) => r.stop()));
    throw err;
  }
  return started;
}

/** The absolute path of `name` in the directories of `searchPath`, or null. */
export function findExecutable(name, searchPath = process.env.PATH ?? '') {
  for (const d of searchPath.split(path.delimiter)) {
    if (d === '') continue;
    const candidate = path.join(d, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** `count` distinct ports free on 127.0.0.1 right now (held together so they differ). */
export async function freePorts(count) {
  const servers = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
    }
    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(() => resolve()))));
  }
}

function versionOf(bin, pattern) {
  try {
    const out = execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 5000 });
    return out.match(pattern)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------------------------------------
// Redis

async function startRedis({ bin, dir, log, threads, startTimeoutMs, appendFsync }) {
  const version = versionOf(bin, /v=(\S+)/);
  const durability = appendFsync === 'off'
    ? "none (--save '' --appendonly no: in memory only)"
    : 'append-only file, fsync once a second (--appendonly yes --appendfsync everysec)';
  for (let attempt = 1; ; attempt++) {
    const [port] = await freePorts(1);
    const logFile = path.join(dir, 'redis.log');
    const args = ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', '--protected-mode', 'no', '--daemonize', 'no'];
    args.push(...(appendFsync === 'off' ? ['--appendonly', 'no'] : ['--appendonly', 'yes', '--appendfsync', 'everysec']));
    log(`  starting redis-server ${version} on 127.0.0.1:${port} (persistence: ${appendFsync === 'off' ? 'none' : 'AOF everysec'})`);
    const proc = spawnLogged(bin, args, logFile);
    try {
      await waitServing(`redis-server on port ${port}`, [proc], () => redisPing(port), startTimeoutMs);
    } catch (err) {
      await stopProcesses([proc]);
      if (attempt < START_ATTEMPTS && /address already in use/i.test(tail(logFile))) continue;
      throw err;
    }
    const url = `redis://127.0.0.1:${port}`;
    const description = `Redis ${version}, one node on 127.0.0.1:${port}, persistence: ${durability}`;
    const binding = new RedisBinding({ url, connections: Math.min(8, Math.max(1, threads)), durability, version });
    return { name: 'redis', binding, pids: [proc.child.pid], stop: () => stopProcesses([proc]), description, note: description, url, logFiles: [logFile] };
  }
}

/** One PING over a raw socket: true on +PONG. */
function redisPing(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      reply += d.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// etcd

async function startEtcd({ bin, dir, log, threads, startTimeoutMs }) {
  const version = versionOf(bin, /etcd Version:\s*(\S+)/);
  for (let attempt = 1; ; attempt++) {
    const ports = await freePorts(2 * ETCD_MEMBERS);
    const members = Array.from({ length: ETCD_MEMBERS }, (_, i) => ({
      name: `m${i + 1}`,
      clientUrl: `http://127.0.0.1:${ports[2 * i]}`,
      peerUrl: `http://127.0.0.1:${ports[2 * i + 1]}`,
      dataDir: path.join(dir, `m${i + 1}.data`),
      logFile: path.join(dir, `m${i + 1}.log`),
    }));
    const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
    const token = `ringtail-bench-${process.pid}-${ports[0]}`;
    log(`  starting etcd ${version}: ${ETCD_MEMBERS} members on ${members.map((m) => m.clientUrl.slice('http://'.length)).join(', ')}`);
    const procs = members.map((m) => {
      fs.rmSync(m.dataDir, { recursive: true, force: true });
      return spawnLogged(bin, [
        '--name', m.name,
        '--data-dir', m.dataDir,
        '--listen-client-urls', m.clientUrl,
        '--advertise-client-urls', m.clientUrl,
        '--listen-peer-urls', m.peerUrl,
        '--initial-advertise-peer-urls', m.peerUrl,
        '--initial-cluster', initialCluster,
        '--initial-cluster-state', 'new',
        '--initial-cluster-token', token,
        '--quota-backend-bytes', String(ETCD_QUOTA_BACKEND_BYTES),
        '--logger', 'zap',
        '--log-outputs', 'stderr',
      ], m.logFile);
    });
    try {
      await waitServing(`etcd (${ETCD_MEMBERS} members)`, procs, async () => (await Promise.all(members.map((m) => etcdHealthy(m.clientUrl)))).every(Boolean), startTimeoutMs);
    } catch (err) {
      await stopProcesses(procs);
      if (attempt < START_ATTEMPTS && members.some((m) => /address already in use/i.test(tail(m.logFile)))) continue;
      throw err;
    }
    const endpoints = members.map((m) => m.clientUrl);
    const description = `etcd ${version}, ${ETCD_MEMBERS} members on loopback (Raft), linearizable reads, fsync'd log; update = read-modify-write (no partial update)`;
    const binding = new EtcdBinding({ endpoints, connectionsPerEndpoint: Math.max(1, Math.ceil(threads / ETCD_MEMBERS)), version });
    // SIGKILL: on SIGTERM the members try to hand leadership to peers that are stopping too and
    // take ~7 s; the data is thrown away and every acknowledged write was already fsync'd.
    return { name: 'etcd', binding, pids: procs.map((p) => p.child.pid), stop: () => stopProcesses(procs, 'SIGKILL'), description, note: description, endpoints, logFiles: members.map((m) => m.logFile) };
  }
}

/** True when the member reports itself healthy (it has a leader and serves a quorum read). */
async function etcdHealthy(clientUrl) {
  try {
    const res = await request(`${clientUrl}/health`, { headersTimeout: PROBE_TIMEOUT_MS, bodyTimeout: PROBE_TIMEOUT_MS });
    const text = await res.body.text();
    return res.statusCode === 200 && JSON.parse(text).health === 'true';
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Child processes: started with their output in a log file, tracked until they exit, killed with
// the benchmark whatever way it ends.

/** @typedef {{ child: import('node:child_process').ChildProcess, exited: Promise<void>, logFile: string, bin: string }} Proc */

const live = new Set();
let hooked = false;

function killAllNow() {
  for (const proc of live) {
    try {
      proc.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

function onSignal(signal) {
  killAllNow();
  // Others (TempDirs, the benchmark) may handle the signal too; if nobody else does, exit as the
  // default action would have.
  if (process.listenerCount(signal) <= 1) process.exit(signal === 'SIGINT' ? 130 : 143);
}

function hook() {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAllNow);
  process.prependListener('SIGINT', onSignal);
  process.prependListener('SIGTERM', onSignal);
}

function unhookIfIdle() {
  if (!hooked || live.size > 0) return;
  hooked = false;
  process.removeListener('exit', killAllNow);
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
}

/** @returns {Proc} */
function spawnLogged(bin, args, logFile) {
  const fd = fs.openSync(logFile, 'a');
  let child;
  try {
    child = spawn(bin, args, { stdio: ['ignore', fd, fd] });
  } finally {
    fs.closeSync(fd); // the child has its own copy
  }
  const proc = { child, logFile, bin, exited: null };
  proc.exited = new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve()); // spawn failure: no process to wait for
  });
  live.add(proc);
  hook();
  proc.exited.then(() => {
    live.delete(proc);
    unhookIfIdle();
  });
  return proc;
}

function isRunning(proc) {
  return proc.child.exitCode === null && proc.child.signalCode === null && proc.child.pid !== undefined;
}

/**
 * `signal` (SIGTERM by default), then SIGKILL after STOP_TIMEOUT_MS; resolves when every process
 * has exited.
 */
async function stopProcesses(procs, signal = 'SIGTERM') {
  await Promise.all(procs.map(async (proc) => {
    if (!isRunning(proc)) return proc.exited;
    proc.child.kill(signal);
    let timer;
    const timedOut = await Promise.race([
      proc.exited.then(() => false),
      new Promise((resolve) => (timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
  }));
}

/** Polls `serving()` until it is true; fails at the deadline or as soon as a process exits. */
async function waitServing(what, procs, serving, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = procs.find((p) => !isRunning(p));
    if (dead) throw new Error(`${what}: ${path.basename(dead.bin)} exited (${dead.child.exitCode ?? dead.child.signalCode ?? 'could not start'}) before serving; ${dead.logFile}:\n${tail(dead.logFile)}`);
    if (await serving()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not serving after ${timeoutMs} ms; logs in ${path.dirname(procs[0].logFile)}:\n${tail(procs[0].logFile)}`);
    await sleep(POLL_MS);
  }
}

/** The last `lines` lines of a log file ('' if unreadable). */
function tail(file, lines = 15) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines - 1).join('\n');
  } catch {
    return '';
  }
}
