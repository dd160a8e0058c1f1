/**
 * Closed-loop CQL load over HTTP against one or more nodes, and the CPU time the processes
 * involved spent on it.
 *
 *   const targets = nodes.map((n) => ({ name: n.name, pool: new Pool(n.http, { connections: …, pipelining: 1 }) }));
 *   const r = await driveCql({ targets, concurrency: 64, nextRequest, until: (done) => … });
 *
 * Worker k of `concurrency` sends every request to `targets[k % targets.length]`, one request at a
 * time, so with one connection per worker the connections are spread round-robin over the
 * nodes, as a driver's default (round-robin) load balancing spreads them. Every answer is
 * checked by the request's own `check(status, text)`; a bad answer is counted (by HTTP status
 * and error code) and the worker goes on, so a run under overload reports its failures instead
 * of stopping at the first. Successful answers alone count as requests and latencies.
 *
 * Bounds: the loop ends when `until(requestsDone)` says so (time or count); at most
 * `MAX_KEPT_PROBLEMS` bad answers are kept verbatim; latencies go to a bounded LatencyRecorder.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

import { prng32 } from './workload.mjs';

/** Bad answers kept verbatim for the report. */
export const MAX_KEPT_PROBLEMS = 20;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * `count` distinct strings of `bytes` letters and digits (nothing to escape in JSON), generated
 * before timing. Text rather than blob: a blob travels as hex in the JSON API, twice its size.
 */
export function textValues(count, bytes, seed) {
  const next = prng32(seed);
  const values = [];
  for (let i = 0; i < count; i++) {
    const chars = Buffer.allocUnsafe(bytes);
    for (let j = 0; j < bytes; j++) chars[j] = ALPHABET.charCodeAt(next() % ALPHABET.length);
    values.push(chars.toString('latin1'));
  }
  return values;
}

/** POST /v1/cql on a pool: status and body text. */
export async function postCql(pool, body) {
  const res = await pool.request({ path: '/v1/cql', method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: res.statusCode, text: await res.body.text() };
}

/** The error code of an error answer (SPEC 3.2), else its HTTP status. */
function errorKey(status, text) {
  const match = /"code":"(\w+)"/.exec(text);
  return match ? `${status} ${match[1]}` : String(status);
}

/**
 * Runs `concurrency` workers until `until(requests)` is true; `nextRequest()` gives `{ body,
 * check(status, text) → problem text | null }`. Returns counts, the errors by kind and the
 * first problems; latencies (send to full body, ms) of good answers go to `recorder` if given.
 */
export async function driveCql({ targets, concurrency, nextRequest, until, recorder = null }) {
  const out = { requests: 0, errors: 0, wrongAnswers: 0, transportErrors: 0, errorsByKind: {}, problems: [] };
  const problem = (text) => {
    if (out.problems.length < MAX_KEPT_PROBLEMS) out.problems.push(text);
  };
  const worker = async (k) => {
    const { name, pool } = targets[k % targets.length];
    while (!until(out.requests)) {
      const { body, check } = nextRequest();
      const t0 = performance.now();
      let status;
      let text;
      try {
        ({ status, text } = await postCql(pool, body));
      } catch (e) {
        out.errors++;
        out.transportErrors++;
        out.errorsByKind.transport = (out.errorsByKind.transport ?? 0) + 1;
        problem(`${name}: ${e.message}`);
        continue;
      }
      const ms = performance.now() - t0;
      const bad = check(status, text);
      if (bad !== null) {
        out.errors++;
        if (status === 200) out.wrongAnswers++;
        const kind = status === 200 ? 'wrong answer' : errorKey(status, text);
        out.errorsByKind[kind] = (out.errorsByKind[kind] ?? 0) + 1;
        problem(`${name}: ${bad}`);
        continue;
      }
      out.requests++;
      recorder?.record(ms);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, k) => worker(k)));
  return out;
}

// ---- CPU time ----------------------------------------------------------------------------------

let clockTicksPerSecond = null;

/** USER_HZ, the unit of /proc/PID/stat's utime and stime (100 nearly everywhere). */
function ticksPerSecond() {
  if (clockTicksPerSecond === null) {
    try {
      clockTicksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicksPerSecond = 100;
    }
  }
  return clockTicksPerSecond;
}

/**
 * User + system CPU seconds a process has used so far (all its threads: the main thread, libuv's
 * pool, GC), from /proc/PID/stat; null when it cannot be read (not Linux, process gone).
 * Resolution 1/USER_HZ, 10 ms: meaningful over phases of seconds.
 */
export function processCpuSeconds(pid) {
  let stat;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? ticks / ticksPerSecond() : null;
}

/** This process's own user + system CPU seconds (the load generator). */
export function ownCpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * CPU seconds every CPU of this machine spent busy so far (user, nice, system, irq, softirq,
 * steal: not idle or iowait), from /proc/stat; null when it cannot be read. On a shared machine
 * this minus the processes measured is everyone else's load.
 */
export function machineCpuSeconds() {
  let text;
  try {
    text = fs.readFileSync('/proc/stat', 'utf8');
  } catch {
    return null;
  }
  const fields = text.slice(0, text.indexOf('\n')).trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = fields;
  const ticks = user + nice + system + irq + softirq + (steal ?? 0);
  return Number.isFinite(ticks) ? ticks / ticksPerSecond() : null;
}

/**
 * CPU seconds used between `start()` and `stop()` by named processes, by this one and by the
 * whole machine: `{ name: cpuSeconds | null, …, client: cpuSeconds, machine: cpuSeconds | null }`.
 */
export class CpuMeter {
  /** @param {{ name: string, pid: number }[]} processes */
  constructor(processes) {
    this.processes = processes;
    this.before = null;
  }

  start() {
    this.before = this.sample();
    return this;
  }

  sample() {
    return { ...Object.fromEntries(this.processes.map((p) => [p.name, processCpuSeconds(p.pid)])), client: ownCpuSeconds(), machine: machineCpuSeconds() };
  }

  stop() {
    const after = this.sample();
    const used = {};
    for (const [name, t0] of Object.entries(this.before)) {
      const t1 = after[name];
      used[name] = t0 == null || t1 == null ? null : t1 - t0;
    }
    return used;
  }
}
