import type { Invoice, Transaction } from '../domain/invoice.js';
import { isOpenOrPaid } from '../domain/invoice.js';
import {
  isMoneyBearing,
  MAX_CREDIT_APPLICATION_CHANGES,
  type InvoiceStatus,
  type LedgerChanges,
  type LedgerState,
  type LedgerTransaction,
} from '../domain/ledger.js';
import { ConcurrentChangeError, ConflictError, NotFoundError } from '../domain/errors.js';
import { balanceFromItem, balanceUpdate, type BalanceDelta, type ClientBalance } from './balances.js';
import { batchGetAll, isTransactionConflict, queryAll, tableName, transact, type Item, type TransactItem } from './dynamo.js';
import { getInvoice, indexCatchUp, INDEX_READS, invoiceFromItem, openInvoiceIndexPage } from './invoices.js';
import {
  BALANCE_SK_PREFIX,
  balanceSk,
  clientPk,
  INVOICE_SK_PREFIX,
  invoiceSk,
  invoiceStatusIndexKeys,
  openInvoiceIndexKeys,
  TRANSACTION_SK_PREFIX,
  transactionSk,
} from './keys.js';
import { invoiceStatementEntries, newStatementEntries, transactionStatementEntries, type StatementEntry } from '../domain/statement.js';
import { statementWrites, statementWriteSize } from './statements.js';
import { paidPeriodsUpdate } from './services.js';
import {
  committedTransaction,
  indexedCreditIds,
  transactionFromItem,
  transactionRefInvoicesAdd,
  transactionRefItem,
  transactionToItem,
  type TransactionRefHint,
} from './transactions.js';
import { ClientBusyError, ClientGoneError, retryOnTransactionConflict, transactOnClient } from './client-guard.js';

export interface LoadedLedger {
  state: LedgerState;
  invoices: Map<string, Invoice>;
  transactions: Map<string, Transaction>;
  /**
   * The payments applied to each loaded invoice (`paidBy` on its item, kept by `commitLedger`), so voiding an invoice
   * reads only those; undefined for an invoice paid before it was kept (then the whole ledger is read).
   */
  paidBy: Map<string, string[] | undefined>;
  /** Every invoice and transaction of the client was loaded (`loadLedger`), not only some. */
  complete: boolean;
  /** The client's balances per currency (what is due, the credit), read with the rest. */
  balances: Map<string, ClientBalance>;
}

/** Reads a client's invoices, transactions and credit into the ledger's state (strongly consistent). */
export async function loadLedger(companyId: string, clientId: string): Promise<LoadedLedger> {
  const pk = clientPk(companyId, clientId);
  const [invoiceItems, transactionItems, balanceItems] = await Promise.all([
    queryAll(pk, INVOICE_SK_PREFIX),
    queryAll(pk, TRANSACTION_SK_PREFIX),
    queryAll(pk, BALANCE_SK_PREFIX),
  ]);
  return toLoaded(invoiceItems, transactionItems, balanceItems, true);
}

/**
 * Reads only the named invoices and transactions (and the balances): all a payment, a refund or a payment void
 * plans with, so their cost does not grow with the client's history.
 */
export async function loadLedgerPart(
  companyId: string,
  clientId: string,
  ids: { invoiceIds?: readonly string[]; transactionIds?: readonly string[] },
): Promise<LoadedLedger> {
  const pk = clientPk(companyId, clientId);
  const keys = [...new Set(ids.invoiceIds ?? [])]
    .map((id) => ({ PK: pk, SK: invoiceSk(id) }))
    .concat([...new Set(ids.transactionIds ?? [])].map((id) => ({ PK: pk, SK: transactionSk(id) })));
  const [items, balanceItems] = await Promise.all([batchGetAll(keys, { consistent: true }), queryAll(pk, BALANCE_SK_PREFIX)]);
  return toLoaded(
    items.filter((i) => String(i.SK).startsWith(INVOICE_SK_PREFIX)),
    items.filter((i) => String(i.SK).startsWith(TRANSACTION_SK_PREFIX)),
    balanceItems,
    false,
  );
}

/**
 * The ledger one currency's plan needs, by key in one BatchGet: the named invoices and the balance of `currency` — with
 * the transactions the caller has just read passed in (a refund's, a void's: not read again). Planning in one currency
 * needs no other balance. The commit is conditioned on each transaction's version and each invoice's state, so a change
 * in between refuses it and the caller loads again.
 */
export async function loadLedgerInCurrency(
  companyId: string,
  clientId: string,
  currency: string,
  ids: { invoiceIds?: readonly string[]; read?: readonly Transaction[]; alsoRead?: ReadonlyArray<{ PK: string; SK: string }> },
): Promise<LoadedLedger & { alsoRead: Item[] }> {
  const pk = clientPk(companyId, clientId);
  const invoiceKeys = [...new Set(ids.invoiceIds ?? [])].map((id) => ({ PK: pk, SK: invoiceSk(id) }));
  const items = await batchGetAll([...invoiceKeys, { PK: pk, SK: balanceSk(currency) }, ...(ids.alsoRead ?? [])], { consistent: true });
  const mine = (i: Item) => i.PK === pk;
  return {
    ...toLoaded(
      items.filter((i) => mine(i) && String(i.SK).startsWith(INVOICE_SK_PREFIX)),
      (ids.read ?? []).map((t) => transactionToItem(companyId, t)),
      items.filter((i) => mine(i) && String(i.SK).startsWith(BALANCE_SK_PREFIX)),
      false,
    ),
    // Items of other partitions the caller needs too, read in the same batch (a payment's receipt: the suppressions of its recipients).
    alsoRead: items.filter((i) => !mine(i)),
  };
}

/** The ledger a change to `transaction` plans against (a refund, a void): the invoices it paid, its currency's balance. */
export function loadLedgerOfTransaction(companyId: string, transaction: Transaction): Promise<LoadedLedger> {
  return loadLedgerInCurrency(companyId, transaction.clientId, transaction.currency, {
    invoiceIds: transaction.applications.map((a) => a.invoiceId),
    read: [transaction],
  });
}

/**
 * A transaction and the ledger a refund or a void of it plans with, read in ONE BatchGet from what its pointer says
 * (store/transactions.ts `transactionRefItem`): the transaction, the invoices it was ever applied to, and the balance
 * of its currency. Only an application to an invoice the pointer does not list (a pointer behind, which the commits
 * never leave it) costs a second read. The ledger holds the invoices the transaction is applied to now; the commit is
 * conditioned on each item as read. `transaction` is undefined when it is gone from the client the pointer named.
 */
export async function loadTransactionLedger(
  companyId: string,
  transactionId: string,
  hint: TransactionRefHint,
): Promise<{ transaction: Transaction | undefined; loaded: LoadedLedger }> {
  const pk = clientPk(companyId, hint.clientId);
  const transactionKey = { PK: pk, SK: transactionSk(transactionId) };
  const items = await batchGetAll([transactionKey, { PK: pk, SK: balanceSk(hint.currency) }, ...hint.invoiceIds.map((id) => ({ PK: pk, SK: invoiceSk(id) }))], {
    consistent: true,
  });
  const transactionItem = items.find((i) => i.SK === transactionKey.SK);
  const transaction = transactionItem ? transactionFromItem(transactionItem) : undefined;
  const applied = new Set((transaction?.applications ?? []).map((a) => a.invoiceId));
  const invoiceItems = items.filter((i) => String(i.SK).startsWith(INVOICE_SK_PREFIX) && applied.has(String(i.id)));
  const read = new Set(invoiceItems.map((i) => String(i.id)));
  const missing = [...applied].filter((id) => !read.has(id));
  if (missing.length)
    invoiceItems.push(
      ...(await batchGetAll(
        missing.map((id) => ({ PK: pk, SK: invoiceSk(id) })),
        { consistent: true },
      )),
    );
  const balanceItems = items.filter((i) => String(i.SK).startsWith(BALANCE_SK_PREFIX));
  return { transaction, loaded: toLoaded(invoiceItems, transactionItem ? [transactionItem] : [], balanceItems, false) };
}

/**
 * One invoice with every payment applied to it (for voiding it): the invoice and the balance of `currency` (all the
 * balances when it is not given), then the payments its `paidBy` names by key, so the cost does not grow with the client's history and no item is read twice. A payment
 * that changes in between changes the invoice's `paid` too, so the commit's condition on the invoice catches it.
 */
export async function loadLedgerForInvoice(companyId: string, clientId: string, invoiceId: string, currency?: string): Promise<LoadedLedger> {
  const pk = clientPk(companyId, clientId);
  const [invoiceItems, balanceItems] = await readInvoiceAndBalance(pk, invoiceId, currency);
  const paidBy = invoiceItems.length ? paidByOf(invoiceItems[0]) : [];
  // Paid before `paidBy` was kept: only the whole ledger says which payments hold it.
  if (paidBy === undefined) return loadLedger(companyId, clientId);
  const transactionItems = paidBy.length
    ? await batchGetAll(
        paidBy.map((id) => ({ PK: pk, SK: transactionSk(id) })),
        { consistent: true },
      )
    : [];
  return toLoaded(invoiceItems, transactionItems, balanceItems, false);
}

/**
 * An invoice and its currency's balance: in one BatchGet when the currency is known (its pointer names it: an invoice
 * is opened in the currency of its draft, which a revision may have changed, so the invoice read decides), else
 * with every balance of the client.
 */
async function readInvoiceAndBalance(pk: string, invoiceId: string, currency: string | undefined): Promise<[Item[], Item[]]> {
  const invoiceKey = { PK: pk, SK: invoiceSk(invoiceId) };
  if (currency === undefined) return Promise.all([batchGetAll([invoiceKey], { consistent: true }), queryAll(pk, BALANCE_SK_PREFIX)]);
  const items = await batchGetAll([invoiceKey, { PK: pk, SK: balanceSk(currency) }], { consistent: true });
  const invoiceItems = items.filter((i) => i.SK === invoiceKey.SK);
  const balanceItems = items.filter((i) => i.SK !== invoiceKey.SK);
  const actual = invoiceItems[0]?.currency;
  if (typeof actual !== 'string' || actual === currency) return [invoiceItems, balanceItems];
  return [invoiceItems, await batchGetAll([{ PK: pk, SK: balanceSk(actual) }], { consistent: true })];
}

/**
 * What applying credit in one currency plans with: the payments holding credit in it and the client's open invoices
 * in it (or only `invoiceId`), found through GSI3 and read by key (strongly consistent) — not the history. Open
 * invoices are read oldest due date first, a page at a time, only until they can take all the credit (or as many as
 * one round applies to), so the cost grows with what is applied, not with how many invoices are open. The index is
 * eventually consistent, so the load is checked against the balance read with it: the payments' credit must add up
 * to the balance's `credit`, and when every open invoice the index lists was read and the credit is still not used
 * up, their due must add up to its `due`. If not (an invoice or payment written a moment ago, not yet in the index),
 * it is asked again, and then the whole ledger is read: credit is never left unapplied because the index lagged.
 * What is read by key is exact, and the commit is conditioned on it.
 */
export async function loadLedgerForCredits(companyId: string, clientId: string, target: { currency?: string; invoiceId?: string }): Promise<LoadedLedger> {
  let currency = target.currency;
  if (currency === undefined) {
    // Credit for one invoice is in its currency.
    const invoice = target.invoiceId ? await getInvoice(companyId, clientId, target.invoiceId) : undefined;
    if (!invoice) return loadLedgerPart(companyId, clientId, { invoiceIds: target.invoiceId ? [target.invoiceId] : [] });
    currency = invoice.currency;
  }
  for (let attempt = 0; attempt < INDEX_READS; attempt++) {
    const transactionIds = await indexedCreditIds(companyId, clientId, currency);
    const invoiceIds = target.invoiceId ? [target.invoiceId] : [];
    const loaded = await loadLedgerPart(companyId, clientId, { invoiceIds, transactionIds });
    if (coversCredits(loaded, currency, false)) {
      if (target.invoiceId) return loaded;
      const wholeIndex = await readOpenInvoicesForCredit(loaded, companyId, clientId, currency);
      // Every open invoice listed could not take the credit: only then must they be all there are.
      if (!wholeIndex || coversCredits(loaded, currency, true)) return loaded;
    }
    await indexCatchUp();
  }
  return loadLedger(companyId, clientId);
}

/** The first page of open invoices read for credit holds one, each next twice as many, up to this. */
const CREDIT_PAGE_MAX = 64;

/**
 * Adds to `loaded` the client's open invoices in `currency`, oldest due date first, until their due covers the loose
 * credit or one round's worth is read. The index's own `due` says how many of a page to read by key (it may lag: the
 * invoices read by key decide). True when the index listed no more and the credit is not covered.
 */
async function readOpenInvoicesForCredit(loaded: LoadedLedger, companyId: string, clientId: string, currency: string): Promise<boolean> {
  const pk = clientPk(companyId, clientId);
  let remaining = loaded.balances.get(currency)?.credit ?? 0;
  let open = 0;
  let limit = 1;
  let startKey: Record<string, unknown> | undefined;
  let more = true;
  let listed: Item[] = [];
  while (remaining > 0 && open < MAX_CREDIT_APPLICATION_CHANGES) {
    if (!listed.length) {
      if (!more) return true;
      const page = await openInvoiceIndexPage(companyId, clientId, limit, startKey);
      listed = page.items.filter((i) => i.currency === currency && !loaded.invoices.has(String(i.id)));
      startKey = page.lastKey;
      more = startKey !== undefined;
      limit = Math.min(limit * 2, CREDIT_PAGE_MAX);
      continue;
    }
    const ids: string[] = [];
    for (let due = 0; listed.length && due < remaining; ) {
      const item = listed.shift() as Item;
      ids.push(String(item.id));
      due += Number(item.due ?? 0);
    }
    const items = await batchGetAll(
      ids.map((id) => ({ PK: pk, SK: invoiceSk(id) })),
      { consistent: true },
    );
    const read = toLoaded(items, [], [], false);
    for (const [id, invoice] of read.invoices) {
      loaded.invoices.set(id, invoice);
      loaded.paidBy.set(id, read.paidBy.get(id));
      loaded.state.invoices[id] = read.state.invoices[id];
      if (invoice.status === 'open' && invoice.currency === currency && invoice.due > 0) {
        remaining -= invoice.due;
        open++;
      }
    }
  }
  return false;
}

/** The load holds every payment with credit in the currency, and (`allOpen`) every open invoice in it. */
function coversCredits(loaded: LoadedLedger, currency: string, allOpen: boolean): boolean {
  const balance = loaded.balances.get(currency);
  let credit = 0;
  for (const t of Object.values(loaded.state.transactions)) if (t.currency === currency && isMoneyBearing(t)) credit += t.credit;
  if (credit !== (balance?.credit ?? 0)) return false;
  if (!allOpen) return true;
  let due = 0;
  for (const i of Object.values(loaded.state.invoices)) if (i.currency === currency && i.status === 'open') due += i.due;
  return due === (balance?.due ?? 0);
}

/** The stored `paidBy` of an invoice item; an invoice with nothing paid has no payments, whenever it was stored. */
function paidByOf(item: Item): string[] | undefined {
  if (Array.isArray(item.paidBy)) return item.paidBy.map(String);
  return item.paid === 0 ? [] : undefined;
}

function toLoaded(invoiceItems: Item[], transactionItems: Item[], balanceItems: Item[], complete: boolean): LoadedLedger {
  const paidBy = new Map(invoiceItems.map((item) => [String(item.id), paidByOf(item)] as const));
  const invoices = new Map(invoiceItems.map(invoiceFromItem).map((inv) => [inv.id, inv] as const));
  const transactions = new Map(transactionItems.map(transactionFromItem).map((t) => [t.id, t] as const));
  const state: LedgerState = { invoices: {}, transactions: {}, credits: {} };
  for (const inv of invoices.values()) {
    state.invoices[inv.id] = { id: inv.id, currency: inv.currency, status: inv.status, total: inv.total, paid: inv.paid, due: inv.due, dateDue: inv.dateDue };
  }
  for (const t of transactions.values()) {
    // An attempt still waiting for the gateway has moved no money.
    if (t.status === 'pending') continue;
    state.transactions[t.id] = ledgerTransaction(t, t.status);
  }
  const balances = new Map(balanceItems.map(balanceFromItem).map((b) => [b.currency, b] as const));
  for (const b of balances.values()) state.credits[b.currency] = b.credit;
  return { state, invoices, transactions, paidBy, complete, balances };
}

/** The ledger's view of a stored transaction whose gateway outcome is known (`status`, never `pending`). */
function ledgerTransaction(t: Transaction, status: LedgerTransaction['status']): LedgerTransaction {
  return {
    id: t.id,
    kind: t.kind,
    currency: t.currency,
    amount: t.amount,
    status,
    applications: t.applications,
    credit: t.credit,
    refunded: t.refunded,
    date: t.date,
  };
}

/** What an invoice adds to the balance fields in its state. */
function invoiceContribution(status: InvoiceStatus, total: number, paid: number, due: number) {
  return { invoiced: isOpenOrPaid(status) ? total : 0, paid: isOpenOrPaid(status) ? paid : 0, due: status === 'open' ? due : 0 };
}

export interface CommitOptions {
  loaded: LoadedLedger;
  /** Stored fields of transactions the changes create (or of a pending attempt they complete). */
  transactionFields?: Record<string, Partial<Transaction>>;
  /**
   * Invoices a changed transaction's pointer lists already beyond its applications (a pending attempt's, written
   * with the invoices it was asked to pay): the commit does not add them to it again.
   */
  listedOnPointer?: Record<string, readonly string[]>;
  /** Extra fields to set on invoices the changes touch (e.g. `voidedOn`). */
  invoiceFields?: Record<string, Partial<Invoice>>;
  /** Items that must commit together with the changes (e.g. an activity entry). */
  extraItems?: TransactItem[];
  /** The error when a condition of one of `extraItems` fails (an automation once-marker: `AlreadyDoneError`). */
  extraRefused?: () => Error;
  today: string;
}

/**
 * Writes a ledger plan in one DynamoDB transaction: each invoice and transaction conditioned on the values the plan
 * was made from, and the per-currency balances moved by the same amounts. A concurrent change makes a condition
 * fail and nothing is written (`ConcurrentChangeError`): the caller reloads and plans again.
 */
export async function commitLedger(companyId: string, clientId: string, changes: LedgerChanges, options: CommitOptions): Promise<{ at: string }> {
  const pk = clientPk(companyId, clientId);
  const now = new Date().toISOString();
  const items: TransactItem[] = [];
  const deltas = new Map<string, BalanceDelta>();
  const addDelta = (currency: string, field: keyof BalanceDelta, amount: number) => {
    const d = deltas.get(currency) ?? {};
    d[field] = (d[field] ?? 0) + amount;
    deltas.set(currency, d);
  };

  const paidBy = paidByAfter(changes, options.loaded);
  // The statement lines the changes add (an opened payment, a refund, a void), written with them.
  const entries: StatementEntry[] = [];
  for (const change of changes.invoices) {
    const invoice = options.loaded.invoices.get(change.invoiceId);
    if (!invoice) throw new NotFoundError(`No such invoice ${change.invoiceId}.`);
    const before = invoiceContribution(change.before.status, invoice.total, change.before.paid, change.before.due);
    const after = invoiceContribution(change.after.status, invoice.total, change.after.paid, change.after.due);
    for (const field of ['invoiced', 'paid', 'due'] as const) addDelta(invoice.currency, field, after[field] - before[field]);
    const extra = options.invoiceFields?.[change.invoiceId] ?? {};
    const names: Record<string, string> = { '#s': 'status' };
    const values: Record<string, unknown> = {
      ':s': change.after.status,
      ':p': change.after.paid,
      ':d': change.after.due,
      ':bs': change.before.status,
      ':bp': change.before.paid,
      ':bd': change.before.due,
      ':one': 1,
      ':now': now,
    };
    const sets = ['#s = :s', 'paid = :p', 'due = :d', 'version = version + :one', 'updatedAt = :now'];
    Object.entries(extra).forEach(([k, v], i) => {
      names[`#x${i}`] = k;
      values[`:x${i}`] = v;
      sets.push(`#x${i} = :x${i}`);
    });
    // Its status lists (GSI3, GSI4) follow the status; `paidBy` names the payments now applied to it.
    const statusIndex = invoiceStatusIndexKeys(companyId, { ...invoice, status: change.after.status });
    for (const [name, value] of Object.entries(statusIndex)) {
      values[`:${name}`] = value;
      sets.push(`${name} = :${name}`);
    }
    const payments = paidBy.get(invoice.id);
    if (payments) {
      values[':paidBy'] = payments;
      sets.push('paidBy = :paidBy');
    }
    entries.push(
      ...newStatementEntries(
        invoiceStatementEntries(invoice),
        invoiceStatementEntries({ ...invoice, ...extra, status: change.after.status, paid: change.after.paid, due: change.after.due }),
      ),
    );
    let update = `SET ${sets.join(', ')}`;
    const dueIndex = openInvoiceIndexKeys(companyId, { ...invoice, status: change.after.status });
    if (dueIndex) {
      values[':g2pk'] = dueIndex.GSI2PK;
      values[':g2sk'] = dueIndex.GSI2SK;
      update += ', GSI2PK = :g2pk, GSI2SK = :g2sk';
    } else {
      update += ' REMOVE GSI2PK, GSI2SK';
    }
    items.push({
      Update: {
        TableName: tableName(),
        Key: { PK: pk, SK: invoiceSk(invoice.id) },
        UpdateExpression: update,
        ConditionExpression: '#s = :bs AND paid = :bp AND due = :bd',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    });
  }

  // An invoice that becomes paid pays the service periods it bills (renewDate derives from them, domain/service.ts).
  const paidPeriods = new Map<string, string[]>();
  for (const change of changes.invoices) {
    if (change.after.status !== 'paid' || change.before.status === 'paid') continue;
    for (const p of options.loaded.invoices.get(change.invoiceId)?.servicePeriods ?? []) {
      paidPeriods.set(p.serviceId, [...(paidPeriods.get(p.serviceId) ?? []), p.periodStart]);
    }
  }
  const servicesPaid = [...paidPeriods].map(([serviceId, periods]) => paidPeriodsUpdate(companyId, clientId, serviceId, periods, now));

  for (const change of changes.transactions) {
    const stored = options.loaded.transactions.get(change.transactionId);
    const fields = options.transactionFields?.[change.transactionId] ?? {};
    const after = change.after;
    const record = committedTransaction(stored ?? newTransaction(after.id, fields, now), clientId, after, fields, now);
    entries.push(...newStatementEntries(stored ? transactionStatementEntries(stored) : [], transactionStatementEntries(record)));
    const item = transactionToItem(companyId, record);
    if (stored) {
      items.push({ Put: { TableName: tableName(), Item: item, ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': stored.version } } });
      // The pointer lists every invoice the transaction was ever applied to (what a refund or void reads with it).
      const pointer = transactionRefInvoicesAdd(companyId, record.id, newlyApplied(stored, after, options.listedOnPointer?.[record.id]));
      if (pointer) items.push(pointer);
    } else {
      items.push({ Put: { TableName: tableName(), Item: item, ConditionExpression: 'attribute_not_exists(PK)' } });
      items.push({ Put: { TableName: tableName(), Item: transactionRefItem(companyId, record) } });
    }
  }

  items.push(...statementWrites(companyId, clientId, entries));
  for (const credit of changes.credits) addDelta(credit.currency, 'credit', credit.delta);
  for (const [currency, delta] of deltas) {
    if (Object.values(delta).some((v) => v !== 0)) items.push(balanceUpdate(companyId, clientId, currency, delta));
  }
  // The service periods ride in the same transaction; when they would not fit (one payment over grouped renewal
  // invoices of many services) they are written right after it, each an idempotent ADD: the money is never refused
  // for them.
  const servicesInline = items.length + servicesPaid.length + (options.extraItems?.length ?? 0) <= MAX_TRANSACTION_ITEMS;
  if (servicesInline) items.push(...servicesPaid);
  const firstExtra = items.length;
  items.push(...(options.extraItems ?? []));
  if (items.length > MAX_TRANSACTION_ITEMS)
    throw new ConflictError('This change touches too many invoices at once (at most 100 items per transaction).', { code: 'too_many_items' });
  const concurrent = () => new ConcurrentChangeError('Another payment or change touched these invoices at the same time; nothing was applied.');
  try {
    await transactOnClient(companyId, clientId, items, (index) => (index >= firstExtra && options.extraRefused ? options.extraRefused() : concurrent()));
  } catch (error) {
    if (error instanceof ClientBusyError || error instanceof ClientGoneError) throw error;
    // DynamoDB cancels a transaction that meets another one on the same item (the balance item is in every plan).
    if (isTransactionConflict(error)) throw concurrent();
    throw error;
  }
  if (!servicesInline) {
    for (const update of servicesPaid) await retryOnTransactionConflict(() => transact([update], () => new NotFoundError('No such service.')));
  }
  // The `updatedAt` written on every changed invoice (each one's version went up by one), so a caller can answer
  // with them without reading them again.
  return { at: now };
}

/**
 * The payments applied to each invoice the changes touch, once they are made: what the invoice's `paidBy` said, with
 * each changed payment added or removed by its applications after the change. An invoice whose `paidBy` was never kept
 * gets one only when the whole ledger was loaded (or nothing is paid on it any more).
 */
function paidByAfter(changes: LedgerChanges, loaded: LoadedLedger): Map<string, string[] | undefined> {
  const holds = (t: LedgerTransaction, invoiceId: string) => isMoneyBearing(t) && t.applications.some((a) => a.invoiceId === invoiceId && a.amount > 0);
  const result = new Map<string, string[] | undefined>();
  for (const change of changes.invoices) {
    const id = change.invoiceId;
    let known = loaded.paidBy.get(id);
    if (known === undefined && loaded.complete)
      known = Object.values(loaded.state.transactions)
        .filter((t) => holds(t, id))
        .map((t) => t.id);
    if (known === undefined) {
      result.set(id, change.after.paid === 0 ? [] : undefined);
      continue;
    }
    const ids = new Set(known);
    for (const t of changes.transactions) {
      if (holds(t.after, id)) ids.add(t.transactionId);
      else ids.delete(t.transactionId);
    }
    result.set(id, [...ids]);
  }
  return result;
}

/** The stored fields of a transaction a plan creates, before the plan's own; its method must be given. */
export function newTransaction(
  id: string,
  fields: Partial<Transaction>,
  now: string,
): Omit<Transaction, keyof LedgerTransaction | 'clientId' | 'updatedAt' | 'version'> {
  if (!fields.method) throw new Error(`The new transaction ${id} needs its method.`);
  if (fields.livemode === undefined) throw new Error(`The new transaction ${id} needs its livemode.`);
  return {
    method: fields.method,
    livemode: fields.livemode,
    paymentAccountId: null,
    reference: null,
    gatewayReference: null,
    declineCode: null,
    failureMessage: null,
    refunds: [],
    voidedOn: null,
    createdAt: now,
  };
}

/** The invoices a change applies a stored transaction to that it was never applied to before. */
function newlyApplied(
  before: Pick<LedgerTransaction, 'applications'>,
  after: Pick<LedgerTransaction, 'applications'>,
  listed: readonly string[] = [],
): Set<string> {
  const known = new Set([...before.applications.map((a) => a.invoiceId), ...listed]);
  return new Set(after.applications.map((a) => a.invoiceId).filter((id) => !known.has(id)));
}

/** DynamoDB's limit on the items of one transaction (100), less the client guard every ledger write commits with. */
export const MAX_TRANSACTION_ITEMS = 99;

/** How many items `commitLedger` would write for these changes (each invoice, each transaction, each balance). */
export function ledgerWriteSize(changes: LedgerChanges): number {
  // A new one with its pointer; a changed one with its pointer too when it is applied to a new invoice.
  const transactions = changes.transactions.reduce((n, t) => n + (t.before ? (newlyApplied(t.before, t.after).size ? 2 : 1) : 2), 0);
  // Balances: one per currency; invoice changes carry no currency, so count one more as an upper bound.
  const balances = new Set(changes.credits.map((c) => c.currency)).size + 1;
  // Statement lines: a transaction adds one at most per change (a payment, a refund or a void), an invoice a void.
  const lines = changes.transactions.length + changes.invoices.filter((i) => i.after.status === 'void').length;
  return changes.invoices.length + transactions + balances + statementWriteSize(lines);
}
