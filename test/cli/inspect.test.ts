/**
 * `ringtail status|ring|gossipinfo|describe|endpoints` (SPEC 2.3): first the text layouts from
 * canned API answers, then the real thing — a local 3-node cluster (`ringtail cluster up
 * --ports auto --set num_tokens=4`) inspected through the CLI, JSON and text.
 *
 * The binary is `ringtailBin()` (`$RINGTAIL_BIN` for a private build, else bin/ringtail, which
 * needs `dist/`). The cluster lives in this file's own temp directory for all its tests (one
 * cluster start instead of one per test); `afterAll` stops it and SIGKILLs, by the PIDs in
 * cluster.json, any node still running.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EndpointsReport, NodeStatus, RingEntry, StatusReport } from '../../src/cluster/status-report.js';
import { formatLoad, formatOwns } from '../../src/cli/inspect/format.js';
import { renderDescribe, renderGossipInfo, renderRing, renderStatus } from '../../src/cli/inspect/render.js';
import { closeHttp, cqlOk, ringtailBin, waitFor } from '../helpers/node-process.js';

// ---- layouts from canned answers ----------------------------------------------------------------

const node = (over: Partial<NodeStatus>): NodeStatus => ({
  host_id: 'h',
  name: '10.0.0.1:7000',
  internode: '10.0.0.1:7000',
  address: '10.0.0.1',
  http: 'http://10.0.0.1:8042',
  datacenter: 'dc1',
  rack: 'rack1',
  status: 'UP',
  state: 'NORMAL',
  load_bytes: 0,
  tokens: ['1', '2'],
  schema_version: 'v1',
  generation: 1,
  phi: 0,
  owns: 0.5,
  ...over,
});

const REPORT: StatusReport = {
  cluster_name: 'c',
  local: 'h1',
  nodes: [
    node({ host_id: 'h2', internode: '10.0.0.2:7000', address: '10.0.0.2', datacenter: 'dc2', status: 'DOWN', state: 'LEAVING', owns: null }),
    node({ host_id: 'h1', load_bytes: 1.25 * 1024 * 1024, owns: 1 / 3 }),
  ],
};

describe('inspection layouts', () => {
  it('formats loads in binary units and ownership as a percentage', () => {
    expect(formatLoad(0)).toBe('0 B');
    expect(formatLoad(1023)).toBe('1023 B');
    expect(formatLoad(1.2 * 1024 * 1024)).toBe('1.2 MiB');
    expect(formatLoad(3 * 1024 ** 3)).toBe('3.0 GiB');
    expect(formatOwns(1 / 3)).toBe('33.3%');
    expect(formatOwns(null)).toBe('?');
  });

  it('prints status per datacenter like nodetool, with state letters and unknown ownership as ?', () => {
    expect(renderStatus(REPORT, 'ks')).toEqual([
      'Datacenter: dc1',
      '===============',
      'Status=Up/Down',
      '|/ State=Normal/Leaving/Joining/Moving',
      '--  Address   Load     Tokens  Owns (effective)  Host ID  Rack',
      'UN  10.0.0.1  1.3 MiB  2       33.3%             h1       rack1',
      '',
      'Datacenter: dc2',
      '===============',
      'Status=Up/Down',
      '|/ State=Normal/Leaving/Joining/Moving',
      '--  Address   Load  Tokens  Owns (effective)  Host ID  Rack',
      'DL  10.0.0.2  0 B   2       ?                 h2       rack1',
    ]);
    const plain = renderStatus(REPORT, undefined);
    expect(plain[4]).toMatch(/^--  Address +Load +Tokens +Owns +Host ID +Rack$/);
    expect(plain.at(-1)).toMatch(/^Note: /);
  });

  it('shows host:port where nodes share an address', () => {
    const shared = { ...REPORT, nodes: [node({ internode: '127.0.0.1:7001', address: '127.0.0.1' }), node({ internode: '127.0.0.1:7002', address: '127.0.0.1' })] };
    expect(renderStatus(shared, undefined).filter((l) => l.startsWith('UN')).map((l) => l.split(/ +/)[1])).toEqual(['127.0.0.1:7001', '127.0.0.1:7002']);
  });

  it('prints one ring row per token and gossip blocks with hidden tokens', () => {
    const entry: RingEntry = { token: '-5', host_id: 'h1', address: '10.0.0.1', internode: '10.0.0.1:7000', datacenter: 'dc1', rack: 'r1', status: 'UP', state: 'NORMAL', load_bytes: 2048, owns: 1 };
    expect(renderRing([entry, { ...entry, token: '9' }])).toEqual([
      'Datacenter: dc1',
      '===============',
      'Address   Rack  Status  State   Load     Owns    Token',
      '10.0.0.1  r1    Up      Normal  2.0 KiB  100.0%  -5',
      '10.0.0.1  r1    Up      Normal  2.0 KiB  100.0%  9',
    ]);
    const gossip = [{ endpoint: '10.0.0.1:7000', isSelf: true, generation: 17, heartBeatVersion: 4, up: true, phi: 0, applicationStates: { TOKENS: { value: '1,2', version: 3 }, STATUS: { value: 'NORMAL', version: 1 } } }];
    expect(renderGossipInfo(gossip)).toEqual(['/10.0.0.1:7000', '  generation:17', '  heartbeat:4', '  STATUS:1:NORMAL', '  TOKENS:3:<hidden>']);
  });

  it('describes the cluster with schema versions grouped and the unreachable last', () => {
    const schema = {
      cluster_name: 'c',
      partitioner: 'org.apache.cassandra.dht.Murmur3Partitioner',
      version: 'v1',
      keyspaces: [{ name: 'ks', replication: {}, durable_writes: true, cql: 'CREATE KEYSPACE ks …;', tables: [{ name: 't', id: 'i', columns: [], cql: 'CREATE TABLE ks.t …;' }] }],
    };
    expect(renderDescribe(schema, REPORT, undefined)).toEqual([
      'Cluster Information:',
      '\tName: c',
      '\tPartitioner: org.apache.cassandra.dht.Murmur3Partitioner',
      '\tSchema versions:',
      '\t\tv1: [10.0.0.1]',
      '\t\tUNREACHABLE: [10.0.0.2]',
      '',
      'CREATE KEYSPACE ks …;',
      '',
      'CREATE TABLE ks.t …;',
    ]);
    expect(() => renderDescribe(schema, REPORT, 'other')).toThrow("Keyspace 'other' not found");
  });
});

// ---- a real cluster -----------------------------------------------------------------------------

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const COMMAND_TIMEOUT_MS = 90_000;

/** Runs `ringtail ARGS` without blocking this process; kills it after COMMAND_TIMEOUT_MS. */
function ringtail(...args: string[]): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ringtailBin(), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function ok(...args: string[]): Promise<string> {
  const r = await ringtail(...args);
  if (r.code !== 0) throw new Error(`ringtail ${args.join(' ')} exited ${r.code}\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function json<T>(...args: string[]): Promise<T> {
  return JSON.parse(await ok(...args, '--json')) as T;
}

interface ClusterJson {
  nodes: { name: string; host_id: string; http: string; internode: string; pid: number }[];
}

describe('ringtail inspection commands on a 3-node cluster', () => {
  let dir = '';
  let cluster: ClusterJson = { nodes: [] };
  const at = (): string[] => ['--dir', dir];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringtail-inspect-'));
    await ok('cluster', 'up', '--nodes', '3', '--ports', 'auto', '--dir', dir, '--set', 'num_tokens=4');
    cluster = JSON.parse(fs.readFileSync(path.join(dir, 'cluster.json'), 'utf8')) as ClusterJson;
    const first = cluster.nodes[0]!.http;
    await cqlOk(first, "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}");
    await cqlOk(first, 'CREATE TABLE ks.users (id int PRIMARY KEY, name text)');
    await cqlOk(first, 'CREATE TABLE ks.events (day text, shard int, at int, v text, PRIMARY KEY ((day, shard), at))');
    await cqlOk(first, "INSERT INTO ks.users (id, name) VALUES (42, 'ada')");
  }, 120_000);

  afterAll(async () => {
    await closeHttp();
    if (dir === '') return;
    await ringtail('cluster', 'down', '--dir', dir).catch(() => undefined);
    const file = path.join(dir, 'cluster.json');
    const pids = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as ClusterJson).nodes.map((n) => n.pid) : [];
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('status --json: three nodes UP with 4 tokens each, owning the whole ring between them', async () => {
    const report = await json<StatusReport>('status', ...at());
    expect(report.nodes.map((n) => n.host_id).sort()).toEqual(cluster.nodes.map((n) => n.host_id).sort());
    for (const n of report.nodes) {
      expect(n.status).toBe('UP');
      expect(n.state).toBe('NORMAL');
      expect(n.tokens).toHaveLength(4);
      expect(n.owns).toBeGreaterThan(0);
    }
    expect(report.nodes.reduce((sum, n) => sum + n.owns!, 0)).toBeCloseTo(1, 6);
  });

  it('status --keyspace: effective ownership of an RF 3 keyspace is the whole ring for every node', async () => {
    const report = await json<StatusReport>('status', '--keyspace', 'ks', ...at());
    for (const n of report.nodes) expect(n.owns).toBeCloseTo(1, 6);
    expect(report.nodes.reduce((sum, n) => sum + n.owns!, 0)).toBeCloseTo(3, 6);
  });

  it('status prints the nodetool layout with UN letters', async () => {
    const lines = (await ok('status', '--keyspace', 'ks', ...at())).trimEnd().split('\n');
    expect(lines.slice(0, 4)).toEqual(['Datacenter: dc1', '===============', 'Status=Up/Down', '|/ State=Normal/Leaving/Joining/Moving']);
    expect(lines[4]).toMatch(/^--  Address +Load +Tokens +Owns \(effective\) +Host ID +Rack$/);
    const rows = lines.slice(5);
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row).toMatch(/^UN {2}127\.0\.0\.1:\d+ +\d+(\.\d)? (B|KiB|MiB) +4 +100\.0% +[0-9a-f-]{36} +rack1$/);
  });

  it('ring --json: 12 tokens in ascending order, each with its node and ownership', async () => {
    const [entries, report] = await Promise.all([json<RingEntry[]>('ring', ...at()), json<StatusReport>('status', ...at())]);
    expect(entries).toHaveLength(12);
    const tokens = entries.map((e) => BigInt(e.token));
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]! > tokens[i - 1]!).toBe(true);
    const byHost = new Map(report.nodes.map((n) => [n.host_id, n]));
    for (const e of entries) {
      const owner = byHost.get(e.host_id)!;
      expect(owner.tokens).toContain(e.token);
      expect(e.owns).toBeCloseTo(owner.owns!, 9);
      expect(e.internode).toBe(owner.internode);
    }
    const text = (await ok('ring', ...at())).trimEnd().split('\n');
    expect(text[2]).toMatch(/^Address +Rack +Status +State +Load +Owns +Token$/);
    expect(text.slice(3).map((l) => l.split(/ +/).at(-1))).toEqual(entries.map((e) => e.token));
  });

  it('gossipinfo: one block per endpoint with generation, heartbeat and STATUS', async () => {
    const text = await ok('gossipinfo', ...at());
    const blocks = text.split(/^(?=\/)/m).filter((b) => b.trim() !== '');
    expect(blocks).toHaveLength(3);
    for (const block of blocks) {
      expect(block).toMatch(/^\/127\.0\.0\.1:\d+\n {2}generation:\d+\n {2}heartbeat:\d+\n/);
      expect(block).toMatch(/^ {2}STATUS:\d+:NORMAL$/m);
      expect(block).toMatch(/^ {2}TOKENS:\d+:<hidden>$/m);
    }
    const endpoints = await json<{ endpoint: string }[]>('gossipinfo', ...at());
    expect(endpoints.map((e) => e.endpoint).sort()).toEqual(cluster.nodes.map((n) => n.internode).sort());
  });

  it('describe: cluster name, partitioner, one agreed schema version, and the DDL', async () => {
    const text = await ok('describe', ...at());
    expect(text).toMatch(/^Cluster Information:\n\tName: \S+\n\tPartitioner: org\.apache\.cassandra\.dht\.Murmur3Partitioner\n\tSchema versions:\n\t\t[0-9a-f-]{36}: \[127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+\]\n/);
    expect(text).toContain('CREATE KEYSPACE ks WITH replication');
    expect(text).toContain('CREATE TABLE ks.users (');
    const one = await json<{ schema_versions: Record<string, string[]>; keyspaces: { name: string }[] }>('describe', 'ks', ...at());
    expect(Object.values(one.schema_versions)).toHaveLength(1);
    expect(one.keyspaces.map((k) => k.name)).toEqual(['ks']);
    const missing = await ringtail('describe', 'nope', ...at());
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/Keyspace 'nope' not found/);
  });

  it('endpoints: three distinct replicas of a key, under the token CQL computes', async () => {
    const report = await json<EndpointsReport>('endpoints', 'ks', 'users', '42', ...at());
    const rows = await cqlOk<{ rows: Record<string, unknown>[] }>(cluster.nodes[0]!.http, 'SELECT token(id) FROM ks.users WHERE id = 42');
    expect(report.token).toBe(String(Object.values(rows.rows[0]!)[0]));
    expect(new Set(report.replicas.map((r) => r.host_id)).size).toBe(3);
    for (const r of report.replicas) expect(r).toMatchObject({ address: '127.0.0.1', datacenter: 'dc1', rack: 'rack1', up: true });
    // The primary replica owns the first ring token at or after the key's token.
    const ring = await json<RingEntry[]>('ring', ...at());
    const token = BigInt(report.token);
    const primary = ring.find((e) => BigInt(e.token) >= token) ?? ring[0]!;
    expect(report.replicas[0]!.host_id).toBe(primary.host_id);

    const composite = await json<EndpointsReport>('endpoints', 'ks', 'events', "'mon'", '-3', ...at());
    expect(composite.replicas).toHaveLength(3);
    const text = (await ok('endpoints', 'ks', 'users', '42', ...at())).trimEnd().split('\n');
    expect(text[0]).toBe(`Token: ${report.token}`);
    expect(text.slice(2).map((l) => l.split(/ +/).at(-1))).toEqual(report.replicas.map((r) => r.host_id));
  });

  it('fails with exit 1 and the error code on stderr, exit 2 on bad usage', async () => {
    const unknown = await ringtail('status', '--keyspace', 'nope', ...at());
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("Invalid: Keyspace 'nope' does not exist");
    const badKey = await ringtail('endpoints', 'ks', 'users', 'ada', ...at());
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toMatch(/^Invalid: .*not a CQL literal/);
    expect((await ringtail('endpoints', 'ks', 'users', ...at())).code).toBe(2);
    expect((await ringtail('status', '--host', 'http://127.0.0.1:9', ...at())).code).toBe(2);
    const nothing = await ringtail('status', '--dir', path.join(dir, 'nowhere'));
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(/no cluster in/);
  });

  it('asks the next node when the first one is stopped, and reports it DN', async () => {
    await ok('cluster', 'stop', 'node1', '--dir', dir);
    const stopped = cluster.nodes[0]!.host_id;
    let report: StatusReport | null = null;
    await waitFor(async () => {
      report = await json<StatusReport>('status', ...at());
      return report.nodes.find((n) => n.host_id === stopped)?.status === 'DOWN';
    }, 'node1 reported DOWN', 20_000, 200);
    expect(report!.local).not.toBe(stopped);
    const lines = (await ok('status', ...at())).split('\n');
    expect(lines.filter((l) => l.startsWith('DN'))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('UN'))).toHaveLength(2);
  });
});
