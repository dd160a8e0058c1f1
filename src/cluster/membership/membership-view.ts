/**
 * What every node derives from gossip about membership: each node's state (NORMAL, JOINING,
 * LEAVING, MOVING; LEFT and removed ones vanish), the ring reads use now, and who is joining
 * or leaving it (the inputs of pending-ranges.ts). Pure: a function of the gossip states, so
 * every node that holds the same states builds the same ring (tested in a gossip simulation).
 *
 * Cassandra: `StorageService.onChange` / `handleState{Bootstrap,Normal,Leaving,Left,Removing}`,
 * which keep `TokenMetadata` (normal tokens, bootstrap tokens, leaving endpoints) in step with
 * gossip. Here nothing is kept: the view is recomputed from gossip when gossip changes.
 *
 * Rules, per endpoint gossip knows:
 * - STATUS `LEFT`, or a peer's REMOVALS entry `removed` for its host id at its generation or a
 *   later one (removals.ts): gone — in no view, never UP (a LEFT node may gossip on for a
 *   while before it stops; it stays out).
 * - REMOVALS `removing` (same matching): leaving — still on the ring, its ranges get pending
 *   endpoints; shown as LEAVING (a JOINING node stays JOINING: it never was on the ring). A
 *   `removed` entry beats a `removing` one.
 * - STATUS `LEAVING`: on the ring, leaving. `MOVING`: on the ring (no moves are made yet).
 * - STATUS `JOINING`: listed (with its tokens; owns nothing), not on the ring; while it is UP,
 *   its tokens are pending (a joining node that died stops attracting writes).
 * - STATUS `NORMAL`, `shutdown` (a graceful stop overwrites the STATUS: JOINING and LEFT nodes
 *   therefore stop silently, see cluster-service.ts), missing or unknown: NORMAL, on the ring
 *   when it has tokens.
 * - TOKENS that do not decode (a corrupt or hostile peer) count as no tokens: such a node is
 *   listed but owns nothing, rather than breaking every node's ring.
 *
 * `key` changes exactly when the ring or the pending inputs may change: endpoints, generations,
 * the versions of TOKENS, DC, RACK, STATUS, HOST_ID and REMOVALS, and whether each JOINING node
 * is UP. Callers memoise on it.
 *
 * Bounds: linear in the endpoints gossip holds (≤ MAX_GOSSIP_ENDPOINTS) times their removals
 * (≤ MAX_REMOVAL_ENTRIES each), plus the ring build (O(T log T)).
 */
import { TokenMetadata, type Endpoint, type RingNode } from '../../ring/token-metadata.js';
import { ApplicationStateKey, STATUS_JOINING, STATUS_LEAVING, STATUS_LEFT, STATUS_MOVING, STATUS_SHUTDOWN } from '../gossip/endpoint-state.js';
import type { EndpointInfo } from '../gossip/gossiper.js';
import { decodeTokens } from '../gossip/tokens.js';
import type { NodeState, NodeStatus } from '../status-report.js';
import { decodeRemovals, type RemovalEntry, type RemovalState } from './removals.js';

export type NodeView = Omit<NodeStatus, 'owns'>;

export interface MembershipView {
  /** Changes whenever `ring`, `joining` or `leaving` may have changed (see the header). */
  readonly key: string;
  /** Every node that is not gone, in endpoint order. */
  readonly nodes: readonly NodeView[];
  /** The ring now: NORMAL, LEAVING, MOVING and removing nodes with tokens, UP or DOWN. */
  readonly ring: TokenMetadata;
  /** JOINING nodes that are UP, with the tokens they will own. */
  readonly joining: readonly RingNode[];
  /** Endpoints leaving the ring: LEAVING, or being removed. */
  readonly leaving: readonly Endpoint[];
  /** LEFT or removed endpoints still in gossip. */
  readonly gone: ReadonlySet<Endpoint>;
  /** The removed ones among `gone` (to be evicted from gossip). */
  readonly removed: readonly Endpoint[];
  /** Peers whose REMOVALS value did not decode (ignored). */
  readonly undecodableRemovals: readonly Endpoint[];
}

/** Versions that place tokens or change who moves: the view's key is built from them. */
const KEYED_STATES = [
  ApplicationStateKey.TOKENS,
  ApplicationStateKey.DC,
  ApplicationStateKey.RACK,
  ApplicationStateKey.STATUS,
  ApplicationStateKey.HOST_ID,
  ApplicationStateKey.REMOVALS,
] as const;

export function membershipView(infos: readonly EndpointInfo[]): MembershipView {
  const { removals, undecodable } = removalsOf(infos);
  const nodes: NodeView[] = [];
  const gone = new Set<Endpoint>();
  const removed: Endpoint[] = [];
  const joining: RingNode[] = [];
  const leaving: Endpoint[] = [];
  const keyParts: string[] = [];
  for (const info of infos) {
    const app = (key: string): string => info.applicationStates[key]?.value ?? '';
    const status = app(ApplicationStateKey.STATUS);
    const hostId = app(ApplicationStateKey.HOST_ID);
    const removal = removalOf(removals.get(info.endpoint), hostId, info.generation);
    const up = info.isSelf || (info.up && status !== STATUS_SHUTDOWN);
    const state = nodeStateOf(status, removal);
    keyParts.push([info.endpoint, info.generation, ...KEYED_STATES.map((k) => info.applicationStates[k]?.version ?? -1), state === 'JOINING' && up ? 'up' : ''].join(':'));
    if (status === STATUS_LEFT || removal === 'removed') {
      gone.add(info.endpoint);
      if (removal === 'removed') removed.push(info.endpoint);
      continue;
    }
    const tokens = tokensOf(app(ApplicationStateKey.TOKENS));
    const node: NodeView = {
      host_id: hostId,
      name: info.endpoint,
      internode: info.endpoint,
      address: hostOf(info.endpoint),
      http: app(ApplicationStateKey.HTTP_ADDRESS),
      datacenter: app(ApplicationStateKey.DC),
      rack: app(ApplicationStateKey.RACK),
      status: up ? 'UP' : 'DOWN',
      state,
      load_bytes: Number(app(ApplicationStateKey.LOAD)) || 0,
      tokens: tokens.map(String),
      schema_version: app(ApplicationStateKey.SCHEMA),
      generation: info.generation,
      phi: info.phi,
    };
    nodes.push(node);
    if (state === 'JOINING' && up && tokens.length > 0) joining.push({ endpoint: info.endpoint, datacenter: node.datacenter, rack: node.rack, tokens });
    if (state === 'LEAVING') leaving.push(info.endpoint);
  }
  return {
    key: keyParts.join(','),
    nodes,
    ring: TokenMetadata.fromStatus(nodes),
    joining,
    leaving,
    gone,
    removed,
    undecodableRemovals: undecodable,
  };
}

function nodeStateOf(status: string, removal: RemovalState | null): NodeState {
  // A joining node being removed never was on the ring: it stays off it (and, DOWN, is not pending).
  if (status === STATUS_JOINING) return 'JOINING';
  if (removal === 'removing' || status === STATUS_LEAVING) return 'LEAVING';
  if (status === STATUS_MOVING) return 'MOVING';
  return 'NORMAL';
}

/** Every peer's removal entries by endpoint. */
function removalsOf(infos: readonly EndpointInfo[]): { removals: Map<Endpoint, RemovalEntry[]>; undecodable: Endpoint[] } {
  const removals = new Map<Endpoint, RemovalEntry[]>();
  const undecodable: Endpoint[] = [];
  for (const info of infos) {
    const value = info.applicationStates[ApplicationStateKey.REMOVALS]?.value;
    if (value === undefined) continue;
    let entries: RemovalEntry[];
    try {
      entries = decodeRemovals(value);
    } catch {
      undecodable.push(info.endpoint);
      continue;
    }
    for (const entry of entries) {
      let list = removals.get(entry.endpoint);
      if (list === undefined) removals.set(entry.endpoint, (list = []));
      list.push(entry);
    }
  }
  return { removals, undecodable };
}

/** The strongest removal of this incarnation of a node: `removed` over `removing`; null when none applies. */
function removalOf(entries: readonly RemovalEntry[] | undefined, hostId: string, generation: number): RemovalState | null {
  let found: RemovalState | null = null;
  for (const e of entries ?? []) {
    if (e.hostId !== hostId || generation > e.generation) continue;
    if (e.state === 'removed') return 'removed';
    found = 'removing';
  }
  return found;
}

function tokensOf(value: string): bigint[] {
  if (value === '') return [];
  try {
    return decodeTokens(value);
  } catch {
    return [];
  }
}

/** The host of a `host:port` endpoint (an IPv6 host without its brackets). */
function hostOf(endpoint: string): string {
  return endpoint.slice(0, endpoint.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1');
}
