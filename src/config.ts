import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import YAML from 'yaml';

/** One config object: flags, then DROVER_* variables, then an optional file, then defaults. */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** A postgres:// URL or a SQLite file path; default `<dataDir>/drover.sqlite`. */
  db: string;
  /** Require a token (or a dialect's password login) on every request. */
  auth: boolean;
  /**
   * With auth on, what a caller without credentials may still see: any of metrics, docs,
   * ui (the web UI's files; its data always needs a token). Optional: all three by default.
   */
  anonymous?: AnonymousArea[];
  /** SQLite durability: NORMAL survives a crash of the process, FULL a loss of power. */
  sqliteSync: 'NORMAL' | 'FULL';
  leaseSeconds: number;
  reaperSeconds: number;
  logLevel: string;
  /** Worker processes `serve` starts beside itself (npm start runs one). */
  localWorkers: number;
  /**
   * Port of the Deadline 10 Web Service dialect (/api/jobs, /api/tasks); 0 turns it off.
   * Optional so that configs built in code without it keep working (it is then off).
   */
  deadlinePort?: number;
  /** Where job archives are written and imported from; default `<dataDir>/archives`. */
  archiveDir?: string;
  /** The largest output upload, in MB (10^6 bytes); optional, 1000 by default. */
  maxUploadMb?: number;
  /** smtp:// or smtps:// URL of the server email notifications go through; none: no email. */
  smtpUrl?: string;
  /** The From address of email notifications. */
  smtpFrom?: string;
  /** Hosts webhook rules may call (`host` or `*.domain`); undefined: any host. */
  webhookHosts?: string[];
  /**
   * Seconds one webhook or email attempt may take; a replica's claim of a notification
   * lasts three times this, so a replica that dies mid-send leaves it for that long.
   */
  notificationTimeoutSeconds?: number;
  /** Names this replica's PostgreSQL connections (application_name); default `<host>:<port>`. */
  replicaName?: string;
}

export const ANONYMOUS_AREAS = ['metrics', 'docs', 'ui'] as const;
export type AnonymousArea = (typeof ANONYMOUS_AREAS)[number];

const areas = (raw: string): AnonymousArea[] => {
  if (/^\s*none\s*$/i.test(raw)) return [];
  const list = raw.split(',').map((a) => a.trim().toLowerCase());
  for (const a of list) {
    if (!(ANONYMOUS_AREAS as readonly string[]).includes(a)) {
      throw new Error(
        `anonymous must be "none" or a comma list of ${ANONYMOUS_AREAS.join(', ')}, got "${raw}"`,
      );
    }
  }
  return list as AnonymousArea[];
};

export interface OptionSpec {
  key: keyof Config;
  flag: string;
  env: string;
  description: string;
  parse: (raw: string) => unknown;
  defaultValue: (partial: Partial<Config>) => unknown;
  secret?: boolean;
}

const int = (name: string) => (raw: string) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`${name} must be a whole number, got "${raw}"`);
  return n;
};
const bool = (name: string) => (raw: string) => {
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new Error(`${name} must be true or false, got "${raw}"`);
};

const smtpUrl = (raw: string) => {
  if (!/^smtps?:\/\/[^/\s]+/.test(raw)) {
    throw new Error('smtp-url must look like smtp://user:pass@host:587 or smtps://host:465');
  }
  return raw;
};

const hostList = (raw: string): string[] => {
  const hosts = raw
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  for (const host of hosts) {
    if (!/^(\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(host) && !/^\[[0-9a-f:.]+\]$/.test(host)) {
      throw new Error(
        `webhook-hosts: "${host}" is not a host name; give e.g. hooks.example.com,*.corp.example`,
      );
    }
  }
  if (hosts.length === 0) throw new Error('webhook-hosts: name at least one host');
  return hosts;
};

export const SERVE_OPTIONS: OptionSpec[] = [
  {
    key: 'host',
    flag: '--host <address>',
    env: 'DROVER_HOST',
    description: 'address to listen on',
    parse: String,
    defaultValue: () => '127.0.0.1',
  },
  {
    key: 'port',
    flag: '--port <number>',
    env: 'DROVER_PORT',
    description: 'port of the native API and web UI',
    parse: int('port'),
    defaultValue: () => 8080,
  },
  {
    key: 'dataDir',
    flag: '--data-dir <path>',
    env: 'DROVER_DATA_DIR',
    description: 'directory for the SQLite file and blobs',
    parse: String,
    defaultValue: () => './drover-data',
  },
  {
    key: 'db',
    flag: '--db <url>',
    env: 'DROVER_DB',
    description: 'postgres:// URL, or SQLite file',
    parse: String,
    defaultValue: (c) =>
      c.dataDir ? join(c.dataDir, 'drover.sqlite') : '<data-dir>/drover.sqlite',
    secret: true,
  },
  {
    key: 'auth',
    flag: '--auth [bool]',
    env: 'DROVER_AUTH',
    description: 'require API tokens (needed to listen beyond localhost)',
    parse: bool('auth'),
    defaultValue: () => false,
  },
  {
    key: 'anonymous',
    flag: '--anonymous <list>',
    env: 'DROVER_ANONYMOUS',
    description: 'with --auth, what callers without a token may see: metrics,docs,ui or none',
    parse: areas,
    defaultValue: () => [...ANONYMOUS_AREAS],
  },
  {
    key: 'sqliteSync',
    flag: '--sqlite-sync <mode>',
    env: 'DROVER_SQLITE_SYNC',
    description: 'NORMAL (survives a crash) or FULL (survives power loss)',
    parse: (raw) => {
      const v = raw.toUpperCase();
      if (v !== 'NORMAL' && v !== 'FULL') throw new Error('sqlite-sync must be NORMAL or FULL');
      return v;
    },
    defaultValue: () => 'NORMAL',
  },
  {
    key: 'leaseSeconds',
    flag: '--lease-seconds <n>',
    env: 'DROVER_LEASE_SECONDS',
    description: 'how long a task lease lasts without a heartbeat',
    parse: int('lease-seconds'),
    defaultValue: () => 60,
  },
  {
    key: 'reaperSeconds',
    flag: '--reaper-seconds <n>',
    env: 'DROVER_REAPER_SECONDS',
    description: 'how often expired leases and timeouts are enforced',
    parse: int('reaper-seconds'),
    defaultValue: () => 5,
  },
  {
    key: 'logLevel',
    flag: '--log-level <level>',
    env: 'DROVER_LOG_LEVEL',
    description: 'fatal, error, warn, info, debug or trace',
    parse: String,
    defaultValue: () => 'info',
  },
  {
    key: 'localWorkers',
    flag: '--local-workers <n>',
    env: 'DROVER_LOCAL_WORKERS',
    description: 'worker processes to start on this machine beside the server',
    parse: int('local-workers'),
    defaultValue: () => 0,
  },
  {
    key: 'deadlinePort',
    flag: '--deadline-port <number>',
    env: 'DROVER_DEADLINE_PORT',
    description: 'port of the Deadline Web Service dialect; 0 turns it off',
    parse: int('deadline-port'),
    defaultValue: () => 8081,
  },
  {
    key: 'archiveDir',
    flag: '--archive-dir <path>',
    env: 'DROVER_ARCHIVE_DIR',
    description: 'directory job archives are written to and imported from',
    parse: String,
    defaultValue: (c) => (c.dataDir ? join(c.dataDir, 'archives') : '<data-dir>/archives'),
  },
  {
    key: 'maxUploadMb',
    flag: '--max-upload-mb <n>',
    env: 'DROVER_MAX_UPLOAD_MB',
    description: 'largest output a worker may upload, in MB (413 past it)',
    parse: int('max-upload-mb'),
    defaultValue: () => 1000,
  },
  {
    key: 'smtpUrl',
    flag: '--smtp-url <url>',
    env: 'DROVER_SMTP_URL',
    description:
      'SMTP server for email notifications: smtp://user:pass@host:587 or smtps://…; none by default',
    parse: smtpUrl,
    defaultValue: () => undefined,
    secret: true,
  },
  {
    key: 'smtpFrom',
    flag: '--smtp-from <address>',
    env: 'DROVER_SMTP_FROM',
    description: 'From address of email notifications',
    parse: String,
    defaultValue: () => 'drover@localhost',
  },
  {
    key: 'webhookHosts',
    flag: '--webhook-hosts <list>',
    env: 'DROVER_WEBHOOK_HOSTS',
    description:
      'hosts webhook notifications may call, comma-separated (host or *.domain); any by default',
    parse: hostList,
    defaultValue: () => undefined,
  },
  {
    key: 'notificationTimeoutSeconds',
    flag: '--notification-timeout-seconds <n>',
    env: 'DROVER_NOTIFICATION_TIMEOUT_SECONDS',
    description:
      'seconds a webhook or email attempt may take; a notification a dead replica was sending is sent again after 3 times this',
    parse: (raw: string) => {
      const n = int('notification-timeout-seconds')(raw);
      if (n < 1 || n > 600)
        throw new Error(`notification-timeout-seconds must be 1 to 600 seconds, got "${raw}"`);
      return n;
    },
    defaultValue: () => 10,
  },
  {
    key: 'replicaName',
    flag: '--replica-name <name>',
    env: 'DROVER_REPLICA_NAME',
    description:
      "this replica's name in PostgreSQL's pg_stat_activity (application_name drover <name>); default <host>:<port>",
    parse: (raw: string) => {
      if (!/^[\w.:@-]{1,48}$/.test(raw))
        throw new Error(
          `replica-name must be 1 to 48 letters, digits, or . _ : @ -, got "${raw.slice(0, 60)}"`,
        );
      return raw;
    },
    defaultValue: (c) =>
      c.port === undefined ? '<host>:<port>' : `${hostname()}:${c.port}`.slice(0, 48),
  },
];

/**
 * Resolves the config: `flags` are what the command line gave (already parsed by option),
 * `env` the process environment, `file` an optional JSON or YAML file of the same keys.
 */
export function resolveConfig(
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
  file?: string,
): Config {
  const fromFile = file ? (YAML.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  const config: Partial<Config> = {};
  for (const option of SERVE_OPTIONS) {
    let value: unknown = flags[option.key];
    if (typeof value === 'string') value = option.parse(value);
    if (value === undefined && env[option.env] !== undefined)
      value = option.parse(env[option.env]!);
    if (value === undefined && fromFile[option.key] !== undefined) {
      const raw = fromFile[option.key];
      value = typeof raw === 'string' ? option.parse(raw) : raw;
    }
    if (value === undefined) value = option.defaultValue(config);
    (config as Record<string, unknown>)[option.key] = value;
  }
  const resolved = config as Config;
  resolved.dataDir = resolve(resolved.dataDir);
  resolved.archiveDir = resolve(resolved.archiveDir ?? join(resolved.dataDir, 'archives'));
  return resolved;
}

/** The config as printed at start-up, with secrets (passwords in URLs) masked. */
export function describeConfig(config: Config): string {
  return SERVE_OPTIONS.map((o) => {
    let value = String(config[o.key]);
    if (o.secret) value = value.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1****@');
    return `  ${o.key.padEnd(13)} ${value}`;
  }).join('\n');
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/** Listening beyond this machine without authentication would hand the farm to anyone. */
export function checkExposure(config: Config): void {
  if (!config.auth && !LOOPBACK.test(config.host)) {
    throw new Error(
      `refusing to listen on ${config.host} without authentication: start with --auth (and create a user with \`drover user add\` and a token with \`drover token create\`), or listen on 127.0.0.1`,
    );
  }
}
