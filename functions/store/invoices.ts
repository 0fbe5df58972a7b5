import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Period } from '../domain/dates.js';
import { AlreadyDoneError, ConflictError, NotFoundError } from '../domain/errors.js';
import type { Invoice, InvoiceLine, InvoiceListFilter, InvoiceTaxRate, ServicePeriod } from '../domain/invoice.js';
import type { InvoiceStatus } from '../domain/ledger.js';
import { RECURRENCE_PERIODS, type RecurringInvoice, type RecurringLine } from '../domain/recurring-invoice.js';
import { batchGetAll, db, queryAll, queryFiltered, queryPage, tableName, type Item, type Page, type TransactItem } from './dynamo.js';
import {
  BALANCE_SK_PREFIX,
  clientInvoiceDueIndexKeys,
  clientInvoicesByDuePk,
  clientInvoicesByStatusPk,
  clientPk,
  INVOICE_SK_PREFIX,
  invoicesByDuePk,
  invoicesByDueSk,
  invoicesByStatusPk,
  invoiceSk,
  invoiceStatusIndexKeys,
  openInvoiceIndexKeys,
  openInvoicesPk,
  RECURRING_SK_PREFIX,
  recurringDuePk,
  recurringDueIndexKeys,
  recurringInvoiceSk,
} from './keys.js';
import { balanceUpdate } from './balances.js';
import { invoiceStatementEntries } from '../domain/statement.js';
import { statementWrites } from './statements.js';
import { clientOfObject, refItem, refKey } from './refs.js';
import { writeWithCounter } from './counters.js';
import { clientIsWritable, clientRefusal, transactOnClient } from './client-guard.js';

/** A stored item that does not have the shape its entity needs: data written by a bug, never user input. */
class MalformedItemError extends Error {
  constructor(entity: string, item: Item, field: string) {
    super(`Malformed ${entity} item ${String(item.PK)} / ${String(item.SK)}: bad ${field}`);
    this.name = 'MalformedItemError';
  }
}

/** Typed reads of one item's attributes, each refusing a value of the wrong type. */
function fieldsOf(entity: string, item: Item) {
  const bad = (field: string) => new MalformedItemError(entity, item, field);
  const text = (value: unknown, field: string): string => {
    if (typeof value !== 'string') throw bad(field);
    return value;
  };
  const integer = (value: unknown, field: string): number => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw bad(field);
    return value;
  };
  const oneOf = <T extends string>(values: readonly T[], value: unknown, field: string): T => {
    const found = values.find((v) => v === value);
    if (found === undefined) throw bad(field);
    return found;
  };
  const record = (value: unknown, field: string): Item => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(field);
    return value as Item;
  };
  const list = (value: unknown, field: string): unknown[] => {
    if (!Array.isArray(value)) throw bad(field);
    return value;
  };
  // An attribute written as null, or absent on items stored before it existed, reads as null.
  const orNull =
    <T>(read: (value: unknown, field: string) => T) =>
    (value: unknown, field: string): T | null =>
      value === null || value === undefined ? null : read(value, field);
  return {
    text: (field: string) => text(item[field], field),
    integer: (field: string) => integer(item[field], field),
    textOrNull: (field: string) => orNull(text)(item[field], field),
    integerOrNull: (field: string) => orNull(integer)(item[field], field),
    boolean: (field: string): boolean => {
      const value = item[field];
      if (typeof value !== 'boolean') throw bad(field);
      return value;
    },
    oneOf: <T extends string>(values: readonly T[], field: string) => oneOf(values, item[field], field),
    records: (field: string) => list(item[field], field).map((value, i) => record(value, `${field}.${i}`)),
    recordOrNull: (field: string) => orNull(record)(item[field], field),
  };
}

const INVOICE_STATUSES: readonly InvoiceStatus[] = ['draft', 'open', 'paid', 'void'];
const RECURRING_STATUSES: readonly RecurringInvoice['status'][] = ['active', 'completed'];

function invoiceLineFromItem(item: Item): InvoiceLine {
  const f = fieldsOf('invoice line', item);
  return {
    id: f.text('id'),
    description: f.text('description'),
    quantity: f.text('quantity'),
    unitAmount: f.integer('unitAmount'),
    amount: f.integer('amount'),
    taxable: f.boolean('taxable'),
    tax: f.integer('tax'),
  };
}

function servicePeriodFromItem(item: Item): ServicePeriod {
  const f = fieldsOf('invoice service period', item);
  return { serviceId: f.text('serviceId'), periodStart: f.text('periodStart') };
}

function taxRateFromItem(item: Item): InvoiceTaxRate {
  const f = fieldsOf('invoice tax rate', item);
  return { id: f.text('id'), name: f.text('name'), percent: f.text('percent') };
}

/**
 * The invoice item: the invoice's fields, its pointer, and its index keys — every invoice in GSI1 by due date, in
 * GSI3 and GSI4 by status (its client's and its company's), in GSI5 by due date among its client's, open ones also
 * in GSI2 (the automation's work list).
 */
export function invoiceToItem(companyId: string, invoice: Invoice): Item {
  return {
    ...invoice,
    PK: clientPk(companyId, invoice.clientId),
    SK: invoiceSk(invoice.id),
    entity: 'invoice',
    GSI1PK: invoicesByDuePk(companyId),
    GSI1SK: invoicesByDueSk(invoice.dateDue, invoice.id),
    ...invoiceStatusIndexKeys(companyId, invoice),
    ...clientInvoiceDueIndexKeys(companyId, invoice),
    ...openInvoiceIndexKeys(companyId, invoice),
    refs: [refKey(companyId, invoice.id)],
  };
}

export function invoiceFromItem(item: Item): Invoice {
  const f = fieldsOf('invoice', item);
  const taxRate = f.recordOrNull('taxRate');
  return {
    id: f.text('id'),
    clientId: f.text('clientId'),
    number: f.integerOrNull('number'),
    currency: f.text('currency'),
    status: f.oneOf(INVOICE_STATUSES, 'status'),
    dateBilled: f.text('dateBilled'),
    dateDue: f.text('dateDue'),
    lines: f.records('lines').map(invoiceLineFromItem),
    taxRate: taxRate ? taxRateFromItem(taxRate) : null,
    subtotal: f.integer('subtotal'),
    tax: f.integer('tax'),
    total: f.integer('total'),
    paid: f.integer('paid'),
    due: f.integer('due'),
    recurringInvoiceId: f.textOrNull('recurringInvoiceId'),
    // Invoices stored before services existed bill none.
    servicePeriods: item.servicePeriods === undefined ? [] : f.records('servicePeriods').map(servicePeriodFromItem),
    voidedOn: f.textOrNull('voidedOn'),
    createdAt: f.text('createdAt'),
    updatedAt: f.text('updatedAt'),
    version: f.integer('version'),
  };
}

/** What an opened invoice adds to the client's balance in its currency. */
const openedBalance = (invoice: Invoice) => ({ invoiced: invoice.total, paid: invoice.paid, due: invoice.status === 'open' ? invoice.due : 0 });

/**
 * Runs `build` with the next invoice number until the counter's condition holds: numbers are assigned inside the
 * transaction that opens the invoice, so they are gapless and never reused.
 */
function withNextNumber(
  companyId: string,
  clientId: string,
  build: (number: number) => TransactItem[],
  alsoWriteCount = 0,
  inSequence = false,
): Promise<number> {
  return writeWithCounter(
    companyId,
    'invoice',
    (seen) => {
      const items = [clientIsWritable(companyId, clientId), ...build(seen + 1)];
      return {
        next: seen + 1,
        items,
        result: seen + 1,
        onConditionFailed: (index, itemFound) =>
          index === 0
            ? clientRefusal(clientId, itemFound)
            : index >= items.length - alsoWriteCount
              ? new AlreadyDoneError()
              : new ConflictError('The invoice was changed by another request; read it again.', { code: 'stale_version' }),
      };
    },
    { inSequence },
  );
}

/**
 * Stores a new invoice (and optionally the recurring series it starts). An open one gets its number here.
 * `alsoWrite` commits in the same transaction (the automation's once-markers and the renewed object's next date); a
 * failed condition on one of them means the effect was already done, and nothing is written (`AlreadyDoneError`).
 * `inSequence`: the caller numbers invoices one after another (store/counters.ts `writeWithCounter`).
 */
export async function insertInvoice(
  companyId: string,
  invoice: Invoice,
  recurring?: RecurringInvoice,
  alsoWrite: readonly TransactItem[] = [],
  options: { inSequence?: boolean } = {},
): Promise<Invoice> {
  const extra: TransactItem[] = recurring ? recurringPuts(companyId, recurring) : [];
  const puts = (inv: Invoice): TransactItem[] => [
    { Put: { TableName: tableName(), Item: invoiceToItem(companyId, inv), ConditionExpression: 'attribute_not_exists(PK)' } },
    // The pointer also names the currency, so a void reads the invoice and its balance together (store/ledger.ts).
    { Put: { TableName: tableName(), Item: { ...refItem(companyId, inv.id, 'invoice', inv.clientId), currency: inv.currency } } },
    ...extra,
  ];
  // Index of the first `alsoWrite` item in the transaction (after the guard or counter, the puts and the balance).
  const alsoFrom = (base: number) => (index: number) => index >= base;
  if (invoice.status === 'draft') {
    const items = [...puts(invoice), ...alsoWrite];
    const isAlso = alsoFrom(items.length - alsoWrite.length);
    await transactOnClient(companyId, invoice.clientId, items, (index) => (isAlso(index) ? new AlreadyDoneError() : new ConflictError('Invoice id collision')));
    return invoice;
  }
  let stored = invoice;
  await withNextNumber(
    companyId,
    invoice.clientId,
    (number) => {
      stored = { ...invoice, number };
      return [
        ...puts(stored),
        balanceUpdate(companyId, invoice.clientId, invoice.currency, openedBalance(stored)),
        ...statementWrites(companyId, invoice.clientId, invoiceStatementEntries(stored)),
        ...alsoWrite,
      ];
    },
    alsoWrite.length,
    options.inSequence,
  );
  return stored;
}

/** Opens a draft: assigns its number and adds it to the client's balance, if it is still the same draft. */
export async function saveOpenedDraft(companyId: string, draft: Invoice, opened: Invoice): Promise<Invoice> {
  let stored = opened;
  await withNextNumber(companyId, opened.clientId, (number) => {
    stored = { ...opened, number };
    return [
      {
        Put: {
          TableName: tableName(),
          Item: invoiceToItem(companyId, stored),
          ConditionExpression: 'version = :v AND #s = :draft',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':v': draft.version, ':draft': 'draft' },
        },
      },
      balanceUpdate(companyId, stored.clientId, stored.currency, openedBalance(stored)),
      ...statementWrites(companyId, stored.clientId, invoiceStatementEntries(stored)),
    ];
  });
  return stored;
}

/** Replaces a draft that has not changed since it was read. */
export async function replaceDraft(companyId: string, draft: Invoice, next: Invoice): Promise<void> {
  await transactOnClient(
    companyId,
    next.clientId,
    [
      {
        Put: {
          TableName: tableName(),
          Item: invoiceToItem(companyId, next),
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
  const out = await db().send(
    new GetCommand({ TableName: tableName(), Key: { PK: clientPk(companyId, clientId), SK: invoiceSk(invoiceId) }, ConsistentRead: true }),
  );
  return out.Item ? invoiceFromItem(out.Item) : undefined;
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

export interface InvoiceFilter extends Partial<InvoiceListFilter> {
  limit: number;
  startKey?: Record<string, unknown>;
}

/**
 * Lists invoices, reading the narrowest partition the filter names: with a status, the client's (GSI3) or the
 * company's (GSI4) invoices of that status by due date; without one, with `dueBefore`, the client's (GSI5) or the
 * company's (GSI1) invoices by due date; else the client's partition (by id) or the company's by due date (GSI1).
 * `dueBefore` is the key condition wherever the order is by due date; currency and hiding drafts from a client token
 * are applied to the page.
 */
export async function listInvoices(companyId: string, f: InvoiceFilter): Promise<Page<Invoice>> {
  const keep = (i: Item) =>
    !(f.excludeDrafts && i.status === 'draft') &&
    (f.status === undefined || i.status === f.status) &&
    (f.currency === undefined || i.currency === f.currency) &&
    (f.dueBefore === undefined || (i.dateDue as string) < f.dueBefore);
  // A client token never sees drafts: its list of drafts is empty without reading any.
  if (f.excludeDrafts && f.status === 'draft') return { items: [] };
  if (f.clientId && !f.status && f.dueBefore === undefined) {
    const query = {
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
      ExpressionAttributeValues: { ':pk': clientPk(companyId, f.clientId), ':p': INVOICE_SK_PREFIX },
      ExclusiveStartKey: f.startKey,
    };
    const page =
      f.currency === undefined && !f.excludeDrafts
        ? await queryPage<Item>({ ...query, Limit: f.limit })
        : await queryFiltered<Item>(query, f.limit, keep, (i) => ({ PK: i.PK, SK: i.SK }));
    return { items: page.items.map(invoiceFromItem), lastKey: page.lastKey };
  }
  const [index, pk] = f.status
    ? f.clientId
      ? (['GSI3', clientInvoicesByStatusPk(companyId, f.clientId, f.status)] as const)
      : (['GSI4', invoicesByStatusPk(companyId, f.status)] as const)
    : f.clientId
      ? (['GSI5', clientInvoicesByDuePk(companyId, f.clientId)] as const)
      : (['GSI1', invoicesByDuePk(companyId)] as const);
  const query = {
    IndexName: index,
    KeyConditionExpression: f.dueBefore ? `${index}PK = :pk AND ${index}SK < :before` : `${index}PK = :pk`,
    ExpressionAttributeValues: { ':pk': pk, ...(f.dueBefore ? { ':before': f.dueBefore } : {}) },
    ExclusiveStartKey: f.startKey,
  };
  // When the keys say it all (no currency, and no drafts to hide from a list that could hold them), a page reads
  // exactly the items it returns.
  const page =
    f.currency === undefined && !(f.excludeDrafts && !f.status)
      ? await queryPage<Item>({ ...query, Limit: f.limit })
      : await queryFiltered<Item>(query, f.limit, keep, (i) => ({ PK: i.PK, SK: i.SK, [`${index}PK`]: i[`${index}PK`], [`${index}SK`]: i[`${index}SK`] }));
  return { items: page.items.map(invoiceFromItem), lastKey: page.lastKey };
}

function recurringLineFromItem(item: Item): RecurringLine {
  const f = fieldsOf('recurring invoice line', item);
  return { description: f.text('description'), quantity: f.text('quantity'), unitAmount: f.integer('unitAmount'), taxable: f.boolean('taxable') };
}

/** The series item: in GSI2 by next billing date while it is active (the automation's renewal list). */
export function recurringToItem(companyId: string, series: RecurringInvoice): Item {
  return {
    ...series,
    PK: clientPk(companyId, series.clientId),
    SK: recurringInvoiceSk(series.id),
    entity: 'recurringInvoice',
    ...recurringDueIndexKeys(companyId, series),
    refs: [refKey(companyId, series.id)],
  };
}

export function recurringFromItem(item: Item): RecurringInvoice {
  const f = fieldsOf('recurring invoice', item);
  const nextBillDate = f.textOrNull('nextBillDate');
  const created = f.integer('created');
  // Series stored before the anchor existed count from their next billing date (a completed one from its creation).
  const anchorDate = f.textOrNull('anchorDate');
  return {
    id: f.text('id'),
    clientId: f.text('clientId'),
    currency: f.text('currency'),
    lines: f.records('lines').map(recurringLineFromItem),
    term: f.integer('term'),
    period: f.oneOf<Period>(RECURRENCE_PERIODS, 'period'),
    occurrences: f.integerOrNull('occurrences'),
    created,
    nextBillDate,
    anchorDate: anchorDate ?? nextBillDate ?? f.text('createdAt').slice(0, 10),
    anchorIndex: anchorDate !== null ? f.integer('anchorIndex') : nextBillDate !== null ? created : 0,
    dueAfterDays: f.integer('dueAfterDays'),
    status: f.oneOf(RECURRING_STATUSES, 'status'),
    createdAt: f.text('createdAt'),
    updatedAt: f.text('updatedAt'),
    version: f.integer('version'),
  };
}

function recurringPuts(companyId: string, r: RecurringInvoice): TransactItem[] {
  return [
    { Put: { TableName: tableName(), Item: recurringToItem(companyId, r), ConditionExpression: 'attribute_not_exists(PK)' } },
    { Put: { TableName: tableName(), Item: refItem(companyId, r.id, 'recurringInvoice', r.clientId) } },
  ];
}

export async function findRecurring(companyId: string, id: string): Promise<RecurringInvoice | undefined> {
  const clientId = await clientOfObject(companyId, id);
  if (!clientId) return undefined;
  const out = await db().send(
    new GetCommand({ TableName: tableName(), Key: { PK: clientPk(companyId, clientId), SK: recurringInvoiceSk(id) }, ConsistentRead: true }),
  );
  return out.Item ? recurringFromItem(out.Item) : undefined;
}

/** One page of a client's series, oldest first. */
export async function listRecurring(companyId: string, clientId: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<RecurringInvoice>> {
  const page = await queryPage({
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
    ExpressionAttributeValues: { ':pk': clientPk(companyId, clientId), ':p': RECURRING_SK_PREFIX },
    Limit: limit,
    ExclusiveStartKey: startKey,
  });
  return { items: page.items.map(recurringFromItem), lastKey: page.lastKey };
}

export async function replaceRecurring(companyId: string, previous: RecurringInvoice, next: RecurringInvoice): Promise<void> {
  await transactOnClient(
    companyId,
    next.clientId,
    [
      {
        Put: {
          TableName: tableName(),
          Item: recurringToItem(companyId, next),
          ConditionExpression: 'version = :v',
          ExpressionAttributeValues: { ':v': previous.version },
        },
      },
    ],
    () => new ConflictError('The recurring invoice was changed by another request; read it again.', { code: 'stale_version' }),
  );
}

/**
 * The series advanced past an invoice the automation creates, for that invoice's transaction (`createInvoice`'s
 * `alsoWrite`): conditioned on the version read, so a concurrent change or run fails it and no invoice is created.
 */
export function recurringAdvancePut(companyId: string, previous: RecurringInvoice, next: RecurringInvoice): TransactItem {
  return {
    Put: {
      TableName: tableName(),
      Item: recurringToItem(companyId, next),
      ConditionExpression: 'version = :v',
      ExpressionAttributeValues: { ':v': previous.version },
    },
  };
}

export async function deleteRecurring(companyId: string, r: RecurringInvoice): Promise<void> {
  await transactOnClient(
    companyId,
    r.clientId,
    [
      {
        Delete: {
          TableName: tableName(),
          Key: { PK: clientPk(companyId, r.clientId), SK: recurringInvoiceSk(r.id) },
          ConditionExpression: 'attribute_exists(PK)',
        },
      },
      { Delete: { TableName: tableName(), Key: refKey(companyId, r.id) } },
    ],
    () => new NotFoundError('No such recurring invoice.'),
  );
}

/**
 * The automation's work lists (GSI2, sparse): one page of open invoices due on or before `dueBy`, or of active series
 * billing on or before `billBy`, oldest date first. Index reads are eventually consistent: whoever acts reads again.
 */
export async function openInvoicesDueBy(companyId: string, dueBy: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<Invoice>> {
  const page = await dueIndexPage(openInvoicesPk(companyId), dueBy, limit, startKey);
  return { items: page.items.map(invoiceFromItem), lastKey: page.lastKey };
}

export async function recurringDueBy(companyId: string, billBy: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<RecurringInvoice>> {
  const page = await dueIndexPage(recurringDuePk(companyId), billBy, limit, startKey);
  return { items: page.items.map(recurringFromItem), lastKey: page.lastKey };
}

// Sort keys are `<date>#<id>`: every key of `date` sorts before `<date>#\uffff`.
function dueIndexPage(pk: string, onOrBefore: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<Item>> {
  return queryPage<Item>({
    IndexName: 'GSI2',
    KeyConditionExpression: 'GSI2PK = :pk AND GSI2SK < :after',
    ExpressionAttributeValues: { ':pk': pk, ':after': `${onOrBefore}#\uffff` },
    Limit: limit,
    ExclusiveStartKey: startKey,
  });
}

/** Invoices as they stand now (consistent), by client and id; a deleted one is absent. */
export async function getInvoicesNow(companyId: string, refs: ReadonlyArray<{ clientId: string; id: string }>): Promise<Invoice[]> {
  if (!refs.length) return [];
  const items = await batchGetAll(
    refs.map((r) => ({ PK: clientPk(companyId, r.clientId), SK: invoiceSk(r.id) })),
    { consistent: true },
  );
  return items.map(invoiceFromItem);
}

/** Series as they stand now (consistent), by client and id; a deleted one is absent. */
export async function getRecurringNow(companyId: string, refs: ReadonlyArray<{ clientId: string; id: string }>): Promise<RecurringInvoice[]> {
  if (!refs.length) return [];
  const items = await batchGetAll(
    refs.map((r) => ({ PK: clientPk(companyId, r.clientId), SK: recurringInvoiceSk(r.id) })),
    { consistent: true },
  );
  return items.map(recurringFromItem);
}

/** The ids of a client's open invoices (in one currency, or all) as GSI3 lists them: eventually consistent. */
export async function indexedOpenInvoiceIds(companyId: string, clientId: string, currency?: string): Promise<string[]> {
  const ids: string[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await queryPage<Item>({
      IndexName: 'GSI3',
      KeyConditionExpression: 'GSI3PK = :pk',
      ExpressionAttributeValues: { ':pk': clientInvoicesByStatusPk(companyId, clientId, 'open') },
      ExclusiveStartKey: startKey,
    });
    ids.push(...page.items.filter((i) => currency === undefined || i.currency === currency).map((i) => String(i.id)));
    startKey = page.lastKey;
  } while (startKey);
  return ids;
}

/**
 * One page of a client's open invoices (all currencies) as GSI3 lists them, oldest due date first (the index's sort
 * key is `<dateDue>#<id>`): eventually consistent, so whoever acts on them reads them again by key.
 */
export function openInvoiceIndexPage(companyId: string, clientId: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<Item>> {
  return queryPage<Item>({
    IndexName: 'GSI3',
    KeyConditionExpression: 'GSI3PK = :pk',
    ExpressionAttributeValues: { ':pk': clientInvoicesByStatusPk(companyId, clientId, 'open') },
    Limit: limit,
    ExclusiveStartKey: startKey,
  });
}

/**
 * The due date of a client's oldest open invoice in `currency`, as GSI3 lists them (eventually consistent: an invoice
 * opened a moment ago may be missing); null when it lists none. Reads pages of the client's open invoices, oldest
 * first, until one is in the currency.
 */
export async function earliestOpenDue(companyId: string, clientId: string, currency: string): Promise<string | null> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await openInvoiceIndexPage(companyId, clientId, 10, startKey);
    const first = page.items.find((i) => i.currency === currency);
    if (first) return String(first.dateDue);
    startKey = page.lastKey;
  } while (startKey);
  return null;
}

/** A client's money due per currency (its `BAL#` items, strongly consistent). */
async function dueByCurrency(companyId: string, clientId: string): Promise<Map<string, number>> {
  const balances = await queryAll(clientPk(companyId, clientId), BALANCE_SK_PREFIX);
  return new Map(balances.map((b) => [String(b.currency), Number(b.due ?? 0)] as const));
}

/** How often a read through an index that has not caught up with a write is tried before the partition is read. */
export const INDEX_READS = 2;
/** A pause for an index to catch up (GSIs follow the table within a fraction of a second). */
export const indexCatchUp = () => new Promise((resolve) => setTimeout(resolve, 100));

const byDueDate = (a: Invoice, b: Invoice) => a.dateDue.localeCompare(b.dateDue) || a.id.localeCompare(b.id);

/**
 * A client's open invoices (in one currency, or all), as they stand now, oldest due first. Found through GSI3 (only
 * the open ones are read, not the history), then read again by key (strongly consistent) and checked against the
 * client's balances: what is due on them must be what the balance says is due, else the index has not caught up
 * with a just-opened invoice yet and is asked again, and after that the client's invoices are read as before.
 */
export async function openInvoicesOfClient(companyId: string, clientId: string, currency?: string): Promise<Invoice[]> {
  for (let attempt = 0; attempt < INDEX_READS; attempt++) {
    const ids = await indexedOpenInvoiceIds(companyId, clientId, currency);
    const [items, dues] = await Promise.all([
      batchGetAll(
        ids.map((id) => ({ PK: clientPk(companyId, clientId), SK: invoiceSk(id) })),
        { consistent: true },
      ),
      dueByCurrency(companyId, clientId),
    ]);
    const open = items.map(invoiceFromItem).filter((i) => i.status === 'open' && (currency === undefined || i.currency === currency));
    const found = new Map<string, number>();
    for (const i of open) found.set(i.currency, (found.get(i.currency) ?? 0) + i.due);
    const complete = [...dues].every(([cur, due]) => (currency !== undefined && cur !== currency) || (found.get(cur) ?? 0) === due);
    if (complete) return open.sort(byDueDate);
    await indexCatchUp();
  }
  return scanOpenInvoicesOfClient(companyId, clientId, currency);
}

/** A client's open invoices read from its whole partition (consistent): when the index cannot be trusted yet. */
async function scanOpenInvoicesOfClient(companyId: string, clientId: string, currency?: string): Promise<Invoice[]> {
  const found: Invoice[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await queryPage<Item>({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
      FilterExpression: currency ? '#s = :open AND currency = :cur' : '#s = :open',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':pk': clientPk(companyId, clientId), ':p': INVOICE_SK_PREFIX, ':open': 'open', ...(currency ? { ':cur': currency } : {}) },
      ConsistentRead: true,
      ExclusiveStartKey: startKey,
    });
    found.push(...page.items.map(invoiceFromItem));
    startKey = page.lastKey;
  } while (startKey);
  return found.sort(byDueDate);
}
