/**
 * `npm run bench [-- …]`: the runtime benchmark (`bench/runtime.bench.ts`), or with `--combined`
 * the combined-load benchmark (`bench/combined.bench.ts`). `--help` describes each.
 */
await import(process.argv.includes('--combined') ? './combined.bench.js' : './runtime.bench.js');
