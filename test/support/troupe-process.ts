/**
 * A real Troupe process (`src/main.ts`) for end-to-end tests: started on a free port (PORT=0, the
 * port read from its JSON log), its own data directory, its stderr kept for the error when it
 * exits early; stopped with SIGTERM. Plus the small HTTP client the tests drive it with.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = resolve(import.meta.dirname, '../..');

export interface TroupeProcessOptions {
  /** TROUPE_DATA_DIR. */
  readonly dataDir: string;
  /** Variables over the inherited environment (PORT, HOST and LOG_LEVEL are set here). */
  readonly env: Readonly<Record<string, string>>;
  /** false: leave the shell's DATABASE_URL and REDIS_URL out (the embedded store, as `npm start` uses, unless `env` names one). */
  readonly inheritStores?: boolean;
  /** Log messages (their beginnings) that say the process is up; the default: it is trading. */
  readonly readyMessages?: readonly string[];
}

export interface TroupeProcess {
  /** The port its gateway listens on (127.0.0.1). */
  readonly port: number;
  /** Whether it has not exited yet. */
  running(): boolean;
  /** SIGTERM, then its exit: the exit code (null when a signal ended it); at once when it has exited already. */
  stop(): Promise<number | null>;
}

/** Starts Troupe and resolves once its log says it is up (rejects, with its stderr, when it exits first). */
export async function startTroupeProcess(options: TroupeProcessOptions): Promise<TroupeProcess> {
  const { DATABASE_URL: _database, REDIS_URL: _redis, ...withoutStores } = process.env;
  const inherited = options.inheritStores === false ? withoutStores : process.env;
  const ready = options.readyMessages ?? ['Troupe is trading'];
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...inherited, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', TROUPE_DATA_DIR: options.dataDir, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const reader = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolvePort, reject) => {
    reader.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { message?: string; 'server.port'?: number };
        if (entry['server.port'] && ready.some((message) => entry.message?.startsWith(message))) resolvePort(entry['server.port']);
      } catch {
        // not JSON
      }
    });
    child.once('exit', (code) => reject(new Error(`troupe exited with ${code}: ${stderr.join('')}`)));
  });
  return {
    port,
    running: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}

/** A JSON call to the gateway on `port`: the status and the parsed body (null when empty). */
export async function callApi<T>(
  port: number,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
  headers: Readonly<Record<string, string>> = {},
): Promise<{ status: number; body: T }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
}

/** Logs in on `port`: the access token, or an error naming the status. */
export async function loginToken(port: number, credentials: { readonly user: string; readonly password: string }): Promise<string> {
  const login = await callApi<{ accessToken: string }>(port, 'POST', '/api/v1/auth/login', undefined, {
    username: credentials.user,
    password: credentials.password,
  });
  if (login.status !== 200) throw new Error(`login as ${credentials.user} answered ${login.status}: ${JSON.stringify(login.body)}`);
  return login.body.accessToken;
}

/** Polls a condition (no fixed sleeps): resolves with the first truthy value, fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs: number, pollMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolveTurn) => setTimeout(resolveTurn, pollMs));
  }
}
