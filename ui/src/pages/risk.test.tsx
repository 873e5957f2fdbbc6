import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { fakeDesk } from '../test/fake-desk.js';
import { RiskPage, usedPercent, type RiskResponse } from './risk.js';

const RISK: RiskResponse = {
  limits: {
    maxOrderValuePaise: 10_00_000_00,
    maxOrderQuantity: 10_000,
    maxPositionQuantity: 20_000,
    maxOrdersPerSecond: 10,
    maxOrdersPerSecondPerStrategy: 10,
    maxGrossExposurePaise: 50_00_000_00,
    maxNetExposurePaise: 25_00_000_00,
    maxDailyLossPaise: 50_000_00,
    fatFingerBps: 500,
  },
  utilisation: [
    { id: 'maxDailyLossPaise', label: 'Daily loss', unit: 'paise', used: 46_000_00, limit: 50_000_00, portfolioId: 'main' },
    { id: 'maxGrossExposurePaise', label: 'Gross exposure', unit: 'paise', used: 12_50_000_00, limit: 50_00_000_00, portfolioId: 'main' },
    {
      id: 'maxPositionQuantity',
      label: 'Largest position (with working orders)',
      unit: 'shares',
      used: 16_000,
      limit: 20_000,
      portfolioId: 'main',
      detail: 'INFY',
    },
    { id: 'maxOrdersPerSecond', label: 'Orders per second (all strategies)', unit: 'orders/s', used: 3, limit: 10 },
  ],
  killSwitch: null,
  approved: 120,
  rejected: 4,
  pausedStrategies: [],
  atMs: Date.UTC(2026, 2, 3, 8, 33, 27),
};

describe('RiskPage', () => {
  it('shows every limit with its utilisation as a bar, amber from 75 % and red from 90 %', async () => {
    const { wrapper } = fakeDesk('viewer', { 'GET /api/v1/risk': () => RISK });
    render(<RiskPage />, { wrapper });
    const bars = await screen.findAllByTestId('utilisation');
    expect(bars.map((bar) => [bar.dataset.limit, bar.dataset.percent])).toEqual([
      ['maxDailyLossPaise', '92'],
      ['maxGrossExposurePaise', '25'],
      ['maxPositionQuantity', '80'],
      ['maxOrdersPerSecond', '30'],
    ]);
    expect(bars[0]).toHaveTextContent('₹46,000.00 of ₹50,000.00');
    expect(bars[0]!.querySelector('.util-track')).toHaveClass('util-high');
    expect(bars[2]!.querySelector('.util-track')).toHaveClass('util-medium');
    expect(bars[1]!.querySelector('.util-track')).toHaveClass('util-low');
    expect(within(bars[2]!).getByRole('meter', { name: 'Largest position (with working orders)' })).toHaveAttribute('aria-valuenow', '80');
    expect(screen.getByTestId('order-limits')).toHaveTextContent('₹10,00,000.00');
    // a viewer sees no kill switch
    expect(screen.queryByRole('region', { name: 'Kill switch' })).toBeNull();
  });

  it('lets an admin engage the kill switch after confirming, and re-arm a tripped one', async () => {
    const calls: string[] = [];
    const { wrapper } = fakeDesk('admin', {
      'GET /api/v1/risk': () => ({
        ...RISK,
        killSwitch: {
          portfolioId: 'main',
          trippedAtMs: RISK.atMs,
          dayPnlPaise: -51_000_00,
          maxDailyLossPaise: 50_000_00,
          message: 'portfolio main lost ₹51,000.00 today',
        },
      }),
      'POST /api/v1/kill-switch': () => {
        calls.push('engage');
        return { engaged: true, paused: ['ema-cross-1'] };
      },
      'POST /api/v1/risk/kill-switch/reset': () => {
        calls.push('reset');
        return { reset: true };
      },
    });
    const user = userEvent.setup();
    render(<RiskPage />, { wrapper });
    expect(await screen.findByTestId('kill-switch-tripped')).toHaveTextContent('portfolio main lost ₹51,000.00 today');
    await user.click(screen.getByRole('button', { name: 'Engage kill switch…' }));
    expect(calls).toEqual([]);
    await user.click(screen.getByRole('button', { name: 'Yes, stop everything' }));
    expect(await screen.findByTestId('kill-switch-message')).toHaveTextContent('paused 1 strategy (ema-cross-1)');
    await user.click(screen.getByRole('button', { name: 'Re-arm trading' }));
    expect(calls).toEqual(['engage', 'reset']);
  });

  it('lists the stored alert record as the server pages it, with ×count for repeats, and offers Ack to traders', async () => {
    const row = (id: number, code: string, message: string, count: number, atMs: number) => ({
      id,
      code,
      subject: 'ema-cross-1',
      severity: 'warning',
      message,
      count,
      firstAtMs: atMs,
      lastAtMs: atMs,
      firstSeenMs: atMs,
      lastSeenMs: atMs,
    });
    const { wrapper } = fakeDesk('trader', {
      'GET /api/v1/risk': () => RISK,
      'GET /api/v1/risk/alerts?limit=20': () => ({
        items: [row(2, 'order-rate', 'newer', 728, 2_000), row(1, 'max-position', 'older', 1, 1_000)],
        nextCursor: null,
      }),
    });
    render(<RiskPage />, { wrapper });
    await screen.findByText('newer');
    const rows = within(screen.getByTestId('alerts-table')).getAllByRole('row').slice(1);
    expect(rows.map((tr) => tr.textContent)).toEqual([expect.stringContaining('newer'), expect.stringContaining('older')]);
    expect(screen.getAllByTestId('alert-count').map((cell) => cell.textContent)).toEqual(['×728', '1']);
    expect(screen.getAllByTestId('alert-ack')).toHaveLength(2);
  });

  it('computes utilisation in whole percent without floats', () => {
    expect(usedPercent(1, 3)).toBe(33);
    expect(usedPercent(0, 0)).toBe(0);
    expect(usedPercent(5, 0)).toBe(999);
    expect(usedPercent(-2_500, 10_000)).toBe(25);
  });
});
