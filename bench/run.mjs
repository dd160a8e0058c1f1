#!/usr/bin/env node
/**
 * Benchmark harness entry point.
 *
 *   npm run bench -- <name> [options]      (= node --expose-gc bench/run.mjs <name> [options])
 *   npm run bench -- --workload a …        (options first: the YCSB harness, as `ringtail bench`)
 *   npm run bench -- <name> --help
 *
 * Each benchmark is a module in bench/ exporting `main(argv): Promise<number>` (the exit code)
 * and `usage(): string`. Add new ones to BENCHMARKS below.
 */
const BENCHMARKS = {
  storage: {
    module: './storage.mjs',
    summary: 'single-node storage engine: ingest, point reads with 1/4/16 SSTables, compaction, vs better-sqlite3 and classic-level',
  },
  http: {
    module: './http.mjs',
    summary: 'one node over HTTP: prepared INSERT and SELECT-by-key through /v1/cql at concurrency 64, vs a bare fastify JSON route',
  },
  cluster: {
    module: './cluster.mjs',
    summary: 'a local cluster: QUORUM INSERT/SELECT throughput with RF 3, then false DOWNs and max phi under load and SIGKILL/SIGSTOP → DOWN detection times',
  },
  ycsb: {
    module: './ycsb.mjs',
    summary: 'YCSB core workloads A–F (load + run) against a local cluster it starts or an existing one, with --compare (Redis, etcd) and --sweep; also `ringtail bench`',
  },
  healing: {
    module: './healing.mjs',
    summary: 'a local 3-node cluster: hint replay rows/s to a restarted replica, and streaming MiB/s while a fourth node bootstraps',
  },
  repair: {
    module: './repair.mjs',
    summary: 'a local 3-node cluster with ~1% of rows diverged: anti-entropy repair time, ranges compared/mismatched, rows and MiB streamed, foreground SELECT p99 idle vs during repair',
  },
};

function listing() {
  const w = Math.max(...Object.keys(BENCHMARKS).map((n) => n.length));
  return Object.entries(BENCHMARKS)
    .map(([name, b]) => `  ${name.padEnd(w)}  ${b.summary}`)
    .join('\n');
}

function topUsage() {
  return `usage: npm run bench -- <name> [options]   (--help after a name shows its options)\n\navailable benchmarks:\n${listing()}`;
}

async function run(argv) {
  // `npm run bench -- --workload a …` (options first) is the YCSB harness, as `ringtail bench` is.
  const [name, ...rest] = argv[0]?.startsWith('--') && argv[0] !== '--help' ? ['ycsb', ...argv] : argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(topUsage());
    return name === undefined ? 2 : 0;
  }
  const entry = Object.hasOwn(BENCHMARKS, name) ? BENCHMARKS[name] : undefined;
  if (!entry) {
    console.error(`unknown benchmark '${name}'\n\navailable benchmarks:\n${listing()}`);
    return 2;
  }
  const mod = await import(new URL(entry.module, import.meta.url).href);
  if (typeof globalThis.gc !== 'function') {
    console.error('note: started without --expose-gc, so no GC between phases (npm run bench passes it)');
  }
  return mod.main(rest);
}

let code;
try {
  code = await run(process.argv.slice(2));
} catch (e) {
  console.error(e?.name === 'UsageError' ? `error: ${e.message}` : e);
  code = e?.name === 'UsageError' ? 2 : 1;
}
process.exitCode = code;
// A benchmark should close everything it opened; if something still holds the loop open, say so
// and exit anyway rather than hang (the timer itself does not keep the process alive).
setTimeout(() => {
  console.error('warning: handles still open 5 s after the benchmark finished; exiting');
  process.exit(code);
}, 5000).unref();
