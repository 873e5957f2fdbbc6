import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/config.js';

export type { Logger } from 'pino';

/** The process logger: pino JSON to stdout (or to a file descriptor given). */
export function createLogger(level: LogLevel, destination?: number | string): Logger {
  return pino(
    { level, base: { service: 'troupe' }, timestamp: pino.stdTimeFunctions.isoTime },
    destination === undefined ? undefined : pino.destination(destination),
  );
}

/** A logger that drops everything (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
