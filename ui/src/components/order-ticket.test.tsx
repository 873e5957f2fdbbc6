import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { TroupeApiError, type PlaceOrderRequest } from '../lib/api.js';
import { OrderTicket } from './order-ticket.js';

const instruments = [
  { symbol: 'INFY', name: 'Infosys', lastPricePaise: 150_000 },
  { symbol: 'TCS', name: 'Tata Consultancy', lastPricePaise: 350_000 },
];

describe('OrderTicket', () => {
  it('shows the server validation messages next to the fields they name', async () => {
    const place = vi.fn<(order: PlaceOrderRequest) => Promise<{ clientOrderId: string }>>().mockRejectedValue(
      new TroupeApiError(400, 'invalid-request', 'body /quantity must be >= 1', [
        { in: 'body', path: '/quantity', message: 'must be >= 1' },
        { in: 'body', path: '/limitPricePaise', message: 'is required for LIMIT orders' },
      ]),
    );
    const user = userEvent.setup();
    render(<OrderTicket instruments={instruments} place={place} />);
    await user.type(screen.getByLabelText('Symbol'), 'infy');
    await user.clear(screen.getByLabelText('Quantity'));
    await user.type(screen.getByLabelText('Quantity'), '0');
    await user.selectOptions(screen.getByLabelText('Type'), 'LIMIT');
    await user.click(screen.getByRole('button', { name: /buy infy/i }));

    expect(place).toHaveBeenCalledWith({ symbol: 'INFY', side: 'BUY', orderType: 'LIMIT', product: 'MIS', validity: 'DAY', quantity: 0 });
    const quantity = screen.getByLabelText('Quantity');
    expect(quantity).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByTestId('error-quantity')).toHaveTextContent('Must be at least 1');
    expect(quantity.getAttribute('aria-describedby')).toBe(screen.getByTestId('error-quantity').id);
    expect(screen.getByTestId('error-limitPricePaise')).toHaveTextContent('is required for LIMIT orders');
    expect(screen.getByRole('alert')).toHaveTextContent('Please correct the highlighted fields.');
  });

  it('shows a risk refusal in words and sends rupees as exact paise', async () => {
    const place = vi
      .fn<(order: PlaceOrderRequest) => Promise<{ clientOrderId: string }>>()
      .mockRejectedValue(
        new TroupeApiError(422, 'risk-rejected', 'order value ₹20,00,000.00 is above the limit ₹10,00,000.00', [
          { in: 'risk', path: 'max-order-value', message: 'too big' },
        ]),
      );
    const user = userEvent.setup();
    render(<OrderTicket instruments={instruments} place={place} initialSymbol="TCS" />);
    await user.click(screen.getByLabelText('Sell'));
    await user.selectOptions(screen.getByLabelText('Type'), 'LIMIT');
    await user.type(screen.getByLabelText('Limit price (₹)'), '3,500.05');
    await user.clear(screen.getByLabelText('Quantity'));
    await user.type(screen.getByLabelText('Quantity'), '600{Enter}');
    expect(place).toHaveBeenCalledWith(expect.objectContaining({ symbol: 'TCS', side: 'SELL', quantity: 600, limitPricePaise: 350_005 }));
    expect(await screen.findByTestId('ticket-error')).toHaveTextContent('Risk check refused the order: order value ₹20,00,000.00 is above the limit');
  });

  it('is usable from the keyboard alone and confirms the accepted order', async () => {
    const place = vi.fn<(order: PlaceOrderRequest) => Promise<{ clientOrderId: string }>>().mockResolvedValue({ clientOrderId: 'TABC123' });
    const onPlaced = vi.fn();
    const user = userEvent.setup();
    render(<OrderTicket instruments={instruments} place={place} onPlaced={onPlaced} />);
    await user.tab(); // side (Buy)
    await user.keyboard('{ArrowRight}'); // Sell
    await user.tab(); // symbol
    await user.keyboard('INFY');
    await user.tab(); // quantity
    await user.keyboard('{Backspace}25{Enter}');
    expect(place).toHaveBeenCalledWith(expect.objectContaining({ symbol: 'INFY', side: 'SELL', quantity: 25, orderType: 'MARKET' }));
    expect(await screen.findByTestId('ticket-placed')).toHaveTextContent('TABC123');
    expect(onPlaced).toHaveBeenCalledWith('TABC123');
  });

  it('refuses a malformed price before sending', async () => {
    const place = vi.fn<(order: PlaceOrderRequest) => Promise<{ clientOrderId: string }>>();
    const user = userEvent.setup();
    render(<OrderTicket instruments={instruments} place={place} initialSymbol="INFY" />);
    await user.selectOptions(screen.getByLabelText('Type'), 'LIMIT');
    await user.type(screen.getByLabelText('Limit price (₹)'), '12.345');
    await user.click(screen.getByRole('button', { name: /buy infy/i }));
    expect(place).not.toHaveBeenCalled();
    expect(screen.getByTestId('error-limitPricePaise')).toHaveTextContent('Enter a price in rupees');
  });
});
