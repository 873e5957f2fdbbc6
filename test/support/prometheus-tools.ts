/**
 * Prometheus' binaries for tests, from Debian's packages: `prometheus` ships `prometheus` and
 * `promtool`, `prometheus-alertmanager` ships `prometheus-alertmanager` (upstream's
 * `alertmanager`) and `amtool`. Each returns the absolute path of the binary, found or installed
 * by `debianBinary` (test/support/debian.ts).
 */
import { debianBinary } from './debian.js';

/** `promtool` (package `prometheus`). */
export function promtool(): string {
  return debianBinary('promtool', 'prometheus');
}

/** The Prometheus server (package `prometheus`). */
export function prometheusBinary(): string {
  return debianBinary('prometheus', 'prometheus');
}

/** Alertmanager: Debian names it `prometheus-alertmanager`, upstream `alertmanager` (package `prometheus-alertmanager`). */
export function alertmanagerBinary(): string {
  return debianBinary(['prometheus-alertmanager', 'alertmanager'], 'prometheus-alertmanager');
}

/** `amtool` (package `prometheus-alertmanager`). */
export function amtool(): string {
  return debianBinary('amtool', 'prometheus-alertmanager');
}
