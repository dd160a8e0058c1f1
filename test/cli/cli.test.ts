/** The `ringtail` binary as a user runs it (a real process, from bin/). */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openEngine } from '../helpers/engine.js';
import { cell, row, update } from '../helpers/rows.js';
import { useTmpDir } from '../helpers/tmpdir.js';

const bin = path.resolve(import.meta.dirname, '..', '..', 'bin', 'ringtail');
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 20_000 });
const tmp = useTmpDir('ringtail-cli-');

describe('ringtail CLI', () => {
  it('prints its version and exits 0', () => {
    const r = run('--version');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('exits 2 on bad usage, naming the problem', () => {
    const r = run('no-such-command');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command/);
  });

  it('lists every setting with --json', () => {
    const r = run('config', '--json');
    expect(r.status).toBe(0);
    const names = (JSON.parse(r.stdout) as { name: string }[]).map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['cluster_name', 'commitlog_sync', 'memtable_flush_threshold_mb']));
  });

  it('dumps an SSTable as JSON lines, and fails with exit 1 on a file that is not one', async () => {
    const { engine, table } = await openEngine(tmp());
    await table.apply(update(-7n, 'k', [row('r', [cell('v', 'hello', 42)])]));
    await table.flush();
    await engine.close({ flush: false });
    const file = fs.readdirSync(table.dir).find((f) => f.endsWith('.db'))!;
    const r = run('sstable', 'dump', path.join(table.dir, file));
    expect(r.status).toBe(0);
    const [meta, entry] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(meta).toMatchObject({ partitions: 1, rows: 1, formatVersion: 1 });
    expect(entry).toMatchObject({ token: '-7', key: '0x6b', row: { cells: [{ column: 'v', value: '0x68656c6c6f', ts: 42 }] } });
    const bad = path.join(tmp(), 'junk.db');
    fs.writeFileSync(bad, 'not sqlite');
    expect(run('sstable', 'dump', bad).status).toBe(1);
  });
});
