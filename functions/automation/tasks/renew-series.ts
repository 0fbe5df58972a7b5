import { createInvoice } from '../../billing/invoices/create-invoice.js';
import { billingDate as billingDateOf, MAX_CATCH_UP, seriesDatesDue } from '../../domain/automation.js';
import { addDays } from '../../domain/dates.js';
import { priceLines } from '../../domain/invoice-pricing.js';
import { advanceSeries, type RecurringInvoice } from '../../domain/recurring-invoice.js';
import { getRecurringNow, recurringAdvancePut, recurringDueBy } from '../../store/invoices.js';
import { nowIso } from '../../store/items.js';
import { doneAmong, doneKey, isDone, onceMarkerPut, type OnceKey } from '../../store/once.js';
import { isAutomated, loadClients, loadCompanyView } from '../company-view.js';
import type { AutomationAction, RunContext, WorkSource } from '../task.js';
import type { PageListing } from '../../store/automation-runs.js';
import { attempt, byThisPage, doneBefore, finished, inactiveClient, listPage, nextKeyOf, pageOf, skipped, startKeyOf, type ActionBase } from './work.js';

/**
 * Renewals of recurring invoices: each active series whose next billing date is within `invoiceDaysBeforeRenewal`
 * days (its client's group) gets one invoice per billing date not yet invoiced — a skipped week is caught up with one
 * invoice per missed date — with the series' lines priced now, billed on that date and due as many days after it as
 * the first invoice was. Each invoice is created through createInvoice with, in its transaction, the series advanced
 * (conditioned on the version read) and the once-marker (`renewals`, the series, the billing date). Read from the
 * recurring-series index up to `date + the widest invoiceDaysBeforeRenewal`.
 */
export const renewSeriesSource: WorkSource = {
  name: 'recurringInvoices',
  async page(ctx, key, limit) {
    const view = await loadCompanyView(ctx.companyId);
    const horizon = view.widest((s) => s.invoiceDaysBeforeRenewal) ?? 0;
    const page = await listPage(ctx, 'recurringInvoices', key, () => recurringDueBy(ctx.companyId, addDays(ctx.date, horizon), limit, startKeyOf(key)));
    // The index may lag a change by a moment: each series is renewed from what it is now.
    const [clients, current] = await Promise.all([
      loadClients(
        ctx.companyId,
        page.items.map((s) => s.clientId),
      ),
      getRecurringNow(ctx.companyId, page.items),
    ]);
    const now = new Map(current.map((s) => [s.id, s] as const));
    const actions: AutomationAction[] = [];
    // Examined: the series with a date due (each of their invoices is an action of its own).
    let examined = 0;
    for (const listed of page.items) {
      const client = clients.get(listed.clientId);
      const read = now.get(listed.id);
      if (!client || !read) continue;
      // A replay: the invoices the killed attempt created are this run's work (the series has moved on since, and
      // may have completed).
      const earlier = await datesInvoicedByThisPage(ctx, page, read);
      if (read.status !== 'active' && !earlier.length) continue;
      let series: RecurringInvoice = read;
      const dates = read.status === 'active' ? seriesDatesDue(series, ctx.date, view.settingsOf(client.groupId).invoiceDaysBeforeRenewal) : [];
      const baseOf = (billingDate: string): ActionBase => ({
        task: 'renewals',
        objectType: 'recurringInvoice',
        objectId: series.id,
        clientId: client.id,
        action: 'invoice_created',
        details: {
          recurringInvoiceId: series.id,
          billingDate,
          dateBilled: billingDate,
          dateDue: addDays(billingDate, series.dueAfterDays),
          currency: series.currency,
        },
      });
      if (dates.length || earlier.length) examined++;
      for (const billingDate of earlier) actions.push(doneBefore(baseOf(billingDate)));
      if (dates.length && !isAutomated(client)) {
        actions.push(inactiveClient(baseOf(dates[0])));
        continue;
      }
      for (const billingDate of dates) {
        const base = baseOf(billingDate);
        const once: OnceKey = { companyId: ctx.companyId, clientId: series.clientId, task: 'renewals', objectId: series.id, period: billingDate };
        const before = series;
        const action = await attempt(base, async () => {
          if (ctx.dryRun) {
            if (await isDone(once)) return skipped(base, 'already done');
            const priced = priceLines(view.company.own.taxRates, client, before.lines);
            return finished(base, true, { lines: priced.lines, subtotal: priced.subtotal, tax: priced.tax, total: priced.total });
          }
          const next = advanceSeries(before, nowIso());
          const { invoice } = await createInvoice({
            companyId: ctx.companyId,
            clientId: client.id,
            currency: before.currency,
            dateBilled: billingDate,
            dateDue: addDays(billingDate, before.dueAfterDays),
            lines: before.lines,
            recurringInvoiceId: before.id,
            alsoWrite: [recurringAdvancePut(ctx.companyId, before, next), onceMarkerPut(once, ctx.runId, nowIso())],
            // Read once for the page: the invoice reads neither again.
            read: { company: view.company, client },
            // One invoice after another: the number starts from the one this run wrote last.
            numberedInSequence: true,
          });
          return finished(base, false, {
            invoiceId: invoice.id,
            number: invoice.number,
            subtotal: invoice.subtotal,
            tax: invoice.tax,
            total: invoice.total,
            status: invoice.status,
          });
        });
        actions.push(action);
        // Each later date follows from this one (the series' count and version): stop the series at the first miss.
        if (action.outcome !== 'done' && action.outcome !== 'planned') break;
        series = advanceSeries(before, nowIso());
      }
    }
    return pageOf(actions, nextKeyOf(page.lastKey), examined);
  },
};

/**
 * On a replay, the billing dates of a series that this page's killed attempt invoiced, oldest first: the latest
 * ones whose markers this run wrote since the page was listed (one batch read; none on a first attempt).
 */
async function datesInvoicedByThisPage(ctx: RunContext, listing: PageListing<unknown>, series: RecurringInvoice): Promise<string[]> {
  // The first invoice is created with the series, never by a renewal; at most a page's catch-up looked at.
  const latest = Array.from({ length: Math.min(series.created - 1, MAX_CATCH_UP) }, (_, i) => billingDateOf(series, series.created - 1 - i));
  if (!listing.replay || !latest.length) return [];
  const once = (date: string): OnceKey => ({ companyId: ctx.companyId, clientId: series.clientId, task: 'renewals', objectId: series.id, period: date });
  const markers = await doneAmong(latest.map(once));
  const mine: string[] = [];
  for (const date of latest) {
    if (!byThisPage(ctx, listing, markers.get(doneKey(once(date))))) break;
    mine.unshift(date);
  }
  return mine;
}
