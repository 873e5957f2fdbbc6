import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
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
    ],
  },
});
