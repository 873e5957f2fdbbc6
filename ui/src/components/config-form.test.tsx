import { describe, expect, it } from 'vitest';
import { TroupeApiError, type ConfigField } from '../lib/api.js';
import { configFrom, draftFrom, fieldErrors } from './config-form.js';

const FIELDS: ConfigField[] = [
  { name: 'symbols', type: 'symbols', description: 'Symbols', default: [] },
  { name: 'fastPeriod', type: 'integer', description: 'Fast', default: 12, min: 1 },
  { name: 'threshold', type: 'number', description: 'Threshold', default: 1.5 },
  { name: 'note', type: 'string', description: 'Note', default: '' },
  { name: 'allowShort', type: 'boolean', description: 'Short', default: false },
];

describe('config form values', () => {
  it('drafts from settings or defaults, and sends typed values', () => {
    const draft = draftFrom(FIELDS, { symbols: ['INFY', 'TCS'], fastPeriod: 8 });
    expect(draft).toEqual({ symbols: 'INFY, TCS', fastPeriod: '8', threshold: '1.5', note: '', allowShort: false });
    expect(configFrom(FIELDS, { ...draft, symbols: 'infy tcs,  sbin', allowShort: true })).toEqual({
      symbols: ['INFY', 'TCS', 'SBIN'],
      fastPeriod: 8,
      allowShort: true,
    });
    // text that is not a number goes as typed: the server names the field and says why
    expect(configFrom(FIELDS, { ...draft, fastPeriod: 'twelve' }).fastPeriod).toBe('twelve');
  });

  it('sends only the settings that differ from those in effect when editing', () => {
    const current = { symbols: ['INFY'], fastPeriod: 12, threshold: 1.5, note: '', allowShort: false };
    expect(configFrom(FIELDS, draftFrom(FIELDS, current), current)).toEqual({});
    expect(configFrom(FIELDS, { ...draftFrom(FIELDS, current), threshold: '2.25' }, current)).toEqual({ threshold: 2.25 });
  });

  it('maps the server’s details to fields', () => {
    const error = new TroupeApiError(400, 'invalid-request', 'bad', [
      { in: 'body', path: '/config/fastPeriod', message: 'must be at least 1' },
      { in: 'body', path: '/strategyId', message: 'must match pattern' },
    ]);
    expect(fieldErrors(error)).toEqual({
      byField: { fastPeriod: 'Must be at least 1', strategyId: 'Must match pattern' },
      general: 'Please correct the highlighted settings.',
    });
    const whole = new TroupeApiError(400, 'invalid-request', 'body /config must be an object', [{ in: 'body', path: '/config', message: 'must be an object' }]);
    expect(fieldErrors(whole)).toEqual({ byField: {}, general: 'Must be an object' });
  });
});
