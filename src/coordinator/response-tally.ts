/**
 * The response tally of one replicated request: which replicas answered, with success or error,
 * and whether the consistency level is met, still possible, or lost.
 *
 * Patterns: Request Waiting List (the coordinator keeps one tally per request in flight and
 * answers the client when it decides) and Majority Quorum (Joshi, *Patterns of Distributed
 * Systems*). Shaped after etcd raft's `quorum/majority.go`: a tiny pure tally with a tri-state
 * result. Cassandra: `AbstractWriteResponseHandler`, `DatacenterWriteResponseHandler`,
 * `DatacenterSyncWriteResponseHandler` (EACH_QUORUM), `ReadCallback`.
 *
 * The tally is built from a `Requirement` (consistency.ts) and the replicas the request was
 * sent to (its targets). A response counts for the group its replica belongs to; responses from
 * replicas outside every group (remote datacenters under LOCAL_*) are recorded but count for
 * nothing, since those levels promise nothing about remote replicas.
 *
 * State, decided per group, then combined:
 * - `succeeded` when every group has at least `required` successes;
 * - `failed` when some group has fewer successes plus targets still silent than `required`:
 *   no future answer can meet the level, so waiting for the timeout would only add latency;
 * - `pending` otherwise.
 * Both outcomes are final: successes never decrease, and successes plus silent targets never
 * increase (a target answers at most once), except through `addTarget`, which a read that
 * has not failed uses to speculate.
 * ANY never fails: every replica that fails or is down can get a hint, and a stored hint
 * (`recordHint`) is a success for ANY (Cassandra: "the local node is always live").
 *
 * Invariants: each endpoint's first answer is the one that counts (duplicates and answers after
 * an error are ignored); answers from endpoints that are not targets are ignored (a response we
 * never asked for is no evidence); `received <= blockFor` (each group capped at what it needs).
 * For reads the coordinator also needs the data response: it answers when the tally succeeded
 * *and* the data arrived, and otherwise reports `dataPresent` in its ReadTimeout.
 *
 * Bounds: targets and hinted endpoints are at most MAX_REPLICAS_PER_REQUEST each.
 */
import { ReadFailure, ReadTimeout, WriteFailure, WriteTimeout } from '../errors.js';
import type { Endpoint } from '../ring/token-metadata.js';
import { assert } from '../util/assert.js';
import { groupIndexOf, MAX_REPLICAS_PER_REQUEST, type ReplicaInfo, type Requirement } from './consistency.js';

export type TallyState = 'pending' | 'succeeded' | 'failed';

/** Cassandra's write types as clients see them in `write_type`. */
export type WriteType = 'SIMPLE' | 'BATCH' | 'UNLOGGED_BATCH' | 'COUNTER' | 'BATCH_LOG';

interface GroupCount {
  readonly required: number;
  successes: number;
  failures: number;
  /** Targets of this group that have not answered yet. */
  silent: number;
}

type Answer = 'success' | 'failure';

export class ResponseTally {
  /** Per target: the index of its group, or -1 when its answer does not count. */
  private readonly groupOfTarget = new Map<Endpoint, number>();
  private readonly answers = new Map<Endpoint, Answer>();
  private readonly hinted = new Set<Endpoint>();
  private readonly groups: GroupCount[];

  constructor(
    readonly requirement: Requirement,
    targets: readonly ReplicaInfo[],
  ) {
    this.groups = requirement.groups.map((g) => ({ required: g.required, successes: 0, failures: 0, silent: 0 }));
    for (const target of targets) this.track(target);
  }

  /**
   * One more replica the request went to: a speculative read, possibly after the tally
   * succeeded (the digests arrived, the data did not). Never after it failed: the coordinator
   * has answered by then, and "failed" must stay final.
   */
  addTarget(target: ReplicaInfo): TallyState {
    assert(this.state() !== 'failed', 'a target added to a failed request');
    this.track(target);
    return this.state();
  }

  private track(target: ReplicaInfo): void {
    if (this.groupOfTarget.has(target.endpoint)) return;
    assert(this.groupOfTarget.size < MAX_REPLICAS_PER_REQUEST, `more than ${MAX_REPLICAS_PER_REQUEST} targets`);
    const index = groupIndexOf(this.requirement, target);
    this.groupOfTarget.set(target.endpoint, index);
    if (index >= 0) this.groups[index]!.silent++;
  }

  recordSuccess(endpoint: Endpoint): TallyState {
    return this.record(endpoint, 'success');
  }

  recordFailure(endpoint: Endpoint): TallyState {
    return this.record(endpoint, 'failure');
  }

  /** The coordinator stored a hint for `endpoint`: a success for ANY, nothing for other levels. */
  recordHint(endpoint: Endpoint): TallyState {
    if (this.requirement.hintsCount && !this.hinted.has(endpoint)) {
      assert(this.hinted.size < MAX_REPLICAS_PER_REQUEST, `more than ${MAX_REPLICAS_PER_REQUEST} hints`);
      this.hinted.add(endpoint);
    }
    return this.state();
  }

  private record(endpoint: Endpoint, answer: Answer): TallyState {
    const index = this.groupOfTarget.get(endpoint);
    if (index === undefined || this.answers.has(endpoint)) return this.state();
    this.answers.set(endpoint, answer);
    if (index >= 0) {
      const group = this.groups[index]!;
      group.silent--;
      if (answer === 'success') group.successes++;
      else group.failures++;
    }
    return this.state();
  }

  // #region pattern:Majority Quorum
  state(): TallyState {
    if (this.requirement.hintsCount) return this.anySucceeded() ? 'succeeded' : 'pending';
    let allMet = true;
    for (const g of this.groups) {
      // Unreachable: even if every silent target answered well, this group stays short.
      if (g.successes + g.silent < g.required) return 'failed';
      if (g.successes < g.required) allMet = false;
    }
    return allMet ? 'succeeded' : 'pending';
  }
  // #endregion

  private anySucceeded(): boolean {
    if (this.hinted.size > 0) return true;
    return this.groups[0]!.successes > 0;
  }

  /**
   * Successes that count toward `blockFor`, each group's capped at what it needs: an extra ack
   * in one datacenter does not make up for a missing one in another (EACH_QUORUM).
   */
  get received(): number {
    if (this.requirement.hintsCount) return Math.min(1, this.groups[0]!.successes + this.hinted.size);
    return this.groups.reduce((sum, g) => sum + Math.min(g.successes, g.required), 0);
  }

  /** Errors from replicas whose answers count. */
  get failures(): number {
    return this.groups.reduce((sum, g) => sum + g.failures, 0);
  }

  /** Every success, counted or not (remote datacenters under LOCAL_*). */
  get successes(): number {
    let n = 0;
    for (const answer of this.answers.values()) if (answer === 'success') n++;
    return n;
  }

  /** The error for a request whose deadline passed while the tally was still short. */
  timeoutError(kind: 'write', writeType?: WriteType): WriteTimeout;
  timeoutError(kind: 'read', writeType?: undefined, dataPresent?: boolean): ReadTimeout;
  timeoutError(kind: 'write' | 'read', writeType: WriteType = 'SIMPLE', dataPresent = false): WriteTimeout | ReadTimeout {
    const consistency = this.requirement.consistency;
    const blockFor = this.requirement.blockFor;
    if (kind === 'write') {
      // A pure tally has no race between the deadline and the last ack: a write that met its
      // level never times out, so `received < block_for` always holds in a WriteTimeout.
      assert(this.state() !== 'succeeded', 'a write that met its consistency level timed out');
      return new WriteTimeout({ consistency, received: this.received, blockFor, writeType });
    }
    // A read may have all the responses it needs but not the data one: received = block_for
    // with data_present false is then the truthful report.
    return new ReadTimeout({ consistency, received: this.received, blockFor, dataPresent });
  }

  /** The error for a request that can no longer meet its level because replicas answered with errors. */
  failureError(kind: 'write'): WriteFailure;
  failureError(kind: 'read'): ReadFailure;
  failureError(kind: 'write' | 'read'): WriteFailure | ReadFailure {
    assert(this.state() === 'failed', 'a failure error for a request that has not failed');
    const info = { consistency: this.requirement.consistency, received: this.received, blockFor: this.requirement.blockFor, failures: this.failures };
    return kind === 'write' ? new WriteFailure(info) : new ReadFailure(info);
  }
}
