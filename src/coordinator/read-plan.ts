/**
 * Read planning (SPEC 6.3, 6.4): which replicas a read asks for data and which for digests,
 * which one it tries next if a replica is slow (speculative retry), and which replicas are
 * read again and repaired after a digest mismatch. Pure functions returning plain data; the
 * coordinator sends, times and merges.
 *
 * Cassandra concepts: `ReplicaPlans.forRead` (candidates = live replicas sorted by the snitch,
 * restricted to the local datacenter for LOCAL_*; contacts = the first blockFor of them, or a
 * quorum of each datacenter for EACH_QUORUM), `AbstractReadExecutor` and its never / always /
 * speculating executors, `SpeculativeRetryPolicy` (NONE, ALWAYS, `Nms`, `Np`), and blocking read
 * repair. Pattern: Majority Quorum on the read side (Joshi, *Patterns of Distributed Systems*).
 *
 * Choices and why:
 * - Closeness: the local datacenter first, then a `proximity(endpoint)` score (lower is closer;
 *   a dynamic snitch can supply latencies later), then the replication order, so equal scores
 *   keep a stable, primary-first order on every node.
 * - One full data read, from the closest contact: the data response is the large one. The
 *   other contacts send digests; a read needs `blockFor` responses in all.
 * - Speculation sends to one more candidate, the closest not contacted (SPEC 6.4: "one more
 *   replica"). ALWAYS sends it at once (delay 0); the request is a data read when the data has
 *   not arrived yet (the slow one may be the data replica), a digest otherwise. None for
 *   EACH_QUORUM (an extra replica would have to be per datacenter) nor when no candidate is
 *   left. `Np` waits for the caller's observed read-latency percentile p; before any sample,
 *   half the read timeout (Cassandra's initial estimate). A delay at or past the read timeout
 *   never fires in time, so it means no speculation.
 * - After a digest mismatch every contacted replica is read in full again, the data replica
 *   included, so the merge compares answers of one round; the replicas whose full answer
 *   differs from the merge are repaired (`read_repair = 'BLOCKING'`), none with 'NONE'.
 *
 * Invariants: contacts are live, distinct, count for the level, and satisfy it (the plan throws
 * Unavailable otherwise); `dataReplica` is the first contact; the speculative replica is a live
 * candidate that is not a contact. Pending replicas are never read.
 *
 * Bounds: linear in the replicas (at most MAX_REPLICAS_PER_REQUEST), plus one sort.
 */
import { ConfigurationError } from '../errors.js';
import type { Endpoint } from '../ring/token-metadata.js';
import { assert } from '../util/assert.js';
import { checkAvailable, groupIndexOf, MAX_REPLICAS_PER_REQUEST, type ReplicaInfo, type Requirement } from './consistency.js';

/** The `speculative_retry` table option, parsed. */
export type SpeculativeRetry =
  | { readonly kind: 'NONE' }
  | { readonly kind: 'ALWAYS' }
  | { readonly kind: 'FIXED'; readonly delayMs: number }
  | { readonly kind: 'PERCENTILE'; readonly percentile: number };

/** Parses `NONE`, `ALWAYS`, `<n>ms` or `<n>p` (`<n>PERCENTILE`), as schema-options.ts accepts them. */
export function parseSpeculativeRetry(text: string): SpeculativeRetry {
  const s = text.trim();
  const upper = s.toUpperCase();
  if (upper === 'NONE') return { kind: 'NONE' };
  if (upper === 'ALWAYS') return { kind: 'ALWAYS' };
  const fixed = /^(\d+(?:\.\d+)?)\s*MS$/i.exec(s);
  if (fixed !== null) return { kind: 'FIXED', delayMs: Number(fixed[1]) };
  const percentile = /^(\d+(?:\.\d+)?)\s*(?:P|PERCENTILE)$/i.exec(s);
  if (percentile !== null) {
    const p = Number(percentile[1]);
    if (p > 0 && p < 100) return { kind: 'PERCENTILE', percentile: p };
  }
  throw new ConfigurationError(`Invalid value ${text} for option 'speculative_retry'`);
}

export interface SpeculationTiming {
  readonly retry: SpeculativeRetry;
  /** The coordinator's observed read latency at a percentile (0–100), undefined before any sample. */
  readonly latencyPercentileMs: (percentile: number) => number | undefined;
  readonly readTimeoutMs: number;
}

/** How long a read waits before speculating, or null when it never does. */
export function speculationDelayMs(timing: SpeculationTiming): number | null {
  const { retry, readTimeoutMs } = timing;
  let delayMs: number;
  switch (retry.kind) {
    case 'NONE':
      return null;
    case 'ALWAYS':
      return 0;
    case 'FIXED':
      delayMs = retry.delayMs;
      break;
    case 'PERCENTILE':
      delayMs = timing.latencyPercentileMs(retry.percentile) ?? readTimeoutMs / 2;
      break;
  }
  return delayMs < readTimeoutMs ? delayMs : null;
}

export interface ReadPlanInput extends SpeculationTiming {
  readonly requirement: Requirement;
  /** The token's replicas in replication order (primary first). */
  readonly replicas: readonly ReplicaInfo[];
  readonly isAlive: (endpoint: Endpoint) => boolean;
  readonly localDc: string;
  /** Lower is closer; ties keep the replication order. */
  readonly proximity: (endpoint: Endpoint) => number;
}

export interface Speculation {
  /** Delay after sending the first requests; 0 sends at once (ALWAYS). */
  readonly afterMs: number;
  readonly replica: Endpoint;
}

export interface ReadPlan {
  readonly blockFor: number;
  /** Full data read: the closest contact. */
  readonly dataReplica: Endpoint;
  /** Digest reads: the other contacts, `blockFor - 1` of them. */
  readonly digestReplicas: readonly Endpoint[];
  readonly speculation: Speculation | null;
  /** Every live replica that counts for the level, closest first (contacts first). */
  readonly candidates: readonly Endpoint[];
}

// #region pattern:Majority Quorum
/** Plans a read; throws Unavailable when too few replicas that count are alive. */
export function planRead(input: ReadPlanInput): ReadPlan {
  const { requirement } = input;
  assert(!requirement.hintsCount, 'ANY is a write-only level');
  assert(input.replicas.length <= MAX_REPLICAS_PER_REQUEST, `${input.replicas.length} replicas exceed ${MAX_REPLICAS_PER_REQUEST}`);
  const readable = input.replicas.filter((r) => r.pending !== true);
  checkAvailable(requirement, readable, input.isAlive);
  const candidates = closestFirst(readable.filter((r) => input.isAlive(r.endpoint) && groupIndexOf(requirement, r) >= 0), input);
  const contacts = chooseContacts(requirement, candidates);
  assert(contacts.length === requirement.blockFor, `a read of ${requirement.consistency} found ${contacts.length} of ${requirement.blockFor} contacts after the availability check`);
  const contacted = new Set(contacts.map((r) => r.endpoint));
  const spare = candidates.find((r) => !contacted.has(r.endpoint));
  const delayMs = speculationDelayMs(input);
  const speculation = spare === undefined || delayMs === null || requirement.groups.length > 1 ? null : { afterMs: delayMs, replica: spare.endpoint };
  return {
    blockFor: requirement.blockFor,
    dataReplica: contacts[0]!.endpoint,
    digestReplicas: contacts.slice(1).map((r) => r.endpoint),
    speculation,
    candidates: [...contacts, ...candidates.filter((r) => !contacted.has(r.endpoint))].map((r) => r.endpoint),
  };
}

/** Walks the candidates closest first, taking each one whose group still needs a response. */
function chooseContacts(requirement: Requirement, candidates: readonly ReplicaInfo[]): ReplicaInfo[] {
  const needed = requirement.groups.map((g) => g.required);
  const contacts: ReplicaInfo[] = [];
  for (const candidate of candidates) {
    const index = groupIndexOf(requirement, candidate);
    if (needed[index]! <= 0) continue;
    needed[index]!--;
    contacts.push(candidate);
  }
  return contacts;
}
// #endregion

function closestFirst(replicas: readonly ReplicaInfo[], input: ReadPlanInput): ReplicaInfo[] {
  const keyed = replicas.map((replica, order) => ({
    replica,
    order,
    remote: replica.datacenter === input.localDc ? 0 : 1,
    proximity: input.proximity(replica.endpoint),
  }));
  // Compared with < rather than subtracted: Infinity (an unknown latency) must sort last, not as NaN.
  const byProximity = (a: number, b: number): number => (a < b ? -1 : a > b ? 1 : 0);
  keyed.sort((a, b) => a.remote - b.remote || byProximity(a.proximity, b.proximity) || a.order - b.order);
  return keyed.map((k) => k.replica);
}

/** What a speculative request asks for: the data if it has not arrived yet, else a digest. */
export function speculativeRequestKind(dataPresent: boolean): 'data' | 'digest' {
  return dataPresent ? 'digest' : 'data';
}

/** The replicas a read has contacted so far: the plan's contacts and, once sent, the speculative one. */
export function contactedReplicas(plan: ReadPlan, speculationSent: boolean): Endpoint[] {
  const contacted = [plan.dataReplica, ...plan.digestReplicas];
  if (speculationSent && plan.speculation !== null) contacted.push(plan.speculation.replica);
  return contacted;
}

/**
 * After a digest mismatch: full data reads from every contacted replica, the data replica
 * included, so that the merge compares answers read in the same round.
 */
export function fullDataReadsAfterMismatch(plan: ReadPlan, speculationSent: boolean): Endpoint[] {
  return contactedReplicas(plan, speculationSent);
}

export interface FullDataResponse {
  readonly endpoint: Endpoint;
  /** Digest of what the replica returned, in the coordinator's digest encoding. */
  readonly digest: string;
}

/**
 * The replicas to send the merged rows to before answering: those whose answer differs from the
 * merge under `read_repair = 'BLOCKING'`; none under 'NONE' (the client still gets the merge).
 */
export function replicasToRepair(readRepair: 'BLOCKING' | 'NONE', responses: readonly FullDataResponse[], mergedDigest: string): Endpoint[] {
  if (readRepair === 'NONE') return [];
  const stale: Endpoint[] = [];
  const seen = new Set<Endpoint>();
  for (const r of responses) {
    if (seen.has(r.endpoint)) continue;
    seen.add(r.endpoint);
    if (r.digest !== mergedDigest) stale.push(r.endpoint);
  }
  return stale;
}
