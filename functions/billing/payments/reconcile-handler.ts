import { ConflictError, NotFoundError } from '../../domain/errors.js';
import { logger } from '../../observability/logger.js';
import { count, METRIC, metrics, seconds } from '../../observability/metrics.js';
import { tracedHandler } from '../../observability/tracer.js';
import { listPendingChargesBefore } from '../../store/pending-charges.js';
import { reconcilePayment } from './reconcile-payment.js';

/**
 * How old a pending attempt must be before the schedule reconciles it: younger ones may still be in flight (the
 * request that made them is waiting for the gateway), and settling them from here would only race that request.
 */
export const RECONCILE_GRACE_MS = 2 * 60 * 1000;
const PAGE_SIZE = 25;

export interface ReconcileRun {
  settled: number;
  /** Attempts that cannot be replayed (no request kept, account gone) or that vanished: logged for a person. */
  skipped: number;
  failed: number;
}

/**
 * Reconciles every pending attempt older than the grace period, a page at a time, oldest first. One attempt's
 * failure does not stop the others; the run throws at the end if any failed, so the schedule retries it (settling is
 * idempotent) and a run that keeps failing reaches the dead-letter queue.
 */
export async function reconcileStalePayments(now: Date = new Date()): Promise<ReconcileRun> {
  const before = new Date(now.getTime() - RECONCILE_GRACE_MS).toISOString();
  const run: ReconcileRun = { settled: 0, skipped: 0, failed: 0 };
  // The age of the oldest attempt this run leaves pending (it failed, or needs a person): an alarm watches it.
  let oldestAgeSeconds = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await listPendingChargesBefore(before, PAGE_SIZE, startKey);
    for (const pending of page.items) {
      const ageSeconds = Math.floor((now.getTime() - Date.parse(pending.createdAt)) / 1000);
      try {
        const result = await reconcilePayment({ companyId: pending.companyId, principal: null, transactionId: pending.transactionId, now });
        run.settled++;
        logger.info('Pending payment reconciled', { ...pending, outcome: result.outcome });
      } catch (error) {
        if (error instanceof ConflictError || error instanceof NotFoundError) {
          run.skipped++;
          oldestAgeSeconds = Math.max(oldestAgeSeconds, ageSeconds);
          logger.warn('Pending payment cannot be reconciled automatically', { ...pending, code: error.code, message: error.message });
        } else {
          run.failed++;
          oldestAgeSeconds = Math.max(oldestAgeSeconds, ageSeconds);
          logger.error('Reconciling a pending payment failed; the next run tries again', { ...pending, error });
        }
      }
    }
    startKey = page.lastKey;
  } while (startKey);
  count(METRIC.pendingChargesReconciled, run.settled);
  count(METRIC.pendingChargesFailed, run.failed);
  count(METRIC.pendingChargesNeedingAttention, run.skipped);
  seconds(METRIC.oldestPendingChargeAgeSeconds, oldestAgeSeconds);
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  if (run.failed > 0) throw new Error(`${run.failed} pending payment(s) could not be reconciled (${run.settled} settled, ${run.skipped} skipped).`);
  return run;
}

/** The scheduled Lambda entry (EventBridge Scheduler, every few minutes), traced. */
export const handler = tracedHandler(async (_scheduleEvent: unknown) => reconcileStalePayments());
