import { MessageChannel } from 'node:worker_threads';
import type { RuntimeFacade } from '../../src/runtime/facade.js';
import { serveFacade } from '../../src/runtime/port/facade-server.js';
import { PortRuntimeFacade } from '../../src/runtime/port/port-facade.js';
import type { Runtime } from '../../src/runtime/runtime.js';

/**
 * The facade the harness's gateway talks to: the runtime's own (default), or, with
 * `TROUPE_TEST_GATEWAY_FACADE=port`, the same facade across a message channel (`serveFacade` on
 * one end, `PortRuntimeFacade` on the other), so the gateway suite runs unchanged against the
 * read-model mirror and the request/response protocol the gateway worker uses.
 */
export async function gatewayFacade(runtime: Runtime): Promise<{ facade: RuntimeFacade; sync(): Promise<void>; close(): void }> {
  if (process.env.TROUPE_TEST_GATEWAY_FACADE !== 'port') return { facade: runtime.facade, sync: () => Promise.resolve(), close: () => undefined };
  const { port1, port2 } = new MessageChannel();
  const server = serveFacade(runtime.facade, port1);
  const remote = await PortRuntimeFacade.connect(port2, { metrics: runtime.metrics });
  return {
    facade: remote,
    sync: () => remote.sync(),
    close() {
      remote.close();
      server.close();
    },
  };
}
