import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints the one line CI reads: `N passed, N failed` (plus skipped when any).
 * A test file that fails to load or whose hooks fail (its tests then never run), and any
 * unhandled error, counts as a failure.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = unhandledErrors.length;
    let skipped = 0;
    for (const module of testModules) {
      let failedInModule = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed += 1;
        else if (state === 'failed') failedInModule += 1;
        else skipped += 1;
      }
      // a file can fail with no failed test: it did not load, or a beforeAll/afterAll hook failed
      failed += module.state() === 'failed' && failedInModule === 0 ? 1 : failedInModule;
    }
    const tail = skipped > 0 ? `, ${skipped} skipped` : '';
    process.stdout.write(`\n${passed} passed, ${failed} failed${tail}\n`);
  }
}
