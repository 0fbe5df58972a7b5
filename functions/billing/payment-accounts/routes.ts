import * as z from 'zod';
import type { PaymentDetails } from '../../adapters/gateway/port.js';
import { clientListRoute } from '../../clients/list-route.js';
import { paymentAccountView, type PaymentAccount } from '../../domain/payment-account.js';
import { json, noContent, route } from '../../http/route.js';
import { idParam } from '../../http/schemas.js';
import { parseIfMatch } from '../../store/items.js';
import { listPaymentAccounts, requirePaymentAccount } from '../../store/payment-accounts.js';
import { companyOf } from '../../domain/principal.js';
import { createPaymentAccountBody, updatePaymentAccountBody } from '../schemas.js';
import { addPaymentAccount } from './add-payment-account.js';
import { deletePaymentAccount } from './delete-payment-account.js';
import { setAutoDebitAccount } from './set-auto-debit-account.js';
import { updatePaymentAccount } from './update-payment-account.js';
import { paymentAccountSchema } from '../response-schemas.js';

const STAFF_AND_CLIENT = ['staff', 'client'] as const;
const accountParams = z.object({ id: z.string().min(1).max(100), paId: z.string().min(1).max(100) });

export const paymentAccountRoutes = [
  route({
    method: 'POST',
    path: '/v1/clients/{id}/payment-accounts',
    area: 'billing',
    access: STAFF_AND_CLIENT,
    summary: 'Add a card or ACH account (tokenised at the gateway; only brand, last4 and expiry are shown)',
    tags: ['Payment accounts'],
    response: paymentAccountSchema,
    params: idParam,
    body: createPaymentAccountBody,
    successStatus: 201,
    // The gateway could not be reached to tokenise the details (payment-methods.ts).
    errors: [502],
    handle: async ({ principal, params, body }) => {
      const details: PaymentDetails = body.type === 'card' ? { type: 'card', card: body.card } : { type: 'ach', ach: body.ach };
      const account = await addPaymentAccount({
        companyId: companyOf(principal),
        principal,
        clientId: params.id,
        details,
        contact: body.contact,
        copyFromContactId: body.copyFromContactId,
        autoDebit: body.autoDebit,
      });
      return json(201, paymentAccountView(account));
    },
  }),
  clientListRoute<PaymentAccount>({
    path: '/v1/clients/{id}/payment-accounts',
    area: 'billing',
    access: STAFF_AND_CLIENT,
    summary: "List a client's payment accounts",
    tags: ['Payment accounts'],
    itemSchema: paymentAccountSchema,
    read: listPaymentAccounts,
    view: paymentAccountView,
  }),
  route({
    method: 'GET',
    path: '/v1/clients/{id}/payment-accounts/{paId}',
    area: 'billing',
    access: STAFF_AND_CLIENT,
    summary: 'Read a payment account',
    tags: ['Payment accounts'],
    response: paymentAccountSchema,
    params: accountParams,
    handle: async ({ principal, params }) => json(200, paymentAccountView(await requirePaymentAccount(companyOf(principal), params.id, params.paId))),
  }),
  route({
    method: 'PATCH',
    path: '/v1/clients/{id}/payment-accounts/{paId}',
    area: 'billing',
    access: STAFF_AND_CLIENT,
    summary: 'Change the expiry or the contact of a payment account',
    tags: ['Payment accounts'],
    response: paymentAccountSchema,
    params: accountParams,
    body: updatePaymentAccountBody,
    handle: async ({ principal, params, body, headers }) => {
      const account = await updatePaymentAccount({
        companyId: companyOf(principal),
        principal,
        clientId: params.id,
        accountId: params.paId,
        expectedVersion: parseIfMatch(headers['if-match']),
        change: body,
      });
      return json(200, paymentAccountView(account));
    },
  }),
  route({
    method: 'DELETE',
    path: '/v1/clients/{id}/payment-accounts/{paId}',
    area: 'billing',
    access: STAFF_AND_CLIENT,
    summary: 'Delete a payment account (and stop auto-debit from it)',
    tags: ['Payment accounts'],
    params: accountParams,
    successStatus: 204,
    handle: async ({ principal, params }) => {
      await deletePaymentAccount({ companyId: companyOf(principal), principal, clientId: params.id, accountId: params.paId });
      return noContent();
    },
  }),
  route({
    method: 'POST',
    path: '/v1/clients/{id}/payment-accounts/{paId}/auto-debit',
    area: 'billing',
    access: STAFF_AND_CLIENT,
    summary: "Make this the client's auto-debit account",
    tags: ['Payment accounts'],
    response: paymentAccountSchema,
    params: accountParams,
    successStatus: 200,
    handle: async ({ principal, params }) => {
      const account = await setAutoDebitAccount({ companyId: companyOf(principal), principal, clientId: params.id, accountId: params.paId });
      return json(200, paymentAccountView(account));
    },
  }),
];
