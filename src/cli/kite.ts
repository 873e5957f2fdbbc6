/**
 * `troupe kite login [--request-token T] [--port N] [--timeout-sec S]`: Kite's daily login.
 * Prints the login URL, receives the redirect's `request_token` on a loopback server (the Kite
 * app's redirect URL must be `http://127.0.0.1:<port>/kite/callback`), exchanges it for a session
 * (needs KITE_API_SECRET) and stores the access token encrypted in `<TROUPE_DATA_DIR>/kite/`.
 * `troupe kite status` says whether a valid session is stored.
 */
import { ConfigError, loadConfig } from '../config/config.js';
import { completeKiteLogin, kiteLoginUrl, receiveRequestToken } from '../brokers/kite/login.js';
import { kiteCredentials, kiteTokenStore } from '../wiring/kite-credentials.js';
import { intOption, parseArgs, usage, usageErrorText, UsageError, type OptionSpec } from './args.js';

export interface KiteCommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Called with the login URL once the receiver listens (tests follow it like a browser). */
  readonly onLoginUrl?: (url: string) => void;
}

const LOGIN_OPTIONS: readonly OptionSpec[] = [
  { name: 'request-token', description: 'Use this request token (from a redirect you already have) instead of waiting for one', valueName: 'token' },
  { name: 'port', description: 'Loopback port of the redirect receiver (default KITE_LOGIN_PORT, 5077)', valueName: 'n' },
  { name: 'timeout-sec', description: 'Give up waiting for the redirect after this long', default: '300', valueName: 's' },
];

const HELP = [
  'Usage: troupe kite <login|status> [options]   (login takes --help)',
  '',
  '  login    print the Kite login URL, receive the request token, store the session encrypted',
  '  status   say whether a valid Kite session is stored (sessions end at 06:00 IST)',
  '',
  'Settings: KITE_API_KEY, KITE_API_SECRET (or KITE_CREDENTIALS_FILE), KITE_ROOT (the simulator),',
  'TROUPE_SECRET_KEY (else the key file made once at <TROUPE_DATA_DIR>/secret.key), TROUPE_DATA_DIR.',
].join('\n');

/** Runs `troupe kite …`; returns the exit code. */
export async function kiteCommand(
  argv: readonly string[],
  io: KiteCommandIo = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) },
): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    const config = loadConfig(io.env);
    if (sub === 'status') {
      const credentials = kiteCredentialsForLogin(config);
      const loaded = kiteTokenStore(config).load(credentials.apiKey);
      if (loaded.session) {
        io.stdout(`Kite session of ${loaded.session.userId} stored; valid until ${new Date(loaded.session.expiresAtMs).toISOString()}\n`);
        return 0;
      }
      io.stdout(`No valid Kite session: ${loaded.problem ?? 'none stored'}. Run \`troupe kite login\`.\n`);
      return 1;
    }
    if (sub !== 'login') {
      if (sub === undefined || sub === 'help' || sub === '--help') {
        io.stdout(`${HELP}\n`);
        return 0;
      }
      io.stderr(usageErrorText('troupe kite', `unknown command "${sub}" (login or status)`, 'troupe kite --help'));
      return 2;
    }
    const values = parseArgs(rest, LOGIN_OPTIONS);
    if (!values) {
      io.stdout(
        `${usage('troupe kite login', 'Kite login: prints the login URL, receives the request token, stores the session encrypted.', LOGIN_OPTIONS)}\n`,
      );
      return 0;
    }
    const credentials = kiteCredentialsForLogin(config);
    if (credentials.apiSecret === undefined) throw new ConfigError('KITE_API_SECRET', 'is required to log in (or api_secret in KITE_CREDENTIALS_FILE)');
    const store = kiteTokenStore(config);
    let requestToken = values['request-token'];
    if (requestToken === undefined) {
      const port = values['port'] === undefined ? config.kite.loginPort : intOption(values, 'port', 0);
      const receiver = await receiveRequestToken(port);
      try {
        const url = kiteLoginUrl(credentials.apiKey, config.kite.root, receiver.redirectUrl);
        io.stderr(`Open this URL and log in to Kite:\n\n  ${url}\n\nWaiting for the redirect on ${receiver.redirectUrl} (the Kite app's redirect URL)…\n`);
        io.onLoginUrl?.(url);
        const timeoutSec = intOption(values, 'timeout-sec');
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no Kite login redirect within ${timeoutSec} s`)), timeoutSec * 1000);
        });
        try {
          requestToken = await Promise.race([receiver.requestToken, timeout]);
        } finally {
          clearTimeout(timer);
        }
      } finally {
        await receiver.close();
      }
    }
    const session = await completeKiteLogin({
      apiKey: credentials.apiKey,
      apiSecret: credentials.apiSecret,
      requestToken,
      ...(config.kite.root === undefined ? {} : { root: config.kite.root }),
      store,
    });
    io.stdout(
      `Logged in to Kite as ${session.userId}; session stored encrypted in ${store.path}, valid until ${new Date(session.expiresAtMs).toISOString()} (06:00 IST).\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(usageErrorText('troupe kite', error.message, 'troupe kite --help'));
      return 2;
    }
    io.stderr(`troupe kite: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

/** API key and secret (no access token needed yet). */
function kiteCredentialsForLogin(config: ReturnType<typeof loadConfig>): { apiKey: string; apiSecret: string | undefined } {
  const credentials = kiteCredentials(config.kite, undefined, undefined, false);
  return { apiKey: credentials.apiKey, apiSecret: credentials.apiSecret };
}
