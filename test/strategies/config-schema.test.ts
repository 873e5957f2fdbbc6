import { describe, expect, it } from 'vitest';
import { STRATEGIES, StrategyConfigError, type ConfigField } from '../../src/strategies/index.js';

/** A value of the wrong type for a field (the message the API shows for it, written out here). */
function wrongValue(field: ConfigField): { value: unknown; message: RegExp } {
  switch (field.type) {
    case 'integer':
    case 'number':
      return { value: 'ten', message: /must be a number/ };
    case 'string':
      return { value: 12, message: /must be text/ };
    case 'boolean':
      return { value: 'yes', message: /must be true or false/ };
    case 'enum':
      return { value: 'nonsense', message: new RegExp(`must be one of ${(field.options ?? []).join(', ')}`) };
    case 'symbols':
      return { value: ['not a symbol'], message: /must be a list of NSE symbols/ };
  }
}

describe('strategy configs are validated by schema', () => {
  for (const definition of STRATEGIES) {
    it(`${definition.kind}: a value of the wrong type in any field is a StrategyConfigError naming that field`, () => {
      for (const field of definition.configFields) {
        const { value, message } = wrongValue(field);
        let thrown: unknown;
        try {
          definition.parseConfig({ [field.name]: value });
        } catch (error) {
          thrown = error;
        }
        expect(thrown, `${definition.kind}.${field.name}`).toBeInstanceOf(StrategyConfigError);
        expect((thrown as StrategyConfigError).field).toBe(field.name);
        expect((thrown as Error).message).toMatch(message);
      }
    });

    it(`${definition.kind}: out of range values and unknown settings are named`, () => {
      for (const field of definition.configFields) {
        if (field.min !== undefined)
          expect(() => void definition.parseConfig({ [field.name]: field.min! - 1 })).toThrow(new RegExp(`^${field.name}: must be at least ${field.min}`));
        if (field.max !== undefined)
          expect(() => void definition.parseConfig({ [field.name]: field.max! + 1 })).toThrow(new RegExp(`^${field.name}: must be at most ${field.max}`));
      }
      expect(() => void definition.parseConfig({ colour: 'red' })).toThrow(/^colour: is not a setting of this strategy/);
      expect(() => void definition.parseConfig(42)).toThrow(/^config: must be an object/);
    });
  }
});
