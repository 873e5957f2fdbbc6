import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { TroupeApiError, type ConfigField, type Strategy } from '../lib/api.js';
import { fakeDesk } from '../test/fake-desk.js';
import { StrategiesPage } from './strategies.js';

const FIELDS: ConfigField[] = [
  { name: 'symbols', type: 'symbols', description: 'Symbols to trade', default: [] },
  { name: 'fastPeriod', type: 'integer', description: 'Fast EMA length', default: 12, min: 1, max: 10_000 },
  { name: 'slowPeriod', type: 'integer', description: 'Slow EMA length', default: 26, min: 2, max: 10_000 },
  { name: 'product', type: 'enum', description: 'MIS or CNC', default: 'MIS', options: ['MIS', 'CNC'] },
  { name: 'allowShort', type: 'boolean', description: 'Go short', default: false },
];

function strategy(overrides: Partial<Strategy> & { state?: string } = {}): Strategy {
  return {
    strategyId: 'ema-cross-1',
    kind: 'ema-cross',
    portfolioId: 'main',
    paused: false,
    state: 'started',
    positions: { INFY: 10 },
    workingIntents: 0,
    regimes: {},
    stats: { ticks: 100, bars: 0, signals: 0, intents: 4, rejected: 1, gated: 0, fills: 3 },
    config: { symbols: ['INFY', 'TCS'], fastPeriod: 12, slowPeriod: 26, product: 'MIS', allowShort: false },
    configFields: FIELDS,
    ...overrides,
  };
}

describe('StrategiesPage', () => {
  it('creates an instance from a form generated from the kind, showing the server’s message next to the field', async () => {
    const posted: unknown[] = [];
    const { wrapper, request } = fakeDesk('trader', {
      'GET /api/v1/strategies': () => ({ items: [strategy()] }),
      'GET /api/v1/strategy-kinds': () => ({ items: [{ kind: 'ema-cross', description: 'EMA crossover', configFields: FIELDS }] }),
      'POST /api/v1/strategies': (body) => {
        posted.push(body);
        if (posted.length === 1)
          throw new TroupeApiError(400, 'invalid-request', 'body /config/fastPeriod must be shorter than slowPeriod', [
            { in: 'body', path: '/config/fastPeriod', message: 'must be shorter than slowPeriod' },
          ]);
        return strategy({ strategyId: 'ema-it', config: { symbols: ['INFY'], fastPeriod: 8, slowPeriod: 21, product: 'MIS', allowShort: false } });
      },
    });
    const user = userEvent.setup();
    render(<StrategiesPage />, { wrapper });
    await user.click(await screen.findByRole('button', { name: 'New strategy…' }));
    const form = screen.getByRole('form', { name: 'New strategy' });
    // one input per setting, with its default and range as a hint
    expect(within(form).getByLabelText('Fast period')).toHaveValue('12');
    expect(within(form).getByLabelText('Product')).toHaveValue('MIS');
    expect(within(form).getByLabelText('Allow short')).not.toBeChecked();
    expect(within(form).getByText(/1 to 10000 · whole number · default 12/)).toBeInTheDocument();

    await user.type(within(form).getByLabelText('Strategy id'), 'ema-it');
    await user.type(within(form).getByLabelText('Symbols'), 'infy');
    await user.clear(within(form).getByLabelText('Fast period'));
    await user.type(within(form).getByLabelText('Fast period'), '30');
    await user.clear(within(form).getByLabelText('Slow period'));
    await user.type(within(form).getByLabelText('Slow period'), '21');
    await user.click(within(form).getByRole('button', { name: 'Create and start' }));

    expect(posted[0]).toEqual({ strategyId: 'ema-it', kind: 'ema-cross', config: { symbols: ['INFY'], fastPeriod: 30, slowPeriod: 21 } });
    const fast = within(form).getByLabelText('Fast period');
    expect(await screen.findByTestId('config-error-fastPeriod')).toHaveTextContent('Must be shorter than slowPeriod');
    expect(fast).toHaveAttribute('aria-invalid', 'true');
    expect(fast.getAttribute('aria-describedby')).toContain(screen.getByTestId('config-error-fastPeriod').id);

    await user.clear(fast);
    await user.type(fast, '8{Enter}');
    expect(posted[1]).toEqual({ strategyId: 'ema-it', kind: 'ema-cross', config: { symbols: ['INFY'], fastPeriod: 8, slowPeriod: 21 } });
    expect(await screen.findByTestId('strategy-message')).toHaveTextContent('ema-it (ema-cross) created and running.');
    expect(request).toHaveBeenCalledWith('POST', '/api/v1/strategies', expect.anything());
  });

  it('edits parameters sending only what changed, and offers pause/stop/start by state', async () => {
    const patches: unknown[] = [];
    const actions: string[] = [];
    const { wrapper } = fakeDesk('trader', {
      // the server's list reflects what was asked (a poll after the action says the same)
      'GET /api/v1/strategies': () => ({
        items: [
          actions.includes('stop') ? strategy({ state: 'stopped', paused: true }) : strategy(),
          strategy({ strategyId: 'rsi-1', kind: 'rsi-reversion', state: 'stopped', paused: true }),
        ],
      }),
      'GET /api/v1/strategy-kinds': () => ({ items: [] }),
      'PATCH /api/v1/strategies/ema-cross-1': (body) => {
        patches.push(body);
        return strategy({ config: { ...strategy().config, fastPeriod: 9, product: 'CNC' } });
      },
      'POST /api/v1/strategies/ema-cross-1/stop': () => {
        actions.push('stop');
        return strategy({ state: 'stopped', paused: true });
      },
    });
    const user = userEvent.setup();
    render(<StrategiesPage />, { wrapper });
    const row = (await screen.findByText('ema-cross-1')).closest('tr')!;
    const stopped = screen.getByText('rsi-1').closest('tr')!;
    expect(within(row).getByRole('button', { name: 'Pause' })).toBeInTheDocument();
    expect(within(row).getByRole('button', { name: 'Stop' })).toBeInTheDocument();
    expect(within(stopped).getByRole('button', { name: 'Start' })).toBeInTheDocument();
    expect(within(stopped).queryByRole('button', { name: 'Stop' })).toBeNull();

    await user.click(within(row).getByRole('button', { name: 'Parameters' }));
    const form = screen.getByRole('form', { name: 'Edit ema-cross-1' });
    expect(within(form).getByLabelText('Symbols')).toHaveValue('INFY, TCS');
    await user.clear(within(form).getByLabelText('Fast period'));
    await user.type(within(form).getByLabelText('Fast period'), '9');
    await user.selectOptions(within(form).getByLabelText('Product'), 'CNC');
    await user.click(within(form).getByRole('button', { name: 'Save and restart' }));
    expect(patches).toEqual([{ config: { fastPeriod: 9, product: 'CNC' } }]);
    expect(await screen.findByTestId('strategy-message')).toHaveTextContent('ema-cross-1 restarted with fastPeriod, product changed');

    await user.click(within(row).getByRole('button', { name: 'Stop' }));
    expect(actions).toEqual(['stop']);
    await waitFor(() => expect(screen.getByText('ema-cross-1').closest('tr')).toHaveAttribute('data-state', 'stopped'));
  });

  it('shows per-strategy P&L from its fills marked to the live quotes, in exact rupees', async () => {
    const { wrapper, store, flush } = fakeDesk('viewer', {
      'GET /api/v1/strategies': () => ({ items: [strategy()] }),
      'GET /api/v1/strategy-kinds': () => ({ items: [] }),
    });
    store.dispatch({
      kind: 'fills',
      complete: true,
      fills: [
        { fillId: 'F1', strategyId: 'ema-cross-1', symbol: 'INFY', side: 'BUY', quantity: 10, pricePaise: 150_000, chargesPaise: 120, atMs: 1 },
        { fillId: 'F2', strategyId: 'ema-cross-1', symbol: 'INFY', side: 'SELL', quantity: 4, pricePaise: 151_000, chargesPaise: 80, atMs: 2 },
      ],
    });
    store.ingest({ seq: 1, topic: 'quotes:INFY', key: 'INFY', atMs: 0, data: { symbol: 'INFY', ltpPaise: 152_000, volume: 1, exchangeTimeMs: 3 } });
    flush();
    render(<StrategiesPage />, { wrapper });
    const row = (await screen.findByText('ema-cross-1')).closest('tr')!;
    // cash −15,00,000 + 6,04,000 − 200 paise, 6 left at 1,52,000 paise = 9,12,000: +15,800 paise
    expect(within(row).getByTestId('strategy-pnl')).toHaveTextContent('+₹158.00');
    expect(within(row).queryByRole('button', { name: 'Pause' })).toBeNull(); // a viewer watches
  });
});
