/**
 * A fresh temporary directory per test: created before each test under `os.tmpdir()`,
 * removed (recursively) after it. Call once at file or `describe` level.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';

export function useTmpDir(prefix = 'ringtail-test-'): () => string {
  let dir: string | null = null;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterEach(() => {
    if (dir !== null) rmSync(dir, { recursive: true, force: true });
    dir = null;
  });
  return () => {
    if (dir === null) throw new Error('useTmpDir: no test is running');
    return dir;
  };
}
