/**
 * How gossip convergence grows with the cluster (issue #4 §6: "it should grow like log N"), in
 * the deterministic simulation (src/cluster/gossip/simulation.ts) at 10, 50 and 200 nodes.
 *
 * Two measures, in gossip rounds (`gossip_interval_ms`, 200 ms here), over SEEDS_PER_SIZE seeds
 * per size on a LAN-like network (1–20 ms one way, FIFO links, no loss):
 * - start-up: all nodes start within one round, knowing only the 3 seeds; converged = every
 *   node sees every other UP with exactly its application states (`GossipSimulation.converged`);
 * - one change: on a converged cluster the last node changes its SCHEMA state; rounds until
 *   every node holds the new value.
 * Both are sampled every STEP_MS of simulated time, so a figure errs late by < 0.1 round.
 *
 * Bounds asserted, each a log-like curve with a constant for the fixed costs (the first ticks
 * spread over one round; a node is UP only after a heartbeat *rise*, one more round):
 *   start-up ≤ 2 + 1.5·log2 N,   change ≤ 1 + log2 N,
 * and growth: from 10 to 200 nodes (20× the nodes) the median may grow at most 3× (log2 grows
 * 2.3×; linear growth would be 20×).
 *
 * Seeds derive from GOSSIP_SEED (default below) and are printed: replay a failure with
 * `GOSSIP_SEED=<seed> npx vitest run test/cluster/gossip-scale.test.ts`.
 */
import { describe, expect, it } from 'vitest';
import { GossipSimulation } from '../../src/cluster/gossip/simulation.js';
import type { Random } from '../../src/runtime/random.js';

const BASE_SEED = Number(process.env.GOSSIP_SEED ?? 4242);
const INTERVAL_MS = 200;
const STEP_MS = 20;
const SIZES = [10, 50, 200] as const;
const SEEDS_PER_SIZE = 6;
/** Give up after this much simulated time (a non-converging run fails, it does not hang). */
const MAX_SIMULATED_MS = 60_000;
const START_MS = 1_700_000_000_000;

const startupBound = (n: number): number => 2 + 1.5 * Math.log2(n);
const changeBound = (n: number): number => 1 + Math.log2(n);
const MAX_GROWTH_10_TO_200 = 3;

const lan = (r: Random): number => 1 + 19 * r.nextFloat();

/** Runs in STEP_MS steps until `condition` holds; the simulated ms it took, or null. */
function stepUntil(s: GossipSimulation, condition: () => boolean): number | null {
  const from = s.nowMs;
  while (!condition()) {
    if (s.nowMs - from >= MAX_SIMULATED_MS) return null;
    s.runFor(STEP_MS);
  }
  return s.nowMs - from;
}

interface Run {
  readonly seed: number;
  readonly startupRounds: number;
  readonly changeRounds: number;
  readonly messagesPerNodePerRound: number;
}

function measure(nodes: number, seed: number): Run {
  const s = new GossipSimulation({ seed, nodes, latencyMs: lan, startMs: START_MS });
  const startupMs = stepUntil(s, () => s.converged());
  expect(startupMs, `seed ${seed}: ${nodes} nodes did not converge`).not.toBeNull();
  const author = s.node(nodes - 1);
  author.gossiper.setApplicationState('SCHEMA', 'v2');
  const everyoneSees = (): boolean => s.nodes.every((n) => n.gossiper.endpointState(author.id)?.applicationStates.get('SCHEMA')?.value === 'v2');
  const changeMs = stepUntil(s, everyoneSees);
  expect(changeMs, `seed ${seed}: the change did not reach all ${nodes} nodes`).not.toBeNull();
  const rounds = (s.nowMs - START_MS) / INTERVAL_MS;
  return { seed, startupRounds: startupMs! / INTERVAL_MS, changeRounds: changeMs! / INTERVAL_MS, messagesPerNodePerRound: s.messagesSent / nodes / rounds };
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

function row(cells: (string | number)[]): string {
  return cells.map((c, i) => (i === 0 ? String(c).padStart(5) : String(c).padStart(i === 1 ? 7 : 12))).join('  ');
}

describe('gossip convergence at scale (simulation)', () => {
  it(`grows like log N: start-up and one change at ${SIZES.join(', ')} nodes`, () => {
    const results = new Map<number, Run[]>();
    for (const nodes of SIZES) {
      const runs: Run[] = [];
      for (let i = 0; i < SEEDS_PER_SIZE; i++) runs.push(measure(nodes, BASE_SEED + 10_000 + nodes * 100 + i));
      results.set(nodes, runs);
    }

    const lines = [
      row(['N', 'log2 N', 'start-up med', 'start-up max', 'bound', 'change med', 'change max', 'bound', 'msgs/node/rd']),
      ...SIZES.map((n) => {
        const runs = results.get(n)!;
        const startup = runs.map((r) => r.startupRounds);
        const change = runs.map((r) => r.changeRounds);
        return row([
          n, Math.log2(n).toFixed(2),
          median(startup).toFixed(1), Math.max(...startup).toFixed(1), startupBound(n).toFixed(1),
          median(change).toFixed(1), Math.max(...change).toFixed(1), changeBound(n).toFixed(1),
          median(runs.map((r) => r.messagesPerNodePerRound)).toFixed(1),
        ]);
      }),
    ];
    const seeds = SIZES.map((n) => `${n}: ${BASE_SEED + 10_000 + n * 100}..+${SEEDS_PER_SIZE - 1}`).join(', ');
    process.stdout.write(`[gossip-scale] rounds of ${INTERVAL_MS} ms, ${SEEDS_PER_SIZE} seeds per size (${seeds})\n${lines.map((l) => `[gossip-scale] ${l}`).join('\n')}\n`);

    for (const n of SIZES) {
      for (const r of results.get(n)!) {
        expect(r.startupRounds, `start-up, ${n} nodes, seed ${r.seed}`).toBeLessThanOrEqual(startupBound(n));
        expect(r.changeRounds, `change, ${n} nodes, seed ${r.seed}`).toBeLessThanOrEqual(changeBound(n));
      }
    }
    const growth = (pick: (r: Run) => number): number => median(results.get(200)!.map(pick)) / median(results.get(10)!.map(pick));
    expect(growth((r) => r.startupRounds), 'start-up growth from 10 to 200 nodes').toBeLessThanOrEqual(MAX_GROWTH_10_TO_200);
    expect(growth((r) => r.changeRounds), 'change growth from 10 to 200 nodes').toBeLessThanOrEqual(MAX_GROWTH_10_TO_200);
  }, 60_000);
});
