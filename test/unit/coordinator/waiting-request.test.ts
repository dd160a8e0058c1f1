/**
 * The Request Waiting List alone: one request, its tally, its deadline and its replica answers,
 * driven by a fake scheduler (no network, no storage).
 */
import { describe, expect, it } from 'vitest';
import { requirementFor } from '../../../src/coordinator/consistency.js';
import { ResponseTally } from '../../../src/coordinator/response-tally.js';
import { WaitingRequest } from '../../../src/coordinator/waiting-request.js';
import { WriteFailure, WriteTimeout } from '../../../src/errors.js';
import { RemoteError, RequestTimeoutError } from '../../../src/messaging/errors.js';
import { FakeScheduler } from '../messaging/fake-scheduler.js';

const REPLICAS = ['a:7000', 'b:7000', 'c:7000'].map((endpoint) => ({ endpoint, datacenter: 'dc1' }));

function quorumWrite(scheduler: FakeScheduler, consistency: 'QUORUM' | 'ANY' = 'QUORUM') {
  const requirement = requirementFor(consistency, { class: 'SimpleStrategy', replicationFactor: 3 }, REPLICAS, 'dc1', 'write');
  const tally = new ResponseTally(requirement, REPLICAS);
  const errors: string[] = [];
  const request = new WaitingRequest({
    tally,
    timeoutMs: 100,
    scheduler,
    ready: () => tally.state() === 'succeeded',
    timeoutError: () => tally.timeoutError('write', 'SIMPLE'),
    failureError: () => tally.failureError('write'),
    onReplicaError: (endpoint) => errors.push(endpoint),
  });
  const outcome = request.promise.then(
    () => 'ok',
    (e: unknown) => e,
  );
  return { request, outcome, errors };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('WaitingRequest (Request Waiting List)', () => {
  it('answers once the level is met, and later answers change nothing', async () => {
    const scheduler = new FakeScheduler();
    const { request, outcome } = quorumWrite(scheduler);
    request.track('a:7000', Promise.resolve(), () => undefined);
    await settle();
    expect(request.isDone).toBe(false);
    request.track('b:7000', Promise.resolve(), () => undefined);
    await settle();
    expect(await outcome).toBe('ok');
    request.track('c:7000', Promise.reject(new RemoteError('late failure', { host: '127.0.0.3', port: 7000 }, 64)), () => undefined);
    await settle();
    expect(scheduler.pendingTimers).toBe(0);
  });

  it('fails as soon as replica errors put the level out of reach, not at the deadline', async () => {
    const scheduler = new FakeScheduler();
    const { request, outcome, errors } = quorumWrite(scheduler);
    request.track('a:7000', Promise.reject(new RemoteError('disk full', { host: '127.0.0.1', port: 7000 }, 64)), () => undefined);
    request.track('b:7000', Promise.resolve(), () => {
      throw new Error('unreadable answer');
    });
    await settle();
    const error = await outcome;
    expect(error).toBeInstanceOf(WriteFailure);
    expect((error as WriteFailure).fields()).toMatchObject({ received: 0, block_for: 2, failures: 2 });
    expect(errors).toEqual(['a:7000', 'b:7000']);
  });

  it('treats silence as nothing: a timeout error from the network waits for the deadline', async () => {
    const scheduler = new FakeScheduler();
    const { request, outcome } = quorumWrite(scheduler);
    request.track('a:7000', Promise.resolve(), () => undefined);
    request.track('b:7000', Promise.reject(new RequestTimeoutError({ host: '127.0.0.2', port: 7000 }, 64, 100)), () => undefined);
    await settle();
    expect(request.isDone).toBe(false);
    scheduler.advanceMs(100);
    const error = await outcome;
    expect(error).toBeInstanceOf(WriteTimeout);
    expect((error as WriteTimeout).fields()).toMatchObject({ received: 1, block_for: 2, write_type: 'SIMPLE' });
  });

  it('counts a stored hint for ANY, and abort settles with the given error', async () => {
    const scheduler = new FakeScheduler();
    const any = quorumWrite(scheduler, 'ANY');
    any.request.hinted('a:7000');
    expect(await any.outcome).toBe('ok');
    const refused = quorumWrite(scheduler);
    refused.request.abort(new Error('refused'));
    expect(((await refused.outcome) as Error).message).toBe('refused');
    expect(scheduler.pendingTimers).toBe(0);
  });
});
