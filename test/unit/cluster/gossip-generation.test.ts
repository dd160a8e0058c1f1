import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nextGeneration } from '../../../src/cluster/gossip/generation.js';
import { GenerationStore } from '../../../src/cluster/gossip/generation-store.js';
import { CorruptDataError } from '../../../src/util/bytes.js';
import { useTmpDir } from '../../helpers/tmpdir.js';

describe('generation clock', () => {
  it('is the start time in seconds, strictly above the previous generation', () => {
    expect(nextGeneration(null, 1_700_000_000)).toBe(1_700_000_000);
    expect(nextGeneration(1_600_000_000, 1_700_000_000)).toBe(1_700_000_000);
    // Restarted within the same second, or the wall clock went back: still increases.
    expect(nextGeneration(1_700_000_000, 1_700_000_000)).toBe(1_700_000_001);
    expect(nextGeneration(1_800_000_000, 1_700_000_000)).toBe(1_800_000_001);
    expect(() => nextGeneration(null, 0)).toThrow();
    expect(() => nextGeneration(-1, 10)).toThrow();
  });
});

describe('generation store', () => {
  const tmp = useTmpDir();

  it('persists increasing generations across "restarts"', () => {
    const file = path.join(tmp(), 'system', 'gossip-generation');
    expect(new GenerationStore(file).read()).toBeNull();
    const first = new GenerationStore(file).nextAndPersist(1_700_000_000);
    const second = new GenerationStore(file).nextAndPersist(1_700_000_000);
    const third = new GenerationStore(file).nextAndPersist(1_600_000_000);
    expect([first, second, third]).toEqual([1_700_000_000, 1_700_000_001, 1_700_000_002]);
    expect(fs.readFileSync(file, 'utf8')).toBe('1700000002\n');
    expect(fs.existsSync(`${file}.tmp`)).toBe(false);
  });

  it('refuses a corrupt file instead of guessing', () => {
    const file = path.join(tmp(), 'gossip-generation');
    for (const content of ['', 'abc\n', '-5\n', '12 34\n', '0\n', 'x'.repeat(1000)]) {
      fs.writeFileSync(file, content);
      expect(() => new GenerationStore(file).read(), JSON.stringify(content.slice(0, 10))).toThrow(CorruptDataError);
    }
  });

  it('a leftover temp file from a crash does not matter', () => {
    const file = path.join(tmp(), 'gossip-generation');
    const store = new GenerationStore(file);
    store.write(1_700_000_000);
    fs.writeFileSync(`${file}.tmp`, '99');
    expect(store.read()).toBe(1_700_000_000);
    expect(store.nextAndPersist(1)).toBe(1_700_000_001);
  });
});
