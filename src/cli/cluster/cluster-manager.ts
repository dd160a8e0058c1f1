/**
 * Local clusters, like ccm (SPEC 2.2): N node processes on this machine, each with its own
 * config, data directory and log under DIR/nodeK/, described by DIR/cluster.json.
 *
 * Node K listens on 127.0.0.K (every 127/8 address is local on Linux) with the default ports,
 * or, with `--ports auto`, on 127.0.0.1 with free ports. Seeds are the first node of each
 * datacenter. Nodes are detached processes: the cluster outlives the command that started it,
 * and every later command finds them by the PIDs in cluster.json.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { loadConfig, packageRoot } from '../../config/load-config.js';
import type { Settings } from '../../config/settings.js';
import type { StatusReport } from '../../cluster/status-report.js';
import { getJson } from '../http-client.js';
import { UsageError } from '../usage-error.js';
import { readClusterFile, writeClusterFile, type ClusterFile, type ClusterNode } from './cluster-file.js';

export const CONVERGENCE_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const POLL_MS = 100;
export const MAX_LOCAL_NODES = 64;

export interface UpOptions {
  readonly dir: string;
  readonly nodes: number;
  readonly autoPorts: boolean;
  /** `[['dc1', 3], ['dc2', 2]]`; default one datacenter 'dc1' with every node. */
  readonly datacenters: ReadonlyArray<readonly [string, number]> | null;
  readonly overrides: readonly string[];
  readonly log: (line: string) => void;
}

export function parseDatacenters(text: string): Array<[string, number]> {
  return text.split(',').map((part) => {
    const m = /^([A-Za-z0-9_-]+):(\d+)$/.exec(part.trim());
    if (m === null || Number(m[2]) < 1) throw new UsageError(`bad --datacenters entry '${part}': expected name:count, e.g. dc1:3,dc2:2`);
    return [m[1]!, Number(m[2])];
  });
}

/**
 * A port nothing listens on, picked outside the kernel's ephemeral range: a port from
 * `listen(0)` is free at that instant, but until the node binds it any outgoing connection on
 * the machine may take it as its local port (seen in CI: a node failing with EADDRINUSE).
 * Ports below the ephemeral range are never handed out that way.
 */
async function freePort(host: string, taken: Set<number>): Promise<number> {
  const [low] = ephemeralPortRange();
  const lowest = 10_000;
  for (let attempt = 0; low - lowest > 1000 && attempt < 50; attempt++) {
    const port = lowest + Math.floor(Math.random() * (low - lowest));
    if (taken.has(port)) continue;
    if ((await tryListen(host, port)) !== null) {
      taken.add(port);
      return port;
    }
  }
  const port = await tryListen(host, 0);
  if (port === null) throw new Error(`no free port on ${host}`);
  taken.add(port);
  return port;
}

function ephemeralPortRange(): [number, number] {
  try {
    const [low, high] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high)) return [low!, high!];
  } catch {
    // not Linux: assume the IANA dynamic range
  }
  return [49152, 65535];
}

/** Binds and releases `port` (0: any); the port bound, or null when it was in use. */
function tryListen(host: string, port: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' || e.code === 'EACCES' ? resolve(null) : reject(e)));
    server.listen(port, host, () => {
      const bound = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(bound));
    });
  });
}

export function isRunning(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !isZombie(pid);
}

/**
 * A detached node that exited stays a zombie until its adoptive parent reaps it, which some
 * container inits do only every few seconds; `kill(pid, 0)` still succeeds on it. It holds no
 * sockets or files any more, so it counts as stopped (else `start` after `kill` refuses, and
 * `down` waits for the reaper). Linux's /proc tells; elsewhere nothing is known to be a zombie.
 */
function isZombie(pid: number): boolean {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // "pid (comm) S …": comm may hold spaces and parentheses, the state follows the last ')'.
  return stat.charAt(stat.lastIndexOf(')') + 2) === 'Z';
}

/** Starts a node process detached, its output appended to DIR/nodeK/node.log. */
function spawnNode(node: ClusterNode): number {
  const log = fs.openSync(path.join(path.dirname(node.config), 'node.log'), 'a');
  const child = spawn(process.execPath, [path.join(packageRoot(), 'bin', 'ringtail'), 'server', '--config', node.config], {
    detached: true,
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${node.name}`);
  return child.pid;
}

export async function clusterUp(options: UpOptions): Promise<ClusterFile> {
  const dir = path.resolve(options.dir);
  if (fs.existsSync(path.join(dir, 'cluster.json'))) {
    const existing = readClusterFile(dir);
    const running = existing.nodes.filter((n) => isRunning(n.pid));
    if (running.length > 0) throw new Error(`a cluster is already running in ${dir} (${running.map((n) => n.name).join(', ')}): 'ringtail cluster down --dir ${options.dir}' first`);
  }
  const datacenters = options.datacenters ?? [['dc1', options.nodes] as const];
  const total = datacenters.reduce((n, [, k]) => n + k, 0);
  if (total < 1 || total > MAX_LOCAL_NODES) throw new UsageError(`--nodes must be between 1 and ${MAX_LOCAL_NODES}`);
  // Validate overrides once, with the same rules a node applies at start-up.
  const base = loadConfig({ overrides: options.overrides });
  fs.mkdirSync(dir, { recursive: true });

  const plans: { name: string; address: string; httpPort: number; internodePort: number; datacenter: string }[] = [];
  const portsTaken = new Set<number>();
  let k = 0;
  for (const [dc, count] of datacenters) {
    for (let i = 0; i < count; i++) {
      k++;
      const address = options.autoPorts ? '127.0.0.1' : `127.0.0.${k}`;
      const httpPort = options.autoPorts ? await freePort(address, portsTaken) : base.http_port;
      const internodePort = options.autoPorts ? await freePort(address, portsTaken) : base.internode_port;
      plans.push({ name: `node${k}`, address, httpPort, internodePort, datacenter: dc });
    }
  }
  const seeds = datacenters.map(([dc]) => plans.find((p) => p.datacenter === dc)!).map((p) => `${p.address}:${p.internodePort}`);
  const clusterName = base.cluster_name;
  const nodes: ClusterNode[] = plans.map((p) => {
    const nodeDir = path.join(dir, p.name);
    fs.mkdirSync(nodeDir, { recursive: true });
    const settings: Record<string, unknown> = {
      ...nodeSettings(base),
      node_name: p.name,
      listen_address: p.address,
      internode_port: p.internodePort,
      http_address: p.address,
      http_port: p.httpPort,
      seeds,
      data_dir: path.join(nodeDir, 'data'),
      datacenter: p.datacenter,
      // These nodes form the cluster together: none has a ring to bootstrap into.
      auto_bootstrap: false,
    };
    const config = path.join(nodeDir, 'node.json');
    fs.writeFileSync(config, `${JSON.stringify(settings, null, 2)}\n`);
    return { name: p.name, host_id: '', address: p.address, http: `http://${p.address}:${p.httpPort}`, internode: `${p.address}:${p.internodePort}`, pid: 0, data_dir: settings.data_dir as string, config, datacenter: p.datacenter, rack: base.rack };
  });
  const cluster: ClusterFile = { name: clusterName, nodes };
  for (const node of nodes) {
    node.pid = spawnNode(node);
    options.log(`started ${node.name} (pid ${node.pid}) at ${node.http}, datacenter ${node.datacenter}`);
  }
  writeClusterFile(dir, cluster);
  await waitForConvergence(dir, cluster, options.log);
  return cluster;
}

/** The settings a node's file should carry: everything that differs from the defaults. */
function nodeSettings(base: Settings): Record<string, unknown> {
  const defaults = loadConfig();
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(base)) {
    if (JSON.stringify(value) !== JSON.stringify((defaults as unknown as Record<string, unknown>)[key])) out[key] = value;
  }
  return out;
}

/**
 * Waits until every running node reports every node of the cluster UP, then records host ids.
 * Throws after CONVERGENCE_TIMEOUT_MS naming the nodes that did not converge.
 */
export async function waitForConvergence(dir: string, cluster: ClusterFile, log: (line: string) => void, timeoutMs = CONVERGENCE_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const wanted = cluster.nodes.filter((n) => isRunning(n.pid));
  let lagging: string[] = wanted.map((n) => n.name);
  while (Date.now() < deadline) {
    const reports = await Promise.all(wanted.map((n) => getJson<StatusReport>(`${n.http}/v1/status`, { timeoutMs: 2000 }).catch(() => null)));
    lagging = [];
    wanted.forEach((n, i) => {
      const r = reports[i];
      const up = new Set(r?.nodes.filter((x) => x.status === 'UP').map((x) => x.internode) ?? []);
      if (r === null || r === undefined || !wanted.every((w) => up.has(w.internode))) lagging.push(n.name);
      else n.host_id = r.local;
    });
    if (lagging.length === 0) {
      writeClusterFile(dir, cluster);
      log(`all ${wanted.length} nodes see each other UP`);
      return;
    }
    const dead = wanted.filter((n) => !isRunning(n.pid));
    if (dead.length > 0) throw new Error(`${dead.map((n) => n.name).join(', ')} exited during start-up: see ${dead.map((n) => path.join(path.dirname(n.config), 'node.log')).join(', ')}`);
    await delay(POLL_MS);
  }
  throw new Error(`the cluster did not converge within ${timeoutMs / 1000} s: ${lagging.join(', ')} did not see every node UP`);
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isRunning(pid)) return true;
    await delay(POLL_MS / 2);
  }
  return !isRunning(pid);
}

export async function stopNode(node: ClusterNode, log: (line: string) => void): Promise<void> {
  if (!isRunning(node.pid)) {
    log(`${node.name} is not running`);
    return;
  }
  process.kill(node.pid, 'SIGCONT'); // a paused node cannot handle SIGTERM
  process.kill(node.pid, 'SIGTERM');
  if (await waitForExit(node.pid, STOP_TIMEOUT_MS)) {
    log(`stopped ${node.name}`);
    return;
  }
  process.kill(node.pid, 'SIGKILL');
  await waitForExit(node.pid, STOP_TIMEOUT_MS);
  log(`${node.name} did not stop within ${STOP_TIMEOUT_MS / 1000} s: killed`);
}

export async function clusterDown(dir: string, log: (line: string) => void): Promise<void> {
  const cluster = readClusterFile(dir);
  await Promise.all(cluster.nodes.map((n) => stopNode(n, log)));
}

export function signalNode(node: ClusterNode, signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): void {
  if (!isRunning(node.pid)) throw new Error(`${node.name} is not running`);
  process.kill(node.pid, signal);
}

/** Restarts a stopped or killed node on its data; waits until the cluster converges again. */
export async function startNodeAgain(dir: string, name: string, log: (line: string) => void): Promise<void> {
  const cluster = readClusterFile(dir);
  const node = cluster.nodes.find((n) => n.name === name);
  if (node === undefined) throw new Error(`no node '${name}' in ${dir}`);
  if (isRunning(node.pid)) throw new Error(`${node.name} is already running (pid ${node.pid})`);
  node.pid = spawnNode(node);
  writeClusterFile(dir, cluster);
  log(`started ${node.name} (pid ${node.pid})`);
  await waitForConvergence(dir, cluster, log);
}

export interface AddOptions {
  readonly dir: string;
  /** Default: the first node's datacenter and rack. */
  readonly datacenter?: string | undefined;
  readonly rack?: string | undefined;
  readonly log: (line: string) => void;
  /** Bootstrap streams every range the node will own: allow for it. */
  readonly timeoutMs?: number;
}

export const ADD_TIMEOUT_MS = 30 * 60_000;
const ADD_PROGRESS_MS = 10_000;

/**
 * `cluster add` (SPEC 2.2, 6.8): one more node, configured like the first one (same cluster
 * name, seeds and overrides) with `auto_bootstrap` on, so it joins the ring by bootstrapping.
 * Returns once the node serves (NORMAL) and every running node sees it UP and NORMAL.
 */
export async function clusterAdd(options: AddOptions): Promise<ClusterNode> {
  const dir = path.resolve(options.dir);
  const cluster = readClusterFile(dir);
  const first = cluster.nodes[0];
  if (first === undefined) throw new Error(`cluster ${cluster.name} in ${options.dir} has no nodes`);
  const template = JSON.parse(fs.readFileSync(first.config, 'utf8')) as Record<string, unknown>;
  const k = Math.max(...cluster.nodes.map((n) => Number(/^node(\d+)$/.exec(n.name)?.[1] ?? 0))) + 1;
  if (cluster.nodes.length + 1 > MAX_LOCAL_NODES) throw new UsageError(`a local cluster has at most ${MAX_LOCAL_NODES} nodes`);
  // Nodes started with --ports auto share 127.0.0.1; otherwise node K has 127.0.0.K and the
  // ports every node has (a one-node cluster can take either form: 127.0.0.K works for both).
  const autoPorts = new Set(cluster.nodes.map((n) => n.address)).size < cluster.nodes.length;
  const address = autoPorts ? '127.0.0.1' : `127.0.0.${k}`;
  const taken = new Set<number>();
  const httpPort = autoPorts ? await freePort(address, taken) : Number(template.http_port ?? loadConfig().http_port);
  const internodePort = autoPorts ? await freePort(address, taken) : Number(template.internode_port ?? loadConfig().internode_port);
  const name = `node${k}`;
  const nodeDir = path.join(dir, name);
  fs.mkdirSync(nodeDir, { recursive: true });
  const datacenter = options.datacenter ?? first.datacenter;
  const rack = options.rack ?? first.rack;
  const settings: Record<string, unknown> = {
    ...template,
    node_name: name,
    listen_address: address,
    internode_port: internodePort,
    http_address: address,
    http_port: httpPort,
    data_dir: path.join(nodeDir, 'data'),
    datacenter,
    rack,
    auto_bootstrap: true,
  };
  const config = path.join(nodeDir, 'node.json');
  fs.writeFileSync(config, `${JSON.stringify(settings, null, 2)}\n`);
  loadConfig({ file: config }); // the node would refuse a bad file: refuse it here first
  const node: ClusterNode = { name, host_id: '', address, http: `http://${address}:${httpPort}`, internode: `${address}:${internodePort}`, pid: 0, data_dir: settings.data_dir as string, config, datacenter, rack };
  node.pid = spawnNode(node);
  cluster.nodes.push(node);
  writeClusterFile(dir, cluster);
  options.log(`started ${name} (pid ${node.pid}) at ${node.http}, datacenter ${datacenter}, rack ${rack}: bootstrapping`);
  await waitForJoin(dir, cluster, node, options.log, options.timeoutMs ?? ADD_TIMEOUT_MS);
  return node;
}

/** Until `node` is NORMAL and UP in every running node's view (it serves, 200 on /health). */
async function waitForJoin(dir: string, cluster: ClusterFile, node: ClusterNode, log: (line: string) => void, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let nextProgress = Date.now() + ADD_PROGRESS_MS;
  for (;;) {
    if (!isRunning(node.pid)) throw new Error(`${node.name} exited while joining: see ${path.join(path.dirname(node.config), 'node.log')}`);
    const running = cluster.nodes.filter((n) => isRunning(n.pid));
    const reports = await Promise.all(running.map((n) => getJson<StatusReport>(`${n.http}/v1/status`, { timeoutMs: 2000 }).catch(() => null)));
    const views = reports.map((r) => r?.nodes.find((x) => x.internode === node.internode));
    if (views.every((v) => v !== undefined && v.status === 'UP' && v.state === 'NORMAL')) {
      node.host_id = views[0]!.host_id;
      writeClusterFile(dir, cluster);
      log(`${node.name} joined: every node sees it UP and NORMAL`);
      return;
    }
    if (Date.now() >= deadline) throw new Error(`${node.name} did not join within ${timeoutMs / 1000} s: see ${path.join(path.dirname(node.config), 'node.log')}`);
    if (Date.now() >= nextProgress) {
      nextProgress = Date.now() + ADD_PROGRESS_MS;
      log(`${node.name} is still joining (${views.filter((v) => v?.state === 'NORMAL').length} of ${running.length} nodes see it NORMAL)`);
    }
    await delay(POLL_MS * 2);
  }
}
