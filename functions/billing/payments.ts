import { clientListRoute } from '../clients/list-route.js';
import { z } from 'zod';
import type { PaymentDetails } from '../adapters/gateway/port.js';
import type { Client } from '../domain/client.js';
import { newId } from '../domain/ids.js';
import { transactionView, type PaymentMethod, type Transaction } from '../domain/invoice.js';
import { planCreditApplication, planPayment, planPaymentVoid, planRefundChanges, type LedgerApplication } from '../domain/ledger.js';
import { ConcurrentChangeError, RuleViolationError, ConflictError, NotFoundError, UpstreamError, ValidationError } from '../domain/errors.js';
import { problem } from '../http/problem.js';
import { json, route, type Principal } from '../http/route.js';
import { idParam } from '../http/schemas.js';
import { getServices } from '../services.js';
import { listRecords } from '../store/client-records.js';
import { requireClient } from '../store/clients.js';
import { requireCompany } from '../store/companies.js';
import { db, tableName } from '../store/dynamo.js';
import { clientPk, refPk, refSk, TRANSACTION_SK_PREFIX, transactionSk, BALANCE_SK_PREFIX } from '../store/keys.js';
import { MAX_TRANSACTION_ITEMS, clientOfObject, commitLedger, getTransaction, ledgerWriteSize, loadLedger, loadLedgerForTransaction, loadLedgerPart } from '../store/ledger.js';
import { nowIso } from '../store/items.js';
import { count, METRIC } from '../observability/metrics.js';
import { TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { assertPaymentCurrency, assertVisibleTo, companyOf, ledgerError, today, withRetries } from './common.js';
import { accountToken, assertPaymentDetails, requirePaymentAccount, storePaymentAccount, tokenize } from './payment-accounts.js';
import { applyCreditsBody, makePaymentBody, recordPaymentBody, refundBody } from './schemas.js';
import { paymentNotifications } from './notifications.js';

const STAFF = ['staff'] as const;
const STAFF_AND_CLIENT = ['staff', 'client'] as const;

const sum = (apply: readonly LedgerApplication[]) => apply.reduce((s, a) => s + a.amount, 0);

interface ResolvedSource {
  token: string;
  method: PaymentMethod;
  paymentAccountId: string | null;
  /** For new details with `save: true`: stores them as an account, called only once the charge is approved. */
  saveAccount?: () => Promise<string>;
}

/** A stored account, or new details tokenised now (and saved as an account when asked). */
async function resolveSource(companyId: string, client: Client, source: z.infer<typeof makePaymentBody>['source'], todayDate: string): Promise<ResolvedSource> {
  if ('paymentAccountId' in source) {
    const account = await requirePaymentAccount(companyId, client.id, source.paymentAccountId).catch(() => {
      throw ValidationError.field('source.paymentAccountId', 'No such payment account.');
    });
    if (account.status !== 'active') throw ValidationError.field('source.paymentAccountId', 'This payment account is disabled.');
    return { token: await accountToken(companyId, account), method: account.type, paymentAccountId: account.id };
  }
  const details: PaymentDetails = 'newCard' in source ? { type: 'card', card: source.newCard } : { type: 'ach', ach: source.newAch };
  assertPaymentDetails(details, todayDate, 'newCard' in source ? 'source.newCard' : 'source.newAch');
  const method = await tokenize(details);
  const saveAccount = source.save
    ? async () => (await storePaymentAccount(companyId, client, details.type, method, details.type === 'ach' ? { accountType: details.ach.accountType, routingNumber: details.ach.routingNumber } : {})).id
    : undefined;
  return { token: method.token, method: details.type, paymentAccountId: null, saveAccount };
}

/** Records the attempt before the gateway is called, so a crash mid-charge leaves a trace to reconcile. */
async function recordAttempt(companyId: string, attempt: Transaction): Promise<void> {
  const ref = { PK: refPk(companyId, attempt.id), SK: refSk };
  await db().send(
    new TransactWriteCommand({
      TransactItems: [
        { Put: { TableName: tableName(), Item: { PK: clientPk(companyId, attempt.clientId), SK: transactionSk(attempt.id), entity: 'transaction', refs: [ref], ...attempt }, ConditionExpression: 'attribute_not_exists(PK)' } },
        { Put: { TableName: tableName(), Item: { ...ref, entity: 'ref', kind: 'transaction', clientId: attempt.clientId } } },
      ],
    }),
  );
}

async function settleAttempt(companyId: string, attempt: Transaction, fields: Partial<Transaction>): Promise<Transaction> {
  const next = { ...attempt, ...fields, updatedAt: nowIso(), version: attempt.version + 1 };
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ':v': attempt.version };
  const sets = Object.entries({ ...fields, updatedAt: next.updatedAt, version: next.version }).map(([k, v], i) => {
    names[`#f${i}`] = k;
    values[`:f${i}`] = v;
    return `#f${i} = :f${i}`;
  });
  names['#version'] = 'version';
  await db().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: { PK: clientPk(companyId, attempt.clientId), SK: transactionSk(attempt.id) },
      UpdateExpression: `SET ${sets.join(', ')}`,
      ConditionExpression: '#version = :v',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    }),
  );
  return next;
}

/**
 * Make a payment (seed 000, steps 1–3): checked against the ledger first, the attempt recorded, the gateway charged
 * with a key derived from the attempt, and on approval the applications, invoice balances and credit written in one
 * transaction conditioned on the balances it was planned from.
 */
async function makePayment(companyId: string, client: Client, body: z.infer<typeof makePaymentBody>, principal: Principal | null) {
  const company = await requireCompany(companyId);
  assertPaymentCurrency(company, body.currency, body.apply);
  const date = today(company);
  const otherAmount = body.otherAmount ?? 0;
  const amount = sum(body.apply) + otherAmount;
  if (amount <= 0) throw new ValidationError('The payment must be greater than 0: apply something or give otherAmount.', [{ path: 'otherAmount', message: 'The charge (sum of apply + otherAmount) must be greater than 0.' }]);
  const id = newId('txn');
  const prechecked = await loadLedgerPart(companyId, client.id, { invoiceIds: body.apply.map((a) => a.invoiceId) });
  // A client token does not see drafts (404 by id), so paying one by id is not found either.
  const draft = principal?.role === 'client' ? body.apply.find((a) => prechecked.state.invoices[a.invoiceId]?.status === 'draft') : undefined;
  if (draft) throw new NotFoundError(`Invoice ${draft.invoiceId} does not exist`);
  const precheck = planPayment(prechecked.state, { transactionId: id, kind: 'charge', currency: body.currency, amount, date, apply: body.apply });
  if (!precheck.ok) throw ledgerError(precheck.error);

  const source = await resolveSource(companyId, client, body.source, date);
  const now = nowIso();
  let attempt: Transaction = {
    id,
    clientId: client.id,
    kind: 'charge',
    method: source.method,
    amount,
    currency: body.currency,
    status: 'pending',
    applications: [],
    credit: 0,
    refunded: 0,
    date,
    paymentAccountId: source.paymentAccountId,
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
  await recordAttempt(companyId, attempt);
  const result = await getServices().gateway.charge({ token: source.token, amount, currency: body.currency, idempotencyKey: `billow:${companyId}:${id}`, description: `Payment from client #${client.number}` });
  if (result.status === 'declined') {
    count(METRIC.paymentsDeclined);
    attempt = await settleAttempt(companyId, attempt, { status: 'declined', declineCode: result.declineCode ?? 'declined', failureMessage: result.message ?? null });
    await paymentNotifications.declined(companyId, client, attempt, principal);
    return { outcome: 'declined', attempt, declineCode: result.declineCode ?? null } as const;
  }
  if (result.status === 'failed') {
    count(METRIC.gatewayFailures);
    attempt = await settleAttempt(companyId, attempt, { status: 'failed', failureMessage: result.message ?? 'Transient gateway failure' });
    return { outcome: 'failed', attempt } as const;
  }

  // Approved: details asked to be saved are kept only now, so a declined card is never stored.
  if (source.saveAccount) attempt = { ...attempt, paymentAccountId: await source.saveAccount() };
  // Apply as asked; if the invoices changed meanwhile, the money is kept whole as credit.
  let conflict: Error | undefined;
  const commitApproved = (apply: readonly LedgerApplication[]) =>
    withRetries(async () => {
      const loaded = await loadLedgerPart(companyId, client.id, { invoiceIds: apply.map((a) => a.invoiceId), transactionIds: [id] });
      let plan = planPayment(loaded.state, { transactionId: id, kind: 'charge', currency: body.currency, amount, date, apply });
      conflict = undefined;
      if (!plan.ok) {
        conflict = ledgerError(plan.error);
        plan = planPayment(loaded.state, { transactionId: id, kind: 'charge', currency: body.currency, amount, date, apply: [] });
        if (!plan.ok) throw ledgerError(plan.error);
      }
      await commitLedger(companyId, client.id, plan.changes, { loaded, today: date, transactionFields: { [id]: { ...attempt, gatewayReference: result.gatewayReference ?? null } } });
    });
  try {
    await commitApproved(body.apply);
  } catch (error) {
    if (!(error instanceof ConcurrentChangeError)) throw error;
    // The applications kept losing races with other payments: the money was taken, so it must be recorded —
    // as credit, which touches no invoice and so cannot keep losing.
    await commitApproved([]);
    conflict = error;
  }
  const stored = (await getTransaction(companyId, client.id, id))!;
  count(METRIC.paymentsApproved);
  if (conflict) {
    count(METRIC.paymentsKeptAsCredit);
    return { outcome: 'kept_as_credit', transaction: stored, reason: conflict.message } as const;
  }
  if (body.sendReceipt !== false) await paymentNotifications.receipt(companyId, client, stored, principal);
  return { outcome: 'approved', transaction: stored } as const;
}

async function recordPayment(companyId: string, client: Client, body: z.infer<typeof recordPaymentBody>, principal: Principal | null) {
  const company = await requireCompany(companyId);
  assertPaymentCurrency(company, body.currency, body.apply);
  const date = body.date ?? today(company);
  const id = newId('txn');
  const now = nowIso();
  await withRetries(async () => {
    const loaded = await loadLedgerPart(companyId, client.id, { invoiceIds: (body.apply ?? []).map((a) => a.invoiceId) });
    const plan = planPayment(loaded.state, { transactionId: id, kind: 'offline', currency: body.currency, amount: body.amount, date, apply: body.apply ?? [] });
    if (!plan.ok) throw ledgerError(plan.error);
    const fields: Partial<Transaction> = { method: body.type, paymentAccountId: null, reference: body.reference ?? null, gatewayReference: null, declineCode: null, failureMessage: null, refunds: [], voidedOn: null, createdAt: now };
    await commitLedger(companyId, client.id, plan.changes, { loaded, today: date, transactionFields: { [id]: fields } });
  });
  const stored = (await getTransaction(companyId, client.id, id))!;
  void principal;
  return stored;
}

async function requireTransaction(companyId: string, transactionId: string, principal: Principal | null): Promise<Transaction> {
  const clientId = await clientOfObject(companyId, transactionId);
  const txn = clientId ? await getTransaction(companyId, clientId, transactionId) : undefined;
  if (!txn) throw new NotFoundError('No such transaction.');
  assertVisibleTo(principal, txn.clientId, 'transaction');
  return txn;
}

export const paymentRoutes = [
  route({
    method: 'POST',
    path: '/v1/clients/{id}/payments',
    area: 'billing',
    access: STAFF_AND_CLIENT,
    summary: 'Make a payment from a stored account or new card/ACH details, applied to invoices; the rest becomes credit',
    tags: ['Payments'],
    params: idParam,
    body: makePaymentBody,
    successStatus: 201,
    handle: async ({ principal, params, body, requestId }) => {
      const companyId = companyOf(principal);
      const client = await requireClient(companyId, params.id);
      const result = await makePayment(companyId, client, body, principal);
      switch (result.outcome) {
        case 'approved':
          return json(201, transactionView(result.transaction));
        case 'kept_as_credit':
          return problem(409, 'applied_as_credit', 'Conflict', `${result.reason} The charge succeeded and its full amount was kept as credit.`, { transactionId: result.transaction.id });
        case 'declined': {
          const { declineCode } = result;
          return problem(402, 'payment_declined', 'Payment declined', `The payment was declined${declineCode ? ` (${declineCode})` : ''}.`, { transactionId: result.attempt.id, declineCode });
        }
        case 'failed':
          return problem(502, 'upstream_failure', 'Upstream failure', 'The payment gateway failed to process the payment; nothing was charged. Try again.', { transactionId: result.attempt.id }, requestId);
      }
    },
  }),
  route({
    method: 'POST',
    path: '/v1/clients/{id}/payments/record',
    area: 'billing',
    access: STAFF,
    summary: 'Record an offline payment (check, money order, cash, wire, other)',
    tags: ['Payments'],
    params: idParam,
    body: recordPaymentBody,
    successStatus: 201,
    handle: async ({ principal, params, body }) => {
      const companyId = companyOf(principal);
      const client = await requireClient(companyId, params.id);
      return json(201, transactionView(await recordPayment(companyId, client, body, principal)));
    },
  }),
  clientListRoute<Transaction>({
    path: '/v1/clients/{id}/transactions',
    area: 'billing',
    access: STAFF_AND_CLIENT,
    summary: "A client's transactions, newest first (declined attempts included)",
    tags: ['Payments'],
    prefix: TRANSACTION_SK_PREFIX,
    newestFirst: true,
    view: transactionView,
  }),
  route({
    method: 'GET',
    path: '/v1/transactions/{id}',
    area: 'billing',
    access: STAFF_AND_CLIENT,
    summary: 'Read a transaction',
    tags: ['Payments'],
    params: idParam,
    handle: async ({ principal, params }) => json(200, transactionView(await requireTransaction(companyOf(principal), params.id, principal))),
  }),
  route({
    method: 'POST',
    path: '/v1/transactions/{id}/void',
    area: 'billing',
    access: STAFF,
    summary: 'Void an offline payment: un-applies it, reopens its invoices and removes its credit',
    tags: ['Payments'],
    params: idParam,
    successStatus: 200,
    handle: async ({ principal, params }) => {
      const companyId = companyOf(principal);
      const txn = await requireTransaction(companyId, params.id, principal);
      const company = await requireCompany(companyId);
      if (txn.kind === 'charge') throw new ConflictError('A charge cannot be voided; refund it.', { code: 'not_voidable' });
      await withRetries(async () => {
        const loaded = await loadLedgerForTransaction(companyId, txn.clientId, txn.id);
        const plan = planPaymentVoid(loaded.state, txn.id);
        if (!plan.ok) throw ledgerError(plan.error);
        await commitLedger(companyId, txn.clientId, plan.changes, { loaded, today: today(company), transactionFields: { [txn.id]: { voidedOn: today(company) } } });
      });
      return json(200, transactionView((await getTransaction(companyId, txn.clientId, txn.id))!));
    },
  }),
  route({
    method: 'POST',
    path: '/v1/transactions/{id}/refund',
    area: 'billing',
    access: STAFF,
    summary: 'Refund a charge (all that is left, or `amount`): its credit first, then its applications, last first',
    tags: ['Payments'],
    params: idParam,
    body: refundBody,
    successStatus: 200,
    handle: async ({ principal, params, body }) => {
      const companyId = companyOf(principal);
      const txn = await requireTransaction(companyId, params.id, principal);
      const company = await requireCompany(companyId);
      const date = today(company);
      await withRetries(async () => {
        const loaded = await loadLedgerForTransaction(companyId, txn.clientId, txn.id);
        const current = loaded.transactions.get(txn.id)!;
        const plan = planRefundChanges(loaded.state, txn.id, body.amount);
        if (!plan.ok) throw ledgerError(plan.error);
        // Checked before the gateway moves money: a refund the ledger could not record in one transaction must not happen.
        if (ledgerWriteSize(plan.changes) > MAX_TRANSACTION_ITEMS) {
          throw new RuleViolationError('This refund would reopen too many invoices at once; refund a smaller amount, then the rest.', { code: 'refund_too_spread' });
        }
        // The key names the refund by what was refunded before it, so a retry of the same refund is one refund.
        const refund = await getServices().gateway.refund({ gatewayReference: current.gatewayReference ?? '', amount: plan.plan.amount, idempotencyKey: `billow:${companyId}:${txn.id}:refund:${current.refunded}` });
        // Another refund of this charge, of another amount, holds the key: it commits first, then this one re-plans.
        if (refund.keyConflict) throw new ConcurrentChangeError('Another refund of this payment is being made; nothing was refunded. Try again.');
        if (refund.status !== 'succeeded') count(METRIC.gatewayFailures);
        if (refund.status !== 'succeeded') throw new UpstreamError(`The gateway did not refund the payment: ${refund.message ?? 'unknown error'}.`, { transactionId: txn.id });
        await commitLedger(companyId, txn.clientId, plan.changes, { loaded, today: date, transactionFields: { [txn.id]: { refunds: [...(current.refunds ?? []), { amount: plan.plan.amount, date, at: nowIso() }] } } });
      });
      count(METRIC.refunds);
      return json(200, transactionView((await getTransaction(companyId, txn.clientId, txn.id))!));
    },
  }),
  route({
    method: 'GET',
    path: '/v1/clients/{id}/credits',
    area: 'billing',
    access: STAFF_AND_CLIENT,
    summary: 'Unapplied credit per currency',
    tags: ['Credits'],
    params: idParam,
    handle: async ({ principal, params }) => {
      const companyId = companyOf(principal);
      await requireClient(companyId, params.id);
      const page = await listRecords<{ currency: string; credit: number }>(companyId, params.id, BALANCE_SK_PREFIX, 100);
      return json(200, { data: page.items.filter((b) => (b.credit ?? 0) > 0).map((b) => ({ currency: b.currency, amount: b.credit })) });
    },
  }),
  route({
    method: 'POST',
    path: '/v1/clients/{id}/credits/apply',
    area: 'billing',
    access: STAFF,
    summary: 'Apply loose credit to open invoices, oldest due date first (or to one invoice)',
    tags: ['Credits'],
    params: idParam,
    body: applyCreditsBody,
    successStatus: 200,
    handle: async ({ principal, params, body }) => {
      const companyId = companyOf(principal);
      const client = await requireClient(companyId, params.id);
      const company = await requireCompany(companyId);
      // One DynamoDB transaction holds a bounded number of invoices: a plan applies a share, and rounds repeat
      // until nothing more can be applied (each round is complete and consistent on its own).
      const applied: LedgerApplication[] = [];
      for (;;) {
        const round = await withRetries(async () => {
          const loaded = await loadLedger(companyId, client.id);
          if (body.invoiceId && !Object.hasOwn(loaded.state.invoices, body.invoiceId)) throw ValidationError.field('invoiceId', 'No such invoice of this client.');
          const target = body.invoiceId ? { invoiceId: body.invoiceId, currency: body.currency } : { currency: body.currency ?? client.currency };
          const plan = planCreditApplication(loaded.state, target);
          if (!plan.ok) {
            // A later round finding the invoice paid by the earlier ones is the end, not an error.
            if (applied.length && plan.error.code === 'InvoiceNotOpen') return [];
            throw ledgerError(plan.error);
          }
          if (plan.applied.length) await commitLedger(companyId, client.id, plan.changes, { loaded, today: today(company) });
          return plan.applied;
        });
        if (!round.length) break;
        for (const a of round) {
          const seen = applied.find((x) => x.invoiceId === a.invoiceId);
          if (seen) seen.amount += a.amount;
          else applied.push({ ...a });
        }
      }
      return json(200, { applied });
    },
  }),
];
