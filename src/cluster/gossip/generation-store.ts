/**
 * The persisted gossip generation (Generation Clock, see generation.ts): one small file.
 *
 * This is a driver edge, not a pure core: it does synchronous file I/O (`node:fs`), once per
 * start, before the node gossips. Format, version 1: the file holds the decimal generation and
 * a newline (e.g. `1700000000\n`), nothing else.
 *
 * Durability: a new value is written to `<file>.tmp`, fsynced, renamed over the file, and the
 * directory is fsynced, so after a crash the file holds either the old or the new generation,
 * never a torn one. A file that exists but does not parse is corruption: `read` throws
 * `CorruptDataError` rather than guessing (a guessed generation could go backwards and let
 * peers keep the old incarnation's state).
 */
import fs from 'node:fs';
import { CorruptDataError } from '../../util/bytes.js';
import { writeFileDurablySync } from '../../util/durable-file.js';
import { nextGeneration } from './generation.js';

const GENERATION_FILE_PATTERN = /^([1-9][0-9]{0,15})\n?$/;
/** The file is a number and a newline: anything longer is not ours. */
const MAX_GENERATION_FILE_BYTES = 64;

export class GenerationStore {
  constructor(readonly filePath: string) {}

  /** The last persisted generation, or null if none was ever written. */
  read(): number | null {
    let text: string;
    try {
      const stat = fs.statSync(this.filePath);
      if (stat.size > MAX_GENERATION_FILE_BYTES) throw new CorruptDataError(`generation file ${this.filePath} is ${stat.size} bytes`);
      text = fs.readFileSync(this.filePath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    const match = GENERATION_FILE_PATTERN.exec(text);
    const generation = match === null ? NaN : Number(match[1]);
    if (!Number.isSafeInteger(generation)) throw new CorruptDataError(`generation file ${this.filePath} does not hold a generation`);
    return generation;
  }

  /** Durably replaces the persisted generation. */
  write(generation: number): void {
    if (!Number.isSafeInteger(generation) || generation <= 0) throw new RangeError(`bad generation: ${generation}`);
    writeFileDurablySync(this.filePath, `${generation}\n`);
  }

  /** At start: the generation for this incarnation, persisted before it is returned. */
  nextAndPersist(nowSeconds: number): number {
    const generation = nextGeneration(this.read(), nowSeconds);
    this.write(generation);
    return generation;
  }
}
