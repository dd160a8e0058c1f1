/**
 * `ringtail cluster run` (what `npm start` runs): it stays in the foreground while its nodes
 * serve, reports a node that exits on its own, and Ctrl-C (SIGINT) stops every node and exits 0.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { readClusterFile } from '../../src/cli/cluster/cluster-file.js';
import { isRunning } from '../../src/cli/cluster/cluster-manager.js';
import { ringtailBin, waitFor } from '../helpers/node-process.js';
import { useTmpDir } from '../helpers/tmpdir.js';

const dir = useTmpDir('ringtail-cluster-run-');
const started: number[] = [];

afterEach(() => {
  for (const pid of started.splice(0)) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
});

it('stays in the foreground, reports a node that died, and stops every node on SIGINT', async () => {
  const child = spawn(process.execPath, [ringtailBin(), 'cluster', 'run', '--nodes', '2', '--ports', 'auto', '--dir', dir()], { stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child.pid!);
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  await waitFor(() => output.includes('Cluster running'), 'the cluster to run', 60_000);
  const nodes = readClusterFile(dir()).nodes;
  started.push(...nodes.map((n) => n.pid));
  expect(nodes.every((n) => isRunning(n.pid))).toBe(true);
  expect(isRunning(child.pid!)).toBe(true);

  process.kill(nodes[1]!.pid, 'SIGKILL');
  await waitFor(() => output.includes(`${nodes[1]!.name} (pid ${nodes[1]!.pid}) is not running`), 'the dead node to be reported', 10_000);

  child.kill('SIGINT');
  expect(await exited).toBe(0);
  expect(nodes.filter((n) => isRunning(n.pid))).toEqual([]);
  expect(fs.existsSync(`${dir()}/cluster.json`)).toBe(true);
});
