/**
 * A worker thread that connects a `PortRuntimeFacade` over the port it is given and answers the
 * test's questions with what the facade gives it: the mirror's readings after a sync, a query,
 * a command, and the events it heard.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { Type } from 'typebox';
import { Check } from 'typebox/value';
import { Metrics } from '../../../src/observability/metrics.js';
import { PortRuntimeFacade } from '../../../src/runtime/port/port-facade.js';
import { intent } from '../../support/builders.js';

const Data = Type.Object({ port: Type.Unsafe<MessagePort>(Type.Object({})) });
if (!parentPort || !Check(Data, workerData)) throw new Error('port-facade-worker: needs a parent and { port }');
const parent = parentPort;
const facade = await PortRuntimeFacade.connect(workerData.port, { metrics: new Metrics() });
const heard: string[] = [];
facade.onEvent('OrderSubmitted', (event) => heard.push(`submitted ${event.order.clientOrderId}`));
await facade.sync();
parent.on('message', (question: unknown) => {
  void (async () => {
    if (question === 'readings') {
      await facade.sync();
      parent.postMessage({
        portfolios: facade.portfolios(),
        quotes: facade.quotes(),
        marketNowMs: facade.marketNowMs(),
        strategyIds: await facade.strategyIds(),
      });
    } else if (question === 'order') {
      const submission = await facade.submitOrder(
        intent({ intentId: 'manual:w1', strategyId: 'manual', portfolioId: 'paper', quantity: 5, orderType: 'LIMIT', limitPricePaise: 98_000, createdAtMs: 0 }),
        'worker1',
      );
      parent.postMessage({ submission, heard });
    } else if (question === 'close') {
      facade.close();
      parent.close();
    }
  })();
});
parent.postMessage('ready');
