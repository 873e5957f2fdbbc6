/**
 * `npm run bench [-- …]`: the runtime benchmark (`bench/runtime.bench.ts`), or with `--combined`
 * the combined-load benchmark (`bench/combined.bench.ts`), or with `--ml-inference` ML inference in the
 * actor tree (`bench/ml-inference.bench.ts`). `--help` describes each.
 */
await import(
  process.argv.includes('--combined') ? './combined.bench.js' : process.argv.includes('--ml-inference') ? './ml-inference.bench.js' : './runtime.bench.js'
);
