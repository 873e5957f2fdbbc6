import '@testing-library/jest-dom/vitest';
import { cleanup, configure } from '@testing-library/react';
import { afterEach } from 'vitest';

// a shared 2-core machine can be slow: findBy*/waitFor poll for up to 5 s (they return as soon as the condition holds)
configure({ asyncUtilTimeout: 5_000 });

afterEach(() => cleanup());
