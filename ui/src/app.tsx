import { useCallback, useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import { Clocks } from './components/clocks.js';
import { ConnectionIndicator, StaleBanner } from './components/connection-indicator.js';
import { ErrorBoundary } from './components/error-boundary.js';
import { HaltBanner, HaltsProvider, TradingState } from './components/halt-banner.js';
import { roleAtLeast, Session } from './lib/api.js';
import { Desk } from './lib/desk.js';
import { humanise } from './lib/errors.js';
import { DeskContext, type DeskContextValue } from './lib/hooks.js';
import { AdminPage } from './pages/admin.js';
import { LoginPage } from './pages/login.js';
import { MarketPage } from './pages/market.js';
import { OrdersPage } from './pages/orders.js';
import { OverviewPage } from './pages/overview.js';
import { PerformancePage } from './pages/performance.js';
import { PositionsPage } from './pages/positions.js';
import { ModelsPage } from './pages/models.js';
import { RiskPage } from './pages/risk.js';
import { StrategiesPage } from './pages/strategies.js';
import { SystemPage } from './pages/system.js';

const PAGES = [
  { id: 'overview', label: 'Overview' },
  { id: 'positions', label: 'Positions' },
  { id: 'orders', label: 'Orders' },
  { id: 'strategies', label: 'Strategies' },
  { id: 'market', label: 'Market watch' },
  { id: 'risk', label: 'Risk' },
  { id: 'models', label: 'Models' },
  { id: 'system', label: 'System' },
  { id: 'performance', label: 'Performance' },
  { id: 'admin', label: 'Admin' },
] as const;
type PageId = (typeof PAGES)[number]['id'];

/** Hash routes (`#/orders/T123…`): the gateway serves one static page, no server-side routes needed. */
function parseRoute(hash: string): { page: PageId; param: string | undefined } {
  const [page = 'overview', param] = hash.replace(/^#\/?/, '').split('/');
  const known = PAGES.find((candidate) => candidate.id === page);
  return { page: known ? known.id : 'overview', param: param ? decodeURIComponent(param) : undefined };
}

function subscribeHash(listener: () => void): () => void {
  window.addEventListener('hashchange', listener);
  return () => window.removeEventListener('hashchange', listener);
}

export const navigate = (page: PageId, param?: string): void => {
  window.location.hash = `/${page}${param ? `/${encodeURIComponent(param)}` : ''}`;
};

declare global {
  interface Window {
    /** Diagnostics: the live store (frame-time measurements, support). */
    __troupe?: { readonly desk: Desk };
  }
}

export function App({ baseUrl }: { readonly baseUrl: string }) {
  const [session, setSession] = useState<Session | undefined>(() => Session.restore(baseUrl));
  const [notice, setNotice] = useState<string | undefined>();
  const logout = useCallback(() => {
    if (session) void session.logout().catch(() => undefined);
    setSession(undefined);
    setNotice('You have logged out.');
  }, [session]);
  useEffect(
    () =>
      session?.onExpired(() => {
        setSession(undefined);
        setNotice('Your session has ended. Please log in again.');
      }),
    [session],
  );
  if (!session)
    return (
      <LoginPage
        baseUrl={baseUrl}
        notice={notice}
        onLogin={(next) => {
          setNotice(undefined);
          setSession(next);
        }}
      />
    );
  return <DeskShell session={session} logout={logout} />;
}

function DeskShell({ session, logout }: { readonly session: Session; readonly logout: () => void }) {
  const desk = useMemo(() => new Desk(session), [session]);
  const [state, setState] = useState<{ ready: boolean; error: string | undefined }>({ ready: false, error: undefined });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    window.__troupe = { desk };
    let cancelled = false;
    desk.start().then(
      () => !cancelled && setState({ ready: true, error: undefined }),
      (error: unknown) => !cancelled && setState({ ready: false, error: humanise(error) }),
    );
    return () => {
      cancelled = true;
      desk.stop();
    };
  }, [desk, attempt]);
  const hash = useSyncExternalStore(subscribeHash, () => window.location.hash);
  const route = parseRoute(hash);
  const context: DeskContextValue = useMemo(() => ({ session, desk, logout }), [session, desk, logout]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (!event.altKey || event.ctrlKey || event.metaKey) return;
      const index = Number(event.key) - 1;
      const page = PAGES[index];
      if (page) {
        event.preventDefault();
        navigate(page.id);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <DeskContext.Provider value={context}>
      <HaltsProvider>
        <a
          className="skip"
          href="#main"
          onClick={(event) => {
            event.preventDefault();
            document.getElementById('main')?.focus();
          }}
        >
          Skip to content
        </a>
        <header className="topbar">
          <div className="brand">
            <span className="brand-mark" aria-hidden="true">
              ◆
            </span>{' '}
            Troupe <span className="muted small">paper · NSE</span>
          </div>
          <nav aria-label="Pages" className="nav">
            {PAGES.filter((page) => page.id !== 'admin' || roleAtLeast(session.role, 'viewer')).map((page, index) => (
              <a key={page.id} href={`#/${page.id}`} aria-current={route.page === page.id ? 'page' : undefined} title={`Alt+${index + 1}`}>
                {page.label}
              </a>
            ))}
          </nav>
          <TradingState />
          <Clocks />
          <ConnectionIndicator />
          <div className="user">
            <span title={`role: ${session.role}`}>
              {session.username} <span className="muted small">({session.role})</span>
            </span>
            <button type="button" onClick={logout}>
              Log out
            </button>
          </div>
        </header>
        <main id="main" tabIndex={-1}>
          <StaleBanner />
          {state.ready ? <HaltBanner /> : null}
          {state.error ? (
            <div className="panel" role="alert">
              <h2>Cannot load the desk</h2>
              <p>{state.error}</p>
              <button type="button" onClick={() => setAttempt((value) => value + 1)}>
                Try again
              </button>
            </div>
          ) : !state.ready ? (
            <p className="muted loading">Connecting to Troupe…</p>
          ) : (
            <ErrorBoundary resetKey={route.page}>
              {route.page === 'overview' ? <OverviewPage /> : null}
              {route.page === 'positions' ? <PositionsPage /> : null}
              {route.page === 'orders' ? <OrdersPage selectedId={route.param} onSelect={(id) => navigate('orders', id)} /> : null}
              {route.page === 'strategies' ? <StrategiesPage /> : null}
              {route.page === 'market' ? <MarketPage symbol={route.param} onSelect={(symbol) => navigate('market', symbol)} /> : null}
              {route.page === 'risk' ? <RiskPage /> : null}
              {route.page === 'models' ? <ModelsPage /> : null}
              {route.page === 'system' ? <SystemPage /> : null}
              {route.page === 'performance' ? <PerformancePage /> : null}
              {route.page === 'admin' ? <AdminPage /> : null}
            </ErrorBoundary>
          )}
        </main>
      </HaltsProvider>
    </DeskContext.Provider>
  );
}
