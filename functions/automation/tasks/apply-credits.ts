import { applyCredits } from '../../billing/credits/apply-credits.js';
import { addDays } from '../../domain/dates.js';
import type { GroupSettings } from '../../domain/settings.js';
import { readBalancesOf } from '../../store/balances.js';
import { openInvoicesDueBy } from '../../store/invoices.js';
import { isAutomated, loadClients, loadCompanyView } from '../company-view.js';
import type { AutomationAction, WorkSource } from '../task.js';
import { attempt, emptyPage, finished, inactiveClient, nextKeyOf, pageOf, skipped, startKeyOf, type ActionBase } from './work.js';

/**
 * How far ahead of the run date an open invoice matters to credit: it may be auto-debited (`autoDebitDaysBeforeDue`)
 * or was billed by a renewal ahead of its date (`invoiceDaysBeforeRenewal`). Credit goes to it before any card is.
 */
const creditHorizon = (s: GroupSettings) => (s.autoApplyLooseCredits ? Math.max(s.invoiceDaysBeforeRenewal, s.autoDebitDaysBeforeDue) : ('never' as const));

/**
 * Applies loose credit to open invoices (`autoApplyLooseCredits`) through the apply-credits use case, oldest due date
 * first. Clients are found without a scan: the open-invoice index up to the widest credit horizon gives the
 * (client, currency) pairs that owe something soon; one batch read of those pairs' balance items keeps the ones with
 * credit (and only those clients are read). Applying credit consumes it, so a second run finds none: no once-marker is needed, and the ledger's
 * conditions keep two runs at once from applying the same credit twice.
 */
export const applyCreditsSource: WorkSource = {
  name: 'applyCredits',
  async page(ctx, key, limit) {
    const view = await loadCompanyView(ctx.companyId);
    const horizon = view.widest(creditHorizon);
    if (horizon === null) return emptyPage();
    const page = await openInvoicesDueBy(ctx.companyId, addDays(ctx.date, horizon), limit, startKeyOf(key));
    // One candidate per client and currency, with its earliest due date. Their balance items are read first: few
    // clients have loose credit, so only theirs are read to check their group's horizon and status.
    const pairs = new Map<string, { clientId: string; currency: string; earliestDue: string }>();
    for (const invoice of page.items) {
      const pairKey = `${invoice.clientId}#${invoice.currency}`;
      const seen = pairs.get(pairKey);
      if (!seen || invoice.dateDue < seen.earliestDue)
        pairs.set(pairKey, { clientId: invoice.clientId, currency: invoice.currency, earliestDue: invoice.dateDue });
    }
    const balances = (await readBalancesOf(ctx.companyId, [...pairs.values()])).filter((b) => b.credit > 0 && b.due > 0);
    const clients = await loadClients(
      ctx.companyId,
      balances.map((b) => b.clientId),
    );
    // Only where the client's group applies credit to an open invoice due that soon.
    const withCredit = balances.filter((b) => {
      const client = clients.get(b.clientId);
      if (!client) return false;
      const h = creditHorizon(view.settingsOf(client.groupId));
      const earliestDue = pairs.get(`${b.clientId}#${b.currency}`)?.earliestDue;
      return h !== 'never' && earliestDue !== undefined && earliestDue <= addDays(ctx.date, h);
    });
    const actions: AutomationAction[] = [];
    for (const balance of withCredit) {
      const base: ActionBase = {
        task: 'applyCredits',
        objectType: 'client',
        objectId: balance.clientId,
        clientId: balance.clientId,
        action: 'credit_applied',
        details: { currency: balance.currency, credit: balance.credit },
      };
      if (!isAutomated(clients.get(balance.clientId))) {
        actions.push(inactiveClient(base));
        continue;
      }
      actions.push(
        await attempt(base, async () => {
          const applied = await applyCredits({
            companyId: ctx.companyId,
            principal: null,
            clientId: balance.clientId,
            currency: balance.currency,
            preview: ctx.dryRun,
          });
          // Credit applied meanwhile (a run at the same time, a staff request) leaves nothing to do.
          if (!applied.length) return skipped(base, 'nothing to apply');
          return finished(base, ctx.dryRun, { applied, amount: applied.reduce((n, a) => n + a.amount, 0) });
        }),
      );
    }
    return pageOf(actions, nextKeyOf(page.lastKey));
  },
};
