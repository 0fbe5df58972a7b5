import { createInvoice } from '../../billing/invoices/create-invoice.js';
import { seriesDatesDue } from '../../domain/automation.js';
import { addDays } from '../../domain/dates.js';
import { priceLines } from '../../domain/invoice-pricing.js';
import { advanceSeries, type RecurringInvoice } from '../../domain/recurring-invoice.js';
import { getRecurringNow, recurringAdvancePut, recurringDueBy } from '../../store/invoices.js';
import { nowIso } from '../../store/items.js';
import { isDone, onceMarkerPut, type OnceKey } from '../../store/once.js';
import { isAutomated, loadClients, loadCompanyView } from '../company-view.js';
import type { AutomationAction, WorkSource } from '../task.js';
import { attempt, finished, inactiveClient, nextKeyOf, pageOf, skipped, startKeyOf, type ActionBase } from './work.js';

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
    const page = await recurringDueBy(ctx.companyId, addDays(ctx.date, horizon), limit, startKeyOf(key));
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
      if (!client || read?.status !== 'active') continue;
      let series: RecurringInvoice = read;
      const dates = seriesDatesDue(series, ctx.date, view.settingsOf(client.groupId).invoiceDaysBeforeRenewal);
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
      if (dates.length) examined++;
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
