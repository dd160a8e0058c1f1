/** The facade's decisions: enabled, the hint window, the budget; durable store; periodic visit; expiry sweep; stats. */
import { describe, expect, it } from 'vitest';
import { HintsService, type HintsServiceOptions, type HintsSettings } from '../../../src/hints/hints-service.js';
import { Verb } from '../../../src/messaging/verbs.js';
import { silentLogger } from '../../../src/util/logger.js';
import { InMemoryNetwork, ManualTime, until } from '../../helpers/hints-cluster.js';
import { useTmpDir } from '../../helpers/tmpdir.js';

const TARGET = { hostId: '44444444-4444-4444-8444-444444444444', endpoint: '127.0.0.2:7000' };
const SETTINGS: HintsSettings = { hinted_handoff_enabled: true, max_hint_window_ms: 60_000, hint_replay_bytes_per_s: 1 << 20, write_request_timeout_ms: 1000 };

async function openService(dir: string, overrides: Partial<HintsServiceOptions> = {}) {
  const time = new ManualTime();
  const network = new InMemoryNetwork(time);
  const received: Buffer[] = [];
  network.messagingFor(TARGET.endpoint).registerHandler(Verb.HINT, (_from, payload) => {
    received.push(Buffer.from(payload));
  });
  const service = await HintsService.open({ dataDir: dir, settings: SETTINGS, messaging: network.messagingFor('127.0.0.1:7000'), clock: time, scheduler: time, logger: silentLogger, ...overrides });
  return { time, network, received, service };
}

const mutation = (i: number): Buffer => Buffer.alloc(64, i);

describe('HintsService', () => {
  const tmp = useTmpDir('ringtail-hints-service-');

  it('hints a replica that timed out or has been down less than the window, and drops the rest', async () => {
    const { time, service } = await openService(tmp());
    expect(service.shouldHint(TARGET, null)).toBe(true);
    expect(service.shouldHint(TARGET, time.nowMs() - 59_999)).toBe(true);
    expect(service.shouldHint(TARGET, time.nowMs() - 60_000)).toBe(false);
    expect(service.shouldHint(TARGET, time.nowMs() - 60_000)).toBe(false);
    expect(service.stats().targets.get(TARGET.hostId)).toMatchObject({ dropped: 2, stored: 0 });
    await service.stop();
  });

  it('never hints when hinted handoff is disabled', async () => {
    const { service } = await openService(tmp(), { settings: { ...SETTINGS, hinted_handoff_enabled: false } });
    expect(service.shouldHint(TARGET, null)).toBe(false);
    expect(await service.store(TARGET, 't', mutation(1))).toBe(false);
    expect(service.stats()).toMatchObject({ enabled: false, totalBytes: 0 });
    await service.stop();
  });

  it('stops hinting over the disk budget and says so in its stats', async () => {
    const { service } = await openService(tmp(), { maxHintsSizeBytes: 1024, segmentSizeBytes: 1024 });
    const results: boolean[] = [];
    for (let i = 0; i < 20; i++) results.push(service.shouldHint(TARGET, null) && (await service.store(TARGET, 't', mutation(i))));
    expect(results.filter(Boolean).length).toBeGreaterThan(3);
    expect(results.at(-1)).toBe(false);
    const stats = service.stats();
    expect(stats.overBudget).toBe(true);
    expect(stats.refusedOverBudget).toBeGreaterThan(0);
    expect(stats.targets.get(TARGET.hostId)!.dropped).toBe(results.filter((r) => !r).length);
    await service.stop();
  });

  it('stores durably, replays on UP, and visits UP targets with new hints periodically', async () => {
    const { time, received, service } = await openService(tmp(), { dispatchIntervalMs: 1000 });
    service.start();
    expect(await service.store(TARGET, 't', mutation(1))).toBe(true);
    service.onUp(TARGET.hostId, TARGET.endpoint);
    await until('the first hint delivered', () => received.length === 1, time);
    // A hint for a replica that is UP but timed out: delivered on the next periodic visit.
    expect(await service.store(TARGET, 't', mutation(2))).toBe(true);
    await until('the periodic visit delivered it', () => received.length === 2, time, { stepMs: 100 });
    expect(received.map((b) => b[0])).toEqual([1, 2]);
    expect(service.stats().targets.get(TARGET.hostId)).toMatchObject({ stored: 2, replayed: 2, pendingHints: 0 });
    await service.stop();
  });

  it('sweeps hints past their table gc_grace_seconds while the target stays down', async () => {
    const { time, received, service } = await openService(tmp(), { expirySweepMs: 1000, gcGraceSecondsOf: () => 5 });
    service.start();
    expect(await service.store(TARGET, 't', mutation(1))).toBe(true);
    await until('the sweep expired the hint', () => service.pendingHints(TARGET.hostId) === 0, time, { stepMs: 500 });
    expect(service.stats().targets.get(TARGET.hostId)).toMatchObject({ expired: 1, pendingHints: 0 });
    service.onUp(TARGET.hostId, TARGET.endpoint);
    await service.idle();
    expect(received).toEqual([]);
    await service.stop();
  });

  it('forgets a removed target and its hints', async () => {
    const { service } = await openService(tmp());
    expect(await service.store(TARGET, 't', mutation(1))).toBe(true);
    await service.removeTarget(TARGET.hostId);
    expect(service.pendingHints(TARGET.hostId)).toBe(0);
    expect(service.stats().totalBytes).toBe(0);
    await service.stop();
  });
});
