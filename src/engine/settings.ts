import { DEFAULT_QUARANTINE_RULE, type QuarantineRule } from '../domain/node-quarantine.js';

/** Timings of the engine; tests shorten them, operators rarely need to. */
export interface EngineSettings {
  /** How long an acquisition or heartbeat keeps a lease. */
  leaseMs: number;
  /** A node silent this long is OFFLINE (its leases expire on their own). */
  nodeTimeoutMs: number;
  /** How often the reaper looks for expired leases, timeouts and due schedules. */
  reaperIntervalMs: number;
  /** The longest a node's acquire may wait for work. */
  maxAcquireWaitMs: number;
  /** The largest output a node may upload, in bytes (413 past it). */
  uploadLimit: number;
  /** How often the notification deliverer looks for due rows besides being woken. */
  notificationIntervalMs: number;
  /** The wait after a failed delivery's first attempt; it doubles with each attempt. */
  notificationRetryBaseMs: number;
  /** The longest wait between two attempts. */
  notificationRetryMaxMs: number;
  /** Attempts before a notification is marked FAILED. */
  notificationMaxAttempts: number;
  /** The longest a webhook or SMTP server may take to answer one attempt. */
  notificationTimeoutMs: number;
  /** When a node's failure rate quarantines it (docs/scheduling.md#quarantine). */
  quarantine: QuarantineRule;
}

export const DEFAULT_ENGINE_SETTINGS: EngineSettings = {
  leaseMs: 60_000,
  nodeTimeoutMs: 90_000,
  reaperIntervalMs: 5_000,
  maxAcquireWaitMs: 60_000,
  uploadLimit: 1_000_000_000,
  notificationIntervalMs: 2_000,
  notificationRetryBaseMs: 5_000,
  notificationRetryMaxMs: 15 * 60_000,
  notificationMaxAttempts: 8,
  notificationTimeoutMs: 10_000,
  quarantine: DEFAULT_QUARANTINE_RULE,
};
