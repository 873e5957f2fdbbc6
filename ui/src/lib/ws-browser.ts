/**
 * The `ws` package does not run in browsers. The gateway's typed client
 * (`src/gateway/client`) imports it; the bundler aliases `ws` to this module, which gives
 * the native WebSocket the small part of the `ws` API the client uses: `on('open' |
 * 'message' | 'error' | 'close')`, with message data as text and close as (code, reason).
 */
type Listener = (...args: unknown[]) => void;

/**
 * Test and support hook: while `down`, new sockets go to a path of the same server that is no
 * WebSocket endpoint (refused at once, as if the network were down), so the stream's reconnect
 * and resume can be exercised in a real browser. Same origin, so the page's CSP (`connect-src
 * 'self'`) allows it: a socket to another address would throw instead of failing.
 */
export const network = { down: false };
const nowhere = (url: string | URL): URL => new URL('/network-down', url);

export class WebSocket extends globalThis.WebSocket {
  constructor(url: string | URL, protocols?: string | string[]) {
    super(network.down ? nowhere(url) : url, protocols);
  }

  on(event: 'open' | 'message' | 'error' | 'close', listener: Listener): this {
    switch (event) {
      case 'message':
        this.addEventListener('message', (message: MessageEvent<unknown>) => listener(message.data));
        break;
      case 'close':
        this.addEventListener('close', (close: CloseEvent) => listener(close.code, close.reason));
        break;
      case 'open':
      case 'error':
        this.addEventListener(event, () => listener());
        break;
    }
    return this;
  }

  once(event: 'open' | 'message' | 'error' | 'close', listener: Listener): this {
    let done = false;
    return this.on(event, (...args) => {
      if (done) return;
      done = true;
      listener(...args);
    });
  }
}

export default WebSocket;
