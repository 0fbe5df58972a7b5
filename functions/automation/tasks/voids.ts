import { voidInvoice } from '../../billing/invoices/void-invoice.js';
import { voidDue } from '../../domain/automation.js';
import { addDays } from '../../domain/dates.js';
import { openInvoicesDueBy } from '../../store/invoices.js';
import { nowIso } from '../../store/items.js';
import { isDone, onceMarkerPut, type OnceKey } from '../../store/once.js';
import { isAutomated, loadClients, loadCompanyView } from '../company-view.js';
import type { AutomationAction, WorkSource } from '../task.js';
import {
  attempt,
  doneBefore,
  doneByThisPage,
  emptyPage,
  finished,
  inactiveClient,
  listPage,
  nextKeyOf,
  pageOf,
  skipped,
  startKeyOf,
  type ActionBase,
} from './work.js';

/**
 * Voids open invoices `voidInvoicesDaysAfterDue` days after their due date (the client's group setting), through the
 * void-invoice use case, each with its once-marker (`void`, the invoice, its due date) in the void's transaction.
 * Read from the open-invoice index up to the date the group with the fewest days would void.
 */
export const voidsSource: WorkSource = {
  name: 'voids',
  async page(ctx, key, limit) {
    const view = await loadCompanyView(ctx.companyId);
    // The fewest days after due over the groups: read invoices due up to `date - fewest`.
    const negated = view.widest((s) => (s.voidInvoicesDaysAfterDue === 'never' ? 'never' : -s.voidInvoicesDaysAfterDue));
    if (negated === null) return emptyPage();
    const page = await listPage(ctx, 'voids', key, () => openInvoicesDueBy(ctx.companyId, addDays(ctx.date, negated), limit, startKeyOf(key)));
    const clients = await loadClients(
      ctx.companyId,
      page.items.map((i) => i.clientId),
    );
    const actions: AutomationAction[] = [];
    for (const invoice of page.items) {
      const client = clients.get(invoice.clientId);
      const base: ActionBase = {
        task: 'voids',
        objectType: 'invoice',
        objectId: invoice.id,
        clientId: invoice.clientId,
        action: 'voided',
        details: { invoiceId: invoice.id, number: invoice.number, dateDue: invoice.dateDue, amountDue: invoice.due, currency: invoice.currency },
      };
      // Only an invoice the client's own group would void now is an action (done, or skipped for an inactive client).
      if (!client || !voidDue(invoice.dateDue, ctx.date, view.settingsOf(client.groupId).voidInvoicesDaysAfterDue)) continue;
      if (!isAutomated(client)) {
        actions.push(inactiveClient(base));
        continue;
      }
      const once: OnceKey = { companyId: ctx.companyId, clientId: invoice.clientId, task: 'void', objectId: invoice.id, period: invoice.dateDue };
      actions.push(
        await attempt(base, async () => {
          if (ctx.dryRun) return (await isDone(once)) ? skipped(base, 'already done') : finished(base, true, {});
          // A replay: the killed attempt may have voided it (the entry is the first attempt's; the invoice is void now).
          if (await doneByThisPage(ctx, page, once)) return doneBefore(base);
          const voided = await voidInvoice({
            companyId: ctx.companyId,
            invoiceId: invoice.id,
            onlyOpen: true,
            alsoWrite: [onceMarkerPut(once, ctx.runId, nowIso())],
          });
          return finished(base, false, { voidedOn: voided.voidedOn });
        }),
      );
    }
    return pageOf(actions, nextKeyOf(page.lastKey));
  },
};
