/**
 * The shell's command history, kept between sessions like cqlsh's `~/.cassandra/cqlsh_history`:
 * `$RINGTAIL_HISTORY`, else `~/.ringtail_history`; one entry a line, oldest first, at most
 * `MAX_HISTORY_ENTRIES`. readline holds the live history (newest first) and reports each change;
 * the file is rewritten then, so a killed shell loses nothing it had already run.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { MAX_HISTORY_ENTRIES, MAX_HISTORY_FILE_BYTES } from './limits.js';

export function historyFilePath(env: NodeJS.ProcessEnv): string {
  const fromEnv = env.RINGTAIL_HISTORY;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(homedir(), '.ringtail_history');
}

/** The saved entries, newest first (readline's order); none when the file is missing or unreadable. */
export function loadHistory(path: string): string[] {
  try {
    if (statSync(path).size > MAX_HISTORY_FILE_BYTES) return [];
    const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '');
    return lines.slice(-MAX_HISTORY_ENTRIES).reverse();
  } catch {
    return [];
  }
}

/** Writes readline's history (newest first) oldest first; the file is private to the user. */
export function saveHistory(path: string, newestFirst: readonly string[]): void {
  const entries = newestFirst.slice(0, MAX_HISTORY_ENTRIES).reverse();
  writeFileSync(path, entries.length === 0 ? '' : `${entries.join('\n')}\n`, { mode: 0o600 });
}
