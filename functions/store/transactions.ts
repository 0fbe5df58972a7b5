import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { AlreadyDoneError, ConcurrentChangeError } from '../domain/errors.js';
import type { Transaction } from '../domain/invoice.js';
import type { LedgerTransaction } from '../domain/ledger.js';
import { db, queryPage, tableName, type Item, type Page, type TransactItem } from './dynamo.js';
import { nowIso } from './items.js';
import type { EveryField, StoredItem } from './mapping.js';
import { clientCreditsPk, clientPk, companyCreditsPk, creditIndexKeys, TRANSACTION_SK_PREFIX, transactionSk } from './keys.js';
import { clientOfObject, refItem, refKey } from './refs.js';
import { transactOnClient } from './client-guard.js';

/**
 * Payments and payment attempts in the client's partition (`TXN#<id>`), each with a pointer item
 * (`CO#<co>#REF#<id>`) so a bare transaction id finds its client. Ledger changes to a transaction are written by
 * `commitLedger` (store/ledger.ts) with the same mapper; this module writes what happens before the ledger is
 * touched: an attempt recorded before the gateway is called, and its settlement when no money moved.
 */

/** Statuses whose money is on the ledger (domain/ledger.ts `isMoneyBearing`). */
const MONEY_BEARING: ReadonlySet<Transaction['status']> = new Set(['succeeded', 'partially_refunded', 'refunded']);

/**
 * The stored item: the transaction, its keys, and the pointer it owns (deleted or rewritten with it). While it holds
 * unapplied credit it is in GSI3 under its client and currency (`creditIndexKeys`), so applying credit reads only
 * the payments that have some.
 */
export function transactionToItem(companyId: string, t: Transaction): Item {
  const credit = creditIndexKeys(companyId, { ...t, hasMoney: MONEY_BEARING.has(t.status) });
  return { PK: clientPk(companyId, t.clientId), SK: transactionSk(t.id), entity: 'transaction', refs: [refKey(companyId, t.id)], ...t, ...credit };
}

/**
 * The pointer from the bare id to the client (its `clientId` rewritten by a merge). It also carries what a refund or a
 * void of the transaction reads next, so it reads it all in one batch with the transaction: its `currency` (never
 * changes) and `invoiceIds`, every invoice it has ever been applied to (a string set only ever added to, by the commit
 * that applies it to one more: store/ledger.ts). Pointers written before they carried it have no `currency`.
 */
export function transactionRefItem(
  companyId: string,
  t: Pick<Transaction, 'id' | 'clientId' | 'currency' | 'applications'>,
  alsoInvoiceIds: readonly string[] = [],
): Item {
  const invoiceIds = new Set([...t.applications.map((a) => a.invoiceId), ...alsoInvoiceIds]);
  return { ...refItem(companyId, t.id, 'transaction', t.clientId), currency: t.currency, ...(invoiceIds.size ? { invoiceIds } : {}) };
}

/** What a transaction's pointer says of it, when it carries that (see `transactionRefItem`). */
export interface TransactionRefHint {
  clientId: string;
  currency: string;
  invoiceIds: string[];
}

export function transactionRefHint(item: Item): TransactionRefHint | undefined {
  if (typeof item.clientId !== 'string' || typeof item.currency !== 'string') return undefined;
  const ids = item.invoiceIds instanceof Set || Array.isArray(item.invoiceIds) ? [...(item.invoiceIds as Iterable<unknown>)].map(String) : [];
  return { clientId: item.clientId, currency: item.currency, invoiceIds: ids };
}

/**
 * Adds to a transaction's pointer the invoices a commit applies it to for the first time (`transactionRefItem`), in the
 * commit's transaction; undefined when there are none.
 */
export function transactionRefInvoicesAdd(companyId: string, transactionId: string, invoiceIds: ReadonlySet<string>): TransactItem | undefined {
  if (!invoiceIds.size) return undefined;
  return {
    Update: {
      TableName: tableName(),
      Key: refKey(companyId, transactionId),
      UpdateExpression: 'ADD invoiceIds :ids',
      ExpressionAttributeValues: { ':ids': new Set(invoiceIds) },
    },
  };
}

export function transactionFromItem(t: StoredItem): Transaction {
  const transaction: EveryField<Transaction> = {
    id: t.id,
    clientId: t.clientId,
    kind: t.kind,
    method: t.method,
    amount: t.amount,
    currency: t.currency,
    status: t.status,
    applications: t.applications,
    credit: t.credit,
    refunded: t.refunded,
    date: t.date,
    paymentAccountId: t.paymentAccountId,
    reference: t.reference,
    gatewayReference: t.gatewayReference,
    // Every transaction stored before livemode existed moved through the simulator (no live deployment predates it).
    livemode: t.livemode ?? false,
    declineCode: t.declineCode,
    failureMessage: t.failureMessage,
    refunds: t.refunds,
    voidedOn: t.voidedOn,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    version: t.version,
  };
  return transaction;
}

/**
 * Writes a new `pending` attempt and its pointer together; an attempt id is never reused. The pointer lists the
 * invoices the attempt is to pay (`intendedInvoiceIds`) already, so the approval need not add them to it.
 */
export async function insertPendingAttempt(
  companyId: string,
  attempt: Transaction,
  extraItems: TransactItem[] = [],
  intendedInvoiceIds: readonly string[] = [],
): Promise<void> {
  // Guarded: an attempt recorded after a merge or delete claimed the client is refused, before anything is charged.
  await transactOnClient(
    companyId,
    attempt.clientId,
    [
      { Put: { TableName: tableName(), Item: transactionToItem(companyId, attempt), ConditionExpression: 'attribute_not_exists(PK)' } },
      { Put: { TableName: tableName(), Item: transactionRefItem(companyId, attempt, intendedInvoiceIds) } },
      ...extraItems,
    ],
    // Ids are new, or derived (the automation's charge attempts): one already written is that attempt, done before.
    (index) =>
      index === 0
        ? new AlreadyDoneError('This payment attempt is already recorded; nothing was charged again.')
        : new ConcurrentChangeError('A transaction with this id already exists; nothing was written.'),
  );
}

/** How an attempt that moved no money ended. */
export interface AttemptSettlement {
  status: 'declined' | 'failed';
  declineCode: string | null;
  failureMessage: string | null;
}

/** Closes a pending attempt the gateway declined or failed, if no one changed it since it was read. */
export async function settleAttempt(companyId: string, attempt: Transaction, settlement: AttemptSettlement): Promise<Transaction> {
  const next: Transaction = { ...attempt, ...settlement, updatedAt: nowIso(), version: attempt.version + 1 };
  await transactOnClient(
    companyId,
    attempt.clientId,
    [
      {
        Update: {
          TableName: tableName(),
          Key: { PK: clientPk(companyId, attempt.clientId), SK: transactionSk(attempt.id) },
          UpdateExpression: 'SET #status = :status, declineCode = :declineCode, failureMessage = :failureMessage, updatedAt = :updatedAt, version = :next',
          ConditionExpression: 'version = :expected',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':status': next.status,
            ':declineCode': next.declineCode,
            ':failureMessage': next.failureMessage,
            ':updatedAt': next.updatedAt,
            ':next': next.version,
            ':expected': attempt.version,
          },
        },
      },
    ],
    () => new ConcurrentChangeError('The payment attempt was changed by another request.', { transactionId: attempt.id }),
  );
  return next;
}

export async function getTransaction(companyId: string, clientId: string, transactionId: string): Promise<Transaction | undefined> {
  const out = await db().send(
    new GetCommand({ TableName: tableName(), Key: { PK: clientPk(companyId, clientId), SK: transactionSk(transactionId) }, ConsistentRead: true }),
  );
  return out.Item ? transactionFromItem(out.Item) : undefined;
}

/**
 * The transaction `commitLedger` writes for one its plan changed or created: what it was (`before`: the stored
 * transaction, or store/ledger.ts `newTransaction` for a new one), the fields given to the commit, the plan's ledger
 * fields, the commit's `updatedAt` (`at`, what it returned) and the next version. commitLedger builds its record
 * here, and a use case rebuilds the same to answer with it instead of reading it back.
 */
export function committedTransaction(
  before: Omit<Transaction, keyof LedgerTransaction | 'clientId' | 'updatedAt' | 'version'> & { version?: number },
  clientId: string,
  after: LedgerTransaction,
  fields: Partial<Transaction>,
  at: string,
): Transaction {
  return {
    ...before,
    ...fields,
    id: after.id,
    clientId,
    kind: after.kind,
    currency: after.currency,
    amount: after.amount,
    status: after.status,
    applications: after.applications,
    credit: after.credit,
    refunded: after.refunded,
    date: after.date,
    updatedAt: at,
    version: (before.version ?? 0) + 1,
  };
}

/** A transaction by its bare id, through its pointer item. */
export async function findTransaction(companyId: string, transactionId: string): Promise<Transaction | undefined> {
  const clientId = await clientOfObject(companyId, transactionId);
  return clientId ? getTransaction(companyId, clientId, transactionId) : undefined;
}

/** One page of a client's transactions, newest first (ids are time-ordered). */
export async function listTransactions(companyId: string, clientId: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<Transaction>> {
  const page = await queryPage<StoredItem>({
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
    ExpressionAttributeValues: { ':pk': clientPk(companyId, clientId), ':prefix': TRANSACTION_SK_PREFIX },
    Limit: limit,
    ExclusiveStartKey: startKey,
    ScanIndexForward: false,
  });
  return { items: page.items.map(transactionFromItem), lastKey: page.lastKey };
}

/** The ids of a client's payments holding unapplied credit in one currency, as GSI3 lists them: eventually consistent. */
export async function indexedCreditIds(companyId: string, clientId: string, currency: string): Promise<string[]> {
  const ids: string[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await queryPage<StoredItem>({
      IndexName: 'GSI3',
      KeyConditionExpression: 'GSI3PK = :pk',
      ExpressionAttributeValues: { ':pk': clientCreditsPk(companyId, clientId, currency) },
      ExclusiveStartKey: startKey,
    });
    ids.push(...page.items.map((t) => String(t.id)));
    startKey = page.lastKey;
  } while (startKey);
  return ids;
}

/**
 * One page of the company's payments holding unapplied credit (GSI2, sparse), oldest first: where the automation
 * looks for loose credit, so its cost follows the payments that hold some, not the open invoices. Eventually
 * consistent: whoever applies the credit reads the ledger again.
 */
export async function creditHoldersPage(companyId: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<Transaction>> {
  const page = await queryPage<StoredItem>({
    IndexName: 'GSI2',
    KeyConditionExpression: 'GSI2PK = :pk',
    ExpressionAttributeValues: { ':pk': companyCreditsPk(companyId) },
    Limit: limit,
    ExclusiveStartKey: startKey,
  });
  return { items: page.items.map(transactionFromItem), lastKey: page.lastKey };
}
