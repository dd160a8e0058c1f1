import { describe, expect, it } from 'vitest';
import { MAX_TOKEN, MIN_TOKEN, chooseRandomTokens, decodeTokens, encodeTokens } from '../../../src/cluster/gossip/tokens.js';
import { SeededRandom, Uint32Random } from '../../../src/runtime/random.js';
import { CorruptDataError } from '../../../src/util/bytes.js';

describe('tokens', () => {
  it('chooses num_tokens distinct sorted tokens in range, reproducibly from a seed', () => {
    const tokens = chooseRandomTokens(256, new SeededRandom(1));
    expect(tokens).toHaveLength(256);
    expect(new Set(tokens).size).toBe(256);
    for (let i = 0; i < tokens.length; i++) {
      expect(tokens[i]! >= MIN_TOKEN && tokens[i]! <= MAX_TOKEN).toBe(true);
      if (i > 0) expect(tokens[i]! > tokens[i - 1]!).toBe(true);
    }
    expect(chooseRandomTokens(16, new SeededRandom(5))).toEqual(chooseRandomTokens(16, new SeededRandom(5)));
    // Tokens spread over the whole ring: both signs appear.
    expect(tokens.some((t) => t < 0n) && tokens.some((t) => t > 0n)).toBe(true);
  });

  it('redraws the reserved minimum token, duplicates and tokens already taken', () => {
    // A generator whose first 8 bytes are -2^63 (0x8000…0 little-endian), then 1, then 1 again, then 2.
    const words = [0, 0x80000000, 1, 0, 1, 0, 2, 0, 3, 0];
    class Scripted extends Uint32Random {
      private i = 0;
      nextUint32(): number {
        return words[this.i++ % words.length] as number;
      }
    }
    expect(chooseRandomTokens(2, new Scripted())).toEqual([1n, 2n]);
    expect(chooseRandomTokens(2, new Scripted(), new Set([1n]))).toEqual([2n, 3n]);
  });

  it('encodes TOKENS canonically and decodes strictly', () => {
    const tokens = [MAX_TOKEN, MIN_TOKEN, 0n, -5n];
    const value = encodeTokens(tokens);
    expect(value).toBe(`${MIN_TOKEN},-5,0,${MAX_TOKEN}`);
    expect(decodeTokens(value)).toEqual([MIN_TOKEN, -5n, 0n, MAX_TOKEN]);
    for (const bad of ['', '1,,2', '2,1', '1,1', '01', '-0', '+1', '1e3', 'x', `${MAX_TOKEN + 1n}`, `${MIN_TOKEN - 1n}`, '9'.repeat(20), '1,'.repeat(2000) + '1']) {
      expect(() => decodeTokens(bad), bad.slice(0, 20)).toThrow(CorruptDataError);
    }
    expect(() => encodeTokens([1n, 1n])).toThrow();
    expect(() => encodeTokens([])).toThrow();
  });
});
