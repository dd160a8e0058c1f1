/**
 * `ringtail cluster up|run|down|stop|start|kill|pause|resume` (SPEC 2.2).
 */
import path from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_CLUSTER_DIR, findNode, readClusterFile, type ClusterFile } from './cluster-file.js';
import { UsageError } from '../usage-error.js';
import { clusterAdd, clusterDown, clusterUp, isRunning, parseDatacenters, signalNode, startNodeAgain, stopNode } from './cluster-manager.js';

/** How often `cluster run` checks that its nodes are still running. */
const LIVENESS_CHECK_MS = 1000;

const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface UpFlags {
  nodes: string;
  dir: string;
  ports?: string;
  datacenters?: string;
  set: string[];
  json?: boolean;
}

function upOptions(flags: UpFlags) {
  const nodes = Number(flags.nodes);
  if (!Number.isInteger(nodes) || nodes < 1) throw new UsageError(`--nodes must be a positive integer, got '${flags.nodes}'`);
  if (flags.ports !== undefined && flags.ports !== 'auto') throw new UsageError(`--ports takes 'auto', got '${flags.ports}'`);
  return {
    dir: flags.dir,
    nodes,
    autoPorts: flags.ports === 'auto',
    datacenters: flags.datacenters === undefined ? null : parseDatacenters(flags.datacenters),
    overrides: flags.set,
    log: flags.json ? () => undefined : out,
  };
}

function printEndpoints(cluster: ClusterFile): void {
  out('');
  for (const n of cluster.nodes) out(`  ${n.name}  ${n.http}  (internode ${n.internode}, ${n.datacenter}/${n.rack}, host id ${n.host_id})`);
  const first = cluster.nodes[0]!;
  out('');
  out('Try:');
  out(`  npx ringtail cql --host ${first.http} -e "CREATE KEYSPACE demo WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}"`);
  out(`  curl -s ${first.http}/v1/cql -H 'content-type: application/json' -d '{"query": "CREATE TABLE demo.kv (k text PRIMARY KEY, v text)"}'`);
  out(`  npx ringtail cql --host ${first.http}      (the interactive shell)`);
  out('');
}

export function registerClusterCommand(program: Command): void {
  const cluster = program.command('cluster').description('local clusters of node processes on this machine (like ccm)');
  const addUpOptions = (c: Command): Command =>
    c
      .option('--nodes <n>', 'number of nodes', '3')
      .option('--dir <dir>', 'cluster directory', DEFAULT_CLUSTER_DIR)
      .option('--ports <mode>', "'auto': free ports on 127.0.0.1 instead of one address per node")
      .option('--datacenters <spec>', 'nodes per datacenter, e.g. dc1:3,dc2:2 (overrides --nodes)')
      .option('--set <key=value>', 'setting for every node (repeatable)', collect, [])
      .option('--json', 'print cluster.json when up');

  addUpOptions(cluster.command('up').description('start the nodes detached; return once every node sees every other UP')).action(async (flags: UpFlags) => {
    const c = await clusterUp(upOptions(flags));
    if (flags.json) out(JSON.stringify(c, null, 2));
    else printEndpoints(c);
  });

  cluster
    .command('add')
    .description('start one more node that bootstraps into the ring; return once every node sees it UP and NORMAL')
    .option('--dir <dir>', 'cluster directory', DEFAULT_CLUSTER_DIR)
    .option('--datacenter <dc>', "the new node's datacenter (default: the first node's)")
    .option('--rack <rack>', "the new node's rack (default: the first node's)")
    .action(async (flags: { dir: string; datacenter?: string; rack?: string }) => {
      const node = await clusterAdd({ dir: flags.dir, datacenter: flags.datacenter, rack: flags.rack, log: out });
      out(`  ${node.name}  ${node.http}  (internode ${node.internode}, ${node.datacenter}/${node.rack}, host id ${node.host_id})`);
    });

  addUpOptions(cluster.command('run').description('like up, in the foreground: Ctrl-C stops every node')).action(async (flags: UpFlags) => {
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      out('\nstopping the cluster…');
      clusterDown(flags.dir, out).then(
        () => process.exit(0),
        (err: unknown) => {
          process.stderr.write(`${(err as Error).message}\n`);
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    let c: ClusterFile;
    try {
      c = await clusterUp(upOptions(flags));
    } catch (err) {
      await clusterDown(flags.dir, out).catch(() => undefined);
      throw err;
    }
    printEndpoints(c);
    out('Cluster running; Ctrl-C stops every node.');
    // Stay in the foreground until a signal arrives (the timer keeps the process alive), and
    // say so when a node exits on its own.
    const reported = new Set<string>();
    setInterval(() => {
      for (const n of readClusterFile(flags.dir).nodes) {
        if (isRunning(n.pid)) reported.delete(n.name);
        else if (!reported.has(n.name) && !stopping) {
          reported.add(n.name);
          out(`${n.name} (pid ${n.pid}) is not running: see ${path.join(path.dirname(n.config), 'node.log')}`);
        }
      }
    }, LIVENESS_CHECK_MS);
  });

  cluster
    .command('down')
    .description('stop every node gracefully')
    .option('--dir <dir>', 'cluster directory', DEFAULT_CLUSTER_DIR)
    .action(async (flags: { dir: string }) => {
      await clusterDown(flags.dir, out);
    });

  const perNode = (name: string, description: string, run: (dir: string, node: string) => Promise<void>): void => {
    cluster
      .command(`${name} <node>`)
      .description(description)
      .option('--dir <dir>', 'cluster directory', DEFAULT_CLUSTER_DIR)
      .action(async (node: string, flags: { dir: string }) => run(flags.dir, node));
  };
  perNode('stop', 'stop one node gracefully (SIGTERM)', async (dir, node) => stopNode(findNode(readClusterFile(dir), node), out));
  perNode('start', 'restart a stopped or killed node on its data', async (dir, node) => startNodeAgain(dir, findNode(readClusterFile(dir), node).name, out));
  perNode('kill', 'kill one node (SIGKILL)', async (dir, node) => {
    signalNode(findNode(readClusterFile(dir), node), 'SIGKILL');
    out(`killed ${node}`);
  });
  perNode('pause', 'pause one node (SIGSTOP)', async (dir, node) => {
    signalNode(findNode(readClusterFile(dir), node), 'SIGSTOP');
    out(`paused ${node}`);
  });
  perNode('resume', 'resume a paused node (SIGCONT)', async (dir, node) => {
    signalNode(findNode(readClusterFile(dir), node), 'SIGCONT');
    out(`resumed ${node}`);
  });
}
