/**
 * `troupe db backup --out <path>` / `troupe db restore --in <path> [--force]`.
 * The store is the one Troupe would open: the PostgreSQL server of `DATABASE_URL` when it is set
 * (pg_dump / pg_restore), else the embedded PGlite under `TROUPE_DATA_DIR` (a copy of its data
 * directory). See src/persistence/backup.ts.
 */
import { ConfigError, loadConfig } from '../config/config.js';
import { backupDatabase, BackupError, embeddedDataDir, formatBytes, restoreDatabase, type BackupSummary } from '../persistence/backup.js';
import { parseArgs, usage, usageErrorText, UsageError, type OptionSpec } from './args.js';

export interface DbCommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** The environment to configure from (default: the process's). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const IGNORE_LOCK: OptionSpec = {
  name: 'ignore-lock',
  description: 'Embedded store only: proceed although postmaster.pid exists (left behind by a killed Troupe; never while one runs)',
  flag: true,
};

const BACKUP_SUMMARY =
  'Backs up the database: pg_dump -Fc to a file when DATABASE_URL is set, else a consistent copy of the embedded data directory (Troupe must not be running).';
const BACKUP_OPTIONS: readonly OptionSpec[] = [
  { name: 'out', description: 'Where to write the backup (a file for a server, a directory for the embedded store)', required: true, valueName: 'path' },
  { name: 'force', description: 'Overwrite --out when it exists', flag: true },
  IGNORE_LOCK,
];

const RESTORE_SUMMARY =
  'Restores the database from "troupe db backup" output: pg_restore --clean --if-exists when DATABASE_URL is set, else replaces the embedded data directory. Stop Troupe first.';
const RESTORE_OPTIONS: readonly OptionSpec[] = [
  { name: 'in', description: 'The backup to restore', required: true, valueName: 'path' },
  { name: 'force', description: 'Replace existing data (refused without it)', flag: true },
  IGNORE_LOCK,
];

const DB_HELP = [
  'Usage: troupe db <backup|restore> [options]   (each takes --help)',
  '',
  'Commands:',
  '  backup   --out <path>            Back up the database (pg_dump, or a copy of the embedded data directory)',
  '  restore  --in <path> [--force]   Restore it (refuses to replace existing data without --force)',
].join('\n');

const defaultIo: DbCommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

function summaryLine(action: 'backup' | 'restore', summary: BackupSummary): string {
  const what = summary.kind === 'postgres' ? `${summary.items} tables` : `${summary.items} files`;
  const verb = action === 'backup' ? `backed up ${summary.target} to ${summary.path}` : `restored ${summary.target} from ${summary.path}`;
  return `db ${action}: ${verb} (${summary.kind}, ${what}, ${formatBytes(summary.bytes)}) in ${summary.seconds.toFixed(2)} s`;
}

/** Runs `troupe db …`; returns the exit code (0 ok, 1 failed, 2 usage or configuration). */
export async function dbCommand(argv: readonly string[], io: DbCommandIo = defaultIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    (sub === undefined ? io.stderr : io.stdout)(`${DB_HELP}\n`);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'backup' && sub !== 'restore') {
    io.stderr(usageErrorText('troupe db', `unknown command "${sub}" (backup or restore)`, 'troupe db --help'));
    return 2;
  }
  const [summary, options] = sub === 'backup' ? [BACKUP_SUMMARY, BACKUP_OPTIONS] : [RESTORE_SUMMARY, RESTORE_OPTIONS];
  const help = usage(`troupe db ${sub}`, summary, options);
  try {
    const values = parseArgs(rest, options);
    if (values === undefined) {
      io.stdout(`${help}\n`);
      return 0;
    }
    const config = io.env === undefined ? loadConfig() : loadConfig(io.env);
    const backupOptions = {
      force: values.force === 'true',
      ignoreLock: values['ignore-lock'] === 'true',
      onProgress: (line: string) => io.stdout(`${line}\n`),
    };
    if (config.databaseUrl === undefined) io.stdout(`embedded store: ${embeddedDataDir(config)} (DATABASE_URL is not set)\n`);
    const result = sub === 'backup' ? await backupDatabase(config, values.out!, backupOptions) : await restoreDatabase(config, values.in!, backupOptions);
    io.stdout(`${summaryLine(sub, result)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(usageErrorText(`troupe db ${sub}`, error.message, `troupe db ${sub} --help`));
      return 2;
    }
    if (error instanceof ConfigError) {
      io.stderr(`troupe db ${sub}: ${error.message}\n`);
      return 2;
    }
    io.stderr(`troupe db ${sub}: ${error instanceof BackupError || error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
