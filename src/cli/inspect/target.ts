/**
 * Which node the inspection commands ask (SPEC 2: `--host URL` or `--dir DIR`).
 *
 * With `--host`, that node and no other. With `--dir` (default `./data/local`), the nodes of
 * the local cluster's `cluster.json`, those whose process runs first, each in file order: the
 * first that answers is asked, and every later request of the same command goes to it too, so
 * one command's answers come from one node's view. A node that does not answer (refused,
 * paused past the timeout) is skipped; an HTTP error answer is an answer, not skipped.
 *
 * Bounds: each attempt waits at most `ATTEMPT_TIMEOUT_MS` (with `--dir`) or
 * `HOST_TIMEOUT_MS` (with `--host`); at most every node of the cluster file is tried.
 */
import { normalizeHost } from '../cql-shell/client.js';
import { DEFAULT_CLUSTER_DIR, readClusterFile } from '../cluster/cluster-file.js';
import { isRunning } from '../cluster/cluster-manager.js';
import { ApiError, getJson, postJson } from '../http-client.js';
import { UsageError } from '../usage-error.js';

const ATTEMPT_TIMEOUT_MS = 3000;
const HOST_TIMEOUT_MS = 10_000;

export interface TargetFlags {
  readonly host?: string;
  readonly dir?: string;
}

interface Candidate {
  readonly label: string;
  readonly url: string;
}

export class InspectTarget {
  private chosen: Candidate | null = null;

  private constructor(
    private readonly candidates: readonly Candidate[],
    private readonly timeoutMs: number,
    private readonly where: string,
  ) {}

  static resolve(flags: TargetFlags): InspectTarget {
    if (flags.host !== undefined && flags.dir !== undefined) throw new UsageError('give --host or --dir, not both');
    if (flags.host !== undefined) {
      const url = normalizeHost(flags.host);
      return new InspectTarget([{ label: url, url }], HOST_TIMEOUT_MS, url);
    }
    const dir = flags.dir ?? DEFAULT_CLUSTER_DIR;
    const cluster = readClusterFile(dir);
    const running = cluster.nodes.filter((n) => isRunning(n.pid));
    const others = cluster.nodes.filter((n) => !isRunning(n.pid));
    const candidates = [...running, ...others].map((n) => ({ label: `${n.name} (${n.http})`, url: normalizeHost(n.http) }));
    if (candidates.length === 0) throw new Error(`cluster ${cluster.name} in ${dir} has no nodes`);
    return new InspectTarget(candidates, ATTEMPT_TIMEOUT_MS, `cluster ${cluster.name} in ${dir}`);
  }

  /** GET `path` (e.g. `/v1/status`) from the chosen node, choosing it on the first call. */
  async get<T>(path: string): Promise<T> {
    if (this.chosen !== null) return this.ask<T>(this.chosen, path);
    const failures: string[] = [];
    for (const candidate of this.candidates) {
      try {
        const answer = await this.ask<T>(candidate, path);
        this.chosen = candidate;
        return answer;
      } catch (err) {
        if (err instanceof ApiError) {
          this.chosen = candidate;
          throw err;
        }
        failures.push(`${candidate.label}: ${(err as Error).message}`);
      }
    }
    throw new Error(`no node of ${this.where} answered:\n  ${failures.join('\n  ')}`);
  }

  /**
   * POST `body` to `path` on the chosen node (choosing it as `get` does, with a cheap
   * `/health` probe, so an admin operation runs exactly once). `timeoutMs` bounds the operation
   * itself: repairs and decommissions run for as long as they stream.
   */
  async post<T>(path: string, body: unknown, timeoutMs: number): Promise<T> {
    if (this.chosen === null) await this.get<unknown>('/health').catch((err: unknown) => {
      if (!(err instanceof ApiError)) throw err; // 503 while joining or draining is still an answer
    });
    return postJson<T>(`${this.chosen!.url}${path}`, body, { timeoutMs });
  }

  private ask<T>(candidate: Candidate, path: string): Promise<T> {
    return getJson<T>(`${candidate.url}${path}`, { timeoutMs: this.timeoutMs });
  }
}
