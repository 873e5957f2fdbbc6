import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';

describe('config: TROUPE_SQUARE_OFF_TIME', () => {
  it('defaults to Zerodha\'s 15:20 IST and takes another "HH:MM"', () => {
    expect(loadConfig({}).squareOffMinute).toBe(15 * 60 + 20);
    expect(loadConfig({ TROUPE_SQUARE_OFF_TIME: '15:10' }).squareOffMinute).toBe(15 * 60 + 10);
  });

  it('refuses a malformed time, naming the variable', () => {
    expect(() => loadConfig({ TROUPE_SQUARE_OFF_TIME: '3:20pm' })).toThrow(ConfigError);
    expect(() => loadConfig({ TROUPE_SQUARE_OFF_TIME: '25:00' })).toThrow(/TROUPE_SQUARE_OFF_TIME/);
  });
});
