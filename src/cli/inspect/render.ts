/**
 * The text layouts of `ringtail status|ring|gossipinfo|describe|endpoints` (SPEC 2.3), after
 * nodetool's `status`, `ring`, `gossipinfo`, `describecluster` and `getendpoints`.
 *
 * Pure: the API's JSON in (`GET /v1/status`, `/v1/ring`, `/v1/gossip`, `/v1/schema`,
 * `/v1/endpoints`), lines out. Nodes are listed per datacenter (sorted by name), then by
 * address. Local clusters made with `--ports auto` run every node on 127.0.0.1, so where
 * addresses repeat a node is shown by its internode `host:port` instead.
 */
import type { EndpointsReport, NodeStatus, RingEntry, StatusReport } from '../../cluster/status-report.js';
import type { SchemaDescription } from '../../cql/request.js';
import { formatLoad, formatOwns, heading, renderColumns } from './format.js';

/** One endpoint of `GET /v1/gossip` (the gossiper's `EndpointInfo`; phi is null when infinite). */
export interface GossipEndpoint {
  readonly endpoint: string;
  readonly isSelf: boolean;
  readonly generation: number;
  readonly heartBeatVersion: number;
  readonly applicationStates: Readonly<Record<string, { readonly value: string; readonly version: number }>>;
  readonly up: boolean;
  readonly phi: number | null;
}

const STATE_LETTER = { NORMAL: 'N', JOINING: 'J', LEAVING: 'L', MOVING: 'M' } as const;
const STATE_WORD = { NORMAL: 'Normal', JOINING: 'Joining', LEAVING: 'Leaving', MOVING: 'Moving' } as const;
/** Application states too long to be worth printing, as nodetool hides them. */
const HIDDEN_STATES: ReadonlySet<string> = new Set(['TOKENS']);

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** `host` alone when every node's address is distinct, else the internode `host:port`. */
function addressLabeller(nodes: readonly { address: string; internode: string }[]): (n: { address: string; internode: string }) => string {
  const distinct = new Set(nodes.map((n) => n.address)).size === new Set(nodes.map((n) => n.internode)).size;
  return (n) => (distinct ? n.address : n.internode);
}

function groupByDatacenter<T extends { datacenter: string }>(items: readonly T[]): [string, T[]][] {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(item.datacenter, [...(groups.get(item.datacenter) ?? []), item]);
  return [...groups].sort(([a], [b]) => byName(a, b));
}

/** Address order: numerically by port when the hosts are equal. */
function compareEndpoints(a: { internode: string }, b: { internode: string }): number {
  const [hostA, portA] = splitEndpoint(a.internode);
  const [hostB, portB] = splitEndpoint(b.internode);
  return byName(hostA, hostB) || portA - portB;
}

function splitEndpoint(endpoint: string): [string, number] {
  const i = endpoint.lastIndexOf(':');
  return i < 0 ? [endpoint, 0] : [endpoint.slice(0, i), Number(endpoint.slice(i + 1)) || 0];
}

/** `ringtail status`: per datacenter, one row per node. */
export function renderStatus(report: StatusReport, keyspace: string | undefined): string[] {
  const label = addressLabeller(report.nodes);
  const lines: string[] = [];
  for (const [datacenter, nodes] of groupByDatacenter(report.nodes)) {
    if (lines.length > 0) lines.push('');
    lines.push(...heading(`Datacenter: ${datacenter}`), 'Status=Up/Down', '|/ State=Normal/Leaving/Joining/Moving');
    const rows = [...nodes].sort(compareEndpoints).map((n: NodeStatus) => [
      `${n.status === 'UP' ? 'U' : 'D'}${STATE_LETTER[n.state] ?? '?'}`,
      label(n),
      formatLoad(n.load_bytes),
      String(n.tokens.length),
      formatOwns(n.owns),
      n.host_id,
      n.rack,
    ]);
    lines.push(...renderColumns([['--', 'Address', 'Load', 'Tokens', keyspace === undefined ? 'Owns' : 'Owns (effective)', 'Host ID', 'Rack'], ...rows]));
  }
  if (keyspace === undefined && report.nodes.length > 0) {
    lines.push('', 'Note: Owns is the share of the ring each node is the primary replica of; give --keyspace for effective ownership.');
  }
  return lines;
}

/** `ringtail ring`: per datacenter, one row per token in ring order. */
export function renderRing(entries: readonly RingEntry[]): string[] {
  const label = addressLabeller(entries);
  const lines: string[] = [];
  for (const [datacenter, tokens] of groupByDatacenter(entries)) {
    if (lines.length > 0) lines.push('');
    lines.push(...heading(`Datacenter: ${datacenter}`));
    const rows = tokens.map((e) => [label(e), e.rack, e.status === 'UP' ? 'Up' : 'Down', STATE_WORD[e.state] ?? e.state, formatLoad(e.load_bytes), formatOwns(e.owns), e.token]);
    lines.push(...renderColumns([['Address', 'Rack', 'Status', 'State', 'Load', 'Owns', 'Token'], ...rows]));
  }
  return lines;
}

/** `ringtail gossipinfo`: nodetool's blocks, `KEY:version:value` per application state. */
export function renderGossipInfo(endpoints: readonly GossipEndpoint[]): string[] {
  const lines: string[] = [];
  for (const e of endpoints) {
    lines.push(`/${e.endpoint}`, `  generation:${e.generation}`, `  heartbeat:${e.heartBeatVersion}`);
    for (const [key, state] of Object.entries(e.applicationStates).sort(([a], [b]) => byName(a, b))) {
      lines.push(`  ${key}:${state.version}:${HIDDEN_STATES.has(key) ? '<hidden>' : state.value}`);
    }
  }
  return lines;
}

/** Schema versions as nodes report them: version → endpoints; DOWN nodes under `UNREACHABLE`, last. */
export function schemaVersions(report: StatusReport): Record<string, string[]> {
  const label = addressLabeller(report.nodes);
  const versions: Record<string, string[]> = {};
  const unreachable: string[] = [];
  for (const n of [...report.nodes].sort(compareEndpoints)) {
    if (n.status === 'UP') (versions[n.schema_version] ??= []).push(label(n));
    else unreachable.push(label(n));
  }
  if (unreachable.length > 0) versions.UNREACHABLE = unreachable;
  return versions;
}

export const isSystemKeyspace = (name: string): boolean => /^system(_|$)/.test(name);

/** The keyspaces `describe` shows: the one named, or every non-system keyspace. */
export function describedKeyspaces(schema: SchemaDescription, keyspace: string | undefined): SchemaDescription['keyspaces'] {
  if (keyspace === undefined) return schema.keyspaces.filter((k) => !isSystemKeyspace(k.name));
  const found = schema.keyspaces.find((k) => k.name === keyspace);
  if (found === undefined) throw new Error(`Keyspace '${keyspace}' not found`);
  return [found];
}

/** `ringtail describe`: nodetool describecluster's summary, then the DDL. */
export function renderDescribe(schema: SchemaDescription, report: StatusReport, keyspace: string | undefined): string[] {
  const lines = ['Cluster Information:', `\tName: ${schema.cluster_name}`, `\tPartitioner: ${schema.partitioner}`, '\tSchema versions:'];
  for (const [version, nodes] of Object.entries(schemaVersions(report))) lines.push(`\t\t${version}: [${nodes.join(', ')}]`);
  for (const ks of describedKeyspaces(schema, keyspace)) {
    lines.push('', ks.cql);
    for (const t of ks.tables) lines.push('', t.cql);
  }
  return lines;
}

/** `ringtail endpoints`: the token, then the replicas in preference order. */
export function renderEndpoints(report: EndpointsReport): string[] {
  const rows = report.replicas.map((r) => [r.address, r.datacenter, r.rack, r.up ? 'Up' : 'Down', r.host_id]);
  return [`Token: ${report.token}`, ...renderColumns([['Address', 'Datacenter', 'Rack', 'Status', 'Host ID'], ...rows])];
}
