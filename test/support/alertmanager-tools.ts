/**
 * Prometheus and Alertmanager for the alerting tests (the binaries come from
 * `prometheus-tools.ts`): real servers on free loopback ports, a webhook receiver, and the shipped
 * Alertmanager config with its receivers pointed at that webhook.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { alertmanagerBinary } from './prometheus-tools.js';
import { freePort } from './services.js';

/** The repository root (this file is test/support/alertmanager-tools.ts). */
export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
/** The shipped Alertmanager config. */
export const ALERTMANAGER_CONFIG = join(REPO_ROOT, 'deploy', 'alertmanager', 'alertmanager.yml');
/** The shipped alert rules (every group file). */
export const RULES_DIR = join(REPO_ROOT, 'deploy', 'prometheus', 'rules');

/** Runs a tool, returning its exit status and both outputs together. */
export function run(binary: string, args: readonly string[], cwd = REPO_ROOT): { status: number | null; output: string } {
  const result = spawnSync(binary, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

/**
 * The shipped Alertmanager config with every receiver's integrations replaced by one webhook,
 * `${baseUrl}/<receiver name>`: the routing tree, grouping, timings and inhibition rules stay
 * exactly as shipped, only where notifications go changes.
 */
export function withWebhookReceivers(configText: string, baseUrl: string): string {
  const config = parse(configText) as { receivers?: { name: string }[] };
  if (!Array.isArray(config.receivers)) throw new Error('the Alertmanager config has no receivers');
  config.receivers = config.receivers.map((receiver) => ({
    name: receiver.name,
    webhook_configs: [{ url: `${baseUrl}/${receiver.name}`, send_resolved: true }],
  }));
  return stringify(config);
}

/** One webhook notification as Alertmanager sends it (version 4 payload), with the path it came to. */
export interface WebhookNotification {
  readonly path: string;
  readonly receivedAtMs: number;
  readonly body: {
    readonly receiver: string;
    readonly status: 'firing' | 'resolved';
    readonly groupKey: string;
    readonly alerts: readonly {
      readonly status: string;
      readonly labels: Record<string, string>;
      readonly annotations: Record<string, string>;
      readonly startsAt: string;
    }[];
  };
}

/** A local HTTP receiver that records every POST. */
export class WebhookReceiver {
  readonly notifications: WebhookNotification[] = [];
  private readonly server: Server;
  private port = 0;

  private constructor() {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        try {
          this.notifications.push({
            path: request.url ?? '',
            receivedAtMs: Date.now(),
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookNotification['body'],
          });
          response.writeHead(200).end();
        } catch {
          response.writeHead(400).end();
        }
      });
    });
  }

  static async start(): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver();
    receiver.server.listen(0, '127.0.0.1');
    await once(receiver.server, 'listening');
    const address = receiver.server.address();
    if (address === null || typeof address === 'string') throw new Error('webhook receiver: no port');
    receiver.port = address.port;
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((done) => this.server.close(() => done()));
  }
}

/** A server process we started, with its output kept for failure messages. */
export class ServerProcess {
  private output = '';
  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly url: string,
    private readonly dir: string,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-20_000)));
    child.stderr?.on('data', (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-20_000)));
  }

  /** Starts `binary args…` (args get the port) and waits until `${url}${readyPath}` answers 200. */
  static async start(
    name: string,
    binary: string,
    args: (port: number, dir: string) => string[],
    readyPath: string,
    timeoutMs = 30_000,
  ): Promise<ServerProcess> {
    const dir = mkdtempSync(join(tmpdir(), `troupe-${name}-`));
    const port = await freePort();
    const child = spawn(binary, args(port, dir), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new ServerProcess(name, child, `http://127.0.0.1:${port}`, dir);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${server.output}`);
      try {
        if ((await fetch(`${server.url}${readyPath}`)).ok) return server;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await server.stop();
        throw new Error(`${name} did not become ready within ${timeoutMs} ms:\n${server.output}`);
      }
      await new Promise((done) => setTimeout(done, 100));
    }
  }

  /** What the process printed (the last 20 kB). */
  get log(): string {
    return this.output;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = once(this.child, 'exit');
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Starts the real Alertmanager on the given config text (clustering off, a throwaway data directory). */
export async function startAlertmanager(configText: string): Promise<ServerProcess> {
  const binary = alertmanagerBinary();
  return ServerProcess.start(
    'alertmanager',
    binary,
    (port, dir) => {
      writeFileSync(join(dir, 'alertmanager.yml'), configText);
      return [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
        '--log.level=warn',
      ];
    },
    '/-/ready',
  );
}

/** Reads a shipped file of the repository. */
export function readRepoFile(...parts: string[]): string {
  return readFileSync(join(REPO_ROOT, ...parts), 'utf8');
}
