/**
 * Notifications: what the notify activity POSTs to the plan's notify.webhook. Only the
 * webhook's reference (env:NAME, file:PATH) travels in workflow input and history; the
 * activity resolves it on the worker. Pure: bundled into workflows.
 */
import type { SwitchoverReport } from './status';

export type NotificationKind = 'phase' | 'stalled' | 'lag' | 'retrying' | 'switchover' | 'verification';

export interface Notification {
  kind: NotificationKind;
  migration: string;
  /** The source database it concerns; absent for the migration as a whole. */
  database?: string;
  phase: string;
  /** One line for a chat channel. */
  message: string;
  at: string;
  /** phase: the one before. */
  previousPhase?: string;
  /** lag: the lag and the bound it rose above. */
  lagBytes?: number;
  thresholdBytes?: number;
  /** retrying: the activity, its attempt and last error. */
  activity?: string;
  attempt?: number;
  error?: string;
  /** switchover: how it ended, and each database's report when it completed. */
  outcome?: 'completed' | 'failed';
  reports?: SwitchoverReport[];
}

export interface NotifyInput {
  /** notify.webhook as the plan has it: a reference, never the URL. */
  webhook: string;
  notification: Notification;
}

/** The patch that brought notifications (patched() marker in history). */
export const NOTIFY_PATCH = 'notify-webhook';

/** A retry is news from this attempt on, and again every twentieth. */
export const repeatingRetry = (attempt: number): boolean => attempt === 3 || (attempt > 3 && attempt % 20 === 0);
