/**
 * The reference systems of `ringtail bench --compare` (bench/ycsb/references.mjs and the Redis and
 * etcd bindings): each installed server is really started (Redis on one port, etcd as 3 members
 * on loopback), records go through the YCSB DB interface and come back, and `stop()` leaves no
 * process behind. A binary that is not installed must be reported as missing with its apt-get
 * line instead; that branch is also checked with an empty search path, so both run everywhere.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

import { useTmpDir } from '../helpers/tmpdir.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

type Values = Record<string, string>;
interface Binding {
  name: string;
  setup(opts: { recordCount: number; replicationFactor: number }): Promise<void>;
  insert(key: string, values: Values): Promise<void>;
  read(key: string, fields: string[] | null): Promise<Values | null>;
  update(key: string, values: Values): Promise<void>;
  scan(startKey: string, count: number, fields: string[] | null): Promise<Values[]>;
  close(): Promise<void>;
  describe(): Record<string, unknown>;
}
interface Reference {
  name: string;
  binding?: Binding;
  stop?: () => Promise<void>;
  pids?: number[];
  missing?: string;
  description: string;
}
interface ReferencesModule {
  startReferences(opts: { names?: string[]; dir: string; threads?: number; searchPath?: string; startTimeoutMs?: number; log?: (line: string) => void }): Promise<Reference[]>;
  findExecutable(name: string, searchPath?: string): string | null;
  INSTALL_NOTES: Record<string, string>;
}

// bench/ is plain .mjs without type declarations: import through a computed URL, typed here.
async function load<T>(rel: string): Promise<T> {
  return (await import(pathToFileURL(path.join(ROOT, rel)).href)) as T;
}

let R: ReferencesModule;
let javaStringHash: (s: string) => number;

beforeAll(async () => {
  R = await load<ReferencesModule>('bench/ycsb/references.mjs');
  ({ javaStringHash } = await load<{ javaStringHash: (s: string) => number }>('bench/ycsb/bindings/redis.mjs'));
});

const tmp = useTmpDir('ringtail-ycsb-refs-');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** PIDs of the live processes whose command line contains `text` (Linux /proc). */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** A YCSB record: 10 fields of 100 characters, distinct per key. */
function record(key: string): Values {
  return Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`field${i}`, `${key}:${i}:`.padEnd(100, String.fromCharCode(97 + i))]));
}

const KEYS = ['user100', 'user200', 'user300', 'user400', 'user500'];

/** The DB-interface behaviour both references must show (scan order is checked per system). */
async function exerciseBinding(b: Binding): Promise<void> {
  await b.setup({ recordCount: KEYS.length, replicationFactor: 3 });
  await Promise.all(KEYS.map((k) => b.insert(k, record(k))));

  expect(await b.read('user300', null)).toEqual(record('user300'));
  expect(await b.read('user300', ['field2', 'field7'])).toEqual({ field2: record('user300').field2, field7: record('user300').field7 });
  expect(await b.read('user999', null)).toBeNull();

  // An update changes only the given fields.
  await b.update('user300', { field4: 'changed' });
  expect(await b.read('user300', null)).toEqual({ ...record('user300'), field4: 'changed' });
  // Concurrent updates of one key (a hot zipfian key) all land.
  await Promise.all(Array.from({ length: 10 }, (_, i) => b.update('user100', { [`field${i}`]: `v${i}` })));
  expect(await b.read('user100', null)).toEqual(Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`field${i}`, `v${i}`])));

  const described = b.describe();
  expect(described.system).toBe(b.name);
  expect(described.mapping).toBeDefined();
}

async function expectStopped(ref: Reference): Promise<void> {
  await ref.binding!.close();
  await ref.stop!();
  for (const pid of ref.pids!) expect(alive(pid)).toBe(false);
}

describe('startReferences', () => {
  it('reports every missing binary with the command that installs it', async () => {
    const emptyBin = path.join(tmp(), 'bin');
    fs.mkdirSync(emptyBin);
    const refs = await R.startReferences({ names: ['redis', 'etcd'], dir: tmp(), searchPath: emptyBin });
    expect(refs.map((r) => [r.name, r.missing, r.binding])).toEqual([
      ['redis', 'apt-get install redis-server', undefined],
      ['etcd', 'apt-get install etcd-server', undefined],
    ]);
    for (const r of refs) expect(r.description).toContain(r.missing);
  });

  it('kills what it started when a system does not come up in time', async () => {
    if (R.findExecutable('etcd') === null || !fs.existsSync('/proc/self/cmdline')) return;
    const dir = tmp();
    await expect(R.startReferences({ names: ['etcd'], dir, startTimeoutMs: 1 })).rejects.toThrow(/not serving after 1 ms/);
    expect(processesMentioning(dir)).toEqual([]);
  });

  it('rejects an unknown reference system', async () => {
    await expect(R.startReferences({ names: ['mongodb'], dir: tmp() })).rejects.toThrow(/unknown reference system 'mongodb'/);
  });
});

describe('Redis reference', () => {
  it("hashes scan keys with Java's String.hashCode, as YCSB's redis binding does", () => {
    expect(javaStringHash('')).toBe(0);
    expect(javaStringHash('hello')).toBe(99162322);
    expect(javaStringHash('user6284781860667377211')).toBe(javaStringHashReference('user6284781860667377211'));
  });

  it('starts redis-server, serves the YCSB operations, and stops', async () => {
    const refs = await R.startReferences({ names: ['redis'], dir: tmp(), threads: 4 });
    const [ref] = refs;
    if (R.findExecutable('redis-server') === null) {
      expect(ref).toMatchObject({ name: 'redis', missing: 'apt-get install redis-server' });
      return;
    }
    try {
      expect(ref!.pids).toHaveLength(1);
      expect(ref!.description).toMatch(/Redis .*persistence: none/);
      const b = ref!.binding!;
      await exerciseBinding(b);
      // Scan: hash order from hashCode(start), `count` records at most, each a full record.
      const byHash = [...KEYS].sort((x, y) => javaStringHash(x) - javaStringHash(y));
      const start = byHash[1]!;
      const scanned = await b.scan(start, 3, ['field9']);
      expect(scanned).toEqual(byHash.slice(1, 4).map((k) => ({ field9: k === 'user100' ? 'v9' : record(k).field9 })));
      expect(await b.scan(byHash[4]!, 10, null)).toHaveLength(1);
    } finally {
      await expectStopped(ref!);
    }
  }, 20_000);
});

describe('etcd reference', () => {
  it('starts 3 etcd members, serves the YCSB operations, and stops them all', async () => {
    const refs = await R.startReferences({ names: ['etcd'], dir: tmp(), threads: 6 });
    const [ref] = refs;
    if (R.findExecutable('etcd') === null) {
      expect(ref).toMatchObject({ name: 'etcd', missing: 'apt-get install etcd-server' });
      return;
    }
    try {
      expect(ref!.pids).toHaveLength(3);
      expect(new Set(ref!.pids).size).toBe(3);
      expect(ref!.description).toMatch(/3 members.*linearizable/);
      const b = ref!.binding!;
      expect(b.describe().consistency).toMatch(/linearizable/);
      expect(String((b.describe().mapping as Values).update)).toMatch(/read-modify-write/);
      await exerciseBinding(b);
      // An update of a missing record creates it with the given fields.
      await b.update('user050', { field1: 'only' });
      expect(await b.read('user050', null)).toEqual({ field1: 'only' });
      // Scan: byte order from the start key (inclusive), `count` records at most.
      const scanned = await b.scan('user150', 3, ['field0']);
      expect(scanned).toEqual(['user200', 'user300', 'user400'].map((k) => ({ field0: record(k).field0 })));
      expect(await b.scan('user450', 10, null)).toEqual([record('user500')]);
    } finally {
      await expectStopped(ref!);
    }
  }, 25_000);
});

/** Java's String.hashCode written independently: s[0]*31^(n-1) + … + s[n-1], mod 2^32, signed. */
function javaStringHashReference(s: string): number {
  let h = 0n;
  for (const c of s) h = (h * 31n + BigInt(c.charCodeAt(0))) % 2n ** 32n;
  return Number(BigInt.asIntN(32, h));
}
