import { useId, useState, type FormEvent, type KeyboardEvent } from 'react';
import { TroupeApiError, type Instrument, type PlaceOrderRequest } from '../lib/api.js';
import { fieldLabel, humanise } from '../lib/errors.js';
import { parseRupeesToPaise, rupees } from '../lib/format.js';

type Field = 'symbol' | 'side' | 'quantity' | 'orderType' | 'product' | 'validity' | 'limitPricePaise' | 'triggerPricePaise';
const FIELDS: readonly Field[] = ['symbol', 'side', 'quantity', 'orderType', 'product', 'validity', 'limitPricePaise', 'triggerPricePaise'];

export interface OrderTicketProps {
  readonly instruments: readonly Pick<Instrument, 'symbol' | 'name' | 'lastPricePaise'>[];
  readonly place: (order: PlaceOrderRequest) => Promise<{ clientOrderId: string }>;
  readonly onPlaced?: (clientOrderId: string) => void;
  readonly initialSymbol?: string;
}

/** Server messages read better with the field named and the JSON-schema wording softened. */
function fieldMessage(message: string): string {
  if (/^must have required property/.test(message) || message === 'is required') return 'Required';
  return message
    .replace(/^must be >= (\d+)$/, 'Must be at least $1')
    .replace(/^must be <= (\d+)$/, 'Must be at most $1')
    .replace(/^must be integer$/, 'Must be a whole number');
}

/**
 * The manual order ticket. It sends what was typed and shows the server's validation next
 * to the field it names (the gateway validates; the ticket only converts rupees to paise).
 * Keyboard: Tab through the fields, arrows switch Buy/Sell, Enter places, Escape clears.
 */
export function OrderTicket({ instruments, place, onPlaced, initialSymbol = '' }: OrderTicketProps) {
  const id = useId();
  const [symbol, setSymbol] = useState(initialSymbol);
  const [side, setSide] = useState<'BUY' | 'SELL'>('BUY');
  const [quantityText, setQuantityText] = useState('1');
  const [orderType, setOrderType] = useState<'MARKET' | 'LIMIT' | 'SL' | 'SL-M'>('MARKET');
  const [product, setProduct] = useState<'MIS' | 'CNC' | 'NRML'>('MIS');
  const [validity, setValidity] = useState<'DAY' | 'IOC'>('DAY');
  const [limitText, setLimitText] = useState('');
  const [triggerText, setTriggerText] = useState('');
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [general, setGeneral] = useState<string | undefined>();
  const [placed, setPlaced] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  /** Answers received so far (lets tests and assistive tech tell a new answer from the last one). */
  const [answers, setAnswers] = useState(0);

  const needsLimit = orderType === 'LIMIT' || orderType === 'SL';
  const needsTrigger = orderType === 'SL' || orderType === 'SL-M';
  const instrument = instruments.find((candidate) => candidate.symbol === symbol.trim().toUpperCase());

  const reset = (): void => {
    setQuantityText('1');
    setLimitText('');
    setTriggerText('');
    setErrors({});
    setGeneral(undefined);
  };

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setPlaced(undefined);
    setGeneral(undefined);
    const local: Partial<Record<Field, string>> = {};
    // sent as typed (an empty or non-numeric quantity too): the server says what is wrong with it
    const body: Record<string, unknown> = { symbol: symbol.trim().toUpperCase(), side, orderType, product, validity };
    const quantityTyped = quantityText.trim();
    if (quantityTyped !== '') body.quantity = /^-?\d+$/.test(quantityTyped) ? Number(quantityTyped) : quantityTyped;
    if (needsLimit && limitText.trim() !== '') {
      const paise = parseRupeesToPaise(limitText);
      if (paise === undefined) local.limitPricePaise = 'Enter a price in rupees, e.g. 1520.50';
      else body.limitPricePaise = paise;
    }
    if (needsTrigger && triggerText.trim() !== '') {
      const paise = parseRupeesToPaise(triggerText);
      if (paise === undefined) local.triggerPricePaise = 'Enter a price in rupees, e.g. 1510';
      else body.triggerPricePaise = paise;
    }
    if (Object.keys(local).length > 0) {
      setErrors(local);
      return;
    }
    setBusy(true);
    try {
      const result = await place(body as PlaceOrderRequest);
      setErrors({});
      setPlaced(result.clientOrderId);
      onPlaced?.(result.clientOrderId);
    } catch (error) {
      const byField: Partial<Record<Field, string>> = {};
      let other: string | undefined;
      if (error instanceof TroupeApiError && error.code !== 'risk-rejected') {
        for (const detail of error.details) {
          const field = detail.path.replace(/^\//, '').split('/')[0] as Field;
          if (FIELDS.includes(field)) byField[field] ??= fieldMessage(detail.message);
          else other ??= `${fieldLabel(detail.path)}: ${detail.message}`;
        }
      }
      setErrors(byField);
      setGeneral(Object.keys(byField).length > 0 ? (other ?? 'Please correct the highlighted fields.') : humanise(error));
    } finally {
      setBusy(false);
      setAnswers((count) => count + 1);
    }
  };

  const onKeyDown = (event: KeyboardEvent<HTMLFormElement>): void => {
    if (event.key === 'Escape') {
      event.preventDefault();
      reset();
    }
  };

  const fieldProps = (field: Field) => ({
    id: `${id}-${field}`,
    name: field,
    'aria-invalid': errors[field] ? true : undefined,
    'aria-describedby': errors[field] ? `${id}-${field}-error` : undefined,
  });
  const fieldError = (field: Field) =>
    errors[field] ? (
      <div className="field-error" id={`${id}-${field}-error`} data-testid={`error-${field}`}>
        {errors[field]}
      </div>
    ) : null;

  return (
    <form
      className={`ticket ticket-${side.toLowerCase()}`}
      onSubmit={(event) => void submit(event)}
      onKeyDown={onKeyDown}
      noValidate
      aria-label="Order ticket"
      data-answers={answers}
    >
      <fieldset className="side-toggle">
        <legend>Side</legend>
        {(['BUY', 'SELL'] as const).map((value) => (
          <label key={value} className={`side-option side-${value.toLowerCase()}${side === value ? ' selected' : ''}`}>
            <input type="radio" name={`${id}-side`} value={value} checked={side === value} onChange={() => setSide(value)} />
            {value === 'BUY' ? 'Buy' : 'Sell'}
          </label>
        ))}
        {fieldError('side')}
      </fieldset>
      <div className="field">
        <label htmlFor={`${id}-symbol`}>Symbol</label>
        <input
          {...fieldProps('symbol')}
          list={`${id}-symbols`}
          value={symbol}
          onChange={(event) => setSymbol(event.target.value)}
          autoComplete="off"
          spellCheck={false}
          placeholder="e.g. INFY"
        />
        <datalist id={`${id}-symbols`}>
          {instruments.map((candidate) => (
            <option key={candidate.symbol} value={candidate.symbol}>
              {candidate.name}
            </option>
          ))}
        </datalist>
        {instrument ? <div className="hint">Last {rupees(instrument.lastPricePaise)}</div> : null}
        {fieldError('symbol')}
      </div>
      <div className="field">
        <label htmlFor={`${id}-quantity`}>Quantity</label>
        <input {...fieldProps('quantity')} inputMode="numeric" className="num" value={quantityText} onChange={(event) => setQuantityText(event.target.value)} />
        {fieldError('quantity')}
      </div>
      <div className="field-row">
        <div className="field">
          <label htmlFor={`${id}-orderType`}>Type</label>
          <select {...fieldProps('orderType')} value={orderType} onChange={(event) => setOrderType(event.target.value as typeof orderType)}>
            <option value="MARKET">Market</option>
            <option value="LIMIT">Limit</option>
            <option value="SL">SL</option>
            <option value="SL-M">SL-M</option>
          </select>
          {fieldError('orderType')}
        </div>
        <div className="field">
          <label htmlFor={`${id}-product`}>Product</label>
          <select {...fieldProps('product')} value={product} onChange={(event) => setProduct(event.target.value as typeof product)}>
            <option value="MIS" title="intraday">
              MIS
            </option>
            <option value="CNC" title="delivery">
              CNC
            </option>
            <option value="NRML" title="normal (F&amp;O carry-forward)">
              NRML
            </option>
          </select>
          {fieldError('product')}
        </div>
        <div className="field">
          <label htmlFor={`${id}-validity`}>Validity</label>
          <select {...fieldProps('validity')} value={validity} onChange={(event) => setValidity(event.target.value as typeof validity)}>
            <option value="DAY">Day</option>
            <option value="IOC">IOC</option>
          </select>
          {fieldError('validity')}
        </div>
      </div>
      {needsLimit ? (
        <div className="field">
          <label htmlFor={`${id}-limitPricePaise`}>Limit price (₹)</label>
          <input
            {...fieldProps('limitPricePaise')}
            inputMode="decimal"
            className="num"
            value={limitText}
            onChange={(event) => setLimitText(event.target.value)}
            placeholder="1520.50"
          />
          {fieldError('limitPricePaise')}
        </div>
      ) : null}
      {needsTrigger ? (
        <div className="field">
          <label htmlFor={`${id}-triggerPricePaise`}>Trigger price (₹)</label>
          <input
            {...fieldProps('triggerPricePaise')}
            inputMode="decimal"
            className="num"
            value={triggerText}
            onChange={(event) => setTriggerText(event.target.value)}
            placeholder="1510.00"
          />
          {fieldError('triggerPricePaise')}
        </div>
      ) : null}
      <button type="submit" className={`primary ${side === 'BUY' ? 'buy' : 'sell'}`} disabled={busy}>
        {busy ? 'Placing…' : `${side === 'BUY' ? 'Buy' : 'Sell'} ${symbol.trim().toUpperCase() || ''}`}
      </button>
      <div className="ticket-messages" aria-live="polite">
        {general ? (
          <div className="field-error" role="alert" data-testid="ticket-error">
            {general}
          </div>
        ) : null}
        {placed ? (
          <div className="ok" data-testid="ticket-placed">
            Order <code>{placed}</code> accepted by risk; the broker&apos;s answer follows in Orders.
          </div>
        ) : null}
      </div>
    </form>
  );
}
