/**
 * Style enforced by a test (STYLE.md §3, after TigerBeetle's tidy.zig): core modules take an
 * injected Clock, Scheduler and Random, and log through pino. Only src/runtime binds them to
 * the real event loop; src/cli may print to the terminal.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', 'src');
const CORE_DIRS = ['batchlog', 'cluster', 'coordinator', 'hints', 'versioning', 'ring', 'storage', 'repair', 'sim', 'messaging', 'schema', 'cql'];

const FORBIDDEN: { pattern: RegExp; why: string }[] = [
  { pattern: /\bDate\.now\s*\(/, why: 'read time from an injected Clock' },
  { pattern: /\bnew Date\s*\(\s*\)/, why: 'read time from an injected Clock' },
  { pattern: /\bMath\.random\s*\(/, why: 'take an injected Random' },
  { pattern: /\bsetTimeout\s*\(/, why: 'schedule through an injected Scheduler' },
  { pattern: /\bsetInterval\s*\(/, why: 'schedule through an injected Scheduler' },
  { pattern: /\bsetImmediate\s*\(/, why: 'schedule through an injected Scheduler' },
  { pattern: /\bconsole\.\w+\s*\(/, why: 'log with pino' },
];

function sourceFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

function violations(files: string[], rules: typeof FORBIDDEN): string[] {
  const found: string[] = [];
  for (const file of files) {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, '');
      for (const rule of rules) {
        if (rule.pattern.test(code)) found.push(`${path.relative(root, file)}:${i + 1}: ${line.trim()}  (${rule.why})`);
      }
    });
  }
  return found;
}

describe('tidy', () => {
  it('core modules never read ambient time, randomness or timers, nor print', () => {
    const files = CORE_DIRS.flatMap((d) => sourceFiles(path.join(root, d)));
    expect(files.length).toBeGreaterThan(0);
    expect(violations(files, FORBIDDEN)).toEqual([]);
  });

  it('no library module prints with console (only the CLI may)', () => {
    const files = sourceFiles(root).filter((f) => !f.startsWith(path.join(root, 'cli') + path.sep));
    expect(violations(files, FORBIDDEN.filter((r) => r.why === 'log with pino'))).toEqual([]);
  });

  it('catches a violation when there is one', () => {
    const probe = path.join(fs.mkdtempSync(path.join(import.meta.dirname, '..', 'node_modules', '.tidy-')), 'probe.ts');
    fs.writeFileSync(probe, 'export const t = Date.now();\n// Math.random() in a comment is fine\n');
    try {
      expect(violations([probe], FORBIDDEN)).toHaveLength(1);
    } finally {
      fs.rmSync(path.dirname(probe), { recursive: true, force: true });
    }
  });
});
