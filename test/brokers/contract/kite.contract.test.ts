/**
 * The broker contract against the Kite adapter (`src/brokers/kite/kite-adapter.ts`) backed by the
 * real simulator, through the unmodified `kiteconnect` client over loopback. No ticker here: the
 * adapter learns of changes by polling (the contract steps the simulator and asks for a poll).
 */
import { kiteBrokerAdapter } from '../../../src/brokers/kite/kite-adapter.js';
import { KiteBroker } from '../../../src/brokers/kite/kite-broker.js';
import { silentLogger } from '../../../src/observability/logger.js';
import type { KiteSimulator } from '../../../src/sim/index.js';
import { API_KEY, API_SECRET, startSimulator } from '../../sim/support.js';
import { describeBrokerContract } from './broker-contract.js';

let sim: KiteSimulator | undefined;

describeBrokerContract(
  'kite (simulator)',
  async () => {
    sim = await startSimulator({ openingCashPaise: 1e14 });
    const simulator = sim;
    const broker = new KiteBroker({ apiKey: API_KEY, root: simulator.url });
    await broker.createSessionDetails(simulator.admin.createRequestToken(), API_SECRET);
    const [first] = await broker.withReferencePrices(await broker.instruments());
    if (first === undefined) throw new Error('the simulator lists no instrument');
    simulator.admin.step(5);
    const instrument = { ...first, referencePricePaise: simulator.admin.lastPricePaise(first.symbol) ?? first.referencePricePaise };
    const instruments = new Map([[instrument.symbol, instrument]]);
    return {
      instrument,
      clock: { nowMs: () => simulator.admin.nowMs() },
      partialQuantity: 20_000,
      lastPricePaise: () => simulator.admin.lastPricePaise(instrument.symbol) ?? instrument.referencePricePaise,
      adapter: () => kiteBrokerAdapter({ broker, instruments, log: silentLogger() }),
      step(send) {
        simulator.admin.step(1);
        send({ type: 'PollOrders', reason: 'contract' });
      },
      ordersAtVenue: async (clientOrderId) => (await broker.orders()).filter((o) => o.clientOrderId === clientOrderId).length,
    };
  },
  async () => {
    await sim?.close();
    sim = undefined;
  },
);
