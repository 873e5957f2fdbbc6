/**
 * The gateway's end of `bench/facade-port.bench.ts` in a worker thread: connects a
 * `PortRuntimeFacade` over the port it is given, makes `requests` queries one after another
 * and posts their round-trip times (µs) back.
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { Type } from 'typebox';
import { Check } from 'typebox/value';
import { Metrics } from '../src/observability/metrics.js';
import { PortRuntimeFacade } from '../src/runtime/port/port-facade.js';

const Data = Type.Object({ port: Type.Unsafe<MessagePort>(Type.Object({})), requests: Type.Integer({ minimum: 1 }) });
if (!parentPort || !Check(Data, workerData)) throw new Error('facade-port-client: needs a parent and { port, requests }');
const facade = await PortRuntimeFacade.connect(workerData.port, { metrics: new Metrics() });
await facade.sync();
const latencies: number[] = [];
for (let index = 0; index < workerData.requests; index += 1) {
  const sent = performance.now();
  await facade.riskReport();
  latencies.push((performance.now() - sent) * 1000);
}
facade.close();
parentPort.postMessage(latencies);
