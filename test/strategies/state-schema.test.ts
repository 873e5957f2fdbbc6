import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { strategyHostCodec } from '../../src/actors/strategy/strategy.snapshot.js';
import { plainJsonState, StrategyStateError, type Json } from '../../src/strategies/api.js';
import { emaCross } from '../../src/strategies/ema-cross/ema-cross.strategy.js';
import { STRATEGIES } from '../../src/strategies/index.js';
import { momentumRotation } from '../../src/strategies/momentum-rotation/momentum-rotation.strategy.js';
import { pairs } from '../../src/strategies/pairs/pairs.strategy.js';
import { tutorialSma } from '../../src/strategies/tutorial-sma/tutorial-sma.strategy.js';
import { fakeContext } from '../support/strategy-kit.js';

/** A strategy host snapshot around `strategy` (the host's own fields empty). */
const hostSnapshot = (strategy: Json): Json => ({
  hostVersion: 3,
  strategy,
  sequence: 0,
  positions: {},
  working: {},
  workingBySymbol: {},
  paused: false,
});

const thrown = (run: () => unknown): unknown => {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
};

describe('strategy state schemas', () => {
  it('decodes a snapshot that fits the schema into a private copy', () => {
    const codec = plainJsonState(Type.Record(Type.String(), Type.Array(Type.Integer())));
    const json = { INFY: [1, 2, 3] };
    const state = codec.decodeState(json, 1);
    expect(state).toEqual({ INFY: [1, 2, 3] });
    state['INFY']!.push(4);
    expect(json.INFY).toEqual([1, 2, 3]);
  });

  it('refuses a snapshot of the wrong shape, naming the first bad field', () => {
    const error = thrown(() => emaCross.decodeState({ INFY: { fast: 'fast', slow: 1, samples: 3, side: 1 } }, emaCross.stateVersion));
    expect(error).toBeInstanceOf(StrategyStateError);
    expect(error).toMatchObject({ path: '/INFY/fast' });
    expect((error as Error).message).toBe('strategy state: /INFY/fast must be number');
    expect(() => pairs.decodeState([], pairs.stateVersion)).toThrow(/^strategy state: the state must be object$/);
    expect(() => momentumRotation.decodeState({ closes: {}, pending: { startMs: 0 }, steps: 0, holdings: [] }, 1)).toThrow(
      'strategy state: /pending must have required properties symbols',
    );
  });

  it('the host names the strategy whose restored state does not fit', () => {
    const codec = strategyHostCodec(tutorialSma);
    expect(() => codec.decode(hostSnapshot({ INFY: [97_000, '97100'] }), tutorialSma.stateVersion)).toThrow(
      'strategy tutorial-sma state: /INFY/1 must be integer',
    );
    expect(codec.decode(hostSnapshot({ INFY: [97_000, 97_100] }), tutorialSma.stateVersion).strategy).toEqual({ INFY: [97_000, 97_100] });
  });

  it('still reads snapshots written before optional fields existed (ema-cross without following / signalledAtMs)', () => {
    const old = { INFY: { fast: 1500.5, slow: 1490.25, samples: 40, side: 1 } };
    expect(emaCross.decodeState(old, emaCross.stateVersion)).toEqual(old);
  });

  it('encodes a deep copy that is JSON, and refuses what JSON cannot carry', () => {
    const state = { INFY: { fast: 1, slow: 2, samples: 3, side: -1 } };
    const encoded = emaCross.encodeState(state);
    expect(encoded).toEqual(state);
    state.INFY.fast = 9;
    expect(encoded).toEqual({ INFY: { fast: 1, slow: 2, samples: 3, side: -1 } });
    expect(() => emaCross.encodeState({ INFY: { fast: Number.NaN, slow: 2, samples: 3, side: 0 } })).toThrow(
      'strategy state: /INFY/fast is NaN, which JSON cannot carry',
    );
  });

  it('every registered strategy reads back what it writes, and refuses a state of the wrong type', () => {
    const symbolsFor: Record<string, string[]> = { pairs: ['INFY', 'TCS'], 'momentum-rotation': ['INFY', 'TCS', 'SBIN', 'ITC'] };
    for (const definition of STRATEGIES) {
      const config: unknown = definition.parseConfig({ symbols: symbolsFor[definition.kind] ?? ['INFY'] });
      const state: unknown = definition.init(fakeContext(config).ctx);
      const json = JSON.parse(JSON.stringify(definition.encodeState(state))) as Json;
      expect(definition.decodeState(json, definition.stateVersion)).toEqual(state);
      expect(() => strategyHostCodec(definition).decode(hostSnapshot('not a state'), definition.stateVersion)).toThrow(
        new RegExp(`^strategy ${definition.kind} state: the state must be `),
      );
    }
  });
});
