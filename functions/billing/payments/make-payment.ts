import type { AchDetails, CardDetails, PaymentDetails } from '../../adapters/gateway/port.js';
import { getServices } from '../../services.js';
import type { Client } from '../../domain/client.js';
import { NotFoundError, ValidationError } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import type { PaymentMethod, Transaction } from '../../domain/invoice.js';
import { planPayment, type LedgerApplication } from '../../domain/ledger.js';
import { isUsable, type PaymentAccount } from '../../domain/payment-account.js';
import type { Principal } from '../../domain/principal.js';
import { logger } from '../../observability/logger.js';
import { billingAddresses, clientContacts } from '../../email/notify.js';
import { readClientContext } from '../../store/client-context.js';
import type { Item } from '../../store/dynamo.js';
import { nowIso } from '../../store/items.js';
import { loadLedgerInCurrency, type LoadedLedger } from '../../store/ledger.js';
import { suppressedIn, suppressionKeys } from '../../store/mail.js';
import { putPendingCharge, type PendingCharge } from '../../store/pending-charges.js';
import { insertPendingAttempt } from '../../store/transactions.js';
import { assertPaymentCurrency, ledgerError, today } from '../common.js';
import { keepPaymentMethod } from '../payment-accounts/add-payment-account.js';
import { accountToken, assertPaymentDetails, tokenize } from '../payment-accounts/payment-methods.js';
import { chargeRecordedAttempt, type AttemptOutcome } from './charge-attempt.js';
import { notifyAttemptOutcome, receiptFor, type PaymentReads } from './notifications.js';
import { sealAttemptToken } from './pending-charge-token.js';

/** What to charge: a stored account, or new details (kept as an account after approval when `save` is set). */
export type PaymentSource = { paymentAccountId: string } | { newCard: CardDetails; save?: boolean } | { newAch: AchDetails; save?: boolean };

export interface MakePaymentInput {
  companyId: string;
  /** Who pays or takes the payment; `null` for the system (automation). A client token cannot pay a draft. */
  principal: Principal | null;
  clientId: string;
  source: PaymentSource;
  currency: string;
  /** Invoices to pay, in order; whatever is not applied becomes credit. */
  apply: readonly LedgerApplication[];
  /** Charged on top of the applications, kept as credit. */
  otherAmount?: number;
  /** A receipt is mailed unless this is `false`. */
  sendReceipt?: boolean;
  /**
   * The attempt's id, when the caller derives it (the automation: client, currency, run date, attempt number): the
   * gateway key follows from it, and an attempt already recorded under it is refused (`AlreadyDoneError`) before
   * anything is charged. Default: a new id.
   */
  transactionId?: string;
}

/**
 * How a payment ended. Only `approved` and `kept_as_credit` moved money; `declined` (the issuer or bank refused) and
 * `failed` (a transient gateway failure: nothing charged, safe to try again) carry the attempt, stored as such;
 * `pending` carries an attempt whose outcome is not recorded (money may have moved), left to reconcile-payment.ts.
 */
export type MakePaymentResult =
  | AttemptOutcome
  /** The outcome could not be recorded (the gateway may have charged): the attempt stays `pending` until reconciled. */
  | { outcome: 'pending'; attempt: Transaction };

const sum = (apply: readonly LedgerApplication[]) => apply.reduce((s, a) => s + a.amount, 0);

/**
 * Make a payment (seed 000, steps 1–3): checked against the ledger first, the attempt recorded, the gateway charged
 * with a key derived from the attempt, and on approval the applications, invoice balances and credit written in one
 * transaction conditioned on the balances it was planned from. A failure after the attempt is recorded is the
 * `pending` outcome, never a bare error: the caller must learn the transaction that may hold its money.
 */
export async function makePayment(input: MakePaymentInput): Promise<MakePaymentResult> {
  const { companyId, principal, currency, apply } = input;
  const sendReceipt = input.sendReceipt !== false;
  // The company, the client, the stored account and the templates this payment may mail: one read, passed down. With
  // a receipt, the client's contacts are read next to it, and its recipients' suppressions with the ledger below.
  const [context, contacts] = await Promise.all([
    readClientContext(companyId, input.clientId, {
      paymentAccountId: 'paymentAccountId' in input.source ? input.source.paymentAccountId : undefined,
      templates: sendReceipt ? ['payment_receipt', 'payment_declined'] : ['payment_declined'],
    }),
    sendReceipt ? clientContacts(companyId, input.clientId) : undefined,
  ]);
  const { client, company } = context;
  const recipients = contacts && billingAddresses(client, contacts);
  assertPaymentCurrency(company, currency, apply);
  const date = today(company);
  const amount = sum(apply) + (input.otherAmount ?? 0);
  if (amount <= 0)
    throw new ValidationError('The payment must be greater than 0: apply something or give otherAmount.', [
      { path: 'otherAmount', message: 'The charge (sum of apply + otherAmount) must be greater than 0.' },
    ]);
  const id = input.transactionId ?? newId('txn');
  const { alsoRead, ...loaded } = await assertPayable(
    companyId,
    client.id,
    principal,
    { transactionId: id, currency, amount, date, apply },
    recipients ? suppressionKeys(companyId, recipients) : [],
  );

  const source = await resolveSource(companyId, client, input.source, date, context.paymentAccount);
  const attempt = pendingAttempt({ id, clientId: client.id, method: source.method, amount, currency, date, paymentAccountId: source.paymentAccountId });
  const description = `Payment from client #${client.number}`;
  await recordPendingAttempt(companyId, attempt, {
    companyId,
    transactionId: id,
    clientId: client.id,
    apply: [...apply],
    otherAmount: input.otherAmount ?? 0,
    sendReceipt,
    description,
    // A stored account's token is read again from the account; new details have nowhere else to be found.
    sealedToken: source.paymentAccountId ? null : await sealAttemptToken(companyId, id, source.token),
    createdAt: attempt.createdAt,
  });
  const reads: PaymentReads = {
    context,
    invoices: loaded.invoices,
    ...(contacts && recipients
      ? { recipients: { contacts, checked: new Set(recipients.map((a) => a.toLowerCase())), suppressed: suppressedIn(alsoRead) } }
      : {}),
  };
  let result: AttemptOutcome;
  try {
    result = await chargeRecordedAttempt({
      companyId,
      attempt,
      token: source.token,
      description,
      apply,
      saveAccount: source.saveAccount,
      // Planned against what assertPayable read; the receipt, when asked for, is recorded with the approval.
      loaded,
      receipt: sendReceipt ? receiptFor(companyId, principal, reads) : undefined,
    });
  } catch (error) {
    // The gateway may have taken the money: the attempt stays pending, listed, and the reconciler settles it.
    logger.error('A payment attempt was left pending: its outcome could not be recorded', { transactionId: id, error });
    return { outcome: 'pending', attempt };
  }
  await notifyAttemptOutcome(companyId, client, result, principal, apply, sendReceipt, reads);
  // The receipt is the mail's business, not the caller's.
  if (result.outcome === 'approved') return { outcome: 'approved', transaction: result.transaction };
  return result;
}

/**
 * Refuses, before anything is charged, a payment the ledger would refuse as it stands now; the ledger it read, with
 * the items of `alsoRead` (read in the same batch).
 */
async function assertPayable(
  companyId: string,
  clientId: string,
  principal: Principal | null,
  payment: { transactionId: string; currency: string; amount: number; date: string; apply: readonly LedgerApplication[] },
  alsoRead: ReadonlyArray<{ PK: string; SK: string }>,
): Promise<LoadedLedger & { alsoRead: Item[] }> {
  // The invoices and the payment currency's balance in one BatchGet.
  const loaded = await loadLedgerInCurrency(companyId, clientId, payment.currency, { invoiceIds: payment.apply.map((a) => a.invoiceId), alsoRead });
  // A client token does not see drafts (404 by id), so paying one by id is not found either.
  const draft = principal?.role === 'client' ? payment.apply.find((a) => loaded.state.invoices[a.invoiceId]?.status === 'draft') : undefined;
  if (draft) throw new NotFoundError(`Invoice ${draft.invoiceId} does not exist`);
  const plan = planPayment(loaded.state, { ...payment, kind: 'charge' });
  if (!plan.ok) throw ledgerError(plan.error);
  return loaded;
}

interface ResolvedSource {
  token: string;
  method: PaymentMethod;
  paymentAccountId: string | null;
  /** For new details with `save: true`: keeps them as an account; called only once the charge is approved. */
  saveAccount?: () => Promise<string>;
}

/** A stored account's token (the account as read with the client), or new details checked and tokenised now. */
async function resolveSource(
  companyId: string,
  client: Client,
  source: PaymentSource,
  todayDate: string,
  account: PaymentAccount | undefined,
): Promise<ResolvedSource> {
  if ('paymentAccountId' in source) {
    if (!account) throw ValidationError.field('source.paymentAccountId', 'No such payment account.');
    if (!isUsable(account)) throw ValidationError.field('source.paymentAccountId', 'This payment account is disabled.');
    return { token: await accountToken(companyId, account), method: account.type, paymentAccountId: account.id };
  }
  const details: PaymentDetails = 'newCard' in source ? { type: 'card', card: source.newCard } : { type: 'ach', ach: source.newAch };
  assertPaymentDetails(details, todayDate, 'newCard' in source ? 'source.newCard' : 'source.newAch');
  const method = await tokenize(details);
  const saveAccount = source.save ? async () => (await keepPaymentMethod(companyId, client, details, method)).id : undefined;
  return { token: method.token, method: details.type, paymentAccountId: null, saveAccount };
}

function pendingAttempt(a: Pick<Transaction, 'id' | 'clientId' | 'method' | 'amount' | 'currency' | 'date' | 'paymentAccountId'>): Transaction {
  const now = nowIso();
  return {
    ...a,
    livemode: getServices().gateway.livemode,
    kind: 'charge',
    status: 'pending',
    applications: [],
    credit: 0,
    refunded: 0,
    reference: null,
    gatewayReference: null,
    declineCode: null,
    failureMessage: null,
    refunds: [],
    voidedOn: null,
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
}

/**
 * Compensates a crash between the charge and its recording: the attempt is stored `pending` before the gateway is
 * called, with what the request asked for, so money taken by a charge whose answer was lost always leaves a trace the
 * reconciler (reconcile-payment.ts) settles as asked.
 */
async function recordPendingAttempt(companyId: string, attempt: Transaction, charge: PendingCharge): Promise<void> {
  // Its pointer lists the invoices it is to pay, so a refund of it reads them with it.
  await insertPendingAttempt(
    companyId,
    attempt,
    [putPendingCharge(charge)],
    charge.apply.map((a) => a.invoiceId),
  );
}
