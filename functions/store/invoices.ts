import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Invoice, RecurringInvoice } from '../domain/invoice.js';
import { ConflictError, NotFoundError } from '../domain/errors.js';
import { db, queryFiltered, stripKeys, tableName, transact, type Item, type Page, type TransactItem } from './dynamo.js';
import {
  clientPk,
  INVOICE_SK_PREFIX,
  invoicesByDuePk,
  invoicesByDueSk,
  invoiceSk,
  openInvoiceIndexKeys,
  recurringDueIndexKeys,
  recurringInvoiceSk,
  refPk,
  refSk,
} from './keys.js';
import { balanceUpdate, clientOfObject } from './ledger.js';
import { writeWithCounter } from './counters.js';


/** The invoice item with its index keys: every invoice in GSI1 by due date, open ones also in GSI2. */
function invoiceItem(companyId: string, invoice: Invoice): Item {
  const ref = { PK: refPk(companyId, invoice.id), SK: refSk };
  return {
    PK: clientPk(companyId, invoice.clientId),
    SK: invoiceSk(invoice.id),
    entity: 'invoice',
    GSI1PK: invoicesByDuePk(companyId),
    GSI1SK: invoicesByDueSk(invoice.dateDue, invoice.id),
    ...openInvoiceIndexKeys(companyId, invoice),
    refs: [ref],
    ...invoice,
  };
}


/** What an opened invoice adds to the client's balance in its currency. */
const openedBalance = (invoice: Invoice) => ({ invoiced: invoice.total, paid: invoice.paid, due: invoice.status === 'open' ? invoice.due : 0 });

/**
 * Runs `build` with the next invoice number until the counter's condition holds: numbers are assigned inside the
 * transaction that opens the invoice, so they are gapless and never reused.
 */
function withNextNumber(companyId: string, build: (number: number) => TransactItem[]): Promise<number> {
  return writeWithCounter(companyId, 'invoice', (seen) => ({
    next: seen + 1,
    items: build(seen + 1),
    result: seen + 1,
    onConditionFailed: () => new ConflictError('The invoice was changed by another request; read it again.', { code: 'stale_version' }),
  }));
}

/** Stores a new invoice (and optionally the recurring series it starts). An open one gets its number here. */
export async function insertInvoice(companyId: string, invoice: Invoice, recurring?: RecurringInvoice): Promise<Invoice> {
  const extra: TransactItem[] = recurring ? recurringPuts(companyId, recurring) : [];
  const puts = (inv: Invoice): TransactItem[] => [
    { Put: { TableName: tableName(), Item: invoiceItem(companyId, inv), ConditionExpression: 'attribute_not_exists(PK)' } },
    { Put: { TableName: tableName(), Item: { PK: refPk(companyId, inv.id), SK: refSk, entity: 'ref', kind: 'invoice', clientId: inv.clientId } } },
    ...extra,
  ];
  if (invoice.status === 'draft') {
    await transact(puts(invoice), () => new ConflictError('Invoice id collision'));
    return invoice;
  }
  let stored = invoice;
  await withNextNumber(companyId, (number) => {
    stored = { ...invoice, number };
    return [...puts(stored), balanceUpdate(companyId, invoice.clientId, invoice.currency, openedBalance(stored))];
  });
  return stored;
}

/** Opens a draft: assigns its number and adds it to the client's balance, if it is still the same draft. */
export async function openDraft(companyId: string, draft: Invoice, opened: Invoice): Promise<Invoice> {
  let stored = opened;
  await withNextNumber(companyId, (number) => {
    stored = { ...opened, number };
    return [
      {
        Put: {
          TableName: tableName(),
          Item: invoiceItem(companyId, stored),
          ConditionExpression: 'version = :v AND #s = :draft',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':v': draft.version, ':draft': 'draft' },
        },
      },
      balanceUpdate(companyId, stored.clientId, stored.currency, openedBalance(stored)),
    ];
  });
  return stored;
}

/** Replaces a draft that has not changed since it was read. */
export async function replaceDraft(companyId: string, draft: Invoice, next: Invoice): Promise<void> {
  await transact(
    [
      {
        Put: {
          TableName: tableName(),
          Item: invoiceItem(companyId, next),
          ConditionExpression: 'version = :v AND #s = :draft',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':v': draft.version, ':draft': 'draft' },
        },
      },
    ],
    () => new ConflictError('The invoice was changed by another request; read it again.', { code: 'stale_version' }),
  );
}

export async function getInvoice(companyId: string, clientId: string, invoiceId: string): Promise<Invoice | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: { PK: clientPk(companyId, clientId), SK: invoiceSk(invoiceId) }, ConsistentRead: true }));
  return out.Item ? (stripKeys(out.Item) as unknown as Invoice) : undefined;
}

/** An invoice by its bare id (through its pointer item). */
export async function findInvoice(companyId: string, invoiceId: string): Promise<Invoice | undefined> {
  const clientId = await clientOfObject(companyId, invoiceId);
  return clientId ? getInvoice(companyId, clientId, invoiceId) : undefined;
}

export async function requireInvoice(companyId: string, invoiceId: string): Promise<Invoice> {
  const invoice = await findInvoice(companyId, invoiceId);
  if (!invoice) throw new NotFoundError('No such invoice.');
  return invoice;
}

export interface InvoiceFilter {
  clientId?: string;
  status?: string;
  currency?: string;
  dueBefore?: string;
  excludeDrafts?: boolean;
  limit: number;
  startKey?: Record<string, unknown>;
}

/**
 * Lists invoices: a client's from its partition, the company's from GSI1 (by due date, `dueBefore` as the key
 * condition). Status and currency are applied to the page.
 */
export async function listInvoices(companyId: string, f: InvoiceFilter): Promise<Page<Invoice>> {
  const keep = (i: Item) => !(f.excludeDrafts && i.status === 'draft') && (f.status === undefined || i.status === f.status) && (f.currency === undefined || i.currency === f.currency) && (f.dueBefore === undefined || (i.dateDue as string) < f.dueBefore);
  if (f.clientId) {
    const page = await queryFiltered<Item>(
      { KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)', ExpressionAttributeValues: { ':pk': clientPk(companyId, f.clientId), ':p': INVOICE_SK_PREFIX }, ExclusiveStartKey: f.startKey },
      f.limit,
      keep,
      (i) => ({ PK: i.PK, SK: i.SK }),
    );
    return { items: page.items.map((i) => stripKeys(i) as unknown as Invoice), lastKey: page.lastKey };
  }
  const page = await queryFiltered<Item>(
    {
      IndexName: 'GSI1',
      KeyConditionExpression: f.dueBefore ? 'GSI1PK = :pk AND GSI1SK < :before' : 'GSI1PK = :pk',
      ExpressionAttributeValues: { ':pk': invoicesByDuePk(companyId), ...(f.dueBefore ? { ':before': f.dueBefore } : {}) },
      ExclusiveStartKey: f.startKey,
    },
    f.limit,
    keep,
    (i) => ({ PK: i.PK, SK: i.SK, GSI1PK: i.GSI1PK, GSI1SK: i.GSI1SK }),
  );
  return { items: page.items.map((i) => stripKeys(i) as unknown as Invoice), lastKey: page.lastKey };
}

function recurringItem(companyId: string, r: RecurringInvoice): Item {
  return {
    PK: clientPk(companyId, r.clientId),
    SK: recurringInvoiceSk(r.id),
    entity: 'recurringInvoice',
    ...recurringDueIndexKeys(companyId, r),
    refs: [{ PK: refPk(companyId, r.id), SK: refSk }],
    ...r,
  };
}

function recurringPuts(companyId: string, r: RecurringInvoice): TransactItem[] {
  return [
    { Put: { TableName: tableName(), Item: recurringItem(companyId, r), ConditionExpression: 'attribute_not_exists(PK)' } },
    { Put: { TableName: tableName(), Item: { PK: refPk(companyId, r.id), SK: refSk, entity: 'ref', kind: 'recurringInvoice', clientId: r.clientId } } },
  ];
}

export async function findRecurring(companyId: string, id: string): Promise<RecurringInvoice | undefined> {
  const clientId = await clientOfObject(companyId, id);
  if (!clientId) return undefined;
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: { PK: clientPk(companyId, clientId), SK: recurringInvoiceSk(id) }, ConsistentRead: true }));
  return out.Item ? (stripKeys(out.Item) as unknown as RecurringInvoice) : undefined;
}

export async function replaceRecurring(companyId: string, previous: RecurringInvoice, next: RecurringInvoice): Promise<void> {
  await transact(
    [{ Put: { TableName: tableName(), Item: recurringItem(companyId, next), ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': previous.version } } }],
    () => new ConflictError('The recurring invoice was changed by another request; read it again.', { code: 'stale_version' }),
  );
}

export async function deleteRecurring(companyId: string, r: RecurringInvoice): Promise<void> {
  await transact(
    [
      { Delete: { TableName: tableName(), Key: { PK: clientPk(companyId, r.clientId), SK: recurringInvoiceSk(r.id) }, ConditionExpression: 'attribute_exists(PK)' } },
      { Delete: { TableName: tableName(), Key: { PK: refPk(companyId, r.id), SK: refSk } } },
    ],
    () => new NotFoundError('No such recurring invoice.'),
  );
}
