import { clientListRoute } from '../../clients/list-route.js';
import { transactionView, type Transaction } from '../../domain/invoice.js';
import { problem } from '../../http/problem.js';
import { json, route, type HttpResponse } from '../../http/route.js';
import { idParam } from '../../http/schemas.js';
import { listTransactions } from '../../store/transactions.js';
import { companyOf } from '../../domain/principal.js';
import { makePaymentBody, recordPaymentBody, refundBody } from '../schemas.js';
import { makePayment, type MakePaymentResult } from './make-payment.js';
import { readTransaction } from './read-transaction.js';
import { reconcilePayment } from './reconcile-payment.js';
import { recordPayment } from './record-payment.js';
import { refundPayment } from './refund-payment.js';
import { voidPayment } from './void-payment.js';
import { transactionSchema } from '../response-schemas.js';

const STAFF = ['staff'] as const;
const STAFF_AND_CLIENT = ['staff', 'client'] as const;

/** The answer to each way a payment ends: only an approval is a 201; money kept as credit is a 409 that says so. */
function paymentResponse(result: MakePaymentResult, requestId: string): HttpResponse {
  switch (result.outcome) {
    case 'approved':
      return json(201, transactionView(result.transaction));
    case 'kept_as_credit':
      return problem(409, 'applied_as_credit', 'Conflict', `${result.reason} The charge succeeded and its full amount was kept as credit.`, {
        transactionId: result.transaction.id,
      });
    case 'declined': {
      const { declineCode } = result;
      return problem(402, 'payment_declined', 'Payment declined', `The payment was declined${declineCode ? ` (${declineCode})` : ''}.`, {
        transactionId: result.attempt.id,
        declineCode,
      });
    }
    case 'failed':
      return problem(
        502,
        'upstream_failure',
        'Upstream failure',
        'The payment gateway failed to process the payment; nothing was charged. Try again.',
        { transactionId: result.attempt.id },
        requestId,
      );
    case 'pending': {
      const response = problem(
        503,
        'payment_pending',
        'Payment pending',
        'The payment could not be completed and may have been charged; it stays pending and is reconciled within minutes. Read the transaction for its outcome; do not pay again.',
        { transactionId: result.attempt.id },
        requestId,
      );
      return { ...response, final: true, headers: { ...response.headers, 'retry-after': String(RECONCILE_RETRY_AFTER_SECONDS) } };
    }
  }
}

/** When a pending payment's transaction is worth reading again: after the reconciler's grace period and one run. */
const RECONCILE_RETRY_AFTER_SECONDS = 420;

export const paymentRoutes = [
  route({
    method: 'POST',
    path: '/v1/clients/{id}/payments',
    area: 'billing',
    access: STAFF_AND_CLIENT,
    summary: 'Make a payment from a stored account or new card/ACH details, applied to invoices; the rest becomes credit',
    tags: ['Payments'],
    response: transactionSchema,
    errors: [402, 502],
    params: idParam,
    body: makePaymentBody,
    successStatus: 201,
    handle: async ({ principal, params, body, requestId }) => {
      const result = await makePayment({ companyId: companyOf(principal), principal, clientId: params.id, ...body });
      return paymentResponse(result, requestId);
    },
  }),
  route({
    method: 'POST',
    path: '/v1/clients/{id}/payments/record',
    area: 'billing',
    access: STAFF,
    summary: 'Record an offline payment (check, money order, cash, wire, other)',
    tags: ['Payments'],
    response: transactionSchema,
    params: idParam,
    body: recordPaymentBody,
    successStatus: 201,
    handle: async ({ principal, params, body }) =>
      json(201, transactionView(await recordPayment({ companyId: companyOf(principal), principal, clientId: params.id, ...body }))),
  }),
  clientListRoute<Transaction>({
    path: '/v1/clients/{id}/transactions',
    area: 'billing',
    access: STAFF_AND_CLIENT,
    summary: "A client's transactions, newest first (declined attempts included)",
    tags: ['Payments'],
    itemSchema: transactionSchema,
    read: listTransactions,
    view: transactionView,
  }),
  route({
    method: 'GET',
    path: '/v1/transactions/{id}',
    area: 'billing',
    access: STAFF_AND_CLIENT,
    summary: 'Read a transaction',
    tags: ['Payments'],
    response: transactionSchema,
    params: idParam,
    handle: async ({ principal, params }) => json(200, transactionView(await readTransaction(companyOf(principal), principal, params.id))),
  }),
  route({
    method: 'POST',
    path: '/v1/transactions/{id}/void',
    area: 'billing',
    access: STAFF,
    summary: 'Void an offline payment: un-applies it, reopens its invoices and removes its credit',
    tags: ['Payments'],
    response: transactionSchema,
    params: idParam,
    successStatus: 200,
    handle: async ({ principal, params }) =>
      json(200, transactionView(await voidPayment({ companyId: companyOf(principal), principal, transactionId: params.id }))),
  }),
  route({
    method: 'POST',
    path: '/v1/transactions/{id}/reconcile',
    area: 'billing',
    access: STAFF,
    summary: 'Settle a pending payment now: replays its gateway request with the same idempotency key (never charges twice) and records the outcome',
    tags: ['Payments'],
    response: transactionSchema,
    errors: [502],
    params: idParam,
    successStatus: 200,
    handle: async ({ principal, params }) => {
      const result = await reconcilePayment({ companyId: companyOf(principal), principal, transactionId: params.id });
      return json(200, transactionView('transaction' in result ? result.transaction : result.attempt));
    },
  }),
  route({
    method: 'POST',
    path: '/v1/transactions/{id}/refund',
    area: 'billing',
    access: STAFF,
    summary: 'Refund a charge (all that is left, or `amount`): its credit first, then its applications, last first',
    tags: ['Payments'],
    response: transactionSchema,
    errors: [502],
    params: idParam,
    body: refundBody,
    successStatus: 200,
    handle: async ({ principal, params, body }) =>
      json(200, transactionView(await refundPayment({ companyId: companyOf(principal), principal, transactionId: params.id, amount: body.amount }))),
  }),
];
