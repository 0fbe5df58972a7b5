import type { Client } from '../../domain/client.js';
import { AlreadyDoneError } from '../../domain/errors.js';
import { NOTICE_KINDS, noticeDue, noticeLead, type NoticeKind } from '../../domain/automation.js';
import { addDays } from '../../domain/dates.js';
import type { GroupSettings } from '../../domain/settings.js';
import type { Invoice } from '../../domain/invoice.js';
import { accountLabel, isUsable } from '../../domain/payment-account.js';
import { billingRecipients, sendInvoiceNotice } from '../../email/notify.js';
import { transact } from '../../store/dynamo.js';
import { getInvoicesNow, openInvoicesDueBy } from '../../store/invoices.js';
import { nowIso } from '../../store/items.js';
import { doneAmong, doneKey, onceMarkerPut, type OnceKey } from '../../store/once.js';
import { getPaymentAccount } from '../../store/payment-accounts.js';
import { isAutomated, loadClients, loadCompanyView } from '../company-view.js';
import type { AutomationAction, RunContext, WorkSource } from '../task.js';
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

const SYSTEM = { type: 'system', id: 'billow' } as const;

/**
 * Payment notices (`auto_debit_pending`, `late_notice_first|second|third`) on their days relative to the due date, to
 * the billing contacts or else the client. Each (invoice, kind) is mailed at most once: its once-marker
 * (`notice:<template>`, the invoice, its due date) commits with the mail-log entry, before the provider is called.
 * Catch-up: of the kinds whose day has passed unsent, only the latest is sent; the earlier ones are marked done
 * (superseded) so they never go out late. Read from the open-invoice index up to `date + the widest notice lead`.
 */
export const noticesSource: WorkSource = {
  name: 'notices',
  async page(ctx, key, limit) {
    const view = await loadCompanyView(ctx.companyId);
    const lead = view.widest((s) => noticeLead(s.paymentDueNotices));
    if (lead === null) return emptyPage();
    const page = await listPage(ctx, 'notices', key, () => openInvoicesDueBy(ctx.companyId, addDays(ctx.date, lead), limit, startKeyOf(key)));
    const onceOf = (invoice: Invoice, kind: NoticeKind): OnceKey => ({
      companyId: ctx.companyId,
      clientId: invoice.clientId,
      task: `notice:${kind}`,
      objectId: invoice.id,
      period: invoice.dateDue,
    });
    const clients = await loadClients(
      ctx.companyId,
      page.items.map((i) => i.clientId),
    );
    // Most invoices of the window have no notice due today (a late notice waits for its day, a pending one is only for
    // a client that auto-debits): that is decided on the index entry first, as if nothing had been sent and any
    // auto-debit account were active, so only the invoices that may get a notice are read again and have their
    // markers read. An entry lagging a change of due date by a moment only delays a notice to the next run, which
    // sends the latest one unsent.
    const mayNotify = page.items.filter((listed) => {
      const client = clients.get(listed.clientId);
      if (!client) return false;
      const settings = view.settingsOf(client.groupId);
      const autoDebitOn = Boolean(client.autoDebitAccountId) && settings.enableAutoDebit;
      return noticeDue(settings.paymentDueNotices, listed.dateDue, ctx.date, { autoDebitOn, done: new Set() }).send !== null;
    });
    // The index may lag a payment by a moment: what is sent is decided on the invoices as they are now.
    const [current, done] = await Promise.all([
      getInvoicesNow(ctx.companyId, mayNotify),
      doneAmong(mayNotify.flatMap((i) => NOTICE_KINDS.map((kind) => onceOf(i, kind)))),
    ]);
    const now = new Map(current.map((i) => [i.id, i] as const));
    const actions: AutomationAction[] = [];
    const accounts = new Map<string, ReturnType<typeof autoDebitAccount>>();
    for (const listed of mayNotify) {
      const invoice = now.get(listed.id);
      const client = clients.get(listed.clientId);
      if (invoice?.status !== 'open' || !client) continue;
      const settings = view.settingsOf(client.groupId);
      // An inactive client's account is not read: it gets nothing, whatever would be due.
      if (!accounts.has(client.id)) accounts.set(client.id, isAutomated(client) ? autoDebitAccount(ctx, client, settings) : Promise.resolve(null));
      const autoDebit = await accounts.get(client.id);
      // A replay plans as the killed attempt did: what that attempt marked is not "done before" but its own work.
      const markerOfKind = (kind: NoticeKind) => done.get(doneKey(onceOf(invoice, kind)));
      const doneKinds = new Set(NOTICE_KINDS.filter((kind) => markerOfKind(kind) && !byThisPage(ctx, page, markerOfKind(kind))));
      const plan = noticeDue(settings.paymentDueNotices, invoice.dateDue, ctx.date, { autoDebitOn: autoDebit !== null, done: doneKinds });
      if (!plan.send && !plan.supersede.length) continue;
      const base: ActionBase = {
        task: 'notices',
        objectType: 'invoice',
        objectId: invoice.id,
        clientId: client.id,
        action: 'notice_sent',
        details: { template: plan.send, invoiceId: invoice.id, number: invoice.number, dateDue: invoice.dateDue, due: invoice.due, currency: invoice.currency },
      };
      if (!isAutomated(client)) {
        if (plan.send) actions.push(inactiveClient(base));
        continue;
      }
      const at = nowIso();
      const superseded = plan.supersede.map((kind) => onceMarkerPut(onceOf(invoice, kind), ctx.runId, at));
      if (!plan.send) {
        // Nothing to send (the latest due kind is done): only the earlier ones are closed, without mail.
        if (!ctx.dryRun) await markSuperseded(superseded);
        continue;
      }
      const kind = plan.send;
      const detailsOf = { superseded: plan.supersede };
      actions.push(
        await attempt(base, async () => {
          if (ctx.dryRun) return finished(base, true, { ...detailsOf, to: await billingRecipients(ctx.companyId, client) });
          if (byThisPage(ctx, page, markerOfKind(kind))) {
            // The killed attempt logged it with the superseded markers (and had it sent, or left it queued: automatic
            // notices go at most once).
            return doneBefore(base, detailsOf);
          }
          const autoDebitDate = kind === 'auto_debit_pending' ? maxDate(ctx.date, addDays(invoice.dateDue, -settings.autoDebitDaysBeforeDue)) : undefined;
          const entry = await sendInvoiceNotice(ctx.companyId, client, kind, invoice, SYSTEM, {
            alsoWrite: [onceMarkerPut(onceOf(invoice, kind), ctx.runId, at), ...superseded],
            paymentMethodLabel: autoDebit ? accountLabel(autoDebit) : undefined,
            autoDebitDate,
          });
          if (!entry) return skipped(base, 'no deliverable recipient', detailsOf);
          const sent = { ...detailsOf, to: entry.to, mailId: entry.id };
          // The marker is written with the entry: a provider failure is not retried by a later run (no second mail),
          // it shows here and in the mail log, where staff can resend it.
          if (entry.status === 'failed')
            return { ...base, outcome: 'failed', message: entry.statusReason ?? 'the mail was not sent', details: { ...base.details, ...sent } };
          return finished(base, false, sent);
        }),
      );
    }
    return pageOf(actions, nextKeyOf(page.lastKey));
  },
};

/** The client's auto-debit account when auto-debit applies to it: its group charges automatically and the account is active. */
async function autoDebitAccount(ctx: RunContext, client: Client, settings: GroupSettings) {
  if (!client.autoDebitAccountId || !settings.enableAutoDebit || settings.paymentDueNotices.autoDebitPendingNoticeDays === 'never') return null;
  const account = await getPaymentAccount(ctx.companyId, client.id, client.autoDebitAccountId);
  return account && isUsable(account) && account.autoDebit ? account : null;
}

/** Closes superseded notices one by one; one already closed (a concurrent run) is no error. */
async function markSuperseded(markers: ReturnType<typeof onceMarkerPut>[]): Promise<void> {
  for (const marker of markers) {
    try {
      await transact([marker], () => new AlreadyDoneError());
    } catch (error) {
      if (!(error instanceof AlreadyDoneError)) throw error;
    }
  }
}

const maxDate = (a: string, b: string) => (a > b ? a : b);
