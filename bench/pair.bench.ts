/**
 * `npx tsx bench/pair.bench.ts --base REV [--cycles N] [--ticks N] [--json]`
 *
 * Is this checkout's actor tree faster than REV's? The runtime benchmark's tree (the throughput
 * part: EMA 12/26 on every tick of 50 symbols) from both checkouts, loaded into one process and
 * run in alternating rounds on the same ticks, so that both meet the same minutes of a shared
 * machine. Whichever checkout is loaded second runs faster in a process (tens of milliseconds,
 * seen with the same tree twice), so it runs twice, once in each order, in two processes; half
 * the difference of the two orders' paired medians is the estimate, half their sum the order's
 * bias. REV is checked out in a temporary worktree (removed after). Prints a table; writes
 * bench/results/pair.json.
 *
 * On this project's shared 2-core machine, separate benchmark processes differed by 10–25 % within
 * minutes; the pairs here resolve a few per cent (docs/performance.md, 2026-12-07 evening).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { intOption } from '../src/cli/args.js';
import { benchArgs, percentile, printTable } from './support.js';
import type * as TreeRun from './tree-run.js';

const OPTIONS = [
  { name: 'base', description: 'The commit to compare with (any git revision)', valueName: 'rev' },
  { name: 'cycles', description: 'Rounds of each tree in each order', default: '12', valueName: 'n' },
  { name: 'ticks', description: 'Ticks a round', default: '1000000', valueName: 'n' },
  { name: 'json', description: 'Print one JSON object', flag: true },
  // internal: one order's rounds, in a child process
  { name: 'first', description: 'internal: the checkout loaded first', valueName: 'dir' },
  { name: 'second', description: 'internal: the checkout loaded second', valueName: 'dir' },
] as const;

const values = benchArgs('npx tsx bench/pair.bench.ts', "This checkout's actor tree against another commit's, in one process, both orders.", OPTIONS);
const cycles = intOption(values, 'cycles');
const ticks = intOption(values, 'ticks');
const here = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Round times (ms) of the two checkouts in one process. */
interface Pass {
  readonly first: number[];
  readonly second: number[];
}

type TreeModule = typeof TreeRun;

const median = (list: readonly number[]): number =>
  percentile(
    [...list].sort((a, b) => a - b),
    50,
  );

/** The child: loads both trees, alternates their rounds (the first round of each is warm-up), prints the times. */
async function child(first: string, second: string): Promise<void> {
  const load = async (dir: string): Promise<TreeModule> => (await import(pathToFileURL(join(dir, 'bench', 'tree-run.ts')).href)) as TreeModule;
  const a = await load(first);
  const b = await load(second);
  const data = a.treeTicks(ticks);
  const pass: Pass = { first: [], second: [] };
  for (let cycle = 0; cycle <= cycles; cycle += 1) {
    // the order within a cycle alternates too
    let firstMs: number;
    let secondMs: number;
    if (cycle % 2 === 0) {
      firstMs = await a.runTree(data);
      secondMs = await b.runTree(data);
    } else {
      secondMs = await b.runTree(data);
      firstMs = await a.runTree(data);
    }
    if (cycle === 0) continue;
    pass.first.push(firstMs);
    pass.second.push(secondMs);
  }
  process.stdout.write(`${JSON.stringify(pass)}\n`);
}

/** A worktree of `rev` with this checkout's node_modules and tree entry. */
function checkout(rev: string): { dir: string; remove: () => void } {
  const dir = join(mkdtempSync(join(tmpdir(), 'troupe-pair-')), 'base');
  execFileSync('git', ['-C', here, 'worktree', 'add', '--detach', dir, rev], { stdio: 'ignore' });
  symlinkSync(join(here, 'node_modules'), join(dir, 'node_modules'));
  copyFileSync(join(here, 'bench', 'tree-run.ts'), join(dir, 'bench', 'tree-run.ts'));
  return {
    dir,
    remove: () => {
      execFileSync('git', ['-C', here, 'worktree', 'remove', '--force', dir], { stdio: 'ignore' });
      rmSync(dirname(dir), { recursive: true, force: true });
    },
  };
}

function runPass(first: string, second: string): Pass {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--first', first, '--second', second, '--cycles', String(cycles), '--ticks', String(ticks)],
    { cwd: here, encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  if (result.status !== 0) throw new Error(`a pass failed (${result.status}): ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as Pass;
}

/** This checkout's commit, and whether its `src` has changes not committed (they are what runs). */
function describeHead(): string {
  const git = (...args: string[]): string => execFileSync('git', ['-C', here, ...args], { encoding: 'utf8' }).trim();
  return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--', 'src') === '' ? '' : ' with uncommitted changes in src'}`;
}

/** The median of the round-by-round differences `later − earlier`. */
const pairedMedian = (later: readonly number[], earlier: readonly number[]): number => median(later.map((ms, i) => ms - earlier[i]!));

async function main(): Promise<void> {
  if (values['first'] !== undefined && values['second'] !== undefined) return child(values['first'], values['second']);
  const rev = values['base'];
  if (rev === undefined) throw new Error('--base REV is required (a commit to compare this checkout with)');
  const say = (line: string): void => {
    if (values.json !== 'true') process.stderr.write(`${line}\n`);
  };
  const base = checkout(rev);
  try {
    say(`${rev} in ${base.dir}; ${cycles} rounds of each tree in each order, ${ticks.toLocaleString('en-IN')} ticks a round…`);
    const baseFirst = runPass(base.dir, here);
    say('first order done (base loaded first); now the other…');
    const headFirst = runPass(here, base.dir);
    // d1 = (head − base) − bias, d2 = (base − head) − bias, the bias favouring the module loaded second
    const d1 = pairedMedian(baseFirst.second, baseFirst.first);
    const d2 = pairedMedian(headFirst.second, headFirst.first);
    const headMinusBase = (d1 - d2) / 2;
    const baseMedian = median([...baseFirst.first, ...headFirst.second]);
    const headMedian = median([...baseFirst.second, ...headFirst.first]);
    const result = {
      benchmark: 'pair',
      base: rev,
      head: describeHead(),
      ticks,
      cycles,
      baseMedianMs: Math.round(baseMedian),
      headMedianMs: Math.round(headMedian),
      baseFastestMs: Math.round(Math.min(...baseFirst.first, ...headFirst.second)),
      headFastestMs: Math.round(Math.min(...baseFirst.second, ...headFirst.first)),
      headMinusBaseMs: Math.round(headMinusBase),
      headMinusBasePercent: Number(((100 * headMinusBase) / baseMedian).toFixed(1)),
      orderBiasMs: Math.round(-(d1 + d2) / 2),
      pairedMediansMs: { baseFirst: Math.round(d1), headFirst: Math.round(d2) },
      rounds: { baseFirst, headFirst },
      machine: { cpu: cpus()[0]?.model ?? 'unknown', cpus: cpus().length, load: loadavg().map((l) => Number(l.toFixed(2))) },
    };
    mkdirSync(join(here, 'bench', 'results'), { recursive: true });
    writeFileSync(join(here, 'bench', 'results', 'pair.json'), `${JSON.stringify(result, null, 2)}\n`);
    if (values.json === 'true') {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return;
    }
    printTable(
      [
        [`tree round, median: ${rev} / HEAD ${result.head}`, `${result.baseMedianMs} / ${result.headMedianMs} ms`],
        ['fastest round', `${result.baseFastestMs} / ${result.headFastestMs} ms`],
        ['paired median, base loaded first (HEAD − base)', `${result.pairedMediansMs.baseFirst} ms`],
        ['paired median, HEAD loaded first (base − HEAD)', `${result.pairedMediansMs.headFirst} ms`],
        ['HEAD − base, the order cancelled', `${result.headMinusBaseMs} ms (${result.headMinusBasePercent} %)`],
        ['the tree loaded second ran faster by', `${result.orderBiasMs} ms`],
      ],
      'bench/results/pair.json',
    );
  } finally {
    base.remove();
  }
}

await main();
