/**
 * `npx tsx bench/profile-summary.ts --file FILE.cpuprofile [--top N]`: the functions that took most of a
 * CPU profile's time on their own (self time), with their share, as a text table; what the
 * performance notes quote as a profile's top frames.
 */
import { readFileSync } from 'node:fs';
import { intOption } from '../src/cli/args.js';
import { benchArgs } from './support.js';

const values = benchArgs('npx tsx bench/profile-summary.ts', 'Top frames (self time) of a .cpuprofile.', [
  { name: 'file', description: 'The .cpuprofile', required: true, valueName: 'path' },
  { name: 'top', description: 'Frames shown', default: '20', valueName: 'n' },
]);

interface ProfileNode {
  readonly id: number;
  readonly children?: readonly number[];
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const profile = JSON.parse(readFileSync(values['file']!, 'utf8')) as Profile;
const timeById = new Map<number, number>();
profile.samples.forEach((id, i) => timeById.set(id, (timeById.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
// the profiler's own stop (the inspector call under which the last samples land) is not the phase's work
const profilerOwn = new Set<number>();
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const markOwn = (id: number): void => {
  profilerOwn.add(id);
  for (const child of byId.get(id)?.children ?? []) markOwn(child);
};
for (const node of profile.nodes) if (node.callFrame.url === 'node:inspector') markOwn(node.id);
const selfByFrame = new Map<string, number>();
let totalUs = 0;
for (const node of profile.nodes) {
  if (profilerOwn.has(node.id)) continue;
  const us = timeById.get(node.id) ?? 0;
  totalUs += us;
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url.replace(/^.*?\/(src|bench|node_modules)\//, '$1/');
  // tsx runs each module as one line: a line number says nothing there
  const frame = `${functionName || '(anonymous)'}${where ? ` ${where}${lineNumber > 0 ? `:${lineNumber + 1}` : ''}` : ''}`;
  selfByFrame.set(frame, (selfByFrame.get(frame) ?? 0) + us);
}
const busyUs = totalUs - (selfByFrame.get('(idle)') ?? 0);
const lines = [`${(totalUs / 1000).toFixed(0)} ms sampled, ${(busyUs / 1000).toFixed(0)} ms busy; self time, share of busy:`];
for (const [frame, us] of [...selfByFrame]
  .filter(([frame]) => frame !== '(idle)')
  .sort((a, b) => b[1] - a[1])
  .slice(0, intOption(values, 'top')))
  lines.push(`${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / busyUs).toFixed(1).padStart(5)} %  ${frame}`);
process.stdout.write(`${lines.join('\n')}\n`);
