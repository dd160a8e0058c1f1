/**
 * The commit log's two write paths (commit-log.ts, SYNC_WRITE_MAX_BYTES): small rounds are
 * written with a blocking write on the event loop, large ones through the thread pool. Both
 * must leave the same bytes on disk, acknowledge only after an fdatasync, and replay in order.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/runtime/manual-clock.js';
import { systemScheduler } from '../../../src/runtime/system.js';
import { CommitLog, SYNC_WRITE_MAX_BYTES, type CommitLogOptions, type CommitLogSync } from '../../../src/storage/commitlog/commit-log.js';
import { silentLogger } from '../../../src/util/logger.js';
import { useTmpDir } from '../../helpers/tmpdir.js';

const tmpDir = useTmpDir('ringtail-commitlog-io-');

function options(sync: CommitLogSync): CommitLogOptions {
  return {
    dir: join(tmpDir(), 'commitlog'),
    sync,
    syncPeriodMs: 10,
    groupWindowMs: 1,
    segmentSizeBytes: 4 * SYNC_WRITE_MAX_BYTES,
    clock: new ManualClock(1_700_000_000_000),
    scheduler: systemScheduler,
    logger: silentLogger,
  };
}

function payload(index: number, bytes: number): Buffer {
  const out = Buffer.alloc(bytes, index & 0xff);
  out.writeUInt32LE(index, 0);
  return out;
}

async function replayed(sync: CommitLogSync): Promise<Buffer[]> {
  const log = await CommitLog.open(options(sync));
  const out: Buffer[] = [];
  for await (const record of log.replay()) out.push(record.payload);
  await log.close();
  return out;
}

describe('commit log write paths', () => {
  it.each<CommitLogSync>(['batch', 'group', 'periodic'])('%s: small and large rounds replay byte for byte, in order', async (sync) => {
    const log = await CommitLog.open(options(sync));
    const written: Buffer[] = [];
    // Round 1: many small records (one blocking write). Round 2: one record above the threshold
    // (a thread-pool write). Round 3: small again, after the large one.
    const small = Array.from({ length: 50 }, (_, i) => payload(i, 100 + i));
    const large = payload(1000, SYNC_WRITE_MAX_BYTES + 1);
    const acks: Promise<void>[] = [];
    for (const p of small) {
      written.push(p);
      acks.push(log.awaitDurable(log.append(p)));
    }
    await Promise.all(acks);
    written.push(large);
    const syncsBefore = log.stats().syncs;
    await log.awaitDurable(log.append(large));
    if (sync !== 'periodic') expect(log.stats().syncs).toBeGreaterThan(syncsBefore);
    const tail = payload(2000, 64);
    written.push(tail);
    await log.awaitDurable(log.append(tail));
    await log.close();
    expect(log.stats().pendingBytes).toBe(0);

    const back = await replayed(sync);
    expect(back.length).toBe(written.length);
    for (let i = 0; i < written.length; i++) expect(back[i]!.equals(written[i]!)).toBe(true);
  });

  it('appends made while a thread-pool round is in flight, and payload buffers reused after append, replay as appended', async () => {
    const log = await CommitLog.open(options('batch'));
    const written: Buffer[] = [];
    const acks: Promise<void>[] = [];
    const reused = Buffer.alloc(300);
    const append = (p: Buffer): void => {
      written.push(Buffer.from(p));
      acks.push(log.awaitDurable(log.append(p)));
    };
    append(payload(1, SYNC_WRITE_MAX_BYTES + 10));
    let durable = false;
    void acks[0]!.then(() => {
      durable = true;
    });
    // Yield turn by turn until the large round is durable (bounded), appending as it runs.
    for (let turn = 0; turn < 10_000 && !durable; turn++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      reused.fill(turn & 0xff);
      reused.writeUInt32LE(10 + turn, 0);
      append(reused); // the log copies it: the next turn's fill must not change this record
    }
    expect(durable).toBe(true);
    for (let i = 0; i < 40; i++) append(payload(100_000 + i, 5000)); // grows the write buffer past its first size
    await Promise.all(acks);
    await log.close();
    const back = await replayed('batch');
    expect(back.length).toBe(written.length);
    for (let i = 0; i < written.length; i++) expect(back[i]!.equals(written[i]!)).toBe(true);
  });
});
