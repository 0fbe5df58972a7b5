import { AlreadyDoneError } from '../../domain/errors.js';
import { keepPageListing, type PageListing } from '../../store/automation-runs.js';
import type { Page } from '../../store/dynamo.js';
import { nowIso } from '../../store/items.js';
import { markerOf, type MarkerWriter, type OnceKey } from '../../store/once.js';
import type { AutomationAction, RunContext, WorkPage } from '../task.js';

/**
 * What the billing work sources share: the page key (a GSI2 LastEvaluatedKey as JSON), the rule that one object's
 * failure never stops a page, and the counts a page reports.
 */

export const startKeyOf = (key: string | null): Record<string, unknown> | undefined => (key ? (JSON.parse(key) as Record<string, unknown>) : undefined);
export const nextKeyOf = (lastKey: Record<string, unknown> | undefined): string | null => (lastKey ? JSON.stringify(lastKey) : null);

/** An action before its outcome is known. */
export type ActionBase = Omit<AutomationAction, 'outcome' | 'message' | 'details'> & { details?: Record<string, unknown> };

/** Done, or (dry run) planned, with what it did. */
export const finished = (base: ActionBase, dryRun: boolean, details: Record<string, unknown>, message?: string): AutomationAction => ({
  ...base,
  outcome: dryRun ? 'planned' : 'done',
  details: { ...base.details, ...details },
  ...(message ? { message } : {}),
});

export const skipped = (base: ActionBase, message: string, details: Record<string, unknown> = {}): AutomationAction => ({
  ...base,
  outcome: 'skipped',
  message,
  details: { ...base.details, ...details },
});

export const inactiveClient = (base: ActionBase): AutomationAction => skipped(base, 'client is inactive');

/**
 * Runs one object's work: what it returns is the action; an `AlreadyDoneError` (its once-marker exists) is `skipped`
 * "already done"; any other error is `failed` with its message, and the page goes on.
 */
export async function attempt(base: ActionBase, work: () => Promise<AutomationAction>): Promise<AutomationAction> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AlreadyDoneError) return skipped(base, 'already done');
    return { ...base, outcome: 'failed', message: error instanceof Error ? error.message : String(error), details: { ...base.details } };
  }
}

/** A page from its actions: acted counts what was done or planned, failed what failed. */
export function pageOf(actions: AutomationAction[], nextKey: string | null, examined = actions.length): WorkPage {
  return {
    examined,
    acted: actions.filter((a) => a.outcome === 'done' || a.outcome === 'planned').length,
    failed: actions.filter((a) => a.outcome === 'failed').length,
    actions,
    nextKey,
  };
}

export const emptyPage = (): WorkPage => pageOf([], null);

/**
 * A page's index entries: read, then (unless a dry run, which changes nothing a replay could miss) kept on the run
 * before anything is acted on, so a replay of the page (Step Functions runs it again after a crash) works through
 * the first attempt's entries, including those the killed attempt moved out of the index, and counts exactly.
 */
export async function listPage<T>(ctx: RunContext, source: string, key: string | null, list: () => Promise<Page<T>>): Promise<PageListing<T>> {
  const page = await list();
  if (ctx.dryRun) return { ...page, listedAt: nowIso(), replay: false };
  return keepPageListing(ctx.companyId, ctx.runId, source, key, page, nowIso());
}

/**
 * Whether a marker was written by this page's killed attempt: on a replay, by this run since the page's entries were
 * listed. Its effect is then counted as this run's (done), not skipped as done before.
 */
export const byThisPage = (ctx: RunContext, listing: PageListing<unknown>, marker: MarkerWriter | undefined): boolean =>
  listing.replay && marker !== undefined && marker.runId === ctx.runId && marker.at >= listing.listedAt;

/** `byThisPage` for one effect, read only on a replay (a first attempt reads nothing more). */
export async function doneByThisPage(ctx: RunContext, listing: PageListing<unknown>, once: OnceKey): Promise<boolean> {
  return listing.replay && byThisPage(ctx, listing, await markerOf(once));
}

/** An effect the page's killed attempt made: done, by this run. */
export const doneBefore = (base: ActionBase, details: Record<string, unknown> = {}): AutomationAction =>
  finished(base, false, details, 'done by an earlier attempt of this page');
