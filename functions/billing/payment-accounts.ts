import { clientListRoute } from '../clients/list-route.js';
import { z } from 'zod';
import { achProblems, cardProblems } from '../domain/cards.js';
import type { Client } from '../domain/client.js';
import { newId } from '../domain/ids.js';
import { GatewayTokenizeError, type PaymentDetails, type TokenizedPaymentMethod } from '../adapters/gateway/port.js';
import { ConcurrentChangeError, RuleViolationError, NotFoundError, UpstreamError, ValidationError } from '../domain/errors.js';
import { json, noContent, route } from '../http/route.js';
import { idParam } from '../http/schemas.js';
import { getServices } from '../services.js';
import { getRecord, putRecord, replaceRecord, requireRecord, type RecordKey } from '../store/client-records.js';
import { requireClient } from '../store/clients.js';
import { requireCompany } from '../store/companies.js';
import { tableName, transact } from '../store/dynamo.js';
import { assertVersion, nowIso, parseIfMatch } from '../store/items.js';
import { clientPk, clientSk, contactSk, PAYMENT_ACCOUNT_SK_PREFIX, paymentAccountSk } from '../store/keys.js';
import { companyOf, today } from './common.js';
import { createPaymentAccountBody, paymentContact, updatePaymentAccountBody } from './schemas.js';

type ContactDetails = z.infer<typeof paymentContact>;

export interface PaymentAccount {
  id: string;
  clientId: string;
  type: 'card' | 'ach';
  brand: string;
  last4: string;
  expMonth: number | null;
  expYear: number | null;
  accountType: 'checking' | 'savings' | null;
  status: 'active' | 'disabled';
  autoDebit: boolean;
  contact: ContactDetails;
  gateway: string;
  /** Envelope-encrypted `{ token }` (and the routing number for ACH): never in a response. */
  secret: string;
  consecutiveDeclines: number;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export function paymentAccountView(a: PaymentAccount) {
  return { id: a.id, clientId: a.clientId, type: a.type, brand: a.brand, last4: a.last4, expMonth: a.expMonth, expYear: a.expYear, accountType: a.accountType, status: a.status, autoDebit: a.autoDebit, contact: a.contact, createdAt: a.createdAt, updatedAt: a.updatedAt, version: a.version };
}

/** Bound to the account, not its client, so the blob still opens after the account moves in a merge. */
const encryptionContext = (companyId: string, accountId: string) => ({ companyId, paymentAccountId: accountId });

/** Validates card or ACH details (Luhn, expiry, routing checksum); errors name the field, never echo the number. */
export function assertPaymentDetails(details: PaymentDetails, todayDate: string, prefix: string): void {
  const problems = details.type === 'card' ? cardProblems(details.card, todayDate, `${prefix}`) : achProblems(details.ach, `${prefix}`);
  if (problems.length) throw new ValidationError(problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems);
}

/** Sends the details to the gateway once; what comes back (token, brand, last4) is all Billow keeps. */
export async function tokenize(details: PaymentDetails): Promise<TokenizedPaymentMethod> {
  try {
    return await getServices().gateway.tokenize(details);
  } catch (error) {
    if (error instanceof GatewayTokenizeError) {
      if (error.reason === 'invalid') throw new ValidationError(error.message, [{ path: details.type === 'card' ? 'card' : 'ach', message: error.message }]);
      throw new UpstreamError('The payment gateway could not be reached; try again.');
    }
    throw error;
  }
}

function contactFromClient(client: Client): ContactDetails {
  const { firstName, lastName, company, title, address1, address2, city, country, state, zip, email, phones } = client;
  return { firstName, lastName, company, title, address1, address2, city, country, state, zip, email, phones };
}

/** Stores a tokenised payment method as a client's payment account (details encrypted). */
export async function storePaymentAccount(companyId: string, client: Client, type: 'card' | 'ach', method: TokenizedPaymentMethod, extra: { contact?: ContactDetails; accountType?: 'checking' | 'savings'; routingNumber?: string }): Promise<PaymentAccount> {
  const id = newId('pa');
  const now = nowIso();
  const secret = await getServices().cipher.encrypt(JSON.stringify({ token: method.token, ...(extra.routingNumber ? { routingNumber: extra.routingNumber } : {}) }), encryptionContext(companyId, id));
  const account: PaymentAccount = {
    id,
    clientId: client.id,
    type,
    brand: method.brand,
    last4: method.last4,
    expMonth: method.expMonth ?? null,
    expYear: method.expYear ?? null,
    accountType: extra.accountType ?? null,
    status: 'active',
    autoDebit: false,
    contact: extra.contact ?? contactFromClient(client),
    gateway: getServices().gateway.name,
    secret,
    consecutiveDeclines: 0,
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
  await putRecord({ companyId, clientId: client.id, sk: paymentAccountSk(id) }, { entity: 'paymentAccount', ...account });
  return account;
}

/** The gateway token of a stored account, decrypted for one charge. */
export async function accountToken(companyId: string, account: PaymentAccount): Promise<string> {
  const plain = await getServices().cipher.decrypt(account.secret, encryptionContext(companyId, account.id));
  return (JSON.parse(plain) as { token: string }).token;
}

export async function requirePaymentAccount(companyId: string, clientId: string, accountId: string): Promise<PaymentAccount> {
  return requireRecord<PaymentAccount>({ companyId, clientId, sk: paymentAccountSk(accountId) }, 'payment account');
}

/** Makes one account the client's auto-debit account, in one transaction with the client and the previous one. */
async function makeAutoDebit(companyId: string, client: Client, account: PaymentAccount): Promise<void> {
  const pk = clientPk(companyId, client.id);
  const now = nowIso();
  const items: Parameters<typeof transact>[0] = [
    {
      Update: {
        TableName: tableName(),
        Key: { PK: pk, SK: clientSk },
        UpdateExpression: 'SET autoDebitAccountId = :a, version = version + :one, updatedAt = :now',
        ConditionExpression: 'version = :v',
        ExpressionAttributeValues: { ':a': account.id, ':one': 1, ':now': now, ':v': client.version },
      },
    },
    {
      Update: {
        TableName: tableName(),
        Key: { PK: pk, SK: paymentAccountSk(account.id) },
        UpdateExpression: 'SET autoDebit = :t, version = version + :one, updatedAt = :now',
        ConditionExpression: '#s = :active',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':t': true, ':one': 1, ':now': now, ':active': 'active' },
      },
    },
  ];
  if (client.autoDebitAccountId && client.autoDebitAccountId !== account.id) {
    items.push({
      Update: {
        TableName: tableName(),
        Key: { PK: pk, SK: paymentAccountSk(client.autoDebitAccountId) },
        UpdateExpression: 'SET autoDebit = :f, version = version + :one, updatedAt = :now',
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeValues: { ':f': false, ':one': 1, ':now': now },
      },
    });
  }
  await transact(items, (index) =>
    index === 1 ? new RuleViolationError('A disabled account cannot be the auto-debit account.', { code: 'account_disabled' }) : new ConcurrentChangeError('The client changed at the same time; retry.'),
  );
}

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
    params: idParam,
    body: createPaymentAccountBody,
    successStatus: 201,
    handle: async ({ principal, params, body }) => {
      const companyId = companyOf(principal);
      const [company, client] = await Promise.all([requireCompany(companyId), requireClient(companyId, params.id)]);
      if (body.contact && body.copyFromContactId) throw ValidationError.field('copyFromContactId', 'Give a contact or a contact to copy, not both.');
      let contact = body.contact;
      if (body.copyFromContactId) {
        const source = await getRecord<ContactDetails>({ companyId, clientId: client.id, sk: contactSk(body.copyFromContactId) });
        if (!source) throw ValidationError.field('copyFromContactId', 'No such contact.');
        const { firstName, lastName, company: org, title, address1, address2, city, country, state, zip, email, phones } = source;
        contact = { firstName, lastName, company: org, title, address1, address2, city, country, state, zip, email, phones };
      }
      const details: PaymentDetails = body.type === 'card' ? { type: 'card', card: body.card } : { type: 'ach', ach: body.ach };
      assertPaymentDetails(details, today(company), body.type);
      const method = await tokenize(details);
      let account = await storePaymentAccount(companyId, client, body.type, method, { contact, accountType: body.type === 'ach' ? body.ach.accountType : undefined, routingNumber: body.type === 'ach' ? body.ach.routingNumber : undefined });
      if (body.autoDebit) {
        await makeAutoDebit(companyId, client, account);
        account = await requirePaymentAccount(companyId, client.id, account.id);
      }
      return json(201, paymentAccountView(account));
    },
  }),
  clientListRoute<PaymentAccount>({
    path: '/v1/clients/{id}/payment-accounts',
    area: 'billing',
    access: STAFF_AND_CLIENT,
    summary: "List a client's payment accounts",
    tags: ['Payment accounts'],
    prefix: PAYMENT_ACCOUNT_SK_PREFIX,
    view: paymentAccountView,
  }),
  route({
    method: 'GET',
    path: '/v1/clients/{id}/payment-accounts/{paId}',
    area: 'billing',
    access: STAFF_AND_CLIENT,
    summary: 'Read a payment account',
    tags: ['Payment accounts'],
    params: accountParams,
    handle: async ({ principal, params }) => {
      return json(200, paymentAccountView(await requirePaymentAccount(companyOf(principal), params.id, params.paId)));
    },
  }),
  route({
    method: 'PATCH',
    path: '/v1/clients/{id}/payment-accounts/{paId}',
    area: 'billing',
    access: STAFF_AND_CLIENT,
    summary: 'Change the expiry or the contact of a payment account',
    tags: ['Payment accounts'],
    params: accountParams,
    body: updatePaymentAccountBody,
    handle: async ({ principal, params, body, headers }) => {
      const companyId = companyOf(principal);
      const key: RecordKey = { companyId, clientId: params.id, sk: paymentAccountSk(params.paId) };
      const current = await requireRecord<PaymentAccount>(key, 'payment account');
      assertVersion(current, parseIfMatch(headers['if-match']));
      if ((body.expMonth !== undefined || body.expYear !== undefined) && current.type !== 'card') throw ValidationError.field('expMonth', 'Only cards have an expiry.');
      const next: PaymentAccount = {
        ...current,
        expMonth: body.expMonth ?? current.expMonth,
        expYear: body.expYear ?? current.expYear,
        contact: body.contact ?? current.contact,
        updatedAt: nowIso(),
        version: current.version + 1,
      };
      if (next.type === 'card') {
        const company = await requireCompany(companyId);
        const month = `${next.expYear}-${String(next.expMonth).padStart(2, '0')}`;
        if (month < today(company).slice(0, 7)) throw ValidationError.field('expYear', 'The card would be expired.');
      }
      await replaceRecord(key, current.version, { entity: 'paymentAccount', ...next }, 'payment account');
      return json(200, paymentAccountView(next));
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
      const companyId = companyOf(principal);
      const client = await requireClient(companyId, params.id);
      await requirePaymentAccount(companyId, client.id, params.paId);
      const pk = clientPk(companyId, client.id);
      const items: Parameters<typeof transact>[0] = [{ Delete: { TableName: tableName(), Key: { PK: pk, SK: paymentAccountSk(params.paId) }, ConditionExpression: 'attribute_exists(PK)' } }];
      if (client.autoDebitAccountId === params.paId) {
        items.push({
          Update: { TableName: tableName(), Key: { PK: pk, SK: clientSk }, UpdateExpression: 'SET autoDebitAccountId = :n, version = version + :one', ExpressionAttributeValues: { ':n': null, ':one': 1 } },
        });
      }
      await transact(items, () => new NotFoundError('No such payment account.'));
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
    params: accountParams,
    successStatus: 200,
    handle: async ({ principal, params }) => {
      const companyId = companyOf(principal);
      const client = await requireClient(companyId, params.id);
      const account = await requirePaymentAccount(companyId, client.id, params.paId);
      if (account.status !== 'active') throw new RuleViolationError('A disabled account cannot be the auto-debit account.', { code: 'account_disabled' });
      await makeAutoDebit(companyId, client, account);
      return json(200, paymentAccountView(await requirePaymentAccount(companyId, client.id, account.id)));
    },
  }),
];
