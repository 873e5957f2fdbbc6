import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { ActorNode } from '../lib/api.js';
import { ActorTree } from './actor-tree.js';

const actor = (path: string, kind: string, extra: Partial<ActorNode> = {}, children: ActorNode[] = []): ActorNode => ({
  path,
  kind,
  status: 'running',
  mailboxDepth: 0,
  snapshotFailures: 0,
  processed: 0,
  failures: 0,
  restarts: 0,
  processingTimeUsTotal: 0,
  processingTimeUsMax: 0,
  shed: 0,
  children,
  ...extra,
});

const tree: ActorNode[] = [
  actor('/risk', 'risk', { processed: 2_000, processingTimeUsTotal: 100_000, processingTimeUsMax: 2_500 }),
  actor('/market', 'group', {}, [
    actor('/market/INFY', 'symbol', {
      restarts: 1,
      failures: 1,
      mailboxDepth: 12_345,
      processed: 10,
      processingTimeUsTotal: 500,
      lastError: { message: 'fault injected through the API', atMs: 1_000 },
    }),
    actor('/market/TCS', 'symbol', { status: 'restarting' }),
  ]),
];

describe('ActorTree', () => {
  it('renders every actor with its state, mailbox, processing time and restarts', () => {
    render(<ActorTree tree={tree} nowMs={31_000} recentlyRestarted={new Set(['/market/INFY'])} />);
    const table = screen.getByRole('table', { name: 'Supervision tree' });
    const rows = within(table).getAllByRole('row');
    expect(rows).toHaveLength(1 + 4);

    const infy = table.querySelector('tr[data-path="/market/INFY"]')!;
    expect(infy).toHaveAttribute('aria-level', '2');
    expect(infy).toHaveClass('flash');
    const cells = within(infy as HTMLElement).getAllByRole('cell');
    expect(cells.map((cell) => cell.textContent)).toEqual([
      'symbol',
      'running',
      '12,345',
      '10',
      '50 µs',
      '0 µs',
      '1',
      '1',
      'fault injected through the API (30 s ago)',
    ]);
    expect(cells[2]).toHaveClass('num');

    const risk = table.querySelector('tr[data-path="/risk"]')!;
    expect(
      within(risk as HTMLElement)
        .getAllByRole('cell')
        .map((cell) => cell.textContent)
        .slice(3, 6),
    ).toEqual(['2,000', '50 µs', '2.5 ms']);
    expect(table.querySelector('tr[data-path="/market/TCS"]')).toHaveAttribute('data-status', 'restarting');
  });

  it('collapses and expands a group from the keyboard', async () => {
    const user = userEvent.setup();
    render(<ActorTree tree={tree} nowMs={0} />);
    const toggle = screen.getByRole('button', { name: 'Collapse /market' });
    toggle.focus();
    await user.keyboard('{Enter}');
    expect(document.querySelector('tr[data-path="/market/INFY"]')).toBeNull();
    expect(screen.getByRole('button', { name: 'Expand /market' })).toHaveAttribute('aria-expanded', 'false');
    await user.keyboard('{Enter}');
    expect(document.querySelector('tr[data-path="/market/INFY"]')).not.toBeNull();
  });
});
