/**
 * Sends notifications to the channels that want them, off the trading path: `notify` only
 * queues (bounded, per channel); each channel delivers one at a time with retries and backoff.
 * A channel's rate limit (a token bucket: `count` per `perMs`) holds back what is over it and
 * sends one digest ("fill ×40, risk ×5") when the bucket has room again; critical
 * notifications (halts) skip the bucket, and only a repeat of the same one (kind and key, e.g.
 * `journal-unavailable` for every refused order) within the window is held back. Everything dropped, held back or failed is
 * counted per channel (`stats()`, `onOutcome` for metrics) and logged.
 */
import type { DomainEvent } from '../model/index.js';
import type { Logger } from '../observability/logger.js';
import { DeliveryError, type Channel } from './channels/channel.js';
import type { NotificationKind } from '../config/notifications.js';
import { atLeast, digest, toNotification, type Notification, type Severity } from './notification.js';

export interface ChannelRoute {
  readonly channel: Channel;
  /** The kinds this channel receives. */
  readonly kinds: ReadonlySet<NotificationKind>;
  /** Notifications below this severity are not sent here. */
  readonly minSeverity: Severity;
  /** At most `count` notifications per `perMs` (then a digest). */
  readonly rate: { readonly count: number; readonly perMs: number };
}

export type Outcome = 'sent' | 'failed' | 'held-back' | 'dropped';

export interface NotifierOptions {
  readonly routes: readonly ChannelRoute[];
  readonly log: Logger;
  /** Wall time for the rate limits (default Date.now). */
  readonly now?: () => number;
  /** Attempts per notification and the backoff between them (default 4 attempts, 1 s .. 30 s). */
  readonly retry?: { readonly attempts: number; readonly minMs: number; readonly maxMs: number };
  /** Notifications waiting per channel before the oldest are dropped (default 500). */
  readonly queueCapacity?: number;
  readonly onOutcome?: (channel: string, kind: NotificationKind, outcome: Outcome) => void;
}

export interface ChannelStats {
  readonly channel: string;
  sent: number;
  failed: number;
  heldBack: number;
  dropped: number;
  queued: number;
  lastError: string | null;
  lastSentAtMs: number | null;
}

interface ChannelState {
  readonly route: ChannelRoute;
  readonly queue: Notification[];
  readonly stats: ChannelStats;
  tokens: number;
  refilledAtMs: number;
  readonly heldBack: Map<NotificationKind, number>;
  /** When each critical key (e.g. `journal-unavailable`) was last let through. */
  readonly criticalSentAtMs: Map<string, number>;
  digestTimer: ReturnType<typeof setTimeout> | undefined;
  sending: Promise<void> | undefined;
}

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
  });

export class Notifier {
  private readonly channels: ChannelState[];
  private readonly now: () => number;
  private readonly retry: { readonly attempts: number; readonly minMs: number; readonly maxMs: number };
  private readonly capacity: number;
  private stopped = false;

  constructor(private readonly options: NotifierOptions) {
    this.now = options.now ?? Date.now;
    this.retry = options.retry ?? { attempts: 4, minMs: 1_000, maxMs: 30_000 };
    this.capacity = options.queueCapacity ?? 500;
    this.channels = options.routes.map((route) => ({
      route,
      queue: [],
      stats: { channel: route.channel.name, sent: 0, failed: 0, heldBack: 0, dropped: 0, queued: 0, lastError: null, lastSentAtMs: null },
      tokens: route.rate.count,
      refilledAtMs: this.now(),
      heldBack: new Map(),
      criticalSentAtMs: new Map(),
      digestTimer: undefined,
      sending: undefined,
    }));
  }

  /** Listens to every domain event of `bus`; returns the unsubscribe function. */
  attach(bus: { onAny(listener: (event: DomainEvent) => void): () => void }): () => void {
    return bus.onAny((event) => {
      const notification = toNotification(event);
      if (notification) this.notify(notification);
    });
  }

  /** Queues `notification` for every channel that wants it. Never throws, never waits. */
  notify(notification: Notification): void {
    if (this.stopped) return;
    for (const state of this.channels) {
      const { route } = state;
      if (!route.kinds.has(notification.kind) || !atLeast(notification.severity, route.minSeverity)) continue;
      if (notification.severity === 'critical' ? this.repeatsCritical(state, notification) : !this.takeToken(state)) {
        state.heldBack.set(notification.kind, (state.heldBack.get(notification.kind) ?? 0) + 1);
        state.stats.heldBack += 1;
        this.options.onOutcome?.(route.channel.name, notification.kind, 'held-back');
        this.scheduleDigest(state);
        continue;
      }
      this.enqueue(state, notification);
    }
  }

  stats(): readonly ChannelStats[] {
    return this.channels.map((state) => ({ ...state.stats, queued: state.queue.length }));
  }

  /** Resolves once every queue is empty (sends what the rate limits held back first, as digests). */
  async flush(): Promise<void> {
    for (const state of this.channels) this.sendDigest(state, true);
    for (let pending = this.sendingNow(); pending.length > 0; pending = this.sendingNow()) await Promise.all(pending);
  }

  private sendingNow(): Promise<void>[] {
    return this.channels.flatMap((state) => (state.sending === undefined ? [] : [state.sending]));
  }

  /** Stops taking notifications; waits up to `graceMs` for the queues to drain. */
  async stop(graceMs = 3_000): Promise<void> {
    const drained = this.flush();
    this.stopped = true;
    for (const state of this.channels) if (state.digestTimer) clearTimeout(state.digestTimer);
    await Promise.race([drained, sleep(graceMs)]);
  }

  /** A critical notification skips the bucket, but the same one (kind and key) again within the window is held back. */
  private repeatsCritical(state: ChannelState, notification: Notification): boolean {
    const key = `${notification.kind}|${notification.key}`;
    const now = this.now();
    const last = state.criticalSentAtMs.get(key);
    if (last !== undefined && now - last < state.route.rate.perMs) return true;
    state.criticalSentAtMs.set(key, now);
    return false;
  }

  private takeToken(state: ChannelState): boolean {
    const { count, perMs } = state.route.rate;
    const now = this.now();
    state.tokens = Math.min(count, state.tokens + ((now - state.refilledAtMs) * count) / perMs);
    state.refilledAtMs = now;
    if (state.tokens < 1) return false;
    state.tokens -= 1;
    return true;
  }

  private scheduleDigest(state: ChannelState): void {
    if (state.digestTimer !== undefined || this.stopped) return;
    const { count, perMs } = state.route.rate;
    const waitMs = Math.max(1, Math.ceil(((1 - state.tokens) * perMs) / count));
    state.digestTimer = setTimeout(() => {
      state.digestTimer = undefined;
      this.sendDigest(state, false);
    }, waitMs);
    state.digestTimer.unref();
  }

  private sendDigest(state: ChannelState, force: boolean): void {
    if (state.heldBack.size === 0) return;
    if (!force && !this.takeToken(state)) {
      this.scheduleDigest(state);
      return;
    }
    if (state.digestTimer) clearTimeout(state.digestTimer);
    state.digestTimer = undefined;
    const summary = digest(state.heldBack, state.route.rate.perMs, this.now());
    state.heldBack.clear();
    this.enqueue(state, summary);
  }

  private enqueue(state: ChannelState, notification: Notification): void {
    if (state.queue.length >= this.capacity) {
      const dropped = state.queue.shift()!;
      state.stats.dropped += 1;
      this.options.onOutcome?.(state.route.channel.name, dropped.kind, 'dropped');
      this.options.log.warn({ channel: state.route.channel.name, dropped: dropped.title }, 'notification queue full: the oldest was dropped');
    }
    state.queue.push(notification);
    state.sending ??= this.drain(state).finally(() => (state.sending = undefined));
  }

  private async drain(state: ChannelState): Promise<void> {
    const { channel } = state.route;
    for (let next = state.queue.shift(); next !== undefined; next = state.queue.shift()) {
      const notification = next;
      for (let attempt = 1; ; attempt += 1) {
        try {
          await channel.send(notification);
          state.stats.sent += 1;
          state.stats.lastSentAtMs = this.now();
          this.options.onOutcome?.(channel.name, notification.kind, 'sent');
          break;
        } catch (error) {
          const retryable = !(error instanceof DeliveryError) || error.retryable;
          const message = error instanceof Error ? error.message : String(error);
          state.stats.lastError = message;
          if (!retryable || attempt >= this.retry.attempts || this.stopped) {
            state.stats.failed += 1;
            this.options.onOutcome?.(channel.name, notification.kind, 'failed');
            this.options.log.warn(
              { channel: channel.name, kind: notification.kind, title: notification.title, attempts: attempt, error: message },
              'notification not delivered',
            );
            break;
          }
          const backoff = Math.min(this.retry.maxMs, this.retry.minMs * 2 ** (attempt - 1));
          const asked = error instanceof DeliveryError ? (error.retryAfterMs ?? 0) : 0;
          await sleep(Math.min(this.retry.maxMs, Math.max(backoff, asked)));
        }
      }
    }
  }
}
