/**
 * The table manifest: which SSTables are live, and how much of the commit log is already in
 * them. It is the single source of truth at start-up: an SSTable file the manifest does not
 * list is a leftover of a crash (mid-flush or mid-compaction) and is deleted.
 *
 * Written atomically: a temp file, fsync, rename over MANIFEST.json, fsync of the directory.
 *
 * Format (version 1): {"formatVersion": 1, "nextGeneration": N, "sstables": [generation, …],
 *   "flushedUpTo": {"segment": S, "offset": O} | null}
 * `flushedUpTo` is the table's low-water mark in the commit log: every record at or before it
 * is in an SSTable (or was truncated away), so replay skips it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CorruptDataError } from '../../util/bytes.js';
import type { LogPosition } from '../memtable/memtable.js';

export const MANIFEST_FILE = 'MANIFEST.json';
const FORMAT_VERSION = 1;

export interface Manifest {
  readonly formatVersion: number;
  readonly nextGeneration: number;
  readonly sstables: ReadonlyArray<number>;
  readonly flushedUpTo: LogPosition | null;
}

export const EMPTY_MANIFEST: Manifest = { formatVersion: FORMAT_VERSION, nextGeneration: 1, sstables: [], flushedUpTo: null };

export function readManifest(dir: string): Manifest {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_MANIFEST;
    throw err;
  }
  const m = JSON.parse(text) as Manifest;
  if (m.formatVersion !== FORMAT_VERSION || !Array.isArray(m.sstables) || !Number.isInteger(m.nextGeneration)) {
    throw new CorruptDataError(`${file}: unreadable manifest`);
  }
  return m;
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Replaces the manifest atomically, with its I/O (two fsyncs) off the event loop. */
export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  const file = path.join(dir, MANIFEST_FILE);
  const tmp = `${file}.tmp`;
  const handle = await fs.promises.open(tmp, 'w');
  try {
    await handle.writeFile(JSON.stringify(manifest));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.promises.rename(tmp, file);
  await fsyncDir(dir);
}
