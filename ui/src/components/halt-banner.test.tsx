import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactNode } from 'react';
import { describe, expect, it } from 'vitest';
import type { Halts } from '../lib/api.js';
import { fakeDesk } from '../test/fake-desk.js';
import { HaltBanner, HaltsProvider, TradingState } from './halt-banner.js';

const KILL: Halts = {
  halted: true,
  halts: [
    {
      kind: 'kill-switch',
      severity: 'critical',
      sinceMs: Date.UTC(2026, 4, 20, 5, 0),
      reason: 'Daily-loss kill switch: portfolio paper lost ₹51,000.00 today. Strategies are paused and every new order is refused.',
      action: 'Review the day’s loss on the Risk page; an admin re-arms trading.',
      release: { method: 'POST', path: '/api/v1/risk/kill-switch/reset' },
    },
    { kind: 'feed', severity: 'warning', sinceMs: null, reason: 'No market data for 45 s while the market is open.', action: 'Check the feed.', release: null },
  ],
};

function shell(role: 'viewer' | 'admin', routes: Parameters<typeof fakeDesk>[1]) {
  const { wrapper: Desk } = fakeDesk(role, routes);
  const wrapper = ({ children }: { readonly children: ReactNode }) => (
    <Desk>
      <HaltsProvider>{children}</HaltsProvider>
    </Desk>
  );
  return wrapper;
}

describe('HaltBanner', () => {
  it('says nothing while trading', async () => {
    let asked = 0;
    render(
      <>
        <TradingState />
        <HaltBanner />
      </>,
      { wrapper: shell('viewer', { 'GET /api/v1/halts': () => (asked++, { halted: false, halts: [] }) }) },
    );
    await waitFor(() => expect(asked).toBeGreaterThan(0));
    expect(screen.queryByTestId('halt-banner')).toBeNull();
    expect(screen.queryByTestId('trading-state')).toBeNull();
  });

  it('shows each halt with its reason and what to do; the top bar says HALTED; a viewer gets no release', async () => {
    render(
      <>
        <TradingState />
        <HaltBanner />
      </>,
      { wrapper: shell('viewer', { 'GET /api/v1/halts': () => KILL }) },
    );
    const banner = await screen.findByTestId('halt-banner');
    expect(banner).toHaveAttribute('data-halted', 'true');
    const kill = banner.querySelector('[data-halt="kill-switch"]')!;
    expect(kill).toHaveTextContent('Trading halted by the daily-loss kill switch');
    expect(kill).toHaveTextContent('portfolio paper lost ₹51,000.00 today');
    expect(kill).toHaveClass('banner-error');
    expect(banner.querySelector('[data-halt="feed"]')).toHaveClass('banner-warning');
    expect(screen.getByTestId('trading-state')).toHaveTextContent('HALTED');
    expect(screen.queryByRole('button', { name: 'Release…' })).toBeNull();
  });

  it('lets an admin release after confirming, then shows what happened', async () => {
    const calls: string[] = [];
    let halted = true;
    render(<HaltBanner />, {
      wrapper: shell('admin', {
        'GET /api/v1/halts': () => (halted ? KILL : { halted: false, halts: [] }),
        'POST /api/v1/risk/kill-switch/reset': () => {
          calls.push('reset');
          halted = false;
          return { reset: true };
        },
      }),
    });
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Release…' }));
    expect(calls).toEqual([]);
    await user.click(screen.getByRole('button', { name: 'Yes, release' }));
    expect(calls).toEqual(['reset']);
    expect(await screen.findByRole('status')).toHaveTextContent('Released.');
  });
});
