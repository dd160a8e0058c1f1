/**
 * The generation of a node's gossip state: which incarnation of the node it describes.
 *
 * Pattern: Generation Clock (Joshi). Cassandra: the `generation` of `HeartBeatState`, kept in
 * `system.local` and bumped by `SystemKeyspace.incrementAndGetGeneration` at every start.
 *
 * Rule: the generation is the start time in seconds since the epoch, but strictly greater than
 * the last persisted one, so it increases across restarts even if the wall clock went back or
 * the node restarted twice within a second. Peers compare generations before versions: a higher
 * generation replaces everything known about the old incarnation (endpoint-state.ts).
 *
 * Invariant: the result is a positive safe integer > `previous`. The driver persists it
 * (generation-store.ts) before gossiping with it, so no two incarnations ever share one.
 */
import { assert } from '../../util/assert.js';

// #region pattern:Generation Clock
export function nextGeneration(previous: number | null, nowSeconds: number): number {
  assert(Number.isSafeInteger(nowSeconds) && nowSeconds > 0, `nowSeconds must be a positive integer: ${nowSeconds}`);
  if (previous === null) return nowSeconds;
  assert(Number.isSafeInteger(previous) && previous > 0, `previous generation must be a positive integer: ${previous}`);
  return Math.max(nowSeconds, previous + 1);
}
// #endregion
