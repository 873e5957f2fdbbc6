import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

/**
 * Files that start whole Troupe processes, browsers, or measure lag and restart times: they run
 * one at a time, after the rest, so they never compete with each other for the two cores.
 */
const SERIAL = ['test/e2e/**/*.test.ts', 'test/ui/**/*.test.ts', 'test/app/main-process.test.ts', 'test/deploy/grafana-dashboards.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // two workers on a 2-core machine (vitest's default is cores − 1): most files wait on servers and child processes
    maxWorkers: 2,
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
          exclude: SERIAL,
          environment: 'node',
          typecheck: {
            enabled: true,
            include: ['test/**/*.test-d.ts'],
            tsconfig: './tsconfig.json',
          },
        },
      },
      {
        extends: true,
        plugins: [react()],
        resolve: { alias: { ws: fileURLToPath(new URL('./ui/src/lib/ws-browser.ts', import.meta.url)) } },
        test: {
          name: 'ui',
          include: ['ui/**/*.test.ts', 'ui/**/*.test.tsx'],
          environment: 'jsdom',
          setupFiles: ['./ui/src/test/setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'serial',
          include: SERIAL,
          environment: 'node',
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
