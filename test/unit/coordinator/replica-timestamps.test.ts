import { describe, expect, it } from 'vitest';
import { encodeMutation, newestTimestamp, registerReplicaVerbs } from '../../../src/coordinator/replica-verbs.js';
import { Verb } from '../../../src/messaging/verbs.js';
import { ManualClock } from '../../../src/runtime/manual-clock.js';
import type { TableStore } from '../../../src/storage/engine/table-store.js';
import { silentLogger } from '../../../src/util/logger.js';
import { HybridClock } from '../../../src/versioning/hybrid-clock.js';
import { cell, del, rangeTombstone, row, update } from '../../helpers/rows.js';

describe('timestamps seen by a replica', () => {
  it('newestTimestamp covers cells, markers, row, range and partition deletions', () => {
    const u = update(1n, 'k', [row('a', [cell('v', 'x', 10)], { liveness: { ts: 20, ttl: 0, expiresAt: 0 } }), row('b', [], { deletion: del(30) })], {
      deletion: del(5),
      rangeTombstones: [rangeTombstone(null, null, del(40))],
    });
    expect(newestTimestamp(u)).toBe(40);
    expect(newestTimestamp(update(1n, 'k', []))).toBe(0);
  });

  it("moves the node's Hybrid Clock past every mutation it receives", async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const hlc = new HybridClock(clock);
    const handlers = new Map<number, (from: unknown, payload: Uint8Array) => unknown>();
    const applied: unknown[] = [];
    const table = { apply: async (u: unknown) => void applied.push(u) } as unknown as TableStore;
    registerReplicaVerbs({ registerHandler: (verb, h) => void handlers.set(verb, h as never) }, { table: () => table }, silentLogger, (ts) => hlc.observe(ts));
    // A peer whose clock runs 5 s ahead sends a write.
    const ahead = clock.nowMicros() + 5_000_000;
    await handlers.get(Verb.MUTATION)!(null, encodeMutation('t', update(1n, 'k', [row('a', [cell('v', 'x', ahead)])])));
    expect(applied).toHaveLength(1);
    expect(hlc.now()).toBeGreaterThan(ahead);
  });
});
