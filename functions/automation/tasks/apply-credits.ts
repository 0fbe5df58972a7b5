import { applyCredits } from '../../billing/credits/apply-credits.js';
import { addDays } from '../../domain/dates.js';
import type { GroupSettings } from '../../domain/settings.js';
import { readBalancesOf } from '../../store/balances.js';
import { earliestOpenDue } from '../../store/invoices.js';
import { nowIso } from '../../store/items.js';
import { doneAmong, doneKey, onceMarkerPut, type OnceKey } from '../../store/once.js';
import { creditHoldersPage } from '../../store/transactions.js';
import { isAutomated, loadClients, loadCompanyView } from '../company-view.js';
import type { AutomationAction, WorkSource } from '../task.js';
import {
  attempt,
  byThisPage,
  doneBefore,
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
 * How far ahead of the run date an open invoice matters to credit: it may be auto-debited (`autoDebitDaysBeforeDue`)
 * or was billed by a renewal ahead of its date (`invoiceDaysBeforeRenewal`). Credit goes to it before any card is.
 */
const creditHorizon = (s: GroupSettings) => (s.autoApplyLooseCredits ? Math.max(s.invoiceDaysBeforeRenewal, s.autoDebitDaysBeforeDue) : ('never' as const));

/**
 * Applies loose credit to open invoices (`autoApplyLooseCredits`) through the apply-credits use case, oldest due date
 * first. Clients are found without a scan: the company's payments holding credit (a sparse index, store/transactions.ts
 * `creditHoldersPage`) give the (client, currency) pairs that have some; one batch read of those pairs' balance items
 * keeps the ones that also owe something, the due date of their oldest open invoice in the currency (the client's
 * open-invoice index) the ones owing within the widest horizon, and only those clients are read, to check their own
 * group's horizon. So the task reads nothing for the many clients without credit, however many invoices are open. Applying credit consumes it, so a second run finds none: the marker each
 * application commits (one per page, client and currency) is only how a replayed page counts what its killed attempt
 * applied, and the ledger's conditions keep two runs at once from applying the same credit twice. (A client whose
 * credit payments fall on two pages is looked at twice: the second time its credit is used up, or, in a dry run,
 * planned again.)
 */
export const applyCreditsSource: WorkSource = {
  name: 'applyCredits',
  async page(ctx, key, limit) {
    const view = await loadCompanyView(ctx.companyId);
    const horizon = view.widest(creditHorizon);
    if (horizon === null) return emptyPage();
    const page = await listPage(ctx, 'applyCredits', key, () => creditHoldersPage(ctx.companyId, limit, startKeyOf(key)));
    const pairs = new Map<string, { clientId: string; currency: string }>();
    for (const payment of page.items) pairs.set(`${payment.clientId}#${payment.currency}`, { clientId: payment.clientId, currency: payment.currency });
    // The page's application to a client in a currency commits a marker of this page (its listing's time, the same
    // on a replay): credit leaves no other trace of who applied it, and a replay must count what its killed attempt
    // applied (a client whose payments fall on two pages is applied to by each, under two markers).
    const onceOf = (pair: { clientId: string; currency: string }): OnceKey => ({
      companyId: ctx.companyId,
      clientId: pair.clientId,
      task: 'applyCredits',
      objectId: pair.clientId,
      period: `${pair.currency}#${ctx.runId}#${page.listedAt}`,
    });
    const markers = page.replay ? await doneAmong([...pairs.values()].map(onceOf)) : new Map();
    const appliedBefore = (pair: { clientId: string; currency: string }) => byThisPage(ctx, page, markers.get(doneKey(onceOf(pair))));
    // The index lags the ledger by a moment: the balances (read by key) decide who has credit and owes something.
    const owing = (await readBalancesOf(ctx.companyId, [...pairs.values()])).filter((b) => b.credit > 0 && b.due > 0);
    // Of those, the ones with an open invoice in the currency due within the widest horizon; only they are read.
    const soon: Array<(typeof owing)[number] & { earliestDue: string }> = [];
    for (const balance of owing) {
      const earliestDue = await earliestOpenDue(ctx.companyId, balance.clientId, balance.currency);
      if (earliestDue !== null && earliestDue <= addDays(ctx.date, horizon)) soon.push({ ...balance, earliestDue });
    }
    const clients = await loadClients(
      ctx.companyId,
      soon.map((b) => b.clientId),
    );
    // Only where the client's group applies credit to an open invoice due that soon.
    const withCredit = soon.filter((b) => {
      const client = clients.get(b.clientId);
      const h = client ? creditHorizon(view.settingsOf(client.groupId)) : 'never';
      return h !== 'never' && b.earliestDue <= addDays(ctx.date, h);
    });
    const actions: AutomationAction[] = [];
    // A replay: the pairs the killed attempt applied credit to and that have none left to apply now.
    const acting = new Set(withCredit.map((b) => `${b.clientId}#${b.currency}`));
    for (const [pairKey, pair] of pairs)
      if (!acting.has(pairKey) && appliedBefore(pair))
        actions.push(
          doneBefore({
            task: 'applyCredits',
            objectType: 'client',
            objectId: pair.clientId,
            clientId: pair.clientId,
            action: 'credit_applied',
            details: { currency: pair.currency },
          }),
        );
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
          // The killed attempt applied some (its marker is written): the rest goes without a second marker.
          const before = appliedBefore(balance);
          const applied = await applyCredits({
            companyId: ctx.companyId,
            principal: null,
            clientId: balance.clientId,
            currency: balance.currency,
            preview: ctx.dryRun,
            ...(ctx.dryRun || before ? {} : { alsoWrite: [onceMarkerPut(onceOf(balance), ctx.runId, nowIso())] }),
          });
          if (before) return doneBefore(base, { applied, amount: applied.reduce((n, a) => n + a.amount, 0) });
          // Credit applied meanwhile (a run at the same time, a staff request) leaves nothing to do.
          if (!applied.length) return skipped(base, 'nothing to apply');
          return finished(base, ctx.dryRun, { applied, amount: applied.reduce((n, a) => n + a.amount, 0) });
        }),
      );
    }
    return pageOf(actions, nextKeyOf(page.lastKey));
  },
};
