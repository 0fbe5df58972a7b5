/**
 * The shape every piece of the daily run shares. A task (`TASK_NAMES`, in the contract's order) is done by one or
 * more work sources; a source reads one page of due work from a sparse date-keyed index, acts on each object once
 * (a once-marker written in the same transaction as the effect, store/once.ts) and returns the key to continue from.
 * The Step Functions task handler (task-handler.ts) runs one page per invocation and records it on the run.
 */
export const TASK_NAMES = ['renewals', 'applyCredits', 'autoDebit', 'notices', 'suspensions', 'voids'] as const;
export type TaskName = (typeof TASK_NAMES)[number];

/** What a run is for: one company, one local date (the company's time zone), and whether anything may change. */
export interface RunContext {
  companyId: string;
  runId: string;
  /** `YYYY-MM-DD` in the company's time zone. */
  date: string;
  /** A dry run reports what it would do (`outcome: 'planned'`) and writes nothing. */
  dryRun: boolean;
}

export type ActionOutcome = 'done' | 'skipped' | 'failed' | 'planned';

/** One thing a run did, skipped, failed at or (dry run) would do, to one object. */
export interface AutomationAction {
  task: TaskName;
  objectType: 'service' | 'recurringInvoice' | 'invoice' | 'client' | 'paymentAccount';
  objectId: string;
  clientId: string;
  /** What was done: `invoice_created`, `credit_applied`, `charged`, `charge_declined`, `charge_failed`, `auto_debit_disabled`, `notice_sent`, `suspended`, `unsuspended`, `voided`. */
  action: string;
  outcome: ActionOutcome;
  /** Why it failed or was skipped (e.g. "already done on 2027-01-05"), for the operator. */
  message?: string;
  /** Amounts, invoice ids, lines and totals, notice kind… whatever shows what the action was. */
  details: Record<string, unknown>;
}

/** One page of a source's work. `examined` counts objects looked at; `acted` those changed (or planned); `failed` those that failed. */
export interface WorkPage {
  examined: number;
  acted: number;
  failed: number;
  actions: AutomationAction[];
  /** Where the next page starts (opaque to the runner); null when the source has nothing more for this run. */
  nextKey: string | null;
}

/** A source of due work for a task, paged. A page must be safe to run again (Step Functions retries it). */
export interface WorkSource {
  /** Stable name, part of the run's cursor. */
  name: string;
  page(ctx: RunContext, key: string | null, limit: number): Promise<WorkPage>;
}
