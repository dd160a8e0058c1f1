/**
 * Where a worker thread's compiled entry point is. Compiled, a module's worker script sits next
 * to it (`storage-worker.js` beside `storage-worker-client.js`). Under the test runner modules
 * are TypeScript in src/, and a worker thread cannot load TypeScript, so the script comes from
 * dist/ (built by `npm run build`, which `npm test` runs first).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `callerUrl`: the caller's `import.meta.url`; `script`: the worker's path relative to `src/`
 * (or `dist/`) with a `.js` suffix, e.g. `storage/worker/storage-worker.js`.
 */
export function resolveWorkerScript(callerUrl: string, script: string): string {
  const here = path.dirname(fileURLToPath(callerUrl));
  const sibling = path.join(here, path.basename(script));
  if (fs.existsSync(sibling)) return sibling;
  let dir = here;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  const built = path.join(dir, 'dist', script);
  if (!fs.existsSync(built)) throw new Error(`worker not built: ${built} is missing (run npm run build)`);
  return built;
}
