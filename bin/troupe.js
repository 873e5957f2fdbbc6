#!/usr/bin/env node
// The `troupe` command: loads the TypeScript sources through tsx and runs a subcommand.
import { register } from 'tsx/esm/api';

register();
const { runTroupe } = await import('../src/cli/troupe.ts');
process.exitCode = await runTroupe(process.argv.slice(2));
