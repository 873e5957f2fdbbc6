import { describe, expect, it } from 'vitest';
import { fieldConfig, STRATEGIES, StrategyConfigError, type ConfigField } from '../../src/strategies/index.js';

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

describe('fieldConfig', () => {
  const FIELDS = [
    { name: 'fast', type: 'integer', description: 'Fast length', default: 5, min: 1 },
    { name: 'slow', type: 'integer', description: 'Slow length', default: 20, min: 2 },
  ] as const satisfies readonly ConfigField[];

  it('declares the fields and reads the settings with them', () => {
    const part = fieldConfig(FIELDS);
    expect(part.configFields).toBe(FIELDS);
    expect(part.parseConfig({ fast: 3 })).toEqual({ fast: 3, slow: 20 });
    expect(() => part.parseConfig({ fast: 0 })).toThrow(/^fast: must be at least 1/);
  });

  it('hands the values read to the check, which may refuse them or derive the config', () => {
    const part = fieldConfig(FIELDS, (values) => {
      if (values.fast >= values.slow) throw new StrategyConfigError('fast', 'must be shorter than slow');
      return { ...values, span: values.slow - values.fast };
    });
    expect(part.parseConfig({})).toEqual({ fast: 5, slow: 20, span: 15 });
    expect(() => part.parseConfig({ fast: 30 })).toThrow(/^fast: must be shorter than slow/);
    expect(() => part.parseConfig({ slow: 'x' })).toThrow(/^slow: must be a number/); // the fields are read first
  });
});
