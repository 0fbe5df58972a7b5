import type { TaskName, WorkSource } from '../task.js';
import { applyCreditsSource } from './apply-credits.js';
import { autoDebitSource } from './auto-debit.js';
import { noticesSource } from './notices.js';
import { renewSeriesSource } from './renew-series.js';
import { renewServicesSource } from './renew-services.js';
import { suspendServicesSource, unsuspendServicesSource } from './suspensions.js';
import { voidsSource } from './voids.js';

/**
 * The work sources of each task, run in this order within the task (the contract's order of tasks is TASK_NAMES).
 * A task with several sources (renewals: services, then recurring invoices) pages through each in turn.
 */
export const WORK_SOURCES: Record<TaskName, readonly WorkSource[]> = {
  renewals: [renewServicesSource, renewSeriesSource],
  applyCredits: [applyCreditsSource],
  autoDebit: [autoDebitSource],
  notices: [noticesSource],
  suspensions: [suspendServicesSource, unsuspendServicesSource],
  voids: [voidsSource],
};
