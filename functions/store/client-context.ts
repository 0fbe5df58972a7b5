import type { Client } from '../domain/client.js';
import type { Company } from '../domain/company.js';
import type { EmailTemplateName } from '../domain/email/templates.js';
import { NotFoundError } from '../domain/errors.js';
import type { PaymentAccount } from '../domain/payment-account.js';
import { clientFromItem } from './clients.js';
import { companyFromItem } from './companies.js';
import { batchGetAll, type Item } from './dynamo.js';
import { clientPk, clientSk, companyPk, companySk, paymentAccountSk, templateSk } from './keys.js';
import { templateOfItem, type StoredTemplate } from './mail.js';
import { paymentAccountFromItem } from './payment-accounts.js';

/**
 * What a request about one client reads before it acts — the company (settings, time zone, name for mail), the client,
 * and as asked a payment account of it and the company's overrides of the templates it may mail — in ONE BatchGet,
 * read once and passed down, instead of a Get per item with the company and client read again by each step.
 */
export interface ClientContext {
  company: Company;
  client: Client;
  /** The account asked for, if the client has it. */
  paymentAccount?: PaymentAccount;
  /** The company's own versions among the templates asked for (absent: the default applies). */
  templates: Map<EmailTemplateName, StoredTemplate>;
}

type Key = { PK: string; SK: string };
const keyOf = (item: Item) => `${String(item.PK)}|${String(item.SK)}`;

export async function readClientContext(
  companyId: string,
  clientId: string,
  wanted: { paymentAccountId?: string; templates?: readonly EmailTemplateName[] } = {},
): Promise<ClientContext> {
  const companyKey: Key = { PK: companyPk(companyId), SK: companySk };
  const clientKey: Key = { PK: clientPk(companyId, clientId), SK: clientSk };
  const accountKey: Key | undefined = wanted.paymentAccountId ? { PK: clientKey.PK, SK: paymentAccountSk(wanted.paymentAccountId) } : undefined;
  const templateKeys = [...new Set(wanted.templates ?? [])].map((name) => ({ name, key: { PK: companyKey.PK, SK: templateSk(name) } }));
  const items = await batchGetAll([companyKey, clientKey, ...(accountKey ? [accountKey] : []), ...templateKeys.map((t) => t.key)], { consistent: true });
  const found = new Map(items.map((item) => [keyOf(item), item]));
  const get = (key: Key) => found.get(`${key.PK}|${key.SK}`);
  const companyItem = get(companyKey);
  if (!companyItem) throw new NotFoundError('No such company.');
  const clientItem = get(clientKey);
  if (!clientItem) throw new NotFoundError('No such client.');
  const templates = new Map<EmailTemplateName, StoredTemplate>();
  for (const { name, key } of templateKeys) {
    const item = get(key);
    if (item) templates.set(name, await templateOfItem(companyId, item));
  }
  const accountItem = accountKey && get(accountKey);
  return {
    company: companyFromItem(companyItem),
    client: clientFromItem(clientItem),
    ...(accountItem ? { paymentAccount: paymentAccountFromItem(accountItem) } : {}),
    templates,
  };
}

/** Several clients of a company in one BatchGet (strongly consistent), by id; an id with no client is absent. */
export async function getClientsById(companyId: string, clientIds: readonly string[]): Promise<Map<string, Client>> {
  const items = await batchGetAll(
    [...new Set(clientIds)].map((id) => ({ PK: clientPk(companyId, id), SK: clientSk })),
    { consistent: true },
  );
  return new Map(items.map(clientFromItem).map((client) => [client.id, client]));
}
