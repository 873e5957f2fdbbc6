/**
 * Kite's instrument dump, cached per IST day: Kite regenerates it every morning, so one
 * download a day is enough. The cache is `<dataDir>/kite/instruments-NSE-<YYYY-MM-DD>.json`
 * (the model's {@link Instrument}s: token, tick and lot sizes in paise/shares); older days are
 * deleted when a new one is written. {@link InstrumentMap} maps symbols ↔ tokens.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Instrument } from '../../model/instrument.js';
import { istDate } from '../../model/time.js';

/** Symbols ↔ instrument tokens of one exchange's dump. */
export class InstrumentMap {
  private readonly bySymbol = new Map<string, Instrument>();
  private readonly byToken = new Map<number, Instrument>();

  constructor(readonly instruments: readonly Instrument[]) {
    for (const instrument of instruments) {
      this.bySymbol.set(instrument.symbol, instrument);
      this.byToken.set(instrument.token, instrument);
    }
  }

  get size(): number {
    return this.instruments.length;
  }
  symbol(symbol: string): Instrument | undefined {
    return this.bySymbol.get(symbol);
  }
  token(token: number): Instrument | undefined {
    return this.byToken.get(token);
  }
  /** The instruments of these symbols, in that order; throws naming every unknown one. */
  require(symbols: readonly string[]): Instrument[] {
    const missing = symbols.filter((s) => !this.bySymbol.has(s));
    if (missing.length > 0) throw new Error(`Kite: unknown NSE symbols ${missing.join(', ')}`);
    return symbols.map((s) => this.bySymbol.get(s)!);
  }
}

/** Where the dump comes from (a `KiteBroker` fits). */
export interface InstrumentSource {
  instruments(): Promise<Instrument[]>;
}

/** Options of {@link loadInstruments}. */
export interface InstrumentCacheOptions {
  /** Troupe's data directory; no cache when absent. */
  readonly dataDir?: string | undefined;
  readonly now?: () => number;
}

/** What {@link loadInstruments} did. */
export interface LoadedInstruments {
  readonly map: InstrumentMap;
  readonly from: 'cache' | 'kite';
  readonly day: string;
  readonly path: string | undefined;
}

const PREFIX = 'instruments-NSE-';

function valid(rows: unknown): rows is Instrument[] {
  return (
    Array.isArray(rows) &&
    rows.every(
      (r: Partial<Instrument> | null) =>
        typeof r === 'object' &&
        r !== null &&
        typeof r.symbol === 'string' &&
        Number.isSafeInteger(r.token) &&
        Number.isSafeInteger(r.tickSizePaise) &&
        Number.isSafeInteger(r.lotSize),
    )
  );
}

/** Today's (IST) dump from the cache, else from Kite (then cached; older days removed). An unreadable cache file is downloaded again. */
export async function loadInstruments(source: InstrumentSource, options: InstrumentCacheOptions = {}): Promise<LoadedInstruments> {
  const day = istDate((options.now ?? Date.now)());
  if (options.dataDir === undefined) return { map: new InstrumentMap(await source.instruments()), from: 'kite', day, path: undefined };
  const dir = join(options.dataDir, 'kite');
  const path = join(dir, `${PREFIX}${day}.json`);
  try {
    const cached: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (valid(cached) && cached.length > 0) return { map: new InstrumentMap(cached), from: 'cache', day, path };
  } catch {
    // no cache for today (or unreadable): download
  }
  const instruments = await source.instruments();
  mkdirSync(dir, { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(instruments));
  renameSync(temp, path);
  for (const name of readdirSync(dir))
    if (name.startsWith(PREFIX) && name.endsWith('.json') && name !== `${PREFIX}${day}.json`) rmSync(join(dir, name), { force: true });
  return { map: new InstrumentMap(instruments), from: 'kite', day, path };
}
