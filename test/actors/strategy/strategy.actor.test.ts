import { Type } from 'typebox';
import { afterEach, describe, expect, it } from 'vitest';
import { createActorSystem, createProbe, type ActorSystem } from '../../../src/actors/core/index.js';
import type { AggregatorCommand } from '../../../src/actors/aggregator/aggregator.protocol.js';
import type { RiskCommand } from '../../../src/actors/risk/risk.protocol.js';
import { REGIME_GATED, strategyBehavior, type StrategyInstance } from '../../../src/actors/strategy/strategy.actor.js';
import type { StrategyCommand, StrategyStatus } from '../../../src/actors/strategy/strategy.protocol.js';
import { newOrder, type DomainEvent, type OrderIntent, type Regime, type RiskAlert } from '../../../src/model/index.js';
import { Directory } from '../../../src/actors/directory.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { MarketCache } from '../../../src/actors/market-cache.js';
import {
  defineStrategy,
  plainJsonState,
  type AggregateDecision,
  type IntentRequest,
  type PendingIntent,
  type RefusedIntent,
  type SignalRequest,
  type StrategyOrderEvent,
} from '../../../src/strategies/api.js';
import { bar, fill } from '../../support/builders.js';

/** One step per closed bar: what the scripted strategy submits and signals. */
interface Step {
  readonly submit?: Omit<IntentRequest, 'symbol'> & { symbol?: string };
  readonly signal?: SignalRequest;
}
interface ScriptConfig {
  readonly steps: readonly Step[];
}

/** A plugin that does what the test says, and records what it hears. */
function scripted(regimes: readonly Regime[] | undefined, regimeScope?: 'symbol' | 'market') {
  const heard: StrategyOrderEvent[] = [];
  const votes: AggregateDecision[] = [];
  /** What the plugin saw of its intents on each bar (`ctx.intents` and `workingQuantity`). */
  const views: { pending: readonly PendingIntent[]; refused: readonly RefusedIntent[]; working: number }[] = [];
  const definition = defineStrategy<ScriptConfig, { step: number }>({
    kind: 'scripted',
    description: 'test plugin',
    stateVersion: 1,
    configFields: [],
    ...(regimes === undefined ? {} : { regimes }),
    ...(regimeScope === undefined ? {} : { regimeScope }),
    parseConfig: (raw) => raw as ScriptConfig,
    subscriptions: () => [{ kind: 'bars', symbols: ['INFY'], interval: '5m' }],
    init: () => ({ step: 0 }),
    onBar(state, b, ctx) {
      views.push({ pending: ctx.intents.pending(), refused: ctx.intents.refused('INFY'), working: ctx.portfolio.workingQuantity('INFY') });
      const step = ctx.config.steps[state.step];
      if (step?.submit) ctx.submit({ symbol: b.symbol, orderType: 'MARKET', product: 'MIS', ...step.submit });
      if (step?.signal) ctx.signal(step.signal);
      return { step: state.step + 1 };
    },
    onOrderEvent(state, event) {
      heard.push(event);
      return state;
    },
    onAggregate(state, vote, ctx) {
      votes.push(vote);
      if (vote.decision !== 'FLAT')
        ctx.submit({
          symbol: vote.symbol,
          side: vote.decision,
          quantity: 5,
          explanation: { source: 'signal-aggregator', summary: vote.summary, signals: vote.contributions },
        });
      return state;
    },
    ...plainJsonState(Type.Object({ step: Type.Integer() })),
  });
  return { definition, heard, votes, views };
}

const t0 = Date.parse('2026-05-20T04:00:00Z');
const barAt = (index: number) => bar({ symbol: 'INFY', interval: '5m', startMs: t0 + index * 300_000 });

describe('strategy host: regime gating and signals', () => {
  let system: ActorSystem;
  afterEach(async () => {
    await system.shutdown();
  });

  function host(options: { regimes?: readonly Regime[]; scope?: 'symbol' | 'market'; override?: readonly Regime[] | null; steps: Step[] }) {
    system = createActorSystem();
    const directory = new Directory();
    const risk = createProbe<RiskCommand>(system, 'risk');
    const aggregator = createProbe<AggregatorCommand>(system, 'aggregator');
    directory.risk = risk.ref;
    const events: DomainEvent[] = [];
    const plugin = scripted(options.regimes, options.scope);
    const instance: StrategyInstance = {
      strategyId: 's1',
      portfolioId: 'p1',
      definition: plugin.definition,
      config: { steps: options.steps },
      ...(options.override === undefined ? {} : { regimes: options.override }),
    };
    const ref = system.spawn(
      's1',
      strategyBehavior(instance, {
        directory,
        cache: new MarketCache(),
        clock: { nowMs: () => t0 },
        log: silentLogger(),
        bus: { publish: (e) => events.push(e) },
        aggregator: () => aggregator.ref,
      }),
    );
    directory.strategies.set('s1', ref);
    const status = async (): Promise<StrategyStatus> => {
      const probe = createProbe<StrategyStatus>(system);
      system.tell(ref, { type: 'GetStatus', replyTo: probe.ref });
      return probe.expectMessage();
    };
    const tell = (message: StrategyCommand): void => system.tell(ref, message);
    const intentOf = async (): Promise<{ intent: OrderIntent; clientOrderId: string }> => {
      const message = await risk.expectMessage();
      if (message.type !== 'EvaluateIntent') throw new Error(`expected an intent, got ${message.type}`);
      return message;
    };
    /** Fills an intent completely, like the execution actor reports it. */
    const fillIntent = ({ intent, clientOrderId }: { intent: OrderIntent; clientOrderId: string }): void => {
      const order = {
        ...newOrder(intent, clientOrderId, t0),
        status: 'COMPLETE' as const,
        filledQuantity: intent.quantity,
        filledValuePaise: intent.quantity * 150_000,
      };
      tell({
        type: 'OrderEvent',
        event: {
          type: 'OrderFilled',
          order,
          fill: fill({ clientOrderId, symbol: intent.symbol, side: intent.side, quantity: intent.quantity, strategyId: 's1' }),
        },
      });
    };
    return { ref, risk, aggregator, events, plugin, status, tell, intentOf, fillIntent };
  }

  const alerts = (events: DomainEvent[]): RiskAlert[] => events.filter((e): e is RiskAlert => e.type === 'RiskAlert');

  it('sends entries while the regime is unknown, refuses them outside the declared regimes, and always lets exits through', async () => {
    const h = host({
      regimes: ['ranging'],
      steps: [
        { submit: { side: 'BUY', quantity: 10 } },
        { submit: { side: 'BUY', quantity: 10 } },
        { submit: { side: 'SELL', quantity: 25 } },
        { submit: { side: 'SELL', quantity: 5 } },
      ],
    });
    h.tell({ type: 'BarsClosed', bars: [barAt(0)] }); // regime unknown: not gated
    h.fillIntent(await h.intentOf());
    h.tell({ type: 'RegimesChanged', regimes: { INFY: 'trending' } });
    h.tell({ type: 'BarsClosed', bars: [barAt(1)] }); // BUY 10 more: an entry in a trending market
    h.tell({ type: 'BarsClosed', bars: [barAt(2)] }); // SELL 25 from long 10: cut to the 10 that flatten
    const exit = await h.intentOf();
    expect(exit.intent).toMatchObject({ side: 'SELL', quantity: 10, symbol: 'INFY' });
    expect(exit.intent.reason).toContain('exit only (trending)');
    h.fillIntent(exit);
    h.tell({ type: 'BarsClosed', bars: [barAt(3)] }); // SELL 5 from flat: a short entry, refused
    const status = await h.status();
    expect(status.stats).toMatchObject({ intents: 4, gated: 3, rejected: 2, fills: 2 });
    expect(status.positions).toEqual({ INFY: 0 });
    expect(status.regimes).toEqual({ INFY: 'trending' });
    expect(status.tradesIn).toEqual(['ranging']);
    await h.risk.expectNoMessage(20);
    const gated = alerts(h.events);
    expect(gated.map((a) => [a.code, a.severity, a.intent?.side, a.intent?.quantity])).toEqual([
      [REGIME_GATED, 'info', 'BUY', 10],
      [REGIME_GATED, 'info', 'SELL', 25],
      [REGIME_GATED, 'info', 'SELL', 5],
    ]);
    expect(gated[0]!.message).toContain('INFY is trending, outside the regimes scripted trades in (ranging)');
    // the plugin heard its refused intents, told apart from risk's refusals by the code
    expect(h.plugin.heard.filter((e) => e.type === 'IntentRejected')).toEqual([
      expect.objectContaining({ intentId: 's1:1', code: REGIME_GATED }),
      expect.objectContaining({ intentId: 's1:3', code: REGIME_GATED }),
    ]);
  });

  it('lets entries through in a declared regime, and trades anywhere when the instance turns gating off', async () => {
    const on = host({ regimes: ['ranging'], steps: [{ submit: { side: 'BUY', quantity: 10 } }] });
    on.tell({ type: 'RegimesChanged', regimes: { INFY: 'ranging' } });
    on.tell({ type: 'BarsClosed', bars: [barAt(0)] });
    expect((await on.intentOf()).intent).toMatchObject({ side: 'BUY', quantity: 10 });
    await system.shutdown();

    const off = host({ regimes: ['ranging'], override: null, steps: [{ submit: { side: 'BUY', quantity: 10 } }] });
    off.tell({ type: 'RegimesChanged', regimes: { INFY: 'high-volatility' } });
    off.tell({ type: 'BarsClosed', bars: [barAt(0)] });
    expect((await off.intentOf()).intent).toMatchObject({ side: 'BUY', quantity: 10 });
    expect((await off.status()).tradesIn).toBeUndefined();
    expect(alerts(off.events)).toEqual([]);
  });

  it('falls back to the market regime while the symbol has none; a market-scoped strategy reads only the market', async () => {
    const symbolScoped = host({ regimes: ['trending'], steps: [{ submit: { side: 'BUY', quantity: 10 } }, { submit: { side: 'BUY', quantity: 10 } }] });
    symbolScoped.tell({ type: 'RegimesChanged', regimes: { MARKET: 'ranging' } });
    symbolScoped.tell({ type: 'BarsClosed', bars: [barAt(0)] }); // INFY unknown → MARKET ranging → refused
    symbolScoped.tell({ type: 'RegimesChanged', regimes: { INFY: 'trending' } });
    symbolScoped.tell({ type: 'BarsClosed', bars: [barAt(1)] }); // INFY's own regime wins
    expect((await symbolScoped.intentOf()).intent.intentId).toBe('s1:1');
    expect((await symbolScoped.status()).stats.gated).toBe(1);
    await system.shutdown();

    const marketScoped = host({ regimes: ['trending'], scope: 'market', steps: [{ submit: { side: 'BUY', quantity: 10 } }] });
    marketScoped.tell({ type: 'RegimesChanged', regimes: { INFY: 'trending', MARKET: 'ranging' } });
    marketScoped.tell({ type: 'BarsClosed', bars: [barAt(0)] });
    await marketScoped.risk.expectNoMessage(20);
    expect(alerts(marketScoped.events)[0]!.message).toContain('INFY is ranging (market)');
  });

  it('sends signals to the aggregator stamped with its id and time; outside its regimes a signal becomes an abstention', async () => {
    const h = host({
      regimes: ['ranging'],
      steps: [
        { signal: { symbol: 'INFY', direction: 'long', confidence: 0.8, reason: 'oversold' } },
        { signal: { symbol: 'INFY', direction: 'short', confidence: 0.9, reason: 'overbought' } },
      ],
    });
    h.tell({ type: 'BarsClosed', bars: [barAt(0)] });
    expect(await h.aggregator.expectMessage()).toEqual({
      type: 'SubmitSignals',
      signals: [{ strategyId: 's1', symbol: 'INFY', direction: 'long', confidence: 0.8, atMs: t0, reason: 'oversold' }],
    });
    h.tell({ type: 'RegimesChanged', regimes: { INFY: 'trending' } });
    h.tell({ type: 'BarsClosed', bars: [barAt(1)] });
    expect(await h.aggregator.expectMessage()).toEqual({
      type: 'SubmitSignals',
      signals: [
        {
          strategyId: 's1',
          symbol: 'INFY',
          direction: 'flat',
          confidence: 0,
          atMs: t0,
          reason: 'outside its regimes (trending); would have said short: overbought',
        },
      ],
    });
    expect((await h.status()).stats.signals).toBe(2);
  });

  it('hands aggregate votes to onAggregate; the explanation reaches the intent with the regime added', async () => {
    const h = host({ steps: [] });
    h.tell({ type: 'RegimesChanged', regimes: { INFY: 'trending' } });
    const contributions = [{ strategyId: 'ema', direction: 'long' as const, confidence: 0.9, weight: 2, contribution: 0.6, atMs: t0, reason: 'EMA up' }];
    h.tell({
      type: 'SignalsAggregated',
      decisions: [
        {
          symbol: 'INFY',
          decision: 'BUY',
          score: 0.6,
          confidence: 0.6,
          atMs: t0,
          contributions,
          summary: 'BUY INFY: score 0.60 ≥ threshold 0.30; from ema long 0.90×w2 (EMA up)',
        },
      ],
    });
    const { intent } = await h.intentOf();
    expect(intent.explanation).toEqual({
      source: 'signal-aggregator',
      summary: 'BUY INFY: score 0.60 ≥ threshold 0.30; from ema long 0.90×w2 (EMA up)',
      signals: contributions,
      regime: 'trending',
    });
    expect(newOrder(intent, 'C1', t0).explanation).toEqual(intent.explanation); // risk makes the order from the intent: it carries the explanation
    expect(h.plugin.votes).toHaveLength(1);
  });

  it('keeps the regimes in its snapshot, and decodes a snapshot from before regimes existed', async () => {
    const h = host({ regimes: ['ranging'], steps: [{ submit: { side: 'BUY', quantity: 10 } }] });
    h.tell({ type: 'RegimesChanged', regimes: { INFY: 'trending' } });
    await h.status();
    await system.stop(h.ref);
    const snapshot = system.lastSnapshot('/s1');
    expect(snapshot?.state).toMatchObject({ hostVersion: 3, regimes: { INFY: 'trending' }, pending: {}, refused: [] });
    const again = system.spawn(
      's1',
      strategyBehavior(
        { strategyId: 's1', portfolioId: 'p1', definition: h.plugin.definition, config: { steps: [{ submit: { side: 'BUY', quantity: 10 } }] } },
        { directory: new Directory(), cache: new MarketCache(), clock: { nowMs: () => t0 }, log: silentLogger() },
      ),
      { initialSnapshot: snapshot! },
    );
    const probe = createProbe<StrategyStatus>(system);
    system.tell(again, { type: 'GetStatus', replyTo: probe.ref });
    expect((await probe.expectMessage()).regimes).toEqual({ INFY: 'trending' });

    const old = {
      ...snapshot!,
      key: '/old',
      state: {
        hostVersion: 1,
        strategy: { step: 0 },
        sequence: 3,
        positions: {},
        working: {},
        workingBySymbol: {},
        paused: false,
        stats: { ticks: 1, bars: 2, intents: 3, rejected: 0, fills: 0 },
      },
    };
    const restored = system.spawn(
      'old',
      strategyBehavior(
        { strategyId: 'old', portfolioId: 'p1', definition: h.plugin.definition, config: { steps: [] } },
        { directory: new Directory(), cache: new MarketCache(), clock: { nowMs: () => t0 }, log: silentLogger() },
      ),
      { initialSnapshot: old },
    );
    system.tell(restored, { type: 'GetStatus', replyTo: probe.ref });
    expect(await probe.expectMessage()).toMatchObject({
      regimes: {},
      pendingIntents: [],
      refusedIntents: [],
      stats: { ticks: 1, bars: 2, intents: 3, gated: 0, signals: 0, paced: 0 },
    });
  });

  it('shows the strategy its intents waiting for the order rate limit and those refused; a paced intent stays working', async () => {
    const h = host({ steps: [{ submit: { side: 'BUY', quantity: 10 } }, { submit: { side: 'SELL', quantity: 5 } }, {}, {}] });
    h.tell({ type: 'BarsClosed', bars: [barAt(0)] });
    const first = await h.intentOf();
    h.tell({ type: 'IntentPaced', intentId: first.intent.intentId, symbol: 'INFY', reason: 'queued as an entry', atMs: t0 + 1 });
    h.tell({ type: 'BarsClosed', bars: [barAt(1)] }); // sees it pending; sends SELL 5
    const second = await h.intentOf();
    let status = await h.status();
    expect(status.pendingIntents).toEqual([{ intentId: 's1:0', symbol: 'INFY', side: 'BUY', quantity: 10, queuedAtMs: t0 + 1, reason: 'queued as an entry' }]);
    expect(status.stats.paced).toBe(1);
    h.tell({ type: 'IntentReleased', intentId: first.intent.intentId, atMs: t0 + 2 });
    h.tell({
      type: 'OrderEvent',
      event: { type: 'IntentRejected', intentId: second.intent.intentId, symbol: 'INFY', reason: 'position limit', code: 'max-position' },
    });
    h.tell({ type: 'BarsClosed', bars: [barAt(2)] });
    h.fillIntent(first);
    h.tell({ type: 'BarsClosed', bars: [barAt(3)] });
    status = await h.status();
    expect(h.plugin.views).toEqual([
      { pending: [], refused: [], working: 0 },
      {
        pending: [{ intentId: 's1:0', symbol: 'INFY', side: 'BUY', quantity: 10, queuedAtMs: t0 + 1, reason: 'queued as an entry' }],
        refused: [],
        working: 10,
      },
      {
        pending: [],
        refused: [{ intentId: 's1:1', symbol: 'INFY', side: 'SELL', quantity: 5, code: 'max-position', reason: 'position limit', atMs: t0 }],
        working: 10,
      },
      {
        pending: [],
        refused: [{ intentId: 's1:1', symbol: 'INFY', side: 'SELL', quantity: 5, code: 'max-position', reason: 'position limit', atMs: t0 }],
        working: 0,
      },
    ]);
    expect(status.pendingIntents).toEqual([]);
    expect(status.refusedIntents).toEqual([expect.objectContaining({ intentId: 's1:1', code: 'max-position' })]);
    expect(status.positions).toEqual({ INFY: 10 });
  });

  it('sends the intents of one hook run to risk as one EvaluateIntents, in order; a run with one intent sends an EvaluateIntent', async () => {
    const h = host({
      steps: [
        { submit: { side: 'BUY', quantity: 10 } },
        { submit: { side: 'SELL', quantity: 4 } },
        { submit: { side: 'BUY', quantity: 2 } },
        { submit: { side: 'SELL', quantity: 1 } },
      ],
    });
    h.tell({ type: 'BarsClosed', bars: [barAt(0), barAt(1), barAt(2)] }); // one hook run over three bars
    const batch = await h.risk.expectMessage();
    if (batch.type !== 'EvaluateIntents') throw new Error(`expected EvaluateIntents, got ${batch.type}`);
    expect(batch.intents.map(({ intent }) => [intent.intentId, intent.side, intent.quantity])).toEqual([
      ['s1:0', 'BUY', 10],
      ['s1:1', 'SELL', 4],
      ['s1:2', 'BUY', 2],
    ]);
    expect(new Set(batch.intents.map(({ clientOrderId }) => clientOrderId)).size).toBe(3);
    h.tell({ type: 'BarsClosed', bars: [barAt(3)] });
    expect(await h.intentOf()).toMatchObject({ intent: { intentId: 's1:3', side: 'SELL', quantity: 1 } });
    await h.risk.expectNoMessage();
    expect((await h.status()).workingIntents).toBe(4);
  });
});
