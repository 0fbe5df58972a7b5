import type { Client } from '../domain/client.js';
import type { Company } from '../domain/company.js';
import type { Group } from '../domain/group.js';
import type { EmailTemplateName } from '../domain/email/templates.js';
import { NotFoundError } from '../domain/errors.js';
import type { Transaction } from '../domain/invoice.js';
import type { PaymentAccount } from '../domain/payment-account.js';
import { clientFromItem } from './clients.js';
import { companyFromItem } from './companies.js';
import { batchGetAll, type Item } from './dynamo.js';
import { groupFromItem } from './groups.js';
import { clientPk, clientSk, companyPk, companySk, groupSk, paymentAccountSk, templateSk } from './keys.js';
import { templateOfItem, type StoredTemplate } from './mail.js';
import { paymentAccountFromItem } from './payment-accounts.js';
import { refKey } from './refs.js';
import { loadTransactionLedger, type LoadedLedger } from './ledger.js';
import { getTransaction, transactionRefHint } from './transactions.js';

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

/**
 * A company and one of its groups in one BatchGet (strongly consistent): what creating a client in a given group reads
 * (the group must exist, and the answer names it). The company is absent when the caller has it already.
 */
export async function readCompanyAndGroup(
  companyId: string,
  groupId: string | undefined,
  known?: Company,
): Promise<{ company: Company; group: Group | undefined }> {
  const keys: Key[] = [
    ...(known ? [] : [{ PK: companyPk(companyId), SK: companySk }]),
    ...(groupId ? [{ PK: companyPk(companyId), SK: groupSk(groupId) }] : []),
  ];
  const items = keys.length ? await batchGetAll(keys, { consistent: true }) : [];
  const companyItem = items.find((item) => item.SK === companySk);
  const groupItem = items.find((item) => item.SK !== companySk);
  const company = known ?? (companyItem && companyFromItem(companyItem));
  if (!company) throw new NotFoundError('No such company.');
  return { company, group: groupItem && groupFromItem(groupItem) };
}

/**
 * A transaction by its bare id with its company (a refund or a void of a payment): the company and the transaction's
 * pointer in one BatchGet, then — as the pointer says (store/transactions.ts `transactionRefItem`) — the transaction
 * with the ledger it plans with (its invoices and its currency's balance) in another: two reads, each item once.
 * A pointer that says nothing more than the client (written before it did) gives the transaction alone, without
 * `loaded`. Undefined when there is no such transaction (or its pointer outlived it).
 */
export async function readTransactionContext(
  companyId: string,
  transactionId: string,
): Promise<{ company: Company; transaction: Transaction | undefined; loaded?: LoadedLedger }> {
  const { company, pointer: pointerItem } = await readCompanyAndPointer(companyId, transactionId);
  const hint = pointerItem && transactionRefHint(pointerItem);
  if (hint) {
    const { transaction, loaded } = await loadTransactionLedger(companyId, transactionId, hint);
    return { company, transaction, ...(transaction ? { loaded } : {}) };
  }
  const clientId: unknown = pointerItem?.clientId;
  return { company, transaction: typeof clientId === 'string' ? await getTransaction(companyId, clientId, transactionId) : undefined };
}

/**
 * The company and the pointer item of a bare object id (store/refs.ts) in one BatchGet (strongly consistent): what a
 * change of an object known only by its id reads first. The pointer is absent when there is no such object.
 */
export async function readCompanyAndPointer(companyId: string, objectId: string): Promise<{ company: Company; pointer: Item | undefined }> {
  const companyKey: Key = { PK: companyPk(companyId), SK: companySk };
  const pointer = refKey(companyId, objectId);
  const items = await batchGetAll([companyKey, pointer], { consistent: true });
  const companyItem = items.find((item) => item.PK === companyKey.PK && item.SK === companySk);
  if (!companyItem) throw new NotFoundError('No such company.');
  return { company: companyFromItem(companyItem), pointer: items.find((item) => item.PK === pointer.PK) };
}
