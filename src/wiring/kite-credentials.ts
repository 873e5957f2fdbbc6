/**
 * Kite credentials for `--broker kite` and the `troupe kite …` / `fetch-history` commands: the
 * environment, else the JSON file named by `KITE_CREDENTIALS_FILE`, else the session that
 * `troupe kite login` stored (encrypted).
 */
import { readFileSync } from 'node:fs';
import { KiteTokenStore } from '../brokers/kite/token-store.js';
import { ConfigError, type TroupeConfig } from '../config/config.js';

/** Credentials from the environment, else from the JSON file named by `KITE_CREDENTIALS_FILE`, else (access token) the session stored by `troupe kite login`. */
export function kiteCredentials(
  config: TroupeConfig['kite'],
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
  tokenStore?: () => KiteTokenStore,
  requireSession = true,
): {
  apiKey: string;
  apiSecret: string | undefined;
  accessToken: string | undefined;
  requestToken: string | undefined;
} {
  let file: Record<string, unknown> = {};
  if (config.credentialsFile !== undefined) {
    try {
      const parsed: unknown = JSON.parse(readFile(config.credentialsFile));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
      file = parsed as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError('KITE_CREDENTIALS_FILE', `could not be read as JSON credentials (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  const fromFile = (key: string): string | undefined => (typeof file[key] === 'string' && file[key] !== '' ? file[key] : undefined);
  const apiKey = config.apiKey ?? fromFile('api_key');
  if (apiKey === undefined) throw new ConfigError('KITE_API_KEY', 'is required with --broker kite (or api_key in KITE_CREDENTIALS_FILE)');
  let accessToken = config.accessToken ?? fromFile('access_token');
  const apiSecret = config.apiSecret ?? fromFile('api_secret');
  const requestToken = config.requestToken ?? fromFile('request_token');
  let storeProblem: string | undefined;
  if (accessToken === undefined && requestToken === undefined && tokenStore !== undefined) {
    // the session `troupe kite login` stored (encrypted), while it is valid
    const loaded = tokenStore().load(apiKey);
    accessToken = loaded.session?.accessToken;
    storeProblem = loaded.problem;
  }
  if (requireSession && accessToken === undefined && (requestToken === undefined || apiSecret === undefined)) {
    throw new ConfigError(
      'KITE_ACCESS_TOKEN',
      `is required with --broker kite: log in with \`troupe kite login\` (stores the session encrypted), or set KITE_ACCESS_TOKEN, or KITE_REQUEST_TOKEN + KITE_API_SECRET, or a KITE_CREDENTIALS_FILE${storeProblem === undefined ? '' : ` (${storeProblem})`}`,
    );
  }
  return { apiKey, apiSecret, accessToken, requestToken };
}

/** The encrypted session store of this configuration. */
export function kiteTokenStore(config: TroupeConfig): KiteTokenStore {
  return new KiteTokenStore({ dataDir: config.dataDir, secretKey: config.kite.secretKey });
}
