import { clearAutoDebitAccount } from '../../billing/payment-accounts/set-auto-debit-account.js';
import { makePayment } from '../../billing/payments/make-payment.js';
import { addNote } from '../../clients/add-note.js';
import { inAutoDebitWindow } from '../../domain/automation.js';
import type { Client } from '../../domain/client.js';
import { addDays } from '../../domain/dates.js';
import { AlreadyDoneError, ConcurrentChangeError } from '../../domain/errors.js';
import { derivedId } from '../../domain/ids.js';
import type { Transaction } from '../../domain/invoice.js';
import { accountLabel, isUsable, type PaymentAccount } from '../../domain/payment-account.js';
import type { GroupSettings } from '../../domain/settings.js';
import { sendAutoDebitDisabled } from '../../email/notify.js';
import { getClient } from '../../store/clients.js';
import { openInvoicesDueBy, openInvoicesOfClient } from '../../store/invoices.js';
import { nowIso } from '../../store/items.js';
import { onceMarkerPut } from '../../store/once.js';
import { countAutoDebitOutcome, getPaymentAccount } from '../../store/payment-accounts.js';
import { getTransaction } from '../../store/transactions.js';
import { isAutomated, loadClients, loadCompanyView } from '../company-view.js';
import type { AutomationAction, RunContext, WorkSource } from '../task.js';
import type { PageListing } from '../../store/automation-runs.js';
import { attempt, emptyPage, finished, inactiveClient, listPage, nextKeyOf, pageOf, skipped, startKeyOf, type ActionBase } from './work.js';

const SYSTEM = { type: 'system', id: 'billow' } as const;

/** Most invoices one charge pays (a payment's ledger write is one DynamoDB transaction); the rest go the next day. */
export const MAX_INVOICES_PER_CHARGE = 50;

/**
 * The id of a client's `n`-th auto-debit attempt in one currency on one run date. Derived, so the gateway key
 * (chargeIdempotencyKey) is the same whoever makes the attempt, and a repeated page finds it recorded
 * (`AlreadyDoneError` from the store) instead of charging again.
 */
export const autoDebitAttemptId = (companyId: string, clientId: string, currency: string, date: string, n: number) =>
  derivedId('txn', 'autoDebit', companyId, clientId, currency, date, String(n));

/**
 * Auto-debit (`enableAutoDebit`): for each active client with an active auto-debit account, ONE charge per currency
 * for the open invoices due within `autoDebitDaysBeforeDue` days, through the make-payment use case (so receipts and
 * declined notices go out as for API payments). The invoices are re-read right before charging; the attempt id is
 * derived from (client, currency, run date, attempt number). Attempt numbers go up on one date only after a transient
 * failure: a decline, approval or unknown outcome ends the date. Declines are counted on the account (a transient
 * failure is not), approvals reset the count, and at `autoDebitAttempts` auto-debit is turned off for the client, a
 * note is added and `auto_debit_disabled` is mailed. Clients are found from the open-invoice index up to
 * `date + the widest autoDebitDaysBeforeDue`.
 */
export const autoDebitSource: WorkSource = {
  name: 'autoDebit',
  async page(ctx, key, limit) {
    const view = await loadCompanyView(ctx.companyId);
    const ahead = view.widest((s) => (s.enableAutoDebit ? s.autoDebitDaysBeforeDue : 'never'));
    if (ahead === null) return emptyPage();
    const page = await listPage(ctx, 'autoDebit', key, () => openInvoicesDueBy(ctx.companyId, addDays(ctx.date, ahead), limit, startKeyOf(key)));
    const clients = await loadClients(
      ctx.companyId,
      page.items.map((i) => i.clientId),
    );
    // One charge per client and currency with an invoice in its group's window (only clients with auto-debit on).
    const pairs = new Map<string, { client: Client; currency: string }>();
    for (const invoice of page.items) {
      const client = clients.get(invoice.clientId);
      if (!client?.autoDebitAccountId) continue;
      const settings = view.settingsOf(client.groupId);
      if (!settings.enableAutoDebit || !inAutoDebitWindow(invoice.dateDue, ctx.date, settings.autoDebitDaysBeforeDue)) continue;
      pairs.set(`${client.id}#${invoice.currency}`, { client, currency: invoice.currency });
    }
    const actions: AutomationAction[] = [];
    for (const { client, currency } of pairs.values()) actions.push(...(await chargeClient(ctx, page, client, currency, view.settingsOf(client.groupId))));
    // Examined: the clients' currencies; a disabled auto-debit is a second action on the same object.
    return pageOf(actions, nextKeyOf(page.lastKey), pairs.size);
  },
};

async function chargeClient(
  ctx: RunContext,
  listing: PageListing<unknown>,
  client: Client,
  currency: string,
  settings: GroupSettings,
): Promise<AutomationAction[]> {
  const base: ActionBase = { task: 'autoDebit', objectType: 'client', objectId: client.id, clientId: client.id, action: 'charged', details: { currency } };
  if (!isAutomated(client)) return [inactiveClient(base)];
  const followUps: AutomationAction[] = [];
  const charge = await attempt(base, async () => {
    const account = client.autoDebitAccountId ? await getPaymentAccount(ctx.companyId, client.id, client.autoDebitAccountId) : undefined;
    if (!account || !isUsable(account) || !account.autoDebit) return skipped(base, 'no active auto-debit account');
    const next = await nextAttempt(ctx, client.id, currency);
    if ('done' in next) {
      // The date's attempt ended before (a repeated page or run): its outcome is counted now if a crash lost that.
      if (!ctx.dryRun) followUps.push(...(await afterOutcome(ctx, client, account, next.done, settings)));
      // A replay whose killed attempt made the attempt (the lock keeps other runs out; its id is this date's): this
      // run's charge, reported as the attempt ended (one it never heard back about is left to reconciliation).
      if (listing.replay && next.done.createdAt >= listing.listedAt) return chargedBefore(base, next.done);
      return skipped(base, 'already done', { transactionId: next.done.id, status: next.done.status });
    }
    const window = (await openInvoicesOfClient(ctx.companyId, client.id, currency))
      .filter((i) => i.due > 0 && inAutoDebitWindow(i.dateDue, ctx.date, settings.autoDebitDaysBeforeDue))
      .slice(0, MAX_INVOICES_PER_CHARGE);
    if (!window.length) return skipped(base, 'nothing due');
    const apply = window.map((i) => ({ invoiceId: i.id, amount: i.due }));
    const details = {
      amount: apply.reduce((n, a) => n + a.amount, 0),
      currency,
      invoiceIds: apply.map((a) => a.invoiceId),
      paymentAccountId: account.id,
      transactionId: next.id,
      attempt: next.n,
    };
    if (ctx.dryRun) return finished(base, true, details);
    const result = await makePayment({
      companyId: ctx.companyId,
      principal: null,
      clientId: client.id,
      source: { paymentAccountId: account.id },
      currency,
      apply,
      transactionId: next.id,
    });
    if (result.outcome === 'approved' || result.outcome === 'kept_as_credit') {
      followUps.push(...(await afterOutcome(ctx, client, account, result.transaction, settings)));
      return finished(base, false, {
        ...details,
        status: result.transaction.status,
        ...(result.outcome === 'kept_as_credit' ? { keptAsCredit: result.reason } : {}),
      });
    }
    if (result.outcome === 'declined') {
      followUps.push(...(await afterOutcome(ctx, client, account, result.attempt, settings)));
      return {
        ...base,
        action: 'charge_declined',
        outcome: 'done',
        message: `declined (${result.declineCode ?? 'declined'})`,
        details: { ...base.details, ...details, status: 'declined' },
      };
    }
    // Not counted as a decline: retried by the next run (or a re-run of this date, as the next attempt number).
    const message = result.outcome === 'failed' ? 'transient gateway failure' : 'the outcome is not known yet; left to reconciliation';
    return { ...base, action: 'charge_failed', outcome: 'failed', message, details: { ...base.details, ...details, status: result.attempt.status } };
  });
  return [charge, ...followUps];
}

/** The action of a charge this page's killed attempt made, as the attempt stands now. */
function chargedBefore(base: ActionBase, txn: Transaction): AutomationAction {
  const details = { ...base.details, amount: txn.amount, transactionId: txn.id, paymentAccountId: txn.paymentAccountId, status: txn.status };
  const message = 'done by an earlier attempt of this page';
  if (txn.status === 'succeeded') return { ...base, outcome: 'done', message, details };
  if (txn.status === 'declined') return { ...base, action: 'charge_declined', outcome: 'done', message, details };
  return { ...base, action: 'charge_failed', outcome: 'failed', message: 'the outcome is not known yet; left to reconciliation', details };
}

/** The attempt number to make on the run date, or the attempt that already ended the date. */
async function nextAttempt(ctx: RunContext, clientId: string, currency: string): Promise<{ n: number; id: string } | { done: Transaction }> {
  for (let n = 1; ; n++) {
    const id = autoDebitAttemptId(ctx.companyId, clientId, currency, ctx.date, n);
    const recorded = await getTransaction(ctx.companyId, clientId, id);
    if (!recorded) return { n, id };
    if (recorded.status !== 'failed') return { done: recorded };
  }
}

/**
 * Counts a settled attempt on its account (once per attempt) and, when the declines reach `autoDebitAttempts`, turns
 * auto-debit off. Safe to repeat: each step is written once whatever ran before.
 */
async function afterOutcome(ctx: RunContext, client: Client, account: PaymentAccount, txn: Transaction, settings: GroupSettings): Promise<AutomationAction[]> {
  if (txn.paymentAccountId !== account.id || (txn.status !== 'declined' && txn.status !== 'succeeded')) return [];
  const declines = await countAutoDebitOutcome(ctx.companyId, client.id, account.id, txn.id, txn.status === 'declined');
  if (txn.status !== 'declined' || declines === undefined || declines < settings.autoDebitAttempts) return [];
  const base: ActionBase = {
    task: 'autoDebit',
    objectType: 'paymentAccount',
    objectId: account.id,
    clientId: client.id,
    action: 'auto_debit_disabled',
    details: { paymentAccountId: account.id, declines, transactionId: txn.id },
  };
  return [await attempt(base, () => disableAutoDebit(ctx, client, account, txn, base, declines))];
}

async function disableAutoDebit(ctx: RunContext, client: Client, account: PaymentAccount, txn: Transaction, base: ActionBase, declines: number) {
  const now = await getClient(ctx.companyId, client.id);
  if (!now) return skipped(base, 'client deleted');
  // The one writer of the auto-debit rule: the account keeps `active` for manual payments, `autoDebit` goes false.
  // (Already off, by an earlier round that stopped before its note or mail: those follow, each written once.)
  if (now.autoDebitAccountId === account.id) await clearAutoDebitAccount({ companyId: ctx.companyId, principal: null, clientId: client.id });
  const label = accountLabel(account);
  try {
    await addNote({
      companyId: ctx.companyId,
      clientId: client.id,
      authorId: 'automation',
      noteId: derivedId('note', 'autoDebitDisabled', ctx.companyId, txn.id),
      note: {
        summary: `Auto-debit turned off after ${declines} declined charges`,
        details: `The daily run's charge ${txn.id} to ${label} on ${ctx.date} was declined, the ${declines}th in a row (the limit is reached). The account stays active for manual payments.`,
      },
    });
  } catch (error) {
    // Its id is derived from the attempt: one already written is this note.
    if (!(error instanceof ConcurrentChangeError)) throw error;
  }
  try {
    await sendAutoDebitDisabled(ctx.companyId, now, SYSTEM, {
      paymentMethodLabel: label,
      alsoWrite: [
        onceMarkerPut({ companyId: ctx.companyId, clientId: client.id, task: 'autoDebitDisabled', objectId: account.id, period: txn.id }, ctx.runId, nowIso()),
      ],
    });
  } catch (error) {
    if (!(error instanceof AlreadyDoneError)) throw error;
  }
  return finished(base, false, { paymentMethod: label });
}
